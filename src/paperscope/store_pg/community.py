"""The lab's public layer on PostgreSQL: the twin of `store/community.py` (display names, daily
submissions, upvotes, comments, follows).

Limits hold under concurrent requests from several workers: a write that counts a member's rows first locks
that member's `users` row, so two requests of one member run one after the other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..store.community import _NAME, Activity, CommunityQueries, _now_ms, gather_activity
from ..store.db import now_utc
from .db import psycopg_modules

if TYPE_CHECKING:
    from . import PgStore


class PgCommunityRows(CommunityQueries):
    """SQL for the lab tables that PostgreSQL says its own way (the rest is `CommunityQueries`)."""

    MARK = "%s"
    _IMPORTED_UPVOTES = "(p.signals::jsonb -> 'upvotes' ->> 0)::numeric"

    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.conn = store.conn

    def _lock_member(self, user_id: int) -> None:
        """Lock the member's `users` row: two requests of one member count and write one after the other."""
        self.conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))

    # --- display names ----------------------------------------------------------------------------

    def set_display_name(self, user_id: int, name: str) -> str:
        """Choose a public name; names are unique (case-insensitive) and may not look like another's default."""
        value = self._checked_name(user_id, name)
        taken = UsageError(f"the name {value!r} is taken; choose another")
        psycopg, _ = psycopg_modules()
        try:
            with self.store.transaction():
                if self.conn.execute("SELECT user_id FROM lab_members WHERE lower(display_name) = lower(%s)"
                                     " AND user_id != %s", (value, user_id)).fetchone():
                    raise taken
                self.conn.execute("INSERT INTO lab_members VALUES (%s, %s) ON CONFLICT (user_id) DO UPDATE"
                                  " SET display_name = excluded.display_name", (user_id, value))
        except psycopg.errors.UniqueViolation:  # another member took it between the check and the write
            raise taken from None
        return value

    # --- submissions ------------------------------------------------------------------------------

    def _insert_submission(self, day: str, paper_id: str, user_id: int) -> bool:
        # another worker may have submitted the paper since the check: the first one wins
        return bool(self.conn.execute("INSERT INTO lab_submissions VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                      (day, paper_id, user_id, _now_ms())).rowcount == 1)

    # --- upvotes ----------------------------------------------------------------------------------

    def upvote(self, user_id: int, paper_id: str) -> None:
        """One public upvote per member per paper: upvoting again changes nothing."""
        self.conn.execute("INSERT INTO lab_upvotes VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                          (user_id, paper_id, now_utc()))

    def unupvote(self, user_id: int, paper_id: str) -> None:
        """Take one's upvote back (nothing happens if there was none)."""
        self.conn.execute("DELETE FROM lab_upvotes WHERE user_id = %s AND paper_id = %s", (user_id, paper_id))

    def upvote_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """Local upvotes per paper (papers without any are absent)."""
        if not ids:
            return {}
        return {r[0]: int(r[1]) for r in self.conn.execute(
            "SELECT paper_id, count(*) FROM lab_upvotes WHERE paper_id = ANY(%s) GROUP BY paper_id", (list(ids),))}

    # --- the public counts of papers --------------------------------------------------------------

    def activity(self, ids: Sequence[str]) -> dict[str, Activity]:
        """Local upvotes, visible comments and the latest submission of each paper (absent: no activity)."""
        chunk = list(dict.fromkeys(ids))
        if not chunk:
            return {}
        ups = dict(self.conn.execute("SELECT paper_id, count(*) FROM lab_upvotes WHERE paper_id = ANY(%s)"
                                     " GROUP BY paper_id", (chunk,)).fetchall())
        coms = dict(self.conn.execute("SELECT paper_id, count(*) FROM lab_comments WHERE paper_id = ANY(%s)"
                                      " AND deleted = 0 AND hidden = 0 GROUP BY paper_id", (chunk,)).fetchall())
        subs = {r[0]: (r[1], r[2]) for r in self.conn.execute(
            f"SELECT s.paper_id, {_NAME.format('s')}, s.submitted_at FROM lab_submissions s"
            " LEFT JOIN lab_members m ON m.user_id = s.user_id"
            " WHERE s.paper_id = ANY(%s) ORDER BY s.day", (chunk,))}  # the latest day wins
        return gather_activity(chunk, ups, coms, subs)

    # --- comments ---------------------------------------------------------------------------------

    def _insert_comment(self, paper_id: str, user_id: int, parent_id: int | None, body: str) -> int:
        row = self.conn.execute(
            "INSERT INTO lab_comments (paper_id, user_id, parent_id, body, created_at)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id", (paper_id, user_id, parent_id, body, now_utc())).fetchone()
        assert row is not None
        return int(row[0])

    # --- follows ----------------------------------------------------------------------------------

    def follow(self, user_id: int, paper_id: str, on: bool) -> None:
        """Follow a paper's discussion (replies reach the member's digest) or stop."""
        if on:
            self.conn.execute("INSERT INTO lab_follows VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                              (user_id, paper_id, now_utc()))
        else:
            self.conn.execute("DELETE FROM lab_follows WHERE user_id = %s AND paper_id = %s", (user_id, paper_id))


