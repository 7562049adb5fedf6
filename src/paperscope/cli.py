"""The `paperscope` command: builds the services once from the settings and turns errors into messages."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from .config import SETTINGS, Settings, load_settings
from .errors import PaperscopeError
from .models import Batch, IngestReport, Paper
from .pipeline import SOURCES, SourceOptions, ingest
from .store import Store


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class _Group(click.Group):
    """Turn any PaperscopeError into `error: …` on stderr and its exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PaperscopeError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; what was committed is kept and the next run resumes", err=True)
            ctx.exit(130)


@click.group(cls=_Group, epilog="Settings (env PAPERSCOPE_<NAME> or <data-dir>/paperscope.toml):\n\n"
             + "\n\n".join(f"  {s.name} = {s.default!r}: {s.help}" for s in SETTINGS))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="PAPERSCOPE_HOME",
              help="Data directory (default: PAPERSCOPE_HOME or the user's data dir).")
@click.version_option(package_name="paperscope")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """paperscope: a self-hosted research-paper discovery engine."""
    ctx.obj = load_settings(data_dir)


def _store(ctx: click.Context) -> Store:
    settings: Settings = ctx.obj
    store = Store(settings.db_path)
    ctx.call_on_close(store.close)
    return store


def _progress(source: str) -> tuple[Callable[[Batch], None], Callable[[], None]]:
    from tqdm import tqdm

    bytes_based = source in ("snapshot", "file", "sample")
    unit = {"hf-daily": "day"}.get(source, "B" if bytes_based else "rec")
    bar = tqdm(desc=f"ingest {source}", unit=unit, unit_scale=bytes_based, file=sys.stderr,
               disable=None, dynamic_ncols=True)

    def on_batch(batch: Batch) -> None:
        if batch.total is not None and bar.total != batch.total:
            bar.total = batch.total
            bar.refresh()
        bar.update(batch.done)

    return on_batch, bar.close


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        _echo_json({**dataclasses.asdict(report), "changed": report.changed})
        return
    click.echo(f"{report.source}: {report.added} added, {report.updated} updated, "
               f"{report.unchanged} unchanged{' (resumed)' if report.resumed else ''}")
    if report.problems:
        click.echo(f"{len(report.problems)} record(s) skipped:", err=True)
        for p in report.problems[:20]:
            click.echo(f"  {p.record}: {p.reason}", err=True)
        if len(report.problems) > 20:
            click.echo(f"  … and {len(report.problems) - 20} more (use --json for all)", err=True)


@main.command("ingest")
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
    on_batch, close = _progress(source)
    try:
        report = ingest(_store(ctx), ctx.obj, source, opts, restart=restart, on_batch=on_batch)
    finally:
        close()
    _print_report(report, as_json)


def _paper_text(p: Paper) -> str:
    lines = [p.title, f"id: {p.id}"]
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


@main.command()
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Print the paper as JSON.")
@click.pass_context
def show(ctx: click.Context, paper_id: str, as_json: bool) -> None:
    """Show one paper by id (arxiv:…, a bare arXiv id or URL, doi:…, local:…)."""
    paper = _store(ctx).get_paper(paper_id)
    if as_json:
        _echo_json(dataclasses.asdict(paper))
    else:
        click.echo(_paper_text(paper))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count papers per source and show each source's last successful ingest."""
    data = _store(ctx).stats()
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{data['papers']} papers in {data['database']}")
    for source, n in sorted(data["papers_by_source"].items()):
        click.echo(f"  {source}: {n}")
    for key, at in sorted(data["last_successful_ingest"].items()):
        click.echo(f"  last ok {key}: {at}")


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """The main job on the embedded default: ingest the bundled sample and show what is stored."""
    on_batch, close = _progress("sample")
    try:
        report = ingest(_store(ctx), ctx.obj, "sample", SourceOptions(), on_batch=on_batch)
    finally:
        close()
    _print_report(report, False)
    ctx.invoke(stats)
