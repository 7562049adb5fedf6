"""Request limits: body sizes (every request), rates per API token (always) and per anonymous address (opt-in)."""

from __future__ import annotations

import json
import math

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..store.accounts import sha256_hex
from ..throttle import RateLimiter


class ApiLimits:
    """429 with Retry-After once a token (or, when configured, an anonymous address) exceeds its rate."""

    def __init__(self, app: ASGIApp, per_token: int, per_address: int) -> None:
        self.app, self.per_token, self.per_address = app, per_token, per_address
        self.limiter = RateLimiter()

    def _key(self, scope: Scope) -> tuple[str, int] | None:
        path = scope["path"]
        headers = dict(scope.get("headers", ()))
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if path.startswith("/api/") and auth.lower().startswith("bearer "):
            return "token:" + sha256_hex(auth[7:].strip()), self.per_token
        if path.startswith("/feeds/") and path.count("/") >= 3:  # /feeds/<token>/…: a private feed
            return "feed:" + sha256_hex(path.split("/")[2]), self.per_token
        if path.startswith("/api/") and self.per_address > 0 and b"cookie" not in headers:
            client = scope.get("client") or ("unknown", 0)
            return "addr:" + str(client[0]), self.per_address
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope) if scope["type"] == "http" else None
        wait = self.limiter.take(*key) if key else 0.0
        if not wait:
            await self.app(scope, receive, send)
            return
        retry = str(max(1, math.ceil(wait)))
        body = json.dumps({"error": f"too many requests; retry in {retry} s", "code": "RateLimitError",
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
