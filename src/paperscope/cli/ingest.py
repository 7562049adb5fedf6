"""Commands that fill the catalogue: ingest, embed, index, update."""

from __future__ import annotations

from pathlib import Path

import click

from ..pipeline import SOURCES, SourceOptions
from .common import check_report, embed_all, index_all, print_report, run_ingest


@click.command("ingest")
@click.argument("source", type=click.Choice(SOURCES))
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "bibtex"]), help="File format (default: by extension).")
@click.option("--set", "set_spec", help="OAI-PMH set, e.g. cs or physics:hep-th.")
@click.option("--prefix", default="arXiv", type=click.Choice(["arXiv", "arXivRaw"]), help="OAI-PMH metadata prefix.")
@click.option("--from", "--since", "since", help="First date YYYY-MM-DD (default: where the last run ended).")
@click.option("--until", help="Last date YYYY-MM-DD (default: today).")
@click.option("--query", help="arXiv API search_query, e.g. 'cat:cs.IR AND abs:retrieval'.")
@click.option("--id", "ids", multiple=True, help="arXiv id for the API's id_list (repeatable).")
@click.option("--max-results", type=int, help="Stop the arXiv API after this many results.")
@click.option("--restart", is_flag=True, help="Ignore the saved checkpoint and start from the beginning.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest_cmd(ctx: click.Context, source: str, path: Path | None, fmt: str | None, set_spec: str | None,
               prefix: str, since: str | None, until: str | None, query: str | None, ids: tuple[str, ...],
               max_results: int | None, restart: bool, as_json: bool) -> None:
    """Ingest papers from SOURCE (arxiv-oai, arxiv-api, snapshot FILE, hf-daily, file FILE, sample)."""
    opts = SourceOptions(path=path, fmt=fmt, set_spec=set_spec, prefix=prefix, since=since, until=until,
                         query=query, ids=ids, max_results=max_results)
    report = run_ingest(ctx, source, opts, restart)
    print_report(report, as_json)
    check_report(report)


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
@click.pass_context
def update(ctx: click.Context, source: str | None, path: Path | None) -> None:
    """Ingest (if SOURCE is given) → embed → index.

    Exit status: 0 when something changed; 1 when nothing changed (a no-op, not an error: a cron job can skip
    its later steps); other non-zero codes are errors (the message says what to do).
    """
    changed = False
    if source:
        report = run_ingest(ctx, source, SourceOptions(path=path))
        print_report(report, False)
        check_report(report)
        changed = report.changed
    embedded = embed_all(ctx)
    counts = index_all(ctx, False)
    click.echo(f"embedded {embedded}, indexed {counts['keyword']} paper(s) and {counts['vectors']} vector(s)")
    if not (changed or embedded or counts["keyword"] or counts["vectors"]):
        ctx.exit(1)
