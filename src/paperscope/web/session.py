"""Who is asking: a server-side session (the cookie holds only an opaque random id) or an API token; CSRF.

`SessionMiddleware` gives every request `request.session` (a dict) backed by the `sessions` table. A session row
exists only once something is stored in it (a sign-in, a flash message); logout deletes the row, so a copied
cookie opens nothing afterwards. An anonymous form (sign-in, sign-up, a forgotten password) writes no row: its
CSRF token is a random value in a cookie of its own that the form sends back (double submit). Sessions end after `session_idle_hours` unused and `session_max_days`
after sign-in.
"""

from __future__ import annotations

import secrets
import time
from contextlib import suppress
from http.cookies import SimpleCookie
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth import new_session_id, user_for_token
from ..errors import AuthError, ForbiddenError, NotFoundError
from ..models import User
from ..store.accounts import sha256_hex

COOKIE = "paperscope"
CSRF_COOKIE = "paperscope_csrf"  # an anonymous visitor's CSRF token: no session row for a page view
_ANON = "paperscope.anon_csrf"  # scope keys: the token the cookie brought (or a new one) and whether it is new
_ANON_NEW = "paperscope.anon_csrf_new"
TOUCH_EVERY = 60.0  # seconds between writes of `seen_at` for the idle limit
_ROTATE = "__rotate__"  # marker: sign_in asks for a fresh id (no session fixation)
_END = "__end__"  # marker: logout asks for the row to go


class Session(dict):  # type: ignore[type-arg]
    """The session data of one request; remembers whether it changed."""

    def __init__(self, data: dict[str, Any], user_id: int | None) -> None:
        super().__init__(data)
        if user_id is not None:
            self["uid"] = user_id
        self.initial = dict(self)


class SessionMiddleware:
    """Load the session named by the cookie before the request, store it (or end it) before the response."""

    def __init__(self, app: ASGIApp, store_app: Any, idle_hours: float, max_days: float, secure: bool) -> None:
        self.app, self.owner = app, store_app
        self.idle, self.absolute, self.secure = idle_hours * 3600, max_days * 86400, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = SimpleCookie()
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                with suppress(Exception):  # a malformed Cookie header: no session
                    cookie.load(value.decode("latin-1"))
        raw = cookie[COOKIE].value if COOKIE in cookie else ""
        anon = cookie[CSRF_COOKIE].value if CSRF_COOKIE in cookie else ""
        scope[_ANON] = anon if 20 <= len(anon) <= 100 else ""
        id_hash = sha256_hex(raw) if 20 <= len(raw) <= 100 else None
        loaded = await run_in_threadpool(self._load, id_hash) if id_hash else None
        if loaded is None:
            id_hash = None
        session = Session(loaded[1], loaded[0]) if loaded else Session({}, None)
        scope["session"] = session
        seen = loaded[3] if loaded else 0.0

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and (id_hash is not None or session):
                header = await run_in_threadpool(self._store, id_hash, session, seen)
                if header:
                    message.setdefault("headers", [])
                    message["headers"].append((b"set-cookie", header.encode("latin-1")))
            if message["type"] == "http.response.start" and scope.get(_ANON_NEW):
                message.setdefault("headers", [])
                message["headers"].append((b"set-cookie", self._cookie(scope[_ANON], int(self.absolute),
                                                                       CSRF_COOKIE).encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _users(self) -> Any:
        return self.owner.state.engine.store.users

    def _load(self, id_hash: str) -> tuple[int | None, dict[str, Any], float, float] | None:
        now = time.time()
        row = self._users().session_get(id_hash)
        if row is None:
            return None
        if row[3] < now - self.idle or row[2] < now - self.absolute:
            self._users().session_delete(id_hash)
            return None
        return row

    def _cookie(self, value: str, max_age: int, name: str = COOKIE) -> str:
        secure = "; Secure" if self.secure else ""
        return f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"

    def _store(self, id_hash: str | None, session: Session, seen: float) -> str | None:
        """Persist the session; returns a Set-Cookie header when the browser's cookie must change."""
        now = time.time()
        users = self._users()
        end, rotate = session.pop(_END, False), session.pop(_ROTATE, False)
        uid = session.pop("uid", None)
        data = dict(session)
        if end:
            if id_hash:
                users.session_delete(id_hash)
            return self._cookie("", 0)
        if rotate or (id_hash is None and (data or uid is not None)):
            if id_hash:
                users.session_delete(id_hash)
            raw = new_session_id()
            users.session_create(sha256_hex(raw), uid, data, now)
            if uid is not None:
                users.sessions_purge(now - self.idle, now - self.absolute)
            return self._cookie(raw, int(self.absolute))
        if id_hash is None:
            return None
        before = dict(session.initial)
        before.pop("uid", None)
        if data != before:
            users.session_save(id_hash, data, now)
        elif now - seen > TOUCH_EVERY:
            users.session_touch(id_hash, now)
        return None


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for this user (a new id and a new CSRF token: no fixation)."""
    flash = request.session.get("flash")
    request.session.clear()
    request.session.update({"uid": user.id, "csrf": secrets.token_urlsafe(24), _ROTATE: True})
    if flash:
        request.session["flash"] = flash


def sign_out(request: Request) -> None:
    """End this session: the row is deleted, so a copy of the cookie opens nothing."""
    request.session.clear()
    request.session[_END] = True


def current_user(request: Request) -> User | None:
    """The user of a Bearer API token, else of the session, else None (disabled accounts are nobody)."""
    header = request.headers.get("authorization", "")
    store = request.app.state.engine.store
    if header.lower().startswith("bearer "):
        return user_for_token(store, header[7:])
    uid = request.session.get("uid")
    if uid is None or request.session.get(_END):
        return None
    try:
        user = store.users.get(int(uid))
    except (NotFoundError, ValueError, TypeError):
        return None
    return None if user.disabled else user


def require_user(request: Request) -> User:
    """The signed-in user, or AuthError (the web turns it into the login page's message)."""
    user = current_user(request)
    if user is None:
        raise AuthError("sign in first")
    return user


def require_admin(request: Request) -> User:
    """The signed-in admin, or ForbiddenError (403) for everyone else."""
    user = require_user(request)
    if user.role != "admin":
        raise ForbiddenError("only an admin of this instance may open this page")
    return user


class LazyToken:
    """The CSRF token, created (and so a session started) only when a template actually prints it."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    def __html__(self) -> str:
        return str(self)


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use); every form carries it. A visitor with no session gets
    one in a cookie instead, so viewing a sign-in form stores nothing."""
    token = request.session.get("csrf")
    if token:
        return str(token)
    if not request.session:
        if not request.scope.get(_ANON):
            request.scope[_ANON], request.scope[_ANON_NEW] = secrets.token_urlsafe(24), True
        return str(request.scope[_ANON])
    token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def check_csrf(request: Request, submitted: str) -> None:
    """Refuse a form whose token is neither this session's nor, with no session token, the visitor's cookie."""
    expected = request.session.get("csrf") or request.scope.get(_ANON, "")
    if not expected or not secrets.compare_digest(str(expected), str(submitted or "")):
        raise ForbiddenError("the form expired or did not come from this site (CSRF check failed); reload and retry")
