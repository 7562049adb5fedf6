"""The digest outbox: composed mails and the papers they carry, reserved in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from .accounts import UserRows
from .rows import SqlRows

SENT_MESSAGE = b""  # what the outbox keeps of a delivered mail's text


class OutboxQueries(SqlRows):
    """The outbox's SQL that reads the same in SQLite and PostgreSQL; each backend's OutboxRows adds the rest."""

    def already_sent(self, user_id: int) -> set[str]:
        """Every paper any digest (sent or pending) has carried to this user."""
        return {r[0] for r in self.run("SELECT paper_id FROM digest_sent WHERE user_id = ?", (user_id,))}

    def count_pending_digests(self) -> int:
        """How many composed digests wait to be sent (the outbox backlog a monitor watches)."""
        return int(self.run("SELECT count(*) FROM digest_outbox WHERE status = 'pending'").fetchone()[0])

    def digest_result(self, outbox_id: int, error: str | None, at: str) -> None:
        """Record a send attempt: sent (and the message dropped: its links — a reset link, an unsubscribe link —
        are live secrets, and nothing needs the text once it is delivered), or the error to retry after."""
        if error is None:
            self.write("UPDATE digest_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
                       " last_error = NULL, message = ? WHERE id = ?", (at, SENT_MESSAGE, outbox_id))
        else:
            self.write("UPDATE digest_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                       (error[:500], outbox_id))


class OutboxRows(UserRows, OutboxQueries):
    """The digest_outbox and digest_sent tables on SQLite."""

    def queue_digest(self, user_id: int, message: bytes, paper_ids: Sequence[str], at: str) -> int:
        """Put a composed digest in the outbox and reserve its papers, atomically (never sent twice)."""
        with self.store.transaction():
            cur = self.conn.execute("INSERT INTO digest_outbox (user_id, created_at, message) VALUES (?, ?, ?)",
                                    (user_id, at, message))
            outbox_id = int(cur.lastrowid or 0)
            self.conn.executemany("INSERT OR IGNORE INTO digest_sent VALUES (?, ?, ?)",
                                  [(user_id, pid, outbox_id) for pid in paper_ids])
            self.conn.execute("UPDATE users SET last_digest_at = ? WHERE id = ?", (at, user_id))
        return outbox_id

    def queue_mail(self, user_id: int, message: bytes, at: str) -> int:
        """Put a single mail (e.g. a password-reset link) in the outbox; `digest send` retries it if needed."""
        with self.store.transaction():
            cur = self.conn.execute("INSERT INTO digest_outbox (user_id, created_at, message) VALUES (?, ?, ?)",
                                    (user_id, at, message))
        return int(cur.lastrowid or 0)

    def pending_digests(self) -> list[tuple[int, int, bytes, int]]:
        """(outbox id, user id, message bytes, attempts) still to send, oldest first."""
        return self.conn.execute(
            "SELECT id, user_id, message, attempts FROM digest_outbox WHERE status = 'pending' ORDER BY id").fetchall()
