"""Security headers on every response (pages, API, static files, errors): no inline script, no framing."""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# 'self' only: scripts and styles come from /static (the API docs' Swagger UI assets are served by the package).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")  # web/apidocs.py: Swagger UI and ReDoc, every script a file from this server


def docs_csp(nonce: str) -> str:
    """The CSP of the API docs pages: ReDoc's style elements carry this request's nonce (still no inline script,
    no 'unsafe-inline'), and its search worker starts from a blob: URL."""
    return (CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
            + "; worker-src 'self' blob:")


HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class SecurityHeaders:
    """Add the headers to every HTTP response start (HSTS too when the instance is served over https)."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.headers = dict(HEADERS)
        if https:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        nonce = None
        if scope["path"] in DOCS_PATHS:  # the page reads it as request.state.csp_nonce
            nonce = secrets.token_urlsafe(16)
            scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if nonce is not None:
                    headers["Content-Security-Policy"] = docs_csp(nonce)
                if scope.get("session", {}).get("uid") is not None or scope["path"].startswith(
                        ("/settings", "/admin", "/account", "/library", "/password")):
                    headers["Cache-Control"] = "no-store"  # private pages never sit in a shared cache
            await send(message)

        await self.app(scope, receive, send_wrapper)


class HeadAsGet:
    """ASGI middleware: HEAD is answered wherever GET is, with the GET's status and headers and no body (the
    routes declare GET only, so the OpenAPI schema lists each operation once)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
