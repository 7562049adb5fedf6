"""The server's background workers: slow work a member asked for runs on these threads, never in a request.

- the lab's arXiv fetcher: queued submissions fetched in batches, embedded and indexed (`community.fetch_pending`);
- the importer: members' library uploads read into their libraries, with progress (`library.run_import_job`).

Every worker process starts both; an exclusive lock file per worker in the data directory lets one process run
each at a time, so `arxiv_api_delay` holds between requests for the whole instance.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import community, library

log = logging.getLogger("paperscope.worker")
IDLE_POLL = 1.0  # seconds between looks at an empty queue (one indexed SELECT)
ELECTION_POLL = 5.0  # seconds between tries to become the instance's worker


def _try_lock(path: str) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class Worker:
    """A daemon thread: once it holds its lock, `begin()` once, then `work()` rounds, each returning how long to
    wait before the next."""

    def __init__(self, name: str, lock_path: str, begin: Callable[[], object], work: Callable[[], float]) -> None:
        self.name, self.lock_path, self.begin, self.work = name, lock_path, begin, work
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"paperscope-{name}", daemon=True)
        self._lock: int | None = None

    def start(self) -> None:
        """Start the thread (it waits its turn if another worker process holds the lock)."""
        self.thread.start()

    def stop(self) -> None:
        """Ask the thread to end after its current round, and let go of the lock."""
        self.stop_event.set()
        self.thread.join(timeout=30)
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None

    def _run(self) -> None:
        while not self.stop_event.is_set():
            if self._lock is None:
                self._lock = _try_lock(self.lock_path)
                if self._lock is None:
                    self.stop_event.wait(ELECTION_POLL)
                    continue
                self.begin()  # what a worker that died had claimed goes back to the queue
            try:
                wait = self.work()
            except Exception:  # the thread must outlive one bad round
                log.exception("the %s failed a round", self.name)
                wait = ELECTION_POLL
            self.stop_event.wait(wait)


class _OwnConnection:
    """The engine as a worker thread sees it: the same settings and embedder, and a store it may use from its
    thread. A live engine (per-thread SQLite) or PostgreSQL (a pool) already gives that; a plain engine shares one
    SQLite connection with the requests, so each worker opens its own."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._store: Any = None

    @property
    def settings(self) -> Any:
        return self.engine.settings

    @property
    def embedder(self) -> Any:
        return self.engine.embedder

    @property
    def store(self) -> Any:
        from ..live import LiveEngine

        if isinstance(self.engine, LiveEngine) or self.engine.settings.database_url:
            return self.engine.store
        if self._store is None:
            from ..store import Store

            self._store = Store(self.engine.settings.db_path)
        return self._store


def start_workers(engine: Any, on_indexed: Callable[[], None]) -> list[Worker]:
    """The lab's fetcher and the importer on this engine, started; `on_indexed` runs after a fetch indexed papers."""
    settings = engine.settings
    if settings.database_url:  # no data directory of ours: elect among this machine's workers of that database
        import hashlib
        import tempfile

        home = Path(tempfile.gettempdir()) / f"paperscope-{hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]}"
        home.mkdir(mode=0o700, exist_ok=True)
    else:
        home = settings.home
        home.mkdir(mode=0o700, parents=True, exist_ok=True)

    fetcher, importer = _OwnConnection(engine), _OwnConnection(engine)

    def fetch_round() -> float:
        done = community.fetch_pending(fetcher)  # type: ignore[arg-type]
        if done["fetched"]:
            on_indexed()
        # arXiv asks for a pause between requests: honoured here, the instance's only caller
        return max(settings.arxiv_api_delay, IDLE_POLL) if done["asked"] else IDLE_POLL

    def import_round() -> float:
        return 0.0 if library.run_import_job(importer.store) else IDLE_POLL

    workers = [Worker("lab fetcher", str(home / ".lab-fetcher.lock"),
                      lambda: fetcher.store.community.reset_fetching(), fetch_round),
               Worker("importer", str(home / ".importer.lock"),
                      lambda: importer.store.users.reset_running_imports(), import_round)]
    for w in workers:
        w.start()
    return workers
