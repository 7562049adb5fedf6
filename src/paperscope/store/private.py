"""Records a user imported that match nothing in the catalogue: visible to their owner only, never shared."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..models import Paper
from .accounts import UserRows, clean_tag
from .db import now_utc
from .papers import _COLUMNS, _from_row, _to_row

_NAMES = [c.strip() for c in _COLUMNS.split(",")]

PRIVATE = "private:"


class PrivateRows(UserRows):
    """The private_papers and private_library tables; every query is scoped by the owner's id."""

    def save_private(self, user_id: int, paper: Paper, tags: Sequence[str]) -> str:
        """Keep (or refresh) this user's own copy of a record under tags; returns its private id."""
        pid = paper.id if paper.id.startswith(PRIVATE) else PRIVATE + paper.id
        row = _to_row(Paper(**{**paper.__dict__, "id": pid}))
        # by column name, so a record survives columns added to `papers` later
        record = json.dumps(dict(zip(_NAMES, row, strict=True)), ensure_ascii=False)
        now = now_utc()
        with self.store.transaction():
            self.conn.execute("INSERT INTO private_papers VALUES (?, ?, ?, ?) ON CONFLICT (user_id, id)"
                              " DO UPDATE SET record = excluded.record", (user_id, pid, record, now))
            for tag in [clean_tag(t) for t in tags] or ["saved"]:
                self.conn.execute("INSERT OR IGNORE INTO private_library VALUES (?, ?, ?, ?)", (user_id, pid, tag, now))
        return pid

    def private_ids(self, user_id: int, tag: str | None = None) -> list[str]:
        """This user's private record ids (under a tag, or all), newest first."""
        if tag is None:
            rows = self.conn.execute("SELECT id FROM private_papers WHERE user_id = ? ORDER BY created_at DESC, id",
                                     (user_id,))
        else:
            rows = self.conn.execute("SELECT paper_id FROM private_library WHERE user_id = ? AND tag = ?"
                                     " ORDER BY saved_at DESC, paper_id", (user_id, clean_tag(tag)))
        return [r[0] for r in rows]

    def private_papers(self, user_id: int, ids: Sequence[str] | None = None) -> dict[str, Paper]:
        """This user's private records by id (all of them, or these)."""
        rows = self.conn.execute("SELECT id, record FROM private_papers WHERE user_id = ?", (user_id,)).fetchall()
        wanted = None if ids is None else set(ids)
        return {i: _from_row([json.loads(r).get(c) for c in _NAMES]) for i, r in rows if wanted is None or i in wanted}

    def private_tags(self, user_id: int) -> list[tuple[str, int]]:
        """(tag, count) over this user's private records."""
        return self.conn.execute("SELECT tag, count(*) FROM private_library WHERE user_id = ? GROUP BY tag",
                                 (user_id,)).fetchall()

    def remove_private(self, user_id: int, paper_id: str) -> int:
        """Delete one of this user's private records."""
        with self.store.transaction():
            return self.conn.execute("DELETE FROM private_papers WHERE user_id = ? AND id = ?",
                                     (user_id, paper_id)).rowcount

    def all_marks(self, user_id: int) -> dict[str, dict[str, object]]:
        """Every note, read mark, hide and vote of this user (for the download of everything they own)."""
        rows = self.conn.execute("SELECT paper_id, note, read_at, hidden, vote FROM paper_state WHERE user_id = ?"
                                 " ORDER BY paper_id", (user_id,)).fetchall()
        return {r[0]: {"note": r[1], "read_at": r[2], "hidden": bool(r[3]), "vote": r[4]} for r in rows}
