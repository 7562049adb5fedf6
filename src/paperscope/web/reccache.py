"""Recommendations computed once per member and reused: the page and the private feed read the same entry
until the member's library changes (or it ages out, so new papers come in), and each member has a rate limit."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..errors import RateLimitError
from ..throttle import RateLimiter

TTL = 900.0  # seconds an entry serves before new papers are considered again
MAX_ENTRIES = 2000
PER_MINUTE = 30  # recomputations and reads a member may ask for a minute (page + feed together)


class RecommendationCache:
    """(member, tag, k) → recommendations, keyed also by a stamp of the member's library and votes."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[int, str | None, int], tuple[Any, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.limiter = RateLimiter()

    def get(self, user_id: int, tag: str | None, k: int, stamp: Any, compute: Callable[[], Any]) -> Any:
        """The cached result while the stamp is the same and young enough, else `compute()` (rate-limited)."""
        wait = self.limiter.take(f"recs:{user_id}", PER_MINUTE)
        if wait:
            raise RateLimitError(f"too many recommendation requests; try again in {int(wait) + 1} s", int(wait) + 1)
        key, now = (user_id, tag, k), time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == stamp and now - hit[1] < TTL:
                self._entries.move_to_end(key)
                return hit[2]
        value = compute()  # outside the lock: one member's computation never waits for another's
        with self._lock:
            self._entries[key] = (stamp, now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value
