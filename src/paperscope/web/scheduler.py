"""Scheduled updates inside the server: run `paperscope update ARGS` on time, log it, then serve the new index.

Each run is the CLI's own `update` in a child process (its memory and locks end with it); its JSON report
and exit code are appended to `<data-dir>/logs/updates.jsonl`, which `/status` reads. After a run that
changed something the live engine is asked to load the new index generation at once.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import UsageError
from ..schedule import Schedule, next_run, parse_schedule

log = logging.getLogger("paperscope.schedule")
RUN_TIMEOUT = 6 * 3600


@dataclass(frozen=True)
class UpdateRun:
    """One scheduled update: when, what, how it ended, and what it changed."""

    started: str
    finished: str
    args: str
    status: str  # "changed", "unchanged" or "failed"
    exit_code: int
    added: int = 0
    updated: int = 0
    embedded: int = 0
    indexed: int = 0
    message: str = ""


def log_path(home: Path) -> Path:
    """The run log of a data directory, one JSON object per run."""
    return home / "logs" / "updates.jsonl"


def last_runs(home: Path, n: int = 10) -> list[UpdateRun]:
    """The newest `n` runs, newest first (a damaged line is skipped)."""
    path = log_path(home)
    if not path.exists():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:]:
        try:
            runs.append(UpdateRun(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return runs[::-1]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_update(settings: Settings, args: str) -> UpdateRun:
    """Run `paperscope update ARGS --json` once, append the outcome to the run log, and return it."""
    started = _now()
    argv = [sys.executable, "-m", "paperscope", "--data-dir", str(settings.home), "update", *shlex.split(args),
            "--json"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired:
        code, out, err = -1, "", f"timed out after {RUN_TIMEOUT} s"
    report: dict[str, Any] = {}
    try:
        report = json.loads(out) if code in (0, 1) else {}
    except ValueError:
        code, err = 2, f"unreadable report: {out[-300:]}"
    if code < 0 and not err.strip():  # ended by a signal, e.g. the server stopping (systemd's SIGTERM)
        err = (f"stopped by signal {-code} (the server was stopping, or someone killed it); what it committed is "
               "kept and the next run resumes")
    ingest = report.get("ingest") or {}
    indexed = report.get("indexed") or {}
    run = UpdateRun(
        started=started, finished=_now(), args=args, exit_code=code,
        status={0: "changed", 1: "unchanged"}.get(code, "failed"),
        added=int(ingest.get("added", 0)), updated=int(ingest.get("updated", 0)),
        embedded=int(report.get("embedded", 0)), indexed=int(indexed.get("keyword", 0)),
        message=" ".join(err.strip().splitlines()[-3:])[:500] if code not in (0, 1) else "",
    )
    path = log_path(settings.home)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(run)) + "\n")
    level = logging.ERROR if run.status == "failed" else logging.INFO
    log.log(level, "scheduled update %s: %s (added %d, updated %d, embedded %d, indexed %d)%s", args or "(embed+index)",
            run.status, run.added, run.updated, run.embedded, run.indexed, f": {run.message}" if run.message else "")
    return run


class Scheduler:
    """A daemon thread that waits for the schedule, runs the update, and calls `on_changed` after a change."""

    def __init__(self, settings: Settings, on_changed: Callable[[], None]) -> None:
        schedule = parse_schedule(settings.update_schedule)
        if schedule is None:
            raise UsageError("no update_schedule is set; use e.g. `serve --schedule 'daily 06:00'`")
        self.schedule: Schedule = schedule
        self.settings, self.on_changed = settings, on_changed
        self.next_at: datetime | None = None
        self.running = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="paperscope-scheduler", daemon=True)

    def start(self) -> None:
        """Start waiting for the first run."""
        if log.getEffectiveLevel() > logging.INFO:  # quiet text logs (logs.configure) still show one line a run
            log.setLevel(logging.INFO)
        log.info("scheduled updates %s: update %s", self.schedule, self.settings.update_args or "(embed+index)")
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current run (if any)."""
        self._stop.set()

    def _loop(self) -> None:
        last_start: datetime | None = None
        while not self._stop.is_set():
            self.next_at = next_run(self.schedule, datetime.now(UTC), last_start)
            if self._stop.wait(max(0.0, (self.next_at - datetime.now(UTC)).total_seconds())):
                return
            last_start = datetime.now(UTC)
            self.running = True
            try:
                run = run_update(self.settings, self.settings.update_args)
                if run.status == "changed":
                    self.on_changed()
            except Exception:  # the server keeps serving; the next run tries again
                log.exception("scheduled update crashed")
            finally:
                self.running = False
            time.sleep(0)  # let a stop request in between runs be seen
