"""The arXiv metadata snapshot (Kaggle JSON Lines, 2.7M papers), streamed with a byte-offset checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..models import Author, Batch, Paper, Version
from ..text import canonical_id, clean, delatex, normalise_doi, parse_arxiv_id, parse_date, split_authors
from ._lines import read_jsonl

NAME = "arxiv_snapshot"


def _authors(rec: dict[str, Any]) -> tuple[Author, ...]:
    parsed = rec.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if isinstance(parts, list) and parts:
                last, first, suffix = (list(parts) + ["", "", ""])[:3]
                names.append(" ".join(p for p in (clean(first), clean(last), clean(suffix)) if p))
        return tuple(Author(delatex(n)) for n in names if n)
    return tuple(Author(delatex(n)) for n in split_authors(rec.get("authors") or ""))


def record_to_paper(rec: Any) -> Paper:
    """Map one snapshot record; ValueError when it has no id or title."""
    if not isinstance(rec, dict):
        raise ValueError("line is JSON but not an object")
    parsed = parse_arxiv_id(str(rec.get("id") or ""))
    if not parsed:
        raise ValueError(f"no usable arXiv id ({rec.get('id')!r})")
    arxiv_id = parsed[0]
    title = delatex(clean(rec.get("title")))
    if not title:
        raise ValueError(f"{arxiv_id}: no title")
    versions = tuple(
        Version(str(v.get("version")), parse_date(v.get("created")))
        for v in rec.get("versions") or []
        if isinstance(v, dict) and v.get("version")
    )
    return Paper(
        id=canonical_id(arxiv_id, None, None, title), arxiv_id=arxiv_id, title=title,
        abstract=clean(rec.get("abstract")), authors=_authors(rec),
        categories=tuple(str(rec.get("categories") or "").split()),
        published=versions[0].created if versions else parse_date(rec.get("update_date")),
        updated=versions[-1].created if len(versions) > 1 else None,
        versions=versions, doi=normalise_doi(rec.get("doi")), journal_ref=clean(rec.get("journal-ref")) or None,
        comments=clean(rec.get("comments")) or None, license=clean(rec.get("license")) or None,
        links={"abs": f"https://arxiv.org/abs/{arxiv_id}", "pdf": f"https://arxiv.org/pdf/{arxiv_id}"},
        sources=(NAME,),
    )


def harvest(path: Path, checkpoint: dict[str, Any] | None, batch_size: int) -> Iterator[Batch]:
    """Yield batches from the snapshot file, resuming at the checkpoint's byte offset."""
    return read_jsonl(path, checkpoint, batch_size, record_to_paper)
