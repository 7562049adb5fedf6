"""The lab's one arXiv fetcher inside `serve`: queued submissions are fetched, embedded and indexed on this
thread, never in a request.

Every worker process starts one; an exclusive lock on `<data dir>/.lab-fetcher.lock` lets one of them work at a
time, so `arxiv_api_delay` holds between requests for the whole instance, whatever the number of members.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from .. import community

log = logging.getLogger("paperscope.fetcher")
IDLE_POLL = 1.0  # seconds between looks at an empty queue (one indexed SELECT)
ELECTION_POLL = 5.0  # seconds between tries to become the instance's fetcher


def _try_lock(path: str) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class Fetcher:
    """A daemon thread that empties the lab's fetch queue; `on_change` runs after papers went into the index."""

    def __init__(self, engine: Any, on_change: Callable[[], None]) -> None:
        self.engine, self.on_change = engine, on_change
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="paperscope-lab-fetcher", daemon=True)
        self._lock: int | None = None

    def start(self) -> None:
        """Start the thread (it waits its turn if another worker is the fetcher)."""
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
        settings = self.engine.settings
        path = str(settings.home / ".lab-fetcher.lock")
        while not self.stop_event.is_set():
            if self._lock is None:
                self._lock = _try_lock(path)
                if self._lock is None:
                    self.stop_event.wait(ELECTION_POLL)
                    continue
                self.engine.store.community.reset_fetching()  # what a fetcher that died had claimed
            try:
                done = community.fetch_pending(self.engine)
            except Exception:  # the thread must outlive one bad round; the rows stay claimed until restart
                log.exception("the lab's fetcher failed a round")
                done = {"asked": 1, "fetched": 0}
            if done["fetched"]:
                self.on_change()
            # arXiv asks for a pause between requests: honoured here, the instance's only caller
            self.stop_event.wait(max(settings.arxiv_api_delay, IDLE_POLL) if done["asked"] else IDLE_POLL)
