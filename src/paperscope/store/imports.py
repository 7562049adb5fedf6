"""A member's library imports queued in the store for the server's worker (both backends run this SQL).

`queued` → `running` → `done` or `failed`; `done` counts entries read so far (the member's progress) and `report`
holds the outcome as JSON. The upload itself is dropped once the job ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import LimitError
from .db import now_utc
from .rows import SqlRows

MAX_OPEN = 3  # imports one member may have queued or running at once


@dataclass(frozen=True)
class ImportJob:
    """One import as the member sees it."""

    id: int
    tag: str
    state: str
    done: int
    report: dict[str, Any] | None
    created_at: str


class ImportQueries(SqlRows):
    """Enqueue, claim, report progress and finish library imports."""

    def enqueue_import(self, user_id: int, tag: str, fmt: str, data: bytes) -> int:
        """Queue an upload for the worker; a member with several imports open waits for them first."""
        now = now_utc()
        with self.store.transaction():
            open_jobs = self.run("SELECT count(*) FROM import_jobs WHERE user_id = ? AND state IN ('queued', 'running')",
                                 (user_id,)).fetchone()[0]
            if open_jobs >= MAX_OPEN:
                raise LimitError(f"you have {open_jobs} imports waiting; try again when they are done")
            self.run("INSERT INTO import_jobs (user_id, tag, fmt, data, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", (user_id, tag, fmt, data, now, now))
            return int(self.run("SELECT max(id) FROM import_jobs WHERE user_id = ?", (user_id,)).fetchone()[0])

    def reset_running_imports(self) -> int:
        """Queue again what a worker that died was running (called when a worker starts)."""
        return int(self.write("UPDATE import_jobs SET state = 'queued', done = 0 WHERE state = 'running'").rowcount or 0)

    def claim_import(self) -> tuple[int, int, str, str, bytes] | None:
        """The oldest queued import, now `running`: (id, user id, tag, format, upload)."""
        with self.store.transaction():
            row = self.run("SELECT id, user_id, tag, fmt, data FROM import_jobs WHERE state = 'queued'"
                           " ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            self.run("UPDATE import_jobs SET state = 'running', updated_at = ? WHERE id = ?", (now_utc(), row[0]))
        return int(row[0]), int(row[1]), str(row[2]), str(row[3]), bytes(row[4] or b"")

    def import_progress(self, job_id: int, done: int) -> None:
        """Entries read so far (what the member's page shows)."""
        self.write("UPDATE import_jobs SET done = ?, updated_at = ? WHERE id = ?", (done, now_utc(), job_id))

    def finish_import(self, job_id: int, ok: bool, report: dict[str, Any]) -> None:
        """End a job with its report; the upload is dropped."""
        self.write("UPDATE import_jobs SET state = ?, report = ?, data = NULL, updated_at = ? WHERE id = ?",
                   ("done" if ok else "failed", json.dumps(report), now_utc(), job_id))

    def imports_of(self, user_id: int, limit: int = 5) -> list[ImportJob]:
        """A member's latest imports, newest first."""
        rows = self.run("SELECT id, tag, state, done, report, created_at FROM import_jobs WHERE user_id = ?"
                        " ORDER BY id DESC LIMIT ?", (user_id, limit)).fetchall()
        return [ImportJob(int(r[0]), r[1], r[2], int(r[3]), json.loads(r[4]) if r[4] else None, r[5]) for r in rows]
