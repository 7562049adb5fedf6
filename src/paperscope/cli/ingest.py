"""Commands that fill the catalogue: ingest, embed, index, update."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..citations import CITATION_SOURCES
from ..pipeline import SOURCES, SourceOptions, parse_categories
from .common import check_report, echo_json, embed_all, index_all, print_report, run_ingest


def source_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say what to ingest, shared by `ingest` and `update` so both read a source alike."""
    options = [
        click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "bibtex"]),
                     help="File format (default: by extension)."),
        click.option("--set", "set_spec", help="OAI-PMH set, e.g. cs or physics:hep-th."),
        click.option("--category", help="Keep only these arXiv categories (arXiv sources), e.g. cs.CL,cs.IR or cs."),
        click.option("--prefix", default="arXiv", type=click.Choice(["arXiv", "arXivRaw"]),
                     help="OAI-PMH metadata prefix."),
        click.option("--from", "--since", "since", help="First date YYYY-MM-DD (default: where the last run ended)."),
        click.option("--until", help="Last date YYYY-MM-DD (default: today)."),
        click.option("--query", help="arXiv API search_query, e.g. 'cat:cs.IR AND abs:retrieval'."),
        click.option("--id", "ids", multiple=True, help="arXiv id for the API's id_list (repeatable)."),
        click.option("--max-results", type=int, help="Stop the arXiv API after this many results."),
        click.option("--restart", is_flag=True, help="Ignore the saved checkpoint and start from the beginning."),
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def options_of(path: Path | None, fmt: str | None, set_spec: str | None, category: str | None, prefix: str,
               since: str | None, until: str | None, query: str | None, ids: tuple[str, ...],
               max_results: int | None) -> SourceOptions:
    """The SourceOptions the shared options describe (a malformed --category is a UsageError)."""
    return SourceOptions(path=path, fmt=fmt, set_spec=set_spec, prefix=prefix, since=since, until=until,
                         query=query, ids=ids, max_results=max_results, categories=parse_categories(category))


@click.command("ingest")
@click.argument("source", type=click.Choice(SOURCES + CITATION_SOURCES))
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@source_options
@click.pass_context
def ingest_cmd(ctx: click.Context, source: str, path: Path | None, restart: bool, as_json: bool, **kw: Any) -> None:
    """Ingest papers from SOURCE (arxiv-oai, arxiv-api, snapshot FILE, hf-daily, file FILE, sample), or enrich
    the stored papers with citations (openalex [SNAPSHOT.jsonl.gz], semantic-scholar)."""
    if source in CITATION_SOURCES:
        ingest_citations(ctx, source, path, restart, as_json)
        return
    report = run_ingest(ctx, source, options_of(path, **kw), restart)
    print_report(report, as_json)
    check_report(report)


def ingest_citations(ctx: click.Context, source: str, path: Path | None, restart: bool, as_json: bool) -> None:
    """Citations for the stored papers from OpenAlex (its API, or a works snapshot file) or Semantic Scholar.

    Exit status 1 when nothing was due (every paper fetched within citations_stale_days), as `update`'s no-op."""
    from ..citations import enrich
    from .common import bar, open_store

    settings = ctx.find_root().obj
    store = open_store(ctx)
    progress = bar(f"citations from {source}", unit="paper" if path is None else "work")
    try:
        if source == "openalex" and path is not None:
            report = enrich.ingest_openalex_snapshot(store, settings, path, restart, progress.update)
        elif source == "openalex":
            report = enrich.ingest_openalex(store, settings, on_batch=progress.update)
        else:
            if path is not None:
                raise click.UsageError("semantic-scholar takes no file: it asks the Graph API")
            report = enrich.ingest_semantic_scholar(store, settings, on_batch=progress.update)
    finally:
        progress.close()
    if as_json:
        echo_json(report.as_dict())
    else:
        name = {"openalex": "OpenAlex", "s2": "Semantic Scholar"}[report.source]
        if path is not None:
            click.echo(f"{name} snapshot: {report.lines} line(s) read, {report.matched} stored paper(s) found, "
                       f"{report.edges_added} new citation edge(s)")
        else:
            click.echo(f"{name}: {report.looked_up} paper(s) looked up, {report.matched} matched, "
                       f"{report.edges_added} new citation edge(s), {report.named} cited work(s) named")
        if report.no_match_count:
            shown = ", ".join(report.no_match)
            more = f" and {report.no_match_count - len(report.no_match)} more" if report.no_match_count > len(
                report.no_match) else ""
            click.echo(f"no match in {name} (by arXiv id or DOI; titles are never guessed) for "
                       f"{report.no_match_count} paper(s): {shown}{more}")
        if report.without_ids:
            click.echo(f"{report.without_ids} paper(s) have neither an arXiv id nor a DOI and were not looked up")
        for problem in report.problems[:20]:
            click.echo(f"problem: {problem}", err=True)
        if not report.looked_up and not report.lines and not report.named:
            click.echo(f"nothing to fetch: every paper was fetched from {name} within the last "
                       f"{settings.citations_stale_days:g} day(s) (citations_stale_days)")
    if not report.changed:
        ctx.exit(1)


@click.command()
@click.pass_context
def embed(ctx: click.Context) -> None:
    """Embed papers that have no vector for the configured model yet (resumable; batches commit)."""
    n = embed_all(ctx)
    click.echo(f"embedded {n} paper(s)")


@click.command("index")
@click.option("--rebuild", is_flag=True, help="Delete the index files and build them again from the store.")
@click.pass_context
def index_cmd(ctx: click.Context, rebuild: bool) -> None:
    """Bring the keyword and vector indexes up to date with the store."""
    counts = index_all(ctx, rebuild)
    click.echo(f"indexed {counts['keyword']} paper(s) for keywords, {counts['vectors']} vector(s)")


@click.command()
@click.argument("source", type=click.Choice(SOURCES), required=False)
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@source_options
@click.pass_context
def update(ctx: click.Context, source: str | None, path: Path | None, restart: bool, as_json: bool, **kw: Any) -> None:
    """Ingest (if SOURCE is given, with `ingest`'s options) → embed → index.

    Exit status: 0 when something changed; 1 when nothing changed (a no-op, not an error: a cron job can skip
    its later steps); other non-zero codes are errors (the message says what to do).
    """
    opts = options_of(path, **kw)  # checked before anything runs
    report = run_ingest(ctx, source, opts, restart) if source else None
    if report:
        if not as_json:
            print_report(report, False)
        check_report(report)
    embedded = embed_all(ctx)
    counts = index_all(ctx, False)
    from .topics import topics_after_update

    topics = topics_after_update(ctx)
    changed = bool((report and report.changed) or embedded or counts["keyword"] or counts["vectors"])
    if as_json:
        echo_json({"ingest": {**dataclasses.asdict(report), "changed": report.changed} if report else None,
                   "embedded": embedded, "indexed": counts, "topics": topics, "changed": changed})
    else:
        click.echo(f"embedded {embedded}, indexed {counts['keyword']} paper(s) and {counts['vectors']} vector(s)"
                   + (f", {topics['placed']} placed in topics" if topics["placed"] else "")
                   + (f", topics rebuilt over {topics['rebuilt']} papers" if topics["rebuilt"] else ""))
    if not changed:
        ctx.exit(1)
