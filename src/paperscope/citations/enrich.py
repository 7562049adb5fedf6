"""`paperscope ingest openalex` and `ingest semantic-scholar`: the store's papers enriched with citations.

Papers are taken in id order, a batch at a time; each batch's answers (and its no-matches) are committed before
the next request, so an interrupted run loses nothing and a re-run asks only for papers whose last fetch from that
source is older than `citations_stale_days`. A paper is matched by its arXiv id (arXiv's DOI `10.48550/arXiv.<id>`
on OpenAlex, `ARXIV:<id>` on Semantic Scholar) or its DOI, never by title: one the source lacks is reported."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..backends import AnyStore
from ..config import Settings
from ..errors import UsageError
from ..sources import openalex, semantic_scholar
from ..sources._http import Client
from ..store.runs import recorded_run
from .records import OPENALEX, S2, Found, Wanted, Work

SNAPSHOT_BATCH = 500  # snapshot works matched and committed per transaction
NO_MATCH_SHOWN = 50  # no-match ids listed in a report (all are counted)


@dataclass
class CitationReport:
    """What one citation run did, for the CLI (and `--json`)."""

    source: str
    looked_up: int = 0
    matched: int = 0
    no_match: list[str] = field(default_factory=list)  # paper ids the source has no record of (first 50)
    no_match_count: int = 0
    edges_added: int = 0
    works: int = 0
    named: int = 0  # works first known by id only, named since (title, DOI)
    without_ids: int = 0  # papers with neither arXiv id nor DOI: not looked up
    lines: int = 0  # snapshot lines read
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.looked_up or self.edges_added or self.named or self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "changed": self.changed}


def _client(settings: Settings, delay: float, headers: dict[str, str] | None = None) -> Client:
    client = Client(delay=delay, retries=settings.http_retries, timeout=settings.http_timeout,
                    max_retry_after=settings.max_retry_after)
    client.session.headers.update(headers or {})
    return client


def _stale_before(settings: Settings) -> str:
    return (datetime.now(UTC) - timedelta(days=settings.citations_stale_days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _noted(report: CitationReport, found: Sequence[Found]) -> None:
    report.looked_up += len(found)
    for f in found:
        if f.external_id is None:
            report.no_match_count += 1
            if len(report.no_match) < NO_MATCH_SHOWN:
                report.no_match.append(f.paper_id)
        else:
            report.matched += 1


def _run(store: AnyStore, key: str, report: CitationReport, body: Callable[[], None]) -> CitationReport:
    with recorded_run(store, key) as run:
        body()
        run.message = (f"{report.looked_up} looked up, {report.matched} matched, {report.no_match_count} without "
                       f"a match, {report.edges_added} new edges")
    return report


def _tallied(report: CitationReport, saved: dict[str, int], found: Sequence[Found], batch: Sequence[Any],
             on_batch: Callable[[int], None] | None) -> str:
    """Count one looked-up batch into the report (and the progress bar); the paper id the next batch starts after."""
    report.edges_added += saved["edges_added"]
    report.works += saved["works"]
    _noted(report, found)
    if on_batch:
        on_batch(len(batch))
    return str(batch[-1].paper_id)


# --- OpenAlex -------------------------------------------------------------------------------------

def _name_works(store: AnyStore, client: Client, settings: Settings, keys: Sequence[str]) -> dict[str, Work]:
    """Title, DOI and arXiv id of these `openalex:W…` works: from the store when known, else asked of OpenAlex."""
    known = store.citations.known_works(keys)
    missing = [k.split(":", 1)[1] for k in keys if k not in known]
    for work in openalex.works_by_id(client, settings.openalex_api_url, missing, settings.openalex_mailto):
        known[work.key] = work
    return known


def openalex_found(batch: Sequence[Wanted], works: Sequence[dict[str, Any]]) -> tuple[list[Found], list[str]]:
    """Match OpenAlex works back to the batch's papers by DOI (arXiv's DOI first): each paper's Found (its
    references as bare `openalex:W…` works) and every referenced id."""
    by_doi: dict[str, list[dict[str, Any]]] = {}
    for raw in works:
        doi = openalex.normalise_doi(raw.get("doi") if isinstance(raw.get("doi"), str) else None)
        if doi:
            by_doi.setdefault(doi, []).append(raw)
    found, refs = [], []
    for want in batch:
        hits: list[tuple[str, dict[str, Any]]] = []
        for i, doi in enumerate(openalex.doi_keys(want.arxiv_id, want.doi)):
            hits += [("arXiv id" if i == 0 and want.arxiv_id else "DOI", raw) for raw in by_doi.get(doi, [])]
        hits = [(by, raw) for by, raw in hits if openalex.work_id(raw.get("id"))]
        if not hits:
            found.append(Found(want.paper_id, None))
            continue
        # the arXiv record often has no references while its journal version has them: both count
        ids = list(dict.fromkeys(w for _, raw in hits for w in openalex.references(raw)))
        refs += ids
        counts = [c for c in (openalex.cited_by_count(raw) for _, raw in hits) if c is not None]
        found.append(Found(want.paper_id, f"openalex:{openalex.work_id(hits[0][1].get('id'))}",
                           max(counts) if counts else None, None, tuple(Work(f"openalex:{w}") for w in ids),
                           matched_by=hits[0][0]))
    return found, list(dict.fromkeys(refs))


def _with_names(found: list[Found], names: dict[str, Work]) -> list[Found]:
    return [Found(f.paper_id, f.external_id, f.cited_by, f.influential,
                  tuple(names.get(w.key, w) for w in f.references), f.cited_by_works, f.matched_by) for f in found]


def ingest_openalex(store: AnyStore, settings: Settings, batch_size: int = 50,
                    on_batch: Callable[[int], None] | None = None) -> CitationReport:
    """Enrich the store's stale papers from the OpenAlex API (see the module's docstring)."""
    report = CitationReport(OPENALEX, without_ids=store.citations.papers_without_ids())
    client = _client(settings, settings.openalex_delay)
    stale_before = _stale_before(settings)

    def body() -> None:
        after = ""
        while batch := store.citations.citations_due(OPENALEX, stale_before, after, batch_size):
            dois = list(dict.fromkeys(d for w in batch for d in openalex.doi_keys(w.arxiv_id, w.doi)))
            works = openalex.works_by_doi(client, settings.openalex_api_url, dois, settings.openalex_mailto)
            found, refs = openalex_found(batch, works)
            named = _name_works(store, client, settings, [f"openalex:{w}" for w in refs])
            store.citations.save_works(OPENALEX, [Work(f"openalex:{w}") for w in refs if f"openalex:{w}" not in named])
            saved = store.citations.save_citations(OPENALEX, _with_names(found, named))
            after = _tallied(report, saved, found, batch, on_batch)
        # works an OpenAlex snapshot named by id only: named now, their edges moved to the store's ids
        while keys := store.citations.unresolved_citation_keys("openalex:", openalex.BATCH * 4):
            named = _name_works(store, client, settings, keys)
            got = [named[k] for k in keys if k in named]
            store.citations.save_works(OPENALEX, got + [Work(k) for k in keys if k not in named])
            report.named += len(got)

    return _run(store, "citations:openalex", report, body)


def ingest_openalex_snapshot(store: AnyStore, settings: Settings, path: Path, restart: bool = False,
                             on_batch: Callable[[int], None] | None = None) -> CitationReport:
    """Read an OpenAlex works snapshot part (`.jsonl.gz` or `.jsonl`) as a stream: works matching a stored paper
    (by arXiv DOI, DOI or arXiv link) give its count and references. Resumable: the line reached is checkpointed
    with each batch. Works the snapshot names by id only are named by the next `ingest openalex`."""
    if not path.is_file():
        raise UsageError(f"{path} is not a file; give an OpenAlex works snapshot part (.jsonl.gz)")
    key = f"openalex_snapshot:{path.resolve()}"
    state = None if restart else store.get_checkpoint(key)
    start = int(state["line"]) if state else 0
    report = CitationReport(OPENALEX)

    def flush(rows: list[tuple[Work, dict[str, Any]]], line: int) -> None:
        ids = store.citations.store_ids([w for w, _ in rows])
        matched = [(w, raw) for w, raw in rows if w.key in ids]
        store.citations.save_works(OPENALEX, [w for w, _ in matched])  # aliases: edges to these ids move home
        refs = list(dict.fromkeys(f"openalex:{r}" for _, raw in matched for r in openalex.references(raw)))
        names = store.citations.known_works(refs)
        found = [Found(ids[w.key], w.key, openalex.cited_by_count(raw), None,
                       tuple(names.get(f"openalex:{r}", Work(f"openalex:{r}")) for r in openalex.references(raw)),
                       matched_by="snapshot") for w, raw in matched]
        saved = store.citations.save_citations(OPENALEX, found, checkpoint=(key, {"line": line}))
        report.edges_added += saved["edges_added"]
        report.works += saved["works"]
        report.matched += len(found)
        report.looked_up += len(found)

    def body() -> None:
        rows: list[tuple[Work, dict[str, Any]]] = []
        line = start
        for line, raw, problem in openalex.read_snapshot(path, start):
            report.lines += 1
            if problem:
                report.problems.append(problem)
            elif raw is not None and (work := openalex.to_work(raw)) and (work.doi or work.arxiv_id):
                rows.append((work, raw))
            if len(rows) >= SNAPSHOT_BATCH:
                flush(rows, line)
                rows = []
                if on_batch:
                    on_batch(SNAPSHOT_BATCH)
        flush(rows, line)

    return _run(store, key, report, body)


# --- Semantic Scholar -----------------------------------------------------------------------------

def ingest_semantic_scholar(store: AnyStore, settings: Settings, batch_size: int = semantic_scholar.BATCH,
                            on_batch: Callable[[int], None] | None = None) -> CitationReport:
    """Enrich the store's stale papers from the Graph API's batch endpoint (see the module's docstring)."""
    report = CitationReport(S2, without_ids=store.citations.papers_without_ids())
    client = _client(settings, settings.s2_delay, {"x-api-key": settings.s2_api_key} if settings.s2_api_key else None)
    stale_before = _stale_before(settings)

    def body() -> None:
        after = ""
        while batch := store.citations.citations_due(S2, stale_before, after, batch_size):
            found = semantic_scholar.lookup(client, settings.s2_api_url, batch)
            saved = store.citations.save_citations(S2, found)
            after = _tallied(report, saved, found, batch, on_batch)

    return _run(store, "citations:semantic-scholar", report, body)
