"""A user's private records on PostgreSQL: the twin of `store/private.py` (imports matching nothing shared)."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Paper
from ..store.accounts import clean_tag
from ..store.db import now_utc
from ..store.private import PrivateQueries, from_record, private_record
from .accounts import PgUserRows


class PgPrivateRows(PgUserRows, PrivateQueries):
    """The private_papers and private_library tables; every query is scoped by the owner's id."""

    def save_private(self, user_id: int, paper: Paper, tags: Sequence[str]) -> str:
        """Keep (or refresh) this user's own copy of a record under tags; returns its private id."""
        pid, record = private_record(paper)
        now = now_utc()
        with self.store.transaction():
            self._put_record(user_id, pid, record, now)
            self.conn.executemany("INSERT INTO private_library VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                  [(user_id, pid, tag, now) for tag in [clean_tag(t) for t in tags] or ["saved"]])
        return pid

    def private_papers(self, user_id: int, ids: Sequence[str] | None = None) -> dict[str, Paper]:
        """This user's private records by id (all of them, or these)."""
        if ids is None:
            rows = self.conn.execute("SELECT id, record FROM private_papers WHERE user_id = %s", (user_id,))
        else:
            rows = self.conn.execute("SELECT id, record FROM private_papers WHERE user_id = %s AND id = ANY(%s)",
                                     (user_id, list(ids)))
        return {i: from_record(r) for i, r in rows}
