"""A user's private records on PostgreSQL: the twin of `store/private.py` (imports matching nothing shared)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..models import Paper
from ..store.accounts import clean_tag
from ..store.db import now_utc
from ..store.papers import _from_row, _to_row
from ..store.private import _NAMES, PRIVATE
from .accounts import PgUserRows


class PgPrivateRows(PgUserRows):
    """The private_papers and private_library tables; every query is scoped by the owner's id."""

    def save_private(self, user_id: int, paper: Paper, tags: Sequence[str]) -> str:
        """Keep (or refresh) this user's own copy of a record under tags; returns its private id."""
        pid = paper.id if paper.id.startswith(PRIVATE) else PRIVATE + paper.id
        row = _to_row(Paper(**{**paper.__dict__, "id": pid}))
        # by column name, so a record survives columns added to `papers` later (and reads back on SQLite)
        record = json.dumps(dict(zip(_NAMES, row, strict=True)), ensure_ascii=False)
        now = now_utc()
        with self.store.transaction():
            self.conn.execute("INSERT INTO private_papers VALUES (%s, %s, %s, %s) ON CONFLICT (user_id, id)"
                              " DO UPDATE SET record = excluded.record", (user_id, pid, record, now))
            self.conn.executemany("INSERT INTO private_library VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                  [(user_id, pid, tag, now) for tag in [clean_tag(t) for t in tags] or ["saved"]])
        return pid

    def private_ids(self, user_id: int, tag: str | None = None) -> list[str]:
        """This user's private record ids (under a tag, or all), newest first."""
        if tag is None:
            rows = self.conn.execute("SELECT id FROM private_papers WHERE user_id = %s ORDER BY created_at DESC, id",
                                     (user_id,))
        else:
            rows = self.conn.execute("SELECT paper_id FROM private_library WHERE user_id = %s AND tag = %s"
                                     " ORDER BY saved_at DESC, paper_id", (user_id, clean_tag(tag)))
        return [r[0] for r in rows]

    def private_papers(self, user_id: int, ids: Sequence[str] | None = None) -> dict[str, Paper]:
        """This user's private records by id (all of them, or these)."""
        if ids is None:
            rows = self.conn.execute("SELECT id, record FROM private_papers WHERE user_id = %s", (user_id,))
        else:
            rows = self.conn.execute("SELECT id, record FROM private_papers WHERE user_id = %s AND id = ANY(%s)",
                                     (user_id, list(ids)))
        return {i: _from_row([json.loads(r).get(c) for c in _NAMES]) for i, r in rows}

    def private_tags(self, user_id: int) -> list[tuple[str, int]]:
        """(tag, count) over this user's private records."""
        return self.conn.execute("SELECT tag, count(*) FROM private_library WHERE user_id = %s GROUP BY tag",
                                 (user_id,)).fetchall()

    def remove_private(self, user_id: int, paper_id: str) -> int:
        """Delete one of this user's private records (its tags go with it)."""
        return self.conn.execute("DELETE FROM private_papers WHERE user_id = %s AND id = %s",
                                 (user_id, paper_id)).rowcount

    def all_marks(self, user_id: int) -> dict[str, dict[str, object]]:
        """Every note, read mark, hide and vote of this user (for the download of everything they own)."""
        rows = self.conn.execute("SELECT paper_id, note, read_at, hidden, vote FROM paper_state WHERE user_id = %s"
                                 " ORDER BY paper_id", (user_id,)).fetchall()
        return {r[0]: {"note": r[1], "read_at": r[2], "hidden": bool(r[3]), "vote": r[4]} for r in rows}
