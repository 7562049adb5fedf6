"""A paper as a row of `papers` and as a private record's JSON (by column name), and the cleaning of private records:
plain functions with no database of their own, so the migrations can use them too."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from ..clean import clean_paper
from ..models import Author, Paper, Signal, Version

# the encoders `json.dumps` would build anew on every call with these options (a row takes seven of them)
_JSON = json.JSONEncoder(ensure_ascii=False).encode
_JSON_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
_JSON_ASCII = json.JSONEncoder().encode


@lru_cache(maxsize=8192)
def _names(values: tuple[str, ...]) -> str:
    """A JSON list of a few names that recur across papers (categories, sources), encoded once."""
    return _JSON_ASCII(list(values))


def _to_row(p: Paper) -> tuple[Any, ...]:
    return (
        p.id, p.arxiv_id, p.doi, p.title, p.abstract,
        _JSON([[a.name, list(a.affiliations)] for a in p.authors]),
        _names(tuple(p.categories)), p.published, p.updated, p.first_seen,
        _JSON_ASCII([[v.version, v.created] for v in p.versions]),
        p.journal_ref, p.comments, p.license,
        _JSON_SORTED(p.links),
        _JSON_ASCII({k: [s.value, s.source, s.at] for k, s in sorted(p.signals.items())}) if p.signals else "{}",
        _names(tuple(p.sources)), p.withdrawn, p.featured, p.abstract_source, p.title_source, _extra(p),
    )


def _extra(p: Paper) -> str:
    """The `extra` column: fields only some sources have, under the source's own names (Hugging Face's)."""
    extra: dict[str, Any] = {}
    if p.ai_summary:
        extra["ai_summary"] = p.ai_summary
    if p.ai_keywords:
        extra["ai_keywords"] = list(p.ai_keywords)
    if p.organization:
        extra["organization"] = p.organization
    return _JSON_SORTED(extra) if extra else "{}"


_COLUMNS = (
    "id, arxiv_id, doi, title, abstract, authors, categories, published, updated, first_seen, "
    "versions, journal_ref, comments, license, links, signals, sources, withdrawn, featured, abstract_source, "
    "title_source, extra"
)

def _from_row(r: Sequence[Any]) -> Paper:
    return Paper(
        id=r[0], arxiv_id=r[1], doi=r[2], title=r[3], abstract=r[4],
        authors=tuple(Author(n, tuple(aff)) for n, aff in json.loads(r[5])),
        categories=tuple(json.loads(r[6])), published=r[7], updated=r[8], first_seen=r[9],
        versions=tuple(Version(v, c) for v, c in json.loads(r[10])),
        journal_ref=r[11], comments=r[12], license=r[13], links=json.loads(r[14]),
        signals={k: Signal(v, s, a) for k, (v, s, a) in json.loads(r[15]).items()},
        sources=tuple(json.loads(r[16])), withdrawn=r[17], featured=r[18], abstract_source=r[19],
        title_source=r[20], **_from_extra(r[21]),
    )


def _from_extra(raw: str | None) -> dict[str, Any]:
    extra = json.loads(raw) if raw else {}
    return {"ai_summary": extra.get("ai_summary"), "ai_keywords": tuple(extra.get("ai_keywords") or ()),
            "organization": extra.get("organization")}


_NAMES = [c.strip() for c in _COLUMNS.split(",")]

PRIVATE = "private:"


def private_record(paper: Paper) -> tuple[str, str]:
    """A record's private id and the JSON kept of it: by column name, so it survives columns added to `papers`
    later (and reads back on either backend). The record is cleaned as a catalogue paper is (http(s) links only,
    dates in range, bounded lengths and lists, no control characters); ValueError when no title is left."""
    paper = clean_paper(paper)[0]
    pid = paper.id if paper.id.startswith(PRIVATE) else PRIVATE + paper.id
    row = _to_row(Paper(**{**paper.__dict__, "id": pid}))
    return pid, json.dumps(dict(zip(_NAMES, row, strict=True)), ensure_ascii=False)


def from_record(record: str) -> Paper:
    """The Paper a private record's JSON holds (columns it lacks read as None)."""
    values = json.loads(record)
    return _from_row([values.get(c) for c in _NAMES])


def recleaned(record: str) -> str | None:
    """A stored private record's JSON cleaned again (for the migration that cleans records imported before every
    import was cleaned); None when it is already clean or has nothing left to keep."""
    try:
        _, fresh = private_record(from_record(record))
    except ValueError:
        return None
    return None if fresh == record else fresh


_PAGE = ("SELECT user_id, id, record FROM private_papers WHERE user_id > {m} OR (user_id = {m} AND id > {m})"
         " ORDER BY user_id, id LIMIT 1000")


def clean_stored_records(conn: Any, mark: str = "?") -> None:
    """The migration (both backends; `mark` is the driver's placeholder) that cleans every private record stored
    before imports were cleaned like the catalogue, one page at a time."""
    last: tuple[int, str] = (-1, "")
    while rows := conn.execute(_PAGE.format(m=mark), (last[0], last[0], last[1])).fetchall():
        last = (rows[-1][0], rows[-1][1])
        for user_id, pid, record in rows:
            if (fresh := recleaned(record)) is not None:
                conn.execute(f"UPDATE private_papers SET record = {mark} WHERE user_id = {mark} AND id = {mark}",
                             (fresh, user_id, pid))


