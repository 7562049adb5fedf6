"""Who is asking: a signed-cookie session or an API token; and the CSRF check for every form."""

from __future__ import annotations

import secrets

from fastapi import Request

from ..auth import user_for_token
from ..errors import AuthError, ForbiddenError
from ..models import User


def current_user(request: Request) -> User | None:
    """The user of a Bearer API token, else of the session cookie, else None."""
    header = request.headers.get("authorization", "")
    store = request.app.state.engine.store
    if header.lower().startswith("bearer "):
        return user_for_token(store, header[7:])
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = store.users.by_email(request.session.get("email", ""))
    return user if user and user.id == uid else None


def require_user(request: Request) -> User:
    """The signed-in user, or AuthError (the web turns it into the login page's message)."""
    user = current_user(request)
    if user is None:
        raise AuthError("sign in first")
    return user


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use); every form carries it."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str) -> None:
    """Refuse a form whose token is not this session's."""
    expected = request.session.get("csrf", "")
    if not expected or not secrets.compare_digest(str(expected), str(submitted or "")):
        raise ForbiddenError("the form expired or did not come from this site (CSRF check failed); reload and retry")


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for this user (a new CSRF token, no fixation)."""
    request.session.clear()
    request.session.update({"uid": user.id, "email": user.email, "csrf": secrets.token_urlsafe(24)})
