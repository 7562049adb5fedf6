"""Commands that query: search, similar, eval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..pipeline import SourceOptions
from .common import echo_json, embed_all, index_all, open_engine, run_ingest


def _hit_json(hit: Any) -> dict[str, Any]:
    p = hit.paper
    return {"id": p.id, "title": p.title, "score": None if hit.reason == "filter" else round(hit.score, 6),
            "reason": hit.reason, "authors": [a.name for a in p.authors], "published": p.published,
            "categories": list(p.categories), "snippet": "".join(f"**{t}**" if m else t for t, m in hit.snippet),
            "keyword_rank": hit.keyword_rank, "semantic_rank": hit.semantic_rank, "citations": _cited(p)}


def _cited(p: Any) -> int | None:
    """The citation count a card shows (None: never counted)."""
    sig = p.signals.get("citations")
    return int(sig.value) if sig else None


def _first(names: list[str], n: int, sep: str) -> str:
    """Every name when there are at most `n`, else the first `n` and how many more: never cut silently."""
    return sep.join(names) if len(names) <= n else sep.join(names[:n]) + f" +{len(names) - n} more"


def _print_hits(hits: Any, offset: int = 0, sort: str = "relevance") -> None:
    for i, hit in enumerate(hits, offset + 1):
        p = hit.paper
        cited = _cited(p)
        meta = " · ".join(x for x in ((p.published or "")[:10], _first(list(p.categories), 3, " "),
                                      _first([a.name for a in p.authors], 5, ", "),
                                      f"cited by {cited}" if cited is not None else "") if x)
        click.echo(f"{i:>2}. {click.style(p.title, bold=True)}  [{p.id}]")
        why = (("filter match" if sort == "citations" else "filter match (newest first)") if hit.reason == "filter"
               else f"{hit.reason} {hit.score:.4f}")
        click.echo(f"    {why}" + (f" · {meta}" if meta else ""))
        snippet = "".join(click.style(t, fg="yellow", bold=True) if m else t for t, m in hit.snippet)
        if snippet:
            click.echo(f"    {snippet}")


@click.command("search")
@click.argument("query")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default="hybrid")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 200), default=10)
@click.option("--offset", type=click.IntRange(0, 10000), default=0)
@click.option("--sort", type=click.Choice(["relevance", "citations"]), default="relevance",
              help="citations: most cited first; every match in keyword mode and filter-only queries, the ranked "
                   "candidates in semantic and hybrid mode.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search_cmd(ctx: click.Context, query: str, mode: str, k: int, offset: int, as_json: bool,
               sort: str = "relevance") -> None:
    """Search by meaning and keyword: "phrases", author:, cat:, year:2020..2023, since:, until:, -term."""
    from ..search import search

    result = search(open_engine(ctx), query, k, mode, offset, sort)
    if as_json:
        echo_json({"query": query, "mode": mode, "sort": sort, "total": result.total, "offset": offset,
                   "took_ms": round(result.took_ms, 2), "notes": list(result.notes),
                   "hits": [_hit_json(h) for h in result.hits]})
        return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    shown = f", showing {offset + 1}-{offset + len(result.hits)}" if result.hits else ""
    click.echo(f"{result.total} result(s){shown} in {result.took_ms:.0f} ms ({mode}"
               f"{', most cited first' if sort == 'citations' else ''})")
    _print_hits(result.hits, offset, sort)


@click.command("similar")
@click.argument("paper_ids", nargs=-1, required=True)
@click.option("--not", "negatives", multiple=True, help="A paper to steer away from (repeatable).")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 200), default=10)
@click.option("--filter", "filter_text", default="", help="Filters in query syntax, e.g. 'cat:cs.CL since:2024'.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def similar_cmd(ctx: click.Context, paper_ids: tuple[str, ...], negatives: tuple[str, ...], k: int,
                filter_text: str, as_json: bool) -> None:
    """Papers like these (more-like-these when several ids are given)."""
    from ..search import filter_notes, similar
    from ..text import parse_query

    engine = open_engine(ctx)
    filters = parse_query(filter_text).filters
    hits = similar(engine, paper_ids, negatives, filters, k)
    if as_json:
        echo_json([_hit_json(h) for h in hits])
    elif not hits:
        why = "; ".join(filter_notes(engine, filters))
        click.echo("no similar papers" + (f" pass the filter {filter_text!r}" + (f" ({why})" if why else "")
                                          if filter_text.strip() else
                                          " in the index yet; run `paperscope update` after adding papers"))
    else:
        _print_hits(hits)


@click.command("eval")
@click.argument("beir_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--split", default="test")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def eval_cmd(ctx: click.Context, beir_dir: Path, split: str, as_json: bool) -> None:
    """Run a BEIR dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) through the real pipeline."""
    from ..evaluate import evaluate

    run_ingest(ctx, "file", SourceOptions(path=beir_dir / "corpus.jsonl"))
    embed_all(ctx)
    index_all(ctx, False)
    results = evaluate(open_engine(ctx), beir_dir, split)
    if as_json:
        echo_json(results)
        return
    click.echo(f"{'mode':<10} {'nDCG@10':>8} {'R@100':>8} {'MRR@10':>8}   ({results['queries']} queries)")
    for mode, m in results["modes"].items():
        click.echo(f"{mode:<10} {m['ndcg@10']:>8.4f} {m['recall@100']:>8.4f} {m['mrr@10']:>8.4f}")
