"""The digest outbox on PostgreSQL: the twin of `store/outbox.py`."""

from __future__ import annotations

from collections.abc import Sequence

from ..store.outbox import OutboxQueries
from .accounts import PgUserRows


class PgOutboxRows(PgUserRows, OutboxQueries):
    """The digest_outbox and digest_sent tables."""

    def queue_digest(self, user_id: int, message: bytes, paper_ids: Sequence[str], at: str) -> int:
        """Put a composed digest in the outbox and reserve its papers, atomically (never sent twice)."""
        with self.store.transaction():
            outbox_id = int(self.conn.execute(
                "INSERT INTO digest_outbox (user_id, created_at, message) VALUES (%s, %s, %s) RETURNING id",
                (user_id, at, message)).fetchone()[0])
            self.conn.executemany("INSERT INTO digest_sent VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                                  [(user_id, pid, outbox_id) for pid in paper_ids])
            self.conn.execute("UPDATE users SET last_digest_at = %s WHERE id = %s", (at, user_id))
        return outbox_id

    def queue_mail(self, user_id: int, message: bytes, at: str) -> int:
        """Put a single mail (e.g. a password-reset link) in the outbox; `digest send` retries it if needed."""
        return int(self.conn.execute("INSERT INTO digest_outbox (user_id, created_at, message) VALUES (%s, %s, %s)"
                                     " RETURNING id", (user_id, at, message)).fetchone()[0])

    def pending_digests(self) -> list[tuple[int, int, bytes, int]]:
        """(outbox id, user id, message bytes, attempts) still to send, oldest first."""
        return [(int(i), int(u), bytes(m), int(a)) for i, u, m, a in self.conn.execute(
            "SELECT id, user_id, message, attempts FROM digest_outbox WHERE status = 'pending' ORDER BY id")]
