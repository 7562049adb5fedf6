"""Library import and export: BibTeX/RIS out; a BibTeX or CSV file (e.g. from Zotero) in to seed a tag.

A user's import never writes the shared catalogue: entries that match a catalogue paper (arXiv id, DOI or
title) are linked to it unchanged; the rest become records private to the importing user.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .cite import to_bibtex_many, to_ris
from .clean import clean_paper
from .models import Paper
from .sources import files
from .store import Store


@dataclass(frozen=True)
class ImportReport:
    """How an import went: linked to catalogue papers, kept as private records, or refused."""

    matched: int
    added: int
    problems: tuple[str, ...]


def owned_papers(store: Store, user_id: int, tag: str | None) -> list[Paper]:
    """A tag's (or the whole library's) papers: catalogue papers first, then the user's private records."""
    ids = store.users.paper_ids(user_id, tag)
    papers = store.papers_by_ids(ids)
    private = store.users.private_papers(user_id)
    return [papers[i] for i in ids if i in papers] + [private[i] for i in store.users.private_ids(user_id, tag)
                                                       if i in private]


def export(store: Store, user_id: int, tag: str | None, fmt: str) -> str:
    """A tag's (or the library's) papers as one BibTeX or RIS document."""
    found = owned_papers(store, user_id, tag)
    if fmt == "bibtex":
        return to_bibtex_many(found)
    return "\n\n".join(to_ris(p) for p in found) + "\n"


def _match(store: Store, p: Paper) -> str | None:
    for ref in (p.arxiv_id, p.doi and f"doi:{p.doi}"):
        if ref:
            found = store.resolve_id(ref)
            if found:
                return found
    by_title = store.ids_by_title(p.title)
    return by_title[0] if by_title else None


def import_file(store: Store, user_id: int, path: Path, tag: str, fmt: str = "bibtex") -> ImportReport:
    """Tag every entry for this user: linked to the catalogue paper it matches, else kept as a private record."""
    matched = added = 0
    problems: list[str] = []
    for batch in files.harvest(path, None, 500, fmt):
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
