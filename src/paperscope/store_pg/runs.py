"""Ingest bookkeeping on PostgreSQL: the twin of `store/runs.py`."""

from __future__ import annotations

import json
from typing import Any

from ..store.db import now_utc
from .db import PgDatabase


class PgRunRows(PgDatabase):
    """Checkpoints and ingest runs."""

    def _set_checkpoint(self, source: str, state: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO checkpoints VALUES (%s, %s, %s) ON CONFLICT (source) DO UPDATE SET"
            " state = excluded.state, updated_at = excluded.updated_at",
            (source, json.dumps(state, sort_keys=True), now_utc()))

    def get_checkpoint(self, source: str) -> dict[str, Any] | None:
        """The saved resume state of a source, or None if it never ran or finished cleanly."""
        row = self.conn.execute("SELECT state FROM checkpoints WHERE source = %s", (source,)).fetchone()
        return json.loads(row[0]) if row else None

    def start_run(self, source: str) -> int:
        """Record the start of an ingest run and return its id."""
        row = self.conn.execute("INSERT INTO ingest_runs (source, started_at) VALUES (%s, %s) RETURNING id",
                                (source, now_utc())).fetchone()
        return int(row[0])

    def finish_run(self, run_id: int, status: str, message: str | None = None) -> None:
        """Mark a run finished (`ok` or `failed`) with an optional message."""
        self.conn.execute("UPDATE ingest_runs SET finished_at = %s, status = %s, message = %s WHERE id = %s",
                          (now_utc(), status, message, run_id))

    def last_ok_runs(self) -> dict[str, str]:
        """When each source last finished an ingest run successfully (cheap: for monitoring)."""
        return {str(src): str(at) for src, at in self.conn.execute(
            "SELECT source, max(finished_at) FROM ingest_runs WHERE status = 'ok' GROUP BY source").fetchall()}

    def stats(self) -> dict[str, Any]:
        """Counts and last successful update per source, for `paperscope stats` and the about page."""
        papers = self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        by_source = dict(self.conn.execute(
            "SELECT j, count(*) FROM papers, jsonb_array_elements_text(papers.sources::jsonb) j GROUP BY j"
            " ORDER BY j").fetchall())
        last_ok = dict(self.conn.execute(
            "SELECT source, max(finished_at) FROM ingest_runs WHERE status = 'ok' GROUP BY source").fetchall())
        dates = self.conn.execute("SELECT min(published), max(published) FROM papers").fetchone()
        return {"papers": papers, "papers_by_source": by_source, "last_successful_ingest": last_ok,
                "published_range": [dates[0], dates[1]], "database": self.path}

    # --- server-only state: where each index is, and instance secrets ---------------------------------

    def index_seq(self, name: str) -> int:
        """How far through the store's changes the named index is (0: never built)."""
        row = self.conn.execute("SELECT last_seq FROM index_state WHERE name = %s", (name,)).fetchone()
        return int(row[0]) if row else 0

    def set_index_seq(self, name: str, seq: int) -> None:
        """Record how far the named index has followed the store."""
        self.conn.execute("INSERT INTO index_state VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET"
                          " last_seq = excluded.last_seq", (name, seq))

    def instance_secret(self, name: str = "cookie") -> str:
        """A secret shared by every worker of this instance (created once, kept in the database)."""
        import secrets

        self.conn.execute("INSERT INTO instance_secrets VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                          (name, secrets.token_urlsafe(48)))
        return str(self.conn.execute("SELECT value FROM instance_secrets WHERE name = %s", (name,)).fetchone()[0])
