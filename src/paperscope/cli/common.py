"""What every command shares: the store and engine built once per run, progress bars, reports, JSON output."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import click

from ..backends import AnyStore
from ..config import Settings
from ..errors import NotFoundError, SourceError
from ..models import Batch, IngestReport
from ..pipeline import SourceOptions, ingest


def echo_json(data: Any) -> None:
    """Print one JSON document on stdout (the only thing `--json` prints there)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def open_store(ctx: click.Context, create: bool = False) -> AnyStore:
    """The store the settings name (the data dir's SQLite file, or PostgreSQL), closed when the command ends.

    Only commands that bring data (`create`) make a new data directory; the others say there is none."""
    from ..backends import open_store as build

    root = ctx.find_root()
    settings: Settings = root.obj
    if not create and not settings.database_url and not settings.db_path.exists():
        raise NotFoundError(f"there is no paperscope data directory at {settings.home} (no database there); pass "
                            "the right --data-dir, or create one with `paperscope ingest …` or `paperscope demo`")
    if "store" not in root.meta:
        store = build(settings)
        root.call_on_close(store.close)
        root.meta["store"] = store
    return root.meta["store"]  # type: ignore[no-any-return]


def open_engine(ctx: click.Context) -> Any:
    """The search engine (store + indexes + lazily loaded model)."""
    from ..search import open_engine as build

    return build(open_store(ctx), ctx.find_root().obj)


class _LazyBar:
    """A tqdm bar made on its first use, so work that turns out empty never imports tqdm."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs, self.bar = kwargs, None

    def __getattr__(self, name: str) -> Any:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(file=sys.stderr, disable=None, dynamic_ncols=True, **self.kwargs)
        return getattr(self.bar, name)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def bar(desc: str, unit: str = "paper", unit_scale: bool = False) -> Any:
    """A progress bar on stderr, silent when stderr is not a terminal (made on its first update)."""
    return _LazyBar(desc=desc, unit=unit, unit_scale=unit_scale)


def progress_fn(progress: Any) -> Callable[[int, int], None]:
    """An `on_progress(n, total)` callback that drives a bar."""
    def update(n: int, total: int) -> None:
        if progress.total != total:
            progress.total = total
            progress.refresh()
        progress.update(n)
    return update


def run_ingest(ctx: click.Context, source: str, opts: SourceOptions, restart: bool = False) -> IngestReport:
    """Ingest one source with a progress bar (the one place that reports ingest progress)."""
    bytes_based = source in ("snapshot", "file", "sample")
    progress = bar(f"ingest {source}", {"hf-daily": "day"}.get(source, "B" if bytes_based else "rec"), bytes_based)

    def on_batch(batch: Batch) -> None:
        if batch.total is not None and progress.total != batch.total:
            progress.total = batch.total
            progress.refresh()
        progress.update(batch.done)

    try:
        return ingest(open_store(ctx, create=True), ctx.find_root().obj, source, opts, restart=restart, on_batch=on_batch)
    finally:
        progress.close()


def _why(reason: str) -> str:
    """The kind of a skip reason, for the summary (`not valid JSON (… at column 3)` → `not valid JSON`)."""
    return reason.split(" (")[0].split(": ")[0][:60]


def print_report(report: IngestReport, as_json: bool) -> None:
    """Print an ingest summary (or the JSON report); skipped records and dropped fields go to stderr."""
    if as_json:
        echo_json({**dataclasses.asdict(report), "changed": report.changed, "valid": report.valid})
        return
    click.echo(f"{report.source}: {report.added} added, {report.updated} updated, "
               f"{report.unchanged} unchanged{' (resumed)' if report.resumed else ''}")
    if report.problems:
        kinds = Counter(_why(p.reason) for p in report.problems)
        click.echo(f"{len(report.problems)} record(s) skipped ("
                   + ", ".join(f"{n} {kind}" for kind, n in kinds.most_common(5)) + "):", err=True)
        for p in report.problems[:20]:
            click.echo(f"  {p.record}: {p.reason}", err=True)
        if len(report.problems) > 20:
            click.echo(f"  … and {len(report.problems) - 20} more (use --json for all)", err=True)
    if report.cleaned:
        records = len({p.record for p in report.cleaned})
        click.echo(f"{len(report.cleaned)} field(s) dropped or cut in {records} kept record(s):", err=True)
        for p in report.cleaned[:10]:
            click.echo(f"  {p.record}: {p.reason}", err=True)
        if len(report.cleaned) > 10:
            click.echo(f"  … and {len(report.cleaned) - 10} more (use --json for all)", err=True)


def check_report(report: IngestReport) -> None:
    """Records were read but none was usable: that is an error (a resumed run with nothing new is not)."""
    skipped = report.problems
    if report.valid == 0 and skipped:
        raise SourceError(f"none of the {len(skipped)} record(s) read could be ingested (first: {skipped[0].record}: "
                          f"{skipped[0].reason}); check the file's format against docs/sources.md")


def embed_all(ctx: click.Context) -> int:
    """Embed every paper that lacks a vector for the configured model, with a progress bar."""
    from ..embed import model_identity
    from ..pipeline import embed_papers

    settings: Settings = ctx.find_root().obj
    store = open_store(ctx, create=True)
    if store.count_to_embed(store.model_id(*model_identity(settings))) == 0:
        return 0  # nothing to embed: the model is not even loaded (a no-op update stays under a second)
    if settings.ray_address:
        return _embed_on_ray(ctx, settings)
    from ..embed import load_embedder

    embedder = load_embedder(settings.model, settings.embed_threads)
    progress = bar(f"embed ({embedder.name})")
    try:
        return embed_papers(open_store(ctx), embedder, settings.embed_batch, progress_fn(progress))
    finally:
        progress.close()


def _embed_on_ray(ctx: click.Context, settings: Settings) -> int:
    """`embed_all` with `ray_address` set: batches become Ray tasks; the same progress bar."""
    from ..embed import model_identity
    from ..fanout import RaySession, embed_papers_ray

    def started(session: RaySession) -> None:
        where = session.session_dir or session.address
        click.echo(f"embedding on Ray ({session.address}, {session.workers} worker(s), session {where})", err=True)

    name, dim = model_identity(settings)
    progress = bar(f"embed on Ray ({name})")
    try:
        return embed_papers_ray(open_store(ctx), settings, name, dim, settings.embed_batch, progress_fn(progress),
                                started)
    finally:
        progress.close()


def index_all(ctx: click.Context, rebuild: bool) -> dict[str, int]:
    """Bring both indexes up to date with the store (or rebuild them), with a progress bar."""
    from ..embed import model_identity
    from ..pipeline import update_indexes

    settings: Settings = ctx.find_root().obj
    name, dim = model_identity(settings)
    progress = bar("index")
    try:
        return update_indexes(open_store(ctx, create=True), settings, name, dim, rebuild, progress_fn(progress))
    finally:
        progress.close()
