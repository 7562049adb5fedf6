"""Library import and export: BibTeX/RIS out; a BibTeX or CSV file (e.g. from Zotero) in to seed a tag.

A user's import never writes the shared catalogue: entries that match a catalogue paper (arXiv id, DOI or
title) are linked to it unchanged; the rest become records private to the importing user.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .cite import to_bibtex_many, to_ris
from .clean import clean_paper
from .errors import PaperscopeError
from .models import Paper
from .sources import files
from .store import Store


@dataclass(frozen=True)
class ImportReport:
    """How an import went: linked to catalogue papers, kept as private records, or refused."""

    matched: int
    added: int
    problems: tuple[str, ...]


PAGE = 100  # papers a library page shows
EXPORT_CHUNK = 500  # papers an export reads and writes at a time


def owned_ids(store: Store, user_id: int, tag: str | None) -> list[tuple[bool, str]]:
    """A tag's (or the whole library's) ids, (private?, id): catalogue papers first, then private records."""
    return ([(False, i) for i in store.users.paper_ids(user_id, tag)]
            + [(True, i) for i in store.users.private_ids(user_id, tag)])


def papers_of(store: Store, user_id: int, refs: list[tuple[bool, str]]) -> list[Paper]:
    """The papers of these `owned_ids` entries, in their order (read for just these ids)."""
    shared = store.papers_by_ids([i for private, i in refs if not private])
    private = store.users.private_papers(user_id, [i for is_private, i in refs if is_private])
    return [p for p in ((private if is_private else shared).get(i) for is_private, i in refs) if p is not None]


def export_chunks(store_of: Callable[[], Store], user_id: int, tag: str | None, fmt: str) -> Iterator[str]:
    """A tag's (or the library's) papers as BibTeX or RIS, written a chunk at a time (memory stays flat; a
    web response streams it). `store_of` gives the store of the thread that reads each chunk."""
    refs, keys = owned_ids(store_of(), user_id, tag), dict[str, int]()
    for start in range(0, len(refs), EXPORT_CHUNK):
        found = papers_of(store_of(), user_id, refs[start:start + EXPORT_CHUNK])
        if fmt == "bibtex":
            yield ("\n" if start else "") + to_bibtex_many(found, keys)
        else:
            yield "".join(to_ris(p) + "\n\n" for p in found)


def _match(store: Store, p: Paper) -> str | None:
    for ref in (p.arxiv_id, p.doi and f"doi:{p.doi}"):
        if ref:
            found = store.resolve_id(ref)
            if found:
                return found
    by_title = store.ids_by_title(p.title)
    return by_title[0] if by_title else None


def import_file(store: Store, user_id: int, path: Path, tag: str, fmt: str = "bibtex",
                on_progress: Callable[[int], None] | None = None) -> ImportReport:
    """Tag every entry for this user: linked to the catalogue paper it matches, else kept as a private record."""
    matched = added = 0
    problems: list[str] = []
    for batch in files.harvest(path, None, 500, fmt):
        if on_progress:
            on_progress(matched + added + len(problems))
        problems += [f"{p.record}: {p.reason}" for p in batch.problems]
        for raw in batch.papers:
            try:  # the catalogue's cleaning: http(s) links only, dates in range, bounded sizes, no controls
                paper = clean_paper(raw)[0]
            except ValueError as exc:
                problems.append(f"{raw.id[:80]}: {exc}")
                continue
            found = _match(store, paper)
            if found:
                store.users.save(user_id, found, [tag])
                matched += 1
            else:
                store.users.save_private(user_id, paper, [tag])
                added += 1
    return ImportReport(matched, added, tuple(problems))


def run_import_job(store: Store) -> bool:
    """Run the oldest queued library import (the server's worker calls this); False when none waits."""
    job = store.users.claim_import()
    if job is None:
        return False
    job_id, user_id, tag, fmt, data = job
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("import.csv" if fmt == "csv" else "import.bib")
            path.write_bytes(data)
            report = import_file(store, user_id, path, tag, fmt, lambda n: store.users.import_progress(job_id, n))
    except PaperscopeError as exc:  # an unreadable file: the member reads why, the next job runs
        store.users.finish_import(job_id, False, {"error": str(exc).split(";")[0]})
        return True
    store.users.finish_import(job_id, True, {"matched": report.matched, "added": report.added,
                                             "problems": list(report.problems[:20]),
                                             "skipped": len(report.problems)})
    return True


def import_bibtex(store: Store, user_id: int, path: Path, tag: str) -> ImportReport:
    """A BibTeX import for one user (see `import_file`)."""
    return import_file(store, user_id, path, tag, "bibtex")


def everything(store: Store, user_id: int) -> dict[str, Any]:
    """All a user owns, as one JSON-ready document: account, settings, library, private records, marks, searches."""
    users = store.users
    user = users.get(user_id)
    library = {tag: users.paper_ids(user_id, tag) + users.private_ids(user_id, tag) for tag, _ in users.tags(user_id)}
    private = users.private_papers(user_id)
    return {
        "account": {"email": user.email, "role": user.role, "created_at": user.created_at},
        "digest": {"frequency": user.digest_frequency, "tags": list(user.digest_tags), "size": user.digest_size,
                   "trending": user.digest_trending, "webhook": user.webhook_url},
        "library": library,
        "private_records": {pid: asdict(p) for pid, p in private.items()},
        "marks": users.all_marks(user_id),
        "saved_searches": [{"name": n, "query": q} for _, n, q in users.saved_searches(user_id)],
    }
