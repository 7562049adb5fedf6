"""Library import and export: BibTeX/RIS out, a BibTeX file (e.g. from Zotero) in to seed a tag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cite import to_bibtex_many, to_ris
from .models import Paper
from .sources import files
from .store import Store


@dataclass(frozen=True)
class ImportReport:
    """How a BibTeX import went: matched to stored papers, added as new, or refused."""

    matched: int
    added: int
    problems: tuple[str, ...]


def export(store: Store, user_id: int, tag: str | None, fmt: str) -> str:
    """A tag's (or the library's) papers as one BibTeX or RIS document."""
    ids = store.users.paper_ids(user_id, tag)
    papers = store.papers_by_ids(ids)
    found = [papers[i] for i in ids if i in papers]
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


def import_bibtex(store: Store, user_id: int, path: Path, tag: str) -> ImportReport:
    """Tag every entry of a BibTeX file: matched by arXiv id, DOI or title, else stored as a new paper."""
    matched = added = 0
    problems: list[str] = []
    for batch in files.harvest(path, None, 500, "bibtex"):
        problems += [f"{p.record}: {p.reason}" for p in batch.problems]
        new: list[Paper] = []
        for paper in batch.papers:
            found = _match(store, paper)
            if found:
                store.users.save(user_id, found, [tag])
                matched += 1
            else:
                new.append(paper)
        if new:
            store.upsert_papers(new)
            for paper in new:
                store.users.save(user_id, store.resolve_id(paper.id) or paper.id, [tag])
            added += len(new)
    return ImportReport(matched, added, tuple(problems))
