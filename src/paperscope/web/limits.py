"""Request limits: body sizes (every request), rates per member (by API token or feed URL, always) and per anonymous
address (opt-in)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import RateLimitError
from ..store.accounts import sha256_hex
from ..throttle import RateLimiter

MEMBER_TTL = 60.0  # seconds a secret's account is remembered (a revoked token is refused by the route anyway)
MAX_MEMBERS = 10_000


class ApiLimits:
    """429 with Retry-After once a member (by API token or private feed URL) or, when configured, an anonymous
    address exceeds its rate. The bucket is the member's, not the token's: rotating a token keeps its limit."""

    def __init__(self, app: ASGIApp, per_token: int, per_address: int) -> None:
        self.app, self.per_token, self.per_address = app, per_token, per_address
        self.limiter = RateLimiter()
        self._members: OrderedDict[str, tuple[int | None, float]] = OrderedDict()  # secret hash -> (user id, seen)
        self._lock = threading.Lock()

    def _secret(self, scope: Scope) -> tuple[str, str] | None:
        """('api', token) or ('feed', token) when the request carries a member's secret."""
        path = scope["path"]
        auth = dict(scope.get("headers", ())).get(b"authorization", b"").decode("latin-1")
        if path.startswith("/api/") and auth.lower().startswith("bearer "):
            return "api", auth[7:].strip()
        if path.startswith("/feeds/") and path.count("/") >= 3:  # /feeds/<token>/…: a private feed
            return "feed", path.split("/")[2]
        return None

    def _member(self, scope: Scope, kind: str, token: str) -> int | None:
        """The account a secret belongs to (cached a minute, so a busy script costs one lookup a minute)."""
        key, now = kind + ":" + sha256_hex(token), time.monotonic()
        with self._lock:
            hit = self._members.get(key)
        if hit is not None and now - hit[1] < MEMBER_TTL:
            return hit[0]
        users = scope["app"].state.engine.store.users
        user = users.by_api_token_hash(sha256_hex(token)) if kind == "api" else users.by_feed_token(token)
        with self._lock:
            self._members[key] = (user.id if user else None, now)
            self._members.move_to_end(key)
            while len(self._members) > MAX_MEMBERS:
                self._members.popitem(last=False)
        return user.id if user else None

    async def _key(self, scope: Scope) -> tuple[str, int] | None:
        client = str((scope.get("client") or ("unknown", 0))[0])
        secret = self._secret(scope)
        if secret is not None:
            user_id = await run_in_threadpool(self._member, scope, *secret)
            # an unknown or revoked secret is counted by address: a stream of made-up tokens is limited too
            return (f"user:{user_id}" if user_id is not None else "badtoken:" + client), self.per_token
        headers = dict(scope.get("headers", ()))
        if scope["path"].startswith("/api/") and self.per_address > 0 and b"cookie" not in headers:
            return "addr:" + client, self.per_address
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = await self._key(scope) if scope["type"] == "http" else None
        wait = self.limiter.take(*key) if key else 0.0
        if not wait:
            await self.app(scope, receive, send)
            return
        retry = str(max(1, math.ceil(wait)))
        body = json.dumps({"error": f"too many requests; retry in {retry} s", "code": RateLimitError.code,
                           "status": 429}).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"), (b"retry-after", retry.encode()),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


IMPORT_PATHS = frozenset({"/library/import"})


class BodyLimit:
    """413 `too_large` for a body past its limit before it is read whole: at once when Content-Length says so,
    else as soon as the streamed chunks pass it (the app's handlers shape the error, as for every HTTP error)."""

    def __init__(self, app: ASGIApp, default: int, imports: int) -> None:
        self.app, self.default, self.imports = app, default, imports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.imports if scope["path"] in IMPORT_PATHS else self.default
        declared = dict(scope.get("headers", ())).get(b"content-length", b"0")
        too_large = HTTPException(413, f"the request body is larger than this server accepts ({limit:,} bytes"
                                       f"{' for an import' if limit == self.imports else ''}); send less")
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            if not declared.isdigit() or int(declared) > limit:
                raise too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large
            return message

        await self.app(scope, limited, send)
