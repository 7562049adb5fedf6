"""Account safety pages: password change and reset by mail, ending sessions, rotating and revoking every token,
downloading everything a user owns and deleting the account."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from ..auth import (
    authenticate,
    check_password,
    end_credentials,
    normalise_email,
    set_password,
    verify_password,
)
from ..digest import mail_reset
from ..errors import AuthError, NotFoundError, RateLimitError, UsageError
from ..library import everything, export_chunks
from .common import client_address, locked, render
from .session import check_csrf, require_user, sign_in, sign_out

router = APIRouter(include_in_schema=False)
SENT = ("If an account exists for that address, a link to choose a new password is on its way; "
        "it works once, within the hour.")


def back(url: str) -> RedirectResponse:
    """Post/redirect/get."""
    return RedirectResponse(url, status_code=303)


def change_own(request: Request, csrf: str, change: Callable[..., object], *args: Any) -> None:
    """A form's change to the signed-in user's own rows: CSRF first, then `change(user.id, *args)`."""
    check_csrf(request, csrf)
    locked(request, change, require_user(request).id, *args)


# --- password change, sessions ---------------------------------------------------------------------

@router.post("/settings/password")
def change_password(request: Request, current: str = Form(..., max_length=1024),
                    password: str = Form(..., max_length=1024), revoke: str = Form(""),
                    csrf: str = Form("")) -> Response:
    """Needs the current password; every session ends, then this browser gets a fresh one. With `revoke` (the
    form's box, ticked by default) the API token and the feed URL end too."""
    check_csrf(request, csrf)
    user = require_user(request)
    engine = request.app.state.engine
    check_password(password)
    verify_password(engine.store, user, current, engine.settings.hash_workers)
    set_password(engine.store, user.id, password, engine.settings.hash_workers)
    if revoke:
        locked(request, end_credentials, engine.store, user.id)
    sign_in(request, user)
    request.session["flash"] = "Password changed; every other session has been signed out" + (
        ", and your API token and feed URL were revoked (make new ones below)." if revoke else ".")
    return back("/settings")


@router.post("/settings/sessions/end")
def end_sessions(request: Request, csrf: str = Form("")) -> Response:
    """Sign out everywhere, this browser included; the API token and the private feed URL are revoked too."""
    user_id = require_user(request).id
    change_own(request, csrf, request.app.state.engine.store.users.sessions_end_all)
    locked(request, end_credentials, request.app.state.engine.store, user_id)
    sign_out(request)
    return back("/login")


# --- tokens -----------------------------------------------------------------------------------------

@router.post("/settings/feed/revoke")
def revoke_feed(request: Request, csrf: str = Form("")) -> Response:
    change_own(request, csrf, request.app.state.engine.store.users.revoke_tokens, "feed")
    return back("/settings")


@router.post("/settings/unsubscribe/revoke")
def revoke_unsubscribe(request: Request, csrf: str = Form("")) -> Response:
    """Every unsubscribe link in past mails stops working (the next digest brings a new one)."""
    change_own(request, csrf, request.app.state.engine.store.users.revoke_tokens, "unsubscribe")
    return back("/settings")


@router.post("/settings/token/revoke")
def revoke_api_token(request: Request, csrf: str = Form("")) -> Response:
    change_own(request, csrf, request.app.state.engine.store.users.set_api_token_hash, None)
    return back("/settings")


# --- reset by mail ------------------------------------------------------------------------------------

@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_form(request: Request) -> HTMLResponse:
    return render(request, "password.html", mode="forgot", sent=None)


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(request: Request, email: str = Form(..., max_length=254),
           csrf: str = Form("")) -> HTMLResponse:
    """The same answer, after the same work, whether or not the address has an account: the lookup, the link and
    the mail are handed to the mail worker (`mail_reset`) for every address, off this request and its connection."""
    check_csrf(request, csrf)
    wait = request.app.state.login_address.wait("addr:" + client_address(request))
    if wait:
        raise RateLimitError(f"too many attempts from your address; try again in {int(wait) + 1} s", int(wait) + 1)
    request.app.state.login_address.fail("addr:" + client_address(request))  # resets count as attempts too
    engine = request.app.state.engine
    try:
        address = normalise_email(email)
    except UsageError:
        address = ""
    request.app.state.mailer.put(mail_reset, engine, engine.settings, address)
    return render(request, "password.html", mode="forgot", sent=SENT)


@router.get("/password/reset/{token}", response_class=HTMLResponse)
def reset_form(request: Request, token: str) -> HTMLResponse:
    if locked(request, request.app.state.engine.store.users.by_token, "reset", token[:100]) is None:
        raise NotFoundError("this reset link is not valid any more; ask for a new one at /password/forgot")
    return render(request, "password.html", mode="reset", token=token, sent=None)


@router.post("/password/reset/{token}")
def reset(request: Request, token: str, password: str = Form(..., max_length=1024), csrf: str = Form("")) -> Response:
    """Single use: the token is consumed before the password changes; every session of the account ends."""
    check_csrf(request, csrf)
    check_password(password)
    engine = request.app.state.engine
    user = locked(request, engine.store.users.use_token, "reset", token[:100])
    if user is None:
        raise NotFoundError("this reset link is not valid any more; ask for a new one at /password/forgot")
    set_password(engine.store, user.id, password, engine.settings.hash_workers)
    locked(request, end_credentials, engine.store, user.id)
    request.app.state.login_account.succeed("acct:" + user.email.lower())
    sign_in(request, user)
    request.session["flash"] = ("Password changed; you are signed in. Every other session, your API token and your "
                                "feed URL have ended: make new ones in settings.")
    return back("/library")


# --- your own data ------------------------------------------------------------------------------------

@router.get("/account/export.json")
def export_json(request: Request) -> Response:
    """Everything this user owns, as one JSON document."""
    user = require_user(request)
    data = locked(request, everything, request.app.state.engine.store, user.id)
    return Response(json.dumps(data, indent=1, ensure_ascii=False), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="paperscope-account.json"'})


@router.get("/account/export.bib")
def export_bib(request: Request) -> Response:
    user = require_user(request)
    engine = request.app.state.engine  # streamed a chunk at a time, as /library/export.bib
    return StreamingResponse(export_chunks(lambda: engine.store, user.id, None, "bibtex"),
                             media_type="application/x-bibtex",
                             headers={"Content-Disposition": 'attachment; filename="paperscope-library.bib"'})


@router.post("/account/delete")
def delete_account(request: Request, password: str = Form(..., max_length=1024), csrf: str = Form("")) -> Response:
    """Needs the password; removes the account, its library, private records, sessions and tokens."""
    check_csrf(request, csrf)
    user = require_user(request)
    engine = request.app.state.engine
    try:
        authenticate(engine.store, user.email, password, engine.settings.hash_workers)
    except AuthError:
        raise AuthError("the password is wrong; the account is unchanged") from None
    locked(request, engine.store.users.delete_user, user.id)
    sign_out(request)
    return back("/")
