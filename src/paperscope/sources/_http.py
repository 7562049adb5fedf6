"""Polite HTTP for the networked sources: pacing, retries on 503/429 with Retry-After, body checks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests

from .. import __version__
from ..errors import SourceError

T = TypeVar("T")
USER_AGENT = f"paperscope/{__version__} (self-hosted paper discovery; +https://github.com/paperscope)"
RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass
class Client:
    """An HTTP session that waits `delay` seconds between requests and retries what is worth retrying."""

    delay: float = 3.0
    retries: int = 3
    timeout: float = 60.0
    max_retry_after: float = 600.0
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    _last: float = 0.0

    def __post_init__(self) -> None:
        self.session.headers["User-Agent"] = USER_AGENT

    def _pace(self) -> None:
        wait = self._last + self.delay - time.monotonic()
        if self._last and wait > 0:
            self.sleep(wait)
        self._last = time.monotonic()

    def _retry_after(self, response: requests.Response, attempt: int) -> float:
        raw = response.headers.get("Retry-After", "")
        seconds: float
        try:
            seconds = float(raw)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError, IndexError):
                seconds = min(5.0 * 2**attempt, 60.0)
        if seconds > self.max_retry_after:
            raise SourceError(
                f"{response.url} asks us to wait {seconds:.0f} s (Retry-After); that is over the "
                f"max_retry_after setting ({self.max_retry_after:.0f} s). Run the ingest again later; it resumes."
            )
        return max(seconds, 0.0)

    def get(
        self, url: str, params: Mapping[str, Any], parse: Callable[[bytes], T],
        explain: Callable[[bytes], str | None] | None = None,
    ) -> T:
        """GET `url` and return `parse(body)`; retry on 5xx/429 and on bodies `parse` rejects with ValueError.

        `explain` reads the server's own message out of an error body (any status); it may raise.
        """
        return self._send("GET", url, params, None, parse, explain)

    def post_json(
        self, url: str, params: Mapping[str, Any], body: Any, parse: Callable[[bytes], T],
        explain: Callable[[bytes], str | None] | None = None,
    ) -> T:
        """POST `body` as JSON to `url` (a batch lookup that only reads) with `get`'s pacing, retries and checks."""
        return self._send("POST", url, params, body, parse, explain)

    def _send(
        self, method: str, url: str, params: Mapping[str, Any], body: Any, parse: Callable[[bytes], T],
        explain: Callable[[bytes], str | None] | None,
    ) -> T:
        problem = ""
        for attempt in range(self.retries + 1):
            self._pace()
            try:
                response = (self.session.get(url, params=params, timeout=self.timeout) if method == "GET" else
                            self.session.post(url, params=params, json=body, timeout=self.timeout))
            except requests.RequestException as exc:
                problem = f"cannot reach {url}: {exc.__class__.__name__}: {exc}"
                self.sleep(min(2.0 * 2**attempt, 30.0))
                continue
            if response.status_code in RETRY_STATUS:
                said = _explained(explain, response.content)
                problem = f"{response.url} answered HTTP {response.status_code}" + (f": {said}" if said else "")
                if attempt < self.retries:
                    self.sleep(self._retry_after(response, attempt))
                continue
            if response.status_code >= 400:
                said = _explained(explain, response.content)
                if said:
                    raise SourceError(f"{said} (HTTP {response.status_code} from {response.url})")
                raise SourceError(
                    f"{response.url} answered HTTP {response.status_code}: {response.text[:200]!r}; "
                    "check the URL setting and the query"
                )
            try:
                return parse(response.content)
            except ValueError as exc:
                problem = f"{response.url} sent a body that cannot be read ({exc})"
        raise SourceError(f"{problem} (after {self.retries + 1} attempts); run the ingest again to resume")


def _explained(explain: Callable[[bytes], str | None] | None, body: bytes) -> str | None:
    """The server's own words from an error body, or None when it has none we can read."""
    if explain is None or not body:
        return None
    try:
        return explain(body)
    except ValueError:
        return None
