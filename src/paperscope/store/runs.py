"""Ingest bookkeeping: checkpoints that make every source resumable, runs and their problems, stats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import PaperscopeError
from .db import Database, now_utc


@dataclass
class Run:
    """A run being recorded: its id, and the message an `ok` end keeps (set it before the block ends)."""

    id: int
    message: str | None = None


@contextmanager
def recorded_run(store: Any, key: str) -> Iterator[Run]:
    """Record a run of `key` on either backend from start to end: `ok` with `run.message` when the block ends,
    `failed` with the error's message, or `interrupted: <what>` (Ctrl-C, a kill), then re-raise."""
    run = Run(store.start_run(key))
    try:
        yield run
    except PaperscopeError as exc:
        store.finish_run(run.id, "failed", str(exc))
        raise
    except BaseException as exc:
        store.finish_run(run.id, "failed", f"interrupted: {exc.__class__.__name__}")
        raise
    store.finish_run(run.id, "ok", run.message)


class RunRows(Database):
    """Checkpoints and ingest runs."""

    def _set_checkpoint(self, source: str, state: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO checkpoints VALUES (?, ?, ?) ON CONFLICT(source) DO UPDATE SET"
            " state = excluded.state, updated_at = excluded.updated_at",
            (source, json.dumps(state, sort_keys=True), now_utc()),
        )

    def get_checkpoint(self, source: str) -> dict[str, Any] | None:
        """The saved resume state of a source, or None if it never ran or finished cleanly."""
        row = self.conn.execute("SELECT state FROM checkpoints WHERE source = ?", (source,)).fetchone()
        return json.loads(row[0]) if row else None

    def start_run(self, source: str) -> int:
        """Record the start of an ingest run and return its id."""
        with self.transaction():
            cur = self.conn.execute("INSERT INTO ingest_runs (source, started_at) VALUES (?, ?)", (source, now_utc()))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, message: str | None = None) -> None:
        """Mark a run finished (`ok` or `failed`) with an optional message."""
        with self.transaction():
            self.conn.execute(
                "UPDATE ingest_runs SET finished_at = ?, status = ?, message = ? WHERE id = ?",
                (now_utc(), status, message, run_id),
            )

    def last_ok_runs(self) -> dict[str, str]:
        """When each source last finished an ingest run successfully (cheap: for monitoring)."""
        return dict(self.conn.execute(
            "SELECT source, max(finished_at) FROM ingest_runs WHERE status = 'ok' GROUP BY source").fetchall())

    def stats(self) -> dict[str, Any]:
        """Counts and last successful update per source, for `paperscope stats` and the about page."""
        papers = self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        by_source = dict(
            self.conn.execute(
                "SELECT j.value, count(*) FROM papers, json_each(papers.sources) j GROUP BY j.value"
            ).fetchall()
        )
        last_ok = dict(
            self.conn.execute(
                "SELECT source, max(finished_at) FROM ingest_runs WHERE status = 'ok' GROUP BY source"
            ).fetchall()
        )
        dates = self.conn.execute("SELECT min(published), max(published) FROM papers").fetchone()
        return {
            "papers": papers,
            "papers_by_source": by_source,
            "last_successful_ingest": last_ok,
            "published_range": [dates[0], dates[1]],
            "database": str(self.path),
        }
