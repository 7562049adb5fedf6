"""The lab's fetch queue in the store: submissions of arXiv ids the catalogue lacks wait here for the one fetcher.

Shared by both backends (the SQL reads the same in SQLite and PostgreSQL). A row is one member's submission of
one id on one day: `pending` → `fetching` → `done` (it became a lab submission) or `failed` (with a reason a
member can read). Every row but a `done` one counts toward the member's daily limit, so a failed fetch is not free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .db import now_utc
from .rows import SqlRows

MAX_ATTEMPTS = 3  # arXiv unreachable this many times: the submission fails with a reason, no endless retries


@dataclass(frozen=True)
class Pending:
    """One member's submission that waits for (or failed) its fetch from arXiv."""

    arxiv_id: str
    day: str
    state: str  # pending, fetching or failed
    reason: str | None
    created_at: str


class PendingQueries(SqlRows):
    """Queue SQL: enqueue in the member's counted transaction, claim a batch, settle each id."""

    if TYPE_CHECKING:
        def _lock_member(self, user_id: int) -> None: ...
        def _check_submission_limit(self, user_id: int, day: str, limit: int) -> None: ...
        def _insert_submission(self, day: str, paper_id: str, user_id: int) -> bool: ...
        def submission(self, paper_id: str, day: str) -> object | None: ...

    def enqueue_fetch(self, arxiv_id: str, user_id: int, day: str, limit: int) -> bool:
        """Queue a member's submission of an id the catalogue lacks; False when it is queued already."""
        now = now_utc()
        with self.store.transaction():
            if self.run("SELECT 1 FROM lab_pending WHERE arxiv_id = ? AND user_id = ? AND day = ?",
                        (arxiv_id, user_id, day)).fetchone():
                return False
            self._lock_member(user_id)
            self._check_submission_limit(user_id, day, limit)
            self.run("INSERT INTO lab_pending (arxiv_id, user_id, day, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                     (arxiv_id, user_id, day, now, now))
        return True

    def pending_count(self, user_id: int, day: str) -> int:
        """A member's queued or failed submissions of a day (they count toward the daily limit)."""
        return int(self.run("SELECT count(*) FROM lab_pending WHERE user_id = ? AND day = ? AND state != 'done'",
                            (user_id, day)).fetchone()[0])

    def pending_of(self, user_id: int, since_day: str) -> list[Pending]:
        """A member's submissions still fetching or failed, newest first (shown to that member only)."""
        rows = self.run("SELECT arxiv_id, day, state, reason, created_at FROM lab_pending WHERE user_id = ?"
                        " AND day >= ? AND state != 'done' ORDER BY created_at DESC, id DESC LIMIT 50",
                        (user_id, since_day)).fetchall()
        return [Pending(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def reset_fetching(self) -> int:
        """Put back what a fetcher that died left claimed (called when a fetcher starts)."""
        return int(self.write("UPDATE lab_pending SET state = 'pending' WHERE state = 'fetching'").rowcount or 0)

    def claim_fetches(self, max_ids: int) -> list[str]:
        """Up to `max_ids` distinct ids due for a fetch, oldest first, now marked `fetching` (one batch request)."""
        now = now_utc()
        with self.store.transaction():
            ids = [r[0] for r in self.run(
                "SELECT arxiv_id FROM lab_pending WHERE state = 'pending' AND not_before <= ? GROUP BY arxiv_id"
                " ORDER BY min(id) LIMIT ?", (now, max_ids)).fetchall()]
            for arxiv_id in ids:
                self.run("UPDATE lab_pending SET state = 'fetching', updated_at = ? WHERE arxiv_id = ?"
                         " AND state = 'pending'", (now, arxiv_id))
        return ids

    def fetch_arrived(self, arxiv_id: str, paper_id: str) -> int:
        """The paper is in the catalogue now: every member's queued submission of it becomes a lab submission
        (the first submitter of a day is the one shown; the limit was counted when it was queued)."""
        with self.store.transaction():
            rows = self.run("SELECT id, user_id, day FROM lab_pending WHERE arxiv_id = ? AND state = 'fetching'"
                            " ORDER BY id", (arxiv_id,)).fetchall()
            for row_id, user_id, day in rows:
                if self.submission(paper_id, day) is None:
                    self._insert_submission(day, paper_id, int(user_id))
                self.run("UPDATE lab_pending SET state = 'done', updated_at = ? WHERE id = ?", (now_utc(), row_id))
        return len(rows)

    def fetch_failed(self, ids: Sequence[str], reason: str, retry: bool) -> None:
        """A fetch did not bring these ids: fail them with `reason`, or (arXiv unreachable) retry later, a few
        times, with a growing wait."""
        now = datetime.now(UTC)
        with self.store.transaction():
            for arxiv_id in ids:
                for row_id, attempts in self.run("SELECT id, attempts FROM lab_pending WHERE arxiv_id = ?"
                                                 " AND state = 'fetching'", (arxiv_id,)).fetchall():
                    tries = int(attempts) + 1
                    if retry and tries < MAX_ATTEMPTS:
                        later = (now + timedelta(seconds=30 * 4 ** tries)).strftime("%Y-%m-%dT%H:%M:%SZ")
                        self.run("UPDATE lab_pending SET state = 'pending', attempts = ?, not_before = ?,"
                                 " updated_at = ? WHERE id = ?", (tries, later, now_utc(), row_id))
                    else:
                        self.run("UPDATE lab_pending SET state = 'failed', attempts = ?, reason = ?, updated_at = ?"
                                 " WHERE id = ?", (tries, reason, now_utc(), row_id))
