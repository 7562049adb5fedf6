"""What the admin page reads and writes: instance-wide switches, ingest runs with errors, failed mail."""

from __future__ import annotations

from typing import Any

from .accounts import UserRows
from .rows import SqlRows


class AdminQueries(SqlRows):
    """The instance_settings table plus read-only views of ingest runs and the outbox (the same SQL on both backends)."""

    def instance_setting(self, name: str) -> str | None:
        """A switch an admin set at run time (e.g. the sign-up mode), or None."""
        row = self.run("SELECT value FROM instance_settings WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_instance_setting(self, name: str, value: str) -> None:
        """Set a run-time switch (it overrides the configured value)."""
        with self.store.transaction():
            self.run("INSERT INTO instance_settings VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET"
                     " value = excluded.value", (name, value))

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest ingest runs with their counts, message and last problems."""
        rows = self.run("SELECT id, source, started_at, finished_at, status, added, updated, problems, message"
                        " FROM ingest_runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        keys = ("id", "source", "started_at", "finished_at", "status", "added", "updated", "problems", "message")
        out = []
        for r in rows:
            run = dict(zip(keys, r, strict=True))
            run["last_problems"] = [f"{rec}: {why}" for rec, why in self.run(
                "SELECT record, reason FROM ingest_problems WHERE run_id = ? ORDER BY id DESC LIMIT 5", (r[0],))]
            out.append(run)
        return out

    def outbox_failures(self, limit: int = 50) -> list[dict[str, Any]]:
        """Mail still pending after a failed attempt: who, how often, the last error."""
        rows = self.run(
            "SELECT o.id, u.email, o.created_at, o.attempts, o.last_error FROM digest_outbox o JOIN users u"
            " ON u.id = o.user_id WHERE o.status = 'pending' AND o.last_error IS NOT NULL ORDER BY o.id DESC LIMIT ?",
            (limit,)).fetchall()
        return [dict(zip(("id", "email", "created_at", "attempts", "last_error"), r, strict=True)) for r in rows]


class AdminRows(UserRows, AdminQueries):
    """The instance_settings table plus read-only views of ingest runs and the outbox."""
