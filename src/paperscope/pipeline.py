"""Ingest runs: pick a source, resume from its checkpoint, commit batch by batch, report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .config import Settings
from .errors import PaperscopeError, UsageError
from .models import Batch, IngestReport, Problem
from .sources import arxiv_api, arxiv_oai, arxiv_snapshot, files, hf_daily
from .sources._http import Client
from .store import Store

SOURCES = ("arxiv-oai", "arxiv-api", "snapshot", "hf-daily", "file", "sample")
SAMPLE = Path(__file__).parent / "sample" / "listing-papers.jsonl"


@dataclass(frozen=True)
class SourceOptions:
    """Everything a user can say about one ingest, whatever the source (unused fields are ignored)."""

    path: Path | None = None
    fmt: str | None = None
    set_spec: str | None = None
    prefix: str = "arXiv"
    since: str | None = None
    until: str | None = None
    query: str | None = None
    ids: tuple[str, ...] = ()
    max_results: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _client(settings: Settings, delay: float) -> Client:
    return Client(delay=delay, retries=settings.http_retries, timeout=settings.http_timeout,
                  max_retry_after=settings.max_retry_after)


def plan(source: str, settings: Settings, opts: SourceOptions) -> tuple[str, Callable[[dict[str, Any] | None], Iterator[Batch]]]:
    """The checkpoint key and the batch generator for one source and its options."""
    if source == "arxiv-oai":
        key = f"arxiv_oai:{opts.set_spec or 'all'}:{opts.prefix}"
        client = _client(settings, settings.arxiv_oai_delay)
        return key, lambda cp: arxiv_oai.harvest(
            client, settings.arxiv_oai_url, cp, opts.set_spec, opts.prefix, opts.since, opts.until)
    if source == "arxiv-api":
        client = _client(settings, settings.arxiv_api_delay)
        return "arxiv_api", lambda cp: arxiv_api.harvest(
            client, settings.arxiv_api_url, cp, opts.query, list(opts.ids), max_results=opts.max_results)
    if source == "hf-daily":
        client = _client(settings, settings.hf_delay)
        return "hf_daily", lambda cp: hf_daily.harvest(client, settings.hf_api_url, cp, opts.since, opts.until)
    if source in ("snapshot", "file", "sample"):
        path = SAMPLE if source == "sample" else opts.path
        if path is None:
            raise UsageError(f"`ingest {source}` needs a file path")
        path = path.resolve()
        if source == "snapshot":
            return f"arxiv_snapshot:{path}", lambda cp: arxiv_snapshot.harvest(path, cp, settings.batch_size)
        return f"files:{path}", lambda cp: files.harvest(path, cp, settings.batch_size, opts.fmt)
    raise UsageError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")


def ingest(
    store: Store,
    settings: Settings,
    source: str,
    opts: SourceOptions,
    restart: bool = False,
    on_batch: Callable[[Batch], None] | None = None,
) -> IngestReport:
    """Run one source to the end, committing each batch with its checkpoint; re-running resumes."""
    key, batches = plan(source, settings, opts)
    checkpoint = None if restart else store.get_checkpoint(key)
    run_id = store.start_run(key)
    totals = {"added": 0, "updated": 0, "unchanged": 0}
    problems: list[Problem] = []
    try:
        for batch in batches(checkpoint):
            counts = store.commit_batch(key, run_id, batch)
            for name, n in counts.items():
                totals[name] += n
            problems.extend(batch.problems)
            if on_batch:
                on_batch(batch)
    except PaperscopeError as exc:
        store.finish_run(run_id, "failed", str(exc))
        raise
    except BaseException as exc:
        store.finish_run(run_id, "failed", f"interrupted: {exc.__class__.__name__}")
        raise
    store.finish_run(run_id, "ok")
    return IngestReport(key, problems=tuple(problems), resumed=checkpoint is not None, **totals)
