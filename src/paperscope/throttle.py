"""In-memory limits per key: sign-in attempts with a doubling lock-out, and a request rate per member or address.

A sign-in attempt is counted before its password is checked, under one lock (`FailureLimiter.attempt`), so N
concurrent guesses at one account perform at most `limit` password checks in that process. The counters are per
worker process (documented in docs/security.md): with `serve --workers N`, N workers allow up to N× the checks,
on SQLite and PostgreSQL alike, and a restart forgets them. They are small and pruned.
"""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_KEYS = 100_000


class FailureLimiter:
    """`limit` failures per `window` seconds per key; past that the key waits, and each new lock-out doubles."""

    def __init__(self, limit: int, window: float = 60.0, max_wait: float = 3600.0) -> None:
        self.limit, self.window, self.max_wait = limit, window, max_wait
        self._fails: dict[str, deque[float]] = {}
        self._until: dict[str, tuple[float, int]] = {}  # key -> (locked until, lock-outs so far)
        self._lock = threading.Lock()

    def wait(self, key: str, now: float | None = None) -> float:
        """Seconds this key must still wait before another attempt (0: go ahead)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            until, _ = self._until.get(key, (0.0, 0))
            return max(0.0, until - now)

    def fail(self, key: str, now: float | None = None) -> float:
        """Count a failure; returns the wait it triggers (0 while under the limit)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._fails) > MAX_KEYS:
                self._prune(now)
            fails = self._fails.setdefault(key, deque())
            fails.append(now)
            while fails and fails[0] <= now - self.window:
                fails.popleft()
            if len(fails) < self.limit:
                return 0.0
            _, strikes = self._until.get(key, (0.0, 0))
            wait = min(self.max_wait, self.window * (2 ** strikes))
            self._until[key] = (now + wait, strikes + 1)
            fails.clear()
            return wait

    def attempt(self, key: str, now: float | None = None) -> float:
        """Count one attempt before it is checked, atomically: 0 lets it go ahead (it is counted, whatever its
        outcome), else the seconds to wait (the attempt is refused unchecked; the limit's attempt starts a lock-out
        that doubles each time). `succeed` clears the key after a correct one."""
        now = time.monotonic() if now is None else now
        with self._lock:
            until, strikes = self._until.get(key, (0.0, 0))
            if until > now:
                return until - now
            if len(self._fails) > MAX_KEYS:
                self._prune(now)
            tries = self._fails.setdefault(key, deque())
            while tries and tries[0] <= now - self.window:
                tries.popleft()
            if len(tries) < self.limit:
                tries.append(now)
                return 0.0
            wait = min(self.max_wait, self.window * (2 ** strikes))
            self._until[key] = (now + wait, strikes + 1)
            tries.clear()
            return wait

    def refund(self, key: str) -> None:
        """Take back one counted attempt that turned out right (a shared address is not charged for sign-ins
        that worked)."""
        with self._lock:
            tries = self._fails.get(key)
            if tries:
                tries.pop()

    def succeed(self, key: str) -> None:
        """A correct sign-in clears the key's failures and lock-out history."""
        with self._lock:
            self._fails.pop(key, None)
            self._until.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, d in self._fails.items() if not d or d[-1] <= now - self.window]:
            self._fails.pop(key, None)
        for key in [k for k, (u, _) in self._until.items() if u <= now - self.max_wait]:
            self._until.pop(key, None)


class RateLimiter:
    """A token bucket per key: `per_minute` requests a minute with bursts of that size."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: str, per_minute: int, now: float | None = None) -> float:
        """Spend one request for this key; returns 0, or the seconds to wait when the bucket is empty."""
        if per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = per_minute / 60.0
        with self._lock:
            if len(self._buckets) > MAX_KEYS:
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}
            tokens, last = self._buckets.get(key, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate
