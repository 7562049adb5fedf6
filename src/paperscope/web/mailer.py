"""One mail worker per server process: requests hand it work (a password-reset request) and answer at once.

A "forgot password" request only queues the address here, known or not, so its answer takes the same time either
way; the lookup, the link and the SMTP conversation happen on this thread, off every request and connection.
The queue is in memory: a reset requested just before a restart is lost (the member asks again); the mail itself,
once queued in the store's outbox, is retried by `paperscope digest send`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("paperscope.mail")
MAX_WAITING = 10_000  # past this many queued jobs new ones are dropped (a flood must not grow memory without end)


class MailWorker:
    """A daemon thread running queued jobs one at a time, started on first use."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue(MAX_WAITING)
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def put(self, job: Callable[..., Any], *args: Any) -> None:
        """Queue `job(*args)` and return at once."""
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="paperscope-mail", daemon=True)
                self._thread.start()
        try:
            self._jobs.put_nowait((job, args))
        except queue.Full:
            log.warning("mail queue full; a job was dropped")

    def _run(self) -> None:
        while True:
            job, args = self._jobs.get()
            try:
                job(*args)
            except Exception:  # a failed job must not end the worker; the log has it
                log.exception("queued mail job failed")

