"""The arXiv metadata snapshot (Kaggle JSON Lines, 2.7M papers), streamed with a byte-offset checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..models import Author, Batch, Paper, Share, Version
from ..text import canonical_id, clean, delatex, parse_arxiv_id, parse_date
from ._authors import parse_byline
from ._fields import dois_and_links, ordered_versions
from ._lines import read_jsonl

NAME = "arxiv_snapshot"


def _authors(rec: dict[str, Any]) -> tuple[Author, ...]:
    """Names from Kaggle's `authors_parsed`; affiliations from the byline when it lines up with them."""
    raw = str(rec.get("authors") or "")
    parsed = rec.get("authors_parsed")
    # affiliations come only from parentheses in the byline: without any, the parsed names are all there is
    byline = parse_byline(raw) if "(" in raw or not (isinstance(parsed, list) and parsed) else []
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if isinstance(parts, list) and parts:
                last, first, suffix = (parts + ["", "", ""])[:3]
                name = clean(" ".join(str(p) for p in (first, last, suffix) if p is not None and p != ""))
                if name:
                    names.append(name)
        affs = [a for _, a in byline] if len(byline) == len(names) else [() for _ in names]
        return tuple(Author(delatex(n), tuple(delatex(x) for x in a)) for n, a in zip(names, affs, strict=True))
    return tuple(Author(delatex(n), tuple(delatex(x) for x in a)) for n, a in byline)


def record_to_paper(rec: Any) -> Paper:
    """Map one snapshot record; ValueError when it has no id or title."""
    if not isinstance(rec, dict):
        raise ValueError("line is JSON but not an object")
    parsed = parse_arxiv_id(str(rec.get("id") or ""))
    if not parsed:
        raise ValueError(f"no usable arXiv id ({rec.get('id')!r})")
    arxiv_id = parsed[0]
    title = clean(rec.get("title"))  # the store shows it as text and keeps this source
    if not title:
        raise ValueError(f"{arxiv_id}: no title")
    versions = ordered_versions([
        Version(str(v.get("version")), parse_date(v.get("created")))
        for v in rec.get("versions") or []
        if isinstance(v, dict) and v.get("version")
    ])
    doi, links = dois_and_links(clean(rec.get("doi")), arxiv_id)
    return Paper(
        id=canonical_id(arxiv_id, None, None, title), arxiv_id=arxiv_id, title=title,
        abstract=clean(rec.get("abstract")), authors=_authors(rec),
        categories=tuple(str(rec.get("categories") or "").split()),
        published=versions[0].created if versions else parse_date(rec.get("update_date")),
        updated=versions[-1].created if len(versions) > 1 else None,
        versions=versions, doi=doi, journal_ref=clean(rec.get("journal-ref")) or None,
        comments=clean(rec.get("comments")) or None, license=clean(rec.get("license")) or None,
        links=links, sources=(NAME,),
    )


def harvest(path: Path, checkpoint: dict[str, Any] | None, batch_size: int, share: Share | None = None,
            ) -> Iterator[Batch]:
    """Yield batches from the snapshot file, resuming at the checkpoint's byte offset (`share`: see `read_jsonl`)."""
    return read_jsonl(path, checkpoint, batch_size, record_to_paper, share)
