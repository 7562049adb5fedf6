"""Records a user imported that match nothing in the catalogue: visible to their owner only, never shared."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..clean import clean_paper
from ..models import Paper
from .accounts import UserRows, clean_tag
from .db import now_utc
from .papers import _COLUMNS, _from_row, _to_row
from .rows import SqlRows

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


class PrivateQueries(SqlRows):
    """Private records' SQL that reads the same in SQLite and PostgreSQL; each backend's PrivateRows adds the rest."""

    def _put_record(self, user_id: int, pid: str, record: str, now: str) -> None:
        """Insert or refresh one private record (call inside the save's transaction)."""
        self.run("INSERT INTO private_papers VALUES (?, ?, ?, ?) ON CONFLICT (user_id, id)"
                 " DO UPDATE SET record = excluded.record", (user_id, pid, record, now))

    def private_ids(self, user_id: int, tag: str | None = None) -> list[str]:
        """This user's private record ids (under a tag, or all), newest first."""
        if tag is None:
            rows = self.run("SELECT id FROM private_papers WHERE user_id = ? ORDER BY created_at DESC, id",
                            (user_id,))
        else:
            rows = self.run("SELECT paper_id FROM private_library WHERE user_id = ? AND tag = ?"
                            " ORDER BY saved_at DESC, paper_id", (user_id, clean_tag(tag)))
        return [r[0] for r in rows]

    def private_tags(self, user_id: int) -> list[tuple[str, int]]:
        """(tag, count) over this user's private records."""
        return self.run("SELECT tag, count(*) FROM private_library WHERE user_id = ? GROUP BY tag",
                        (user_id,)).fetchall()

    def remove_private(self, user_id: int, paper_id: str) -> int:
        """Delete one of this user's private records (its tags go with it)."""
        return int(self.write("DELETE FROM private_papers WHERE user_id = ? AND id = ?", (user_id, paper_id)).rowcount)

    def all_marks(self, user_id: int) -> dict[str, dict[str, object]]:
        """Every note, read mark, hide and vote of this user (for the download of everything they own)."""
        rows = self.run("SELECT paper_id, note, read_at, hidden, vote FROM paper_state WHERE user_id = ?"
                        " ORDER BY paper_id", (user_id,)).fetchall()
        return {r[0]: {"note": r[1], "read_at": r[2], "hidden": bool(r[3]), "vote": r[4]} for r in rows}


class PrivateRows(UserRows, PrivateQueries):
    """The private_papers and private_library tables on SQLite; every query is scoped by the owner's id."""

    def save_private(self, user_id: int, paper: Paper, tags: Sequence[str]) -> str:
        """Keep (or refresh) this user's own copy of a record under tags; returns its private id."""
        pid, record = private_record(paper)
        now = now_utc()
        with self.store.transaction():
            self._put_record(user_id, pid, record, now)
            for tag in [clean_tag(t) for t in tags] or ["saved"]:
                self.conn.execute("INSERT OR IGNORE INTO private_library VALUES (?, ?, ?, ?)", (user_id, pid, tag, now))
        return pid

    def private_papers(self, user_id: int, ids: Sequence[str] | None = None) -> dict[str, Paper]:
        """This user's private records by id (all of them, or these)."""
        rows = self.conn.execute("SELECT id, record FROM private_papers WHERE user_id = ?", (user_id,)).fetchall()
        wanted = None if ids is None else set(ids)
        return {i: from_record(r) for i, r in rows if wanted is None or i in wanted}
