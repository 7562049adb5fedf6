"""Commands that read the catalogue: show, stats."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from ..config import Settings
from ..models import Paper
from .common import echo_json, open_store


def _paper_text(p: Paper) -> str:
    lines = [p.title, f"id: {p.id}"]
    if p.withdrawn:
        lines.append(f"WITHDRAWN: arXiv reported this paper deleted ({p.withdrawn[:10]}); hidden from lists and search")
    if p.authors:
        lines.append("authors: " + ", ".join(
            a.name + (f" ({'; '.join(a.affiliations)})" if a.affiliations else "") for a in p.authors))
    for label, value in (("categories", " ".join(p.categories)), ("published", p.published),
                         ("updated", p.updated), ("first seen", p.first_seen), ("doi", p.doi),
                         ("journal", p.journal_ref), ("comments", p.comments), ("license", p.license)):
        if value:
            lines.append(f"{label}: {value}")
    if p.versions:
        lines.append("versions: " + ", ".join(f"{v.version} ({(v.created or '?')[:10]})" for v in p.versions))
    lines += [f"{k}: {v}" for k, v in p.links.items()]
    lines += [f"{k}: {s.value:g} (from {s.source})" for k, s in p.signals.items()]
    lines.append("sources: " + ", ".join(p.sources))
    if p.abstract:
        lines += ["", p.abstract]
    return "\n".join(lines)


@click.command()
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Print the paper as JSON.")
@click.option("--citations", "with_citations", is_flag=True,
              help="Also list its citation counts per source, the papers here citing it and its references.")
@click.pass_context
def show(ctx: click.Context, paper_id: str, as_json: bool, with_citations: bool) -> None:
    """Show one paper by id (arxiv:…, a bare arXiv id or URL, doi:…, local:…)."""
    store = open_store(ctx)
    paper = store.get_paper(paper_id)
    cites = _citations(store, paper.id) if with_citations else None
    if as_json:
        echo_json({**dataclasses.asdict(paper), **({"citations": cites} if cites is not None else {})})
        return
    click.echo(_paper_text(paper))
    if cites is not None:
        click.echo("\n" + _citations_text(cites))


def _citations(store: Any, paper_id: str) -> dict[str, Any]:
    from ..store.citations import SOURCE_NAMES

    rows = store.citations

    def work(w: Any) -> dict[str, Any]:
        return {"id": w.id, "inStore": w.in_store, "title": w.title, "doi": w.doi, "arxivId": w.arxiv_id,
                "year": w.year, "sources": [SOURCE_NAMES.get(s, s) for s in w.sources]}

    return {"counts": [{"source": SOURCE_NAMES.get(f.source, f.source), "citationCount": f.cited_by,
                        "influentialCitationCount": f.influential, "fetchedAt": f.fetched_at,
                        "found": f.external_id is not None} for f in rows.last_fetches(paper_id)],
            "citedBy": [work(w) for w in rows.cited_by_of(paper_id)],
            "references": [work(w) for w in rows.references_of(paper_id)]}


def _citations_text(c: dict[str, Any]) -> str:
    lines = []
    for f in c["counts"]:
        lines.append(f"{f['source']}: cited by {f['citationCount']}"
                     + (f" ({f['influentialCitationCount']} influential)" if f["influentialCitationCount"] else "")
                     + f", counted {f['fetchedAt'][:10]}" if f["found"] else
                     f"{f['source']}: no record of this paper (looked up {f['fetchedAt'][:10]})")
    if not c["counts"]:
        lines.append("no citation source asked yet: run `paperscope ingest openalex` or `ingest semantic-scholar`")

    def line(w: dict[str, Any]) -> str:
        where = w["id"] if w["inStore"] else (f"doi:{w['doi']}" if w["doi"] else w["id"])
        return f"  {where}  {w['title']}" + (f" ({w['year']})" if w["year"] and not w["inStore"] else "")

    here = [w for w in c["citedBy"] if w["inStore"]]
    lines.append(f"cited by {len(here)} paper(s) here" + (f" (+{len(c['citedBy']) - len(here)} elsewhere)"
                                                           if len(c["citedBy"]) > len(here) else "") + ":")
    lines += [line(w) for w in here]
    lines.append(f"references ({len(c['references'])}, {sum(w['inStore'] for w in c['references'])} here):")
    lines += [line(w) for w in c["references"]]
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count papers per source and show each source's last successful ingest."""
    from ..embed import model_identity

    store = open_store(ctx)
    data = store.stats()
    settings: Settings = ctx.obj
    name, _ = model_identity(settings)
    data["models"] = [{"name": n, "dim": d, "vectors": c} for n, d, c in store.models()]
    from ..generations import current_name

    live = current_name(settings.home / "index")
    data["index_generation"] = live
    data["index_bytes"] = {p.name: sum(f.stat().st_size for f in (settings.home / "index" / live / p.name).rglob("*")
                                       if f.is_file())
                           for p in settings.index_paths(name) if live and (settings.home / "index" / live / p.name).exists()}
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['papers']} papers in {data['database']}")
    for source, n in sorted(data["papers_by_source"].items()):
        click.echo(f"  {source}: {n}")
    for key, at in sorted(data["last_successful_ingest"].items()):
        click.echo(f"  last ok {key}: {at}")
    for m in data["models"]:
        click.echo(f"  model {m['name']} ({m['dim']}-d): {m['vectors']} vectors")
    for index_name, size in data["index_bytes"].items():
        click.echo(f"  index {index_name}: {size / 2**20:.1f} MiB")
