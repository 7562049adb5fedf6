"""Account pages and actions: sign-up, login, library, recommendations, settings, unsubscribe, feeds."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..auth import authenticate, check_password, hash_password, new_api_token, new_feed_token, normalise_email
from ..errors import AuthError, ForbiddenError, NotFoundError, RateLimitError, UsageError
from ..feeds import atom, json_feed
from ..library import PAGE as LIBRARY_PAGE
from ..library import export_chunks, owned_ids, papers_of
from ..netguard import check_webhook
from ..recommend import recommend
from ..search import search
from ..store.accounts import clean_tag
from ..trending import trending
from .common import BEARER, client_address, hf_paper, locked, render, signup_mode
from .session import check_csrf, require_user, sign_in, sign_out

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["library"], dependencies=[BEARER])


def back(url: str) -> RedirectResponse:
    """Post/redirect/get: every form answers with a redirect."""
    return RedirectResponse(url, status_code=303)


def _tags(raw: str) -> list[str]:
    return [t for t in (x.strip() for x in raw.split(",")) if t]


# --- sign-up and login ----------------------------------------------------------------------------

@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", mode="signup", open=signup_mode(request) == "open")


def _throttled(request: Request, email: str) -> tuple[str, str]:
    """Refuse with 429 while this account or this client address is locked out; returns both keys."""
    account, address = "acct:" + email.strip().lower(), "addr:" + client_address(request)
    wait = max(request.app.state.login_account.wait(account), request.app.state.login_address.wait(address))
    if wait:
        raise RateLimitError(f"too many failed sign-ins; try again in {math.ceil(wait)} s "
                             "or reset your password", math.ceil(wait))
    return account, address


def _attempt(request: Request, email: str) -> tuple[str, str]:
    """Count a sign-in attempt for this account and this address before its password is checked (atomically:
    concurrent guesses get at most the limit of checks); 429 when either is used up."""
    account, address = "acct:" + email.strip().lower(), "addr:" + client_address(request)
    wait = request.app.state.login_account.attempt(account) or request.app.state.login_address.attempt(address)
    if wait:
        raise RateLimitError(f"too many failed sign-ins; try again in {math.ceil(wait)} s "
                             "or reset your password", math.ceil(wait))
    return account, address


def _authenticate(request: Request, email: str, password: str) -> Any:
    """Check credentials under the throttles, the attempt counted first; the hash runs outside any lock, one at a
    time. A correct password clears the account's count."""
    keys = _attempt(request, email)
    engine = request.app.state.engine
    try:
        user = authenticate(engine.store, email, password, engine.settings.hash_workers)
    except AuthError:
        raise AuthError("wrong email or password") from None
    request.app.state.login_account.succeed(keys[0])
    request.app.state.login_address.refund(keys[1])
    return user


def _signup_allowed(request: Request) -> None:
    """Open sign-up: at most `signup_per_address_per_hour` new accounts from one client address (429 past it)."""
    if request.app.state.engine.settings.signup_per_address_per_hour <= 0:
        return
    wait = request.app.state.signup_address.attempt("addr:" + client_address(request))
    if wait:
        raise RateLimitError(f"too many new accounts from your address; try again in {math.ceil(wait / 60)} min",
                             math.ceil(wait))


@router.post("/signup")
def signup(request: Request, email: str = Form(..., max_length=254), password: str = Form(..., max_length=1024),
           csrf: str = Form("")) -> Response:
    """A new account signs in at once; an existing email answers exactly as a failed sign-in does."""
    check_csrf(request, csrf)
    engine = request.app.state.engine
    if signup_mode(request) != "open":
        raise ForbiddenError("sign-up is closed on this instance; an admin creates accounts (`paperscope user add`)")
    address = normalise_email(email)
    check_password(password)
    if locked(request, engine.store.users.by_email, address) is not None:
        sign_in(request, _authenticate(request, address, password))  # the owner typing their password: fine
        return back("/library")
    _throttled(request, address)
    _signup_allowed(request)
    hashed = hash_password(password, engine.settings.hash_workers)
    try:
        user = locked(request, engine.store.users.create, address, hashed)
    except UsageError:  # created by a concurrent request meanwhile
        raise AuthError("wrong email or password") from None
    sign_in(request, user)
    return back("/library")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", mode="login", open=signup_mode(request) == "open")


@router.post("/login")
def login(request: Request, email: str = Form(..., max_length=254), password: str = Form(..., max_length=1024),
          csrf: str = Form(""), next_: str = Form("", alias="next", max_length=2000)) -> Response:
    check_csrf(request, csrf)
    sign_in(request, _authenticate(request, email, password))
    local = next_.startswith("/") and not next_.startswith("//") and "\\" not in next_  # never another site
    return back(next_ if local else "/library")


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    sign_out(request)
    return back("/")


# --- library --------------------------------------------------------------------------------------

@router.get("/library", response_class=HTMLResponse)
def library(request: Request, tag: str | None = Query(None, max_length=64),
            page: int = Query(1, ge=1, le=100_000)) -> HTMLResponse:
    user = require_user(request)
    store = request.app.state.engine.store
    tags = locked(request, store.users.tags, user.id)
    refs = locked(request, owned_ids, store, user.id, tag)
    pages = max(1, -(-len(refs) // LIBRARY_PAGE))
    shown = refs[(page - 1) * LIBRARY_PAGE:page * LIBRARY_PAGE]
    papers = locked(request, papers_of, store, user.id, shown)
    paper_tags = {**locked(request, store.users.tags_by_paper, user.id, [i for private, i in shown if not private]),
                  **locked(request, store.users.tags_by_paper, user.id, [i for private, i in shown if private], True)}
    return render(request, "library.html", tags=tags, tag=tag, papers=papers, paper_tags=paper_tags, page=page, pages=pages,
                  total=len(refs), imports=locked(request, store.users.imports_of, user.id))


@router.post("/library/save")
def save(request: Request, paper_id: str = Form(...), tags: str = Form("saved", max_length=500),
         csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    store = request.app.state.engine.store
    paper = locked(request, store.get_paper, paper_id)
    locked(request, store.users.save, user.id, paper.id, _tags(tags))
    return back(f"/paper/{quote(paper.id, safe=':/')}")


@router.post("/library/mark")
def mark(request: Request, paper_id: str = Form(...), action: str = Form(...), value: str = Form(""),
         csrf: str = Form(""), next: str = Form("")) -> Response:
    """remove (value: tag or empty), note (value: text), read, unread, hide, up, down."""
    check_csrf(request, csrf)
    user = require_user(request)
    users = request.app.state.engine.store.users
    paper = locked(request, request.app.state.engine.store.get_paper, paper_id)
    actions = {
        "remove": lambda: users.remove(user.id, paper.id, value or None),
        "note": lambda: users.set_note(user.id, paper.id, value),
        "read": lambda: users.set_read(user.id, paper.id, True),
        "unread": lambda: users.set_read(user.id, paper.id, False),
        "hide": lambda: users.set_hidden(user.id, paper.id, True),
        "up": lambda: users.vote(user.id, paper.id, 1),
        "down": lambda: users.vote(user.id, paper.id, -1),
    }
    if action not in actions:
        raise UsageError(f"unknown action {action!r}")
    locked(request, actions[action])
    return back(next if next.startswith("/") and not next.startswith("//") else f"/paper/{quote(paper.id, safe=':/')}")


@router.post("/library/tag")
def tag_action(request: Request, tag: str = Form(...), new: str = Form(""), action: str = Form(...),
               csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    users = request.app.state.engine.store.users
    if action == "rename":
        locked(request, users.rename_tag, user.id, tag, new)
        return back("/library?" + urlencode({"tag": new}))
    if action == "delete":
        locked(request, users.delete_tag, user.id, tag)
        return back("/library")
    raise UsageError("tag actions are rename and delete")


@router.get("/library/export.{fmt}")
def export_tag(request: Request, fmt: str, tag: str | None = Query(None, max_length=64)) -> Response:
    user = require_user(request)
    if fmt not in ("bib", "ris"):
        raise NotFoundError("export as .bib or .ris")
    engine = request.app.state.engine  # a chunk at a time, each on the store of the thread that writes it
    chunks = export_chunks(lambda: engine.store, user.id, tag, "bibtex" if fmt == "bib" else "ris")
    name = (tag or "library").replace('"', "").replace("/", "-") or "library"
    media = "application/x-bibtex" if fmt == "bib" else "application/x-research-info-systems"
    return StreamingResponse(chunks, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{quote(name)}.{fmt}"'})


@router.post("/library/import")
def import_tag(request: Request, tag: str = Form(..., max_length=64), file: UploadFile = File(...),
               csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    data = file.file.read()  # at most `max_import_bytes`: BodyLimit refused a larger body before it was read
    fmt = "csv" if (file.filename or "").lower().endswith((".csv", ".tsv")) else "bibtex"
    locked(request, request.app.state.engine.store.users.enqueue_import, user.id, clean_tag(tag), fmt, data)
    request.session["flash"] = (f"Importing into {tag}: the server reads the file in the background; this page "
                                "shows how far it got and what it found.")
    return back("/library?" + urlencode({"tag": tag}))


# --- recommendations, settings, unsubscribe ---------------------------------------------------------

def _recommend(request: Request, user_id: int, tag: str | None, k: int) -> Any:
    """A member's recommendations, computed once and reused until their library changes (rate-limited per member)."""
    engine = request.app.state.engine
    stamp = locked(request, engine.store.users.library_stamp, user_id)
    return request.app.state.recs.get(user_id, tag, k, stamp, lambda: locked(request, recommend, engine, user_id,
                                                                              tag, k))


@router.get("/recommendations", response_class=HTMLResponse)
def recommendations(request: Request, tag: str | None = Query(None, max_length=64)) -> HTMLResponse:
    user = require_user(request)
    engine = request.app.state.engine
    tags = locked(request, engine.store.users.tags, user.id)
    try:
        recs = _recommend(request, user.id, tag, 20)
        note = None
    except UsageError as exc:
        recs, note = [], str(exc)
    return render(request, "recs.html", recs=recs, tags=tags, tag=tag, note=note)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request) -> HTMLResponse:
    return _settings(request, require_user(request))


def _settings(request: Request, user: Any, token: str | None = None, feed: str | None = None) -> HTMLResponse:
    """The settings page; a new API or feed secret is shown in this one answer and never stored in plain text."""
    store = request.app.state.engine.store
    feed_hints = locked(request, store.users.token_hints, user.id, "feed")
    return render(request, "settings.html", me=user, tags=locked(request, store.users.tags, user.id),
                  searches=locked(request, store.users.saved_searches, user.id),
                  base=request.app.state.engine.settings.base_url.rstrip("/"), token=token,
                  feed=feed, feed_hint=feed_hints[0][0] if feed_hints else None,
                  api_hint=locked(request, store.users.api_token_hint, user.id),
                  sessions=locked(request, store.users.session_count, user.id),
                  unsubscribe_links=len(locked(request, store.users.token_hints, user.id, "unsubscribe")))


@router.post("/settings/feed", response_class=HTMLResponse)
def rotate_feed(request: Request, csrf: str = Form("")) -> HTMLResponse:
    """A new feed secret: its URLs are shown in full in this answer only; the old ones stop working."""
    check_csrf(request, csrf)
    user = require_user(request)
    return _settings(request, user, feed=locked(request, new_feed_token, request.app.state.engine.store, user.id))


@router.post("/settings/digest")
def digest_settings(request: Request, frequency: str = Form(...), size: int = Form(10), tags: str = Form(""),
                    trending_: str = Form("", alias="trending"), webhook: str = Form("", max_length=500),
                    csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    if webhook.strip():
        check_webhook(webhook, request.app.state.engine.settings.webhook_allow)
    locked(request, request.app.state.engine.store.users.set_digest, user.id, frequency, _tags(tags), size,
           bool(trending_), webhook.strip() or None)
    return back("/settings")


@router.post("/settings/token", response_class=HTMLResponse)
def api_token(request: Request, csrf: str = Form("")) -> HTMLResponse:
    check_csrf(request, csrf)
    user = require_user(request)
    return _settings(request, user, token=locked(request, new_api_token, request.app.state.engine.store, user.id))


@router.post("/settings/search")
def save_search(request: Request, name: str = Form(..., max_length=64), q: str = Form(..., max_length=1000),
                csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    locked(request, request.app.state.engine.store.users.save_search, user.id, name, q)
    return back("/settings")


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_form(request: Request, token: str) -> HTMLResponse:
    user = locked(request, request.app.state.engine.store.users.by_unsubscribe_token, token)
    if user is None:
        raise NotFoundError("this unsubscribe link is not valid")
    return render(request, "unsubscribe.html", email=user.email, token=token, done=user.digest_frequency == "off")


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, token: str) -> Response:
    """One-click (RFC 8058): the unguessable token is the credential, so no session or CSRF is needed."""
    users = request.app.state.engine.store.users
    user = locked(request, users.by_unsubscribe_token, token)
    if user is None:
        raise NotFoundError("this unsubscribe link is not valid")
    locked(request, users.unsubscribe, user.id)
    return back(f"/unsubscribe/{token}")


# --- feeds ----------------------------------------------------------------------------------------

def _feed(request: Request, fmt: str, title: str, entries: list[tuple[Any, str]]) -> Response:
    base = request.app.state.engine.settings.base_url.rstrip("/")
    url = base + request.url.path
    if fmt == "atom":
        return Response(atom(title, url, base, entries), media_type="application/atom+xml")
    if fmt == "json":
        return JSONResponse(json_feed(title, url, base, entries), media_type="application/feed+json")
    raise NotFoundError("feeds end in .atom or .json")


@router.get("/feeds/daily.{fmt}")
def daily_feed(request: Request, fmt: str) -> Response:
    store = request.app.state.engine.store
    day = locked(request, store.latest_day)
    papers = locked(request, store.papers_on_day, day, 100, 0) if day else []
    return _feed(request, fmt, f"paperscope: papers of {day}", [(p, "") for p in papers])


@router.get("/feeds/trending.{fmt}")
def trending_feed(request: Request, fmt: str) -> Response:
    rows = locked(request, trending, request.app.state.engine.store, 50)
    return _feed(request, fmt, "paperscope: trending", [(p, f"trending score {s:.3g}") for p, s in rows])


def _feed_user(request: Request, token: str) -> Any:
    user = locked(request, request.app.state.engine.store.users.by_feed_token, token)
    if user is None:
        raise NotFoundError("unknown feed")
    return user


@router.get("/feeds/{token}/recommendations.{fmt}")
def recommendations_feed(request: Request, token: str, fmt: str, tag: str | None = Query(None, max_length=64)) -> Response:
    user = _feed_user(request, token)
    try:
        recs = _recommend(request, user.id, tag, 30)
    except UsageError:
        recs = []
    entries = [(r.paper, "Close to: " + "; ".join(p.title for p in r.because)) for r in recs]
    return _feed(request, fmt, f"paperscope: recommended{' in ' + tag if tag else ''}", entries)


@router.get("/feeds/{token}/search/{search_id}.{fmt}")
def search_feed(request: Request, token: str, search_id: int, fmt: str) -> Response:
    user = _feed_user(request, token)
    saved = {i: (n, q) for i, n, q in locked(request, request.app.state.engine.store.users.saved_searches, user.id)}
    if search_id not in saved:
        raise NotFoundError("unknown saved search")
    name, q = saved[search_id]
    result = locked(request, search, request.app.state.engine, q, 50, "hybrid", 0)
    return _feed(request, fmt, f"paperscope: {name}", [(h.paper, "") for h in result.hits])


# --- JSON API for scripts (API token or session) ---------------------------------------------------

@api.get("/library", summary="Your saved papers (Authorization: Bearer <token>)")
def api_library(request: Request, tag: str | None = Query(None, max_length=64)) -> dict[str, Any]:
    user = require_user(request)
    store = request.app.state.engine.store
    ids = locked(request, store.users.paper_ids, user.id, tag)
    papers = locked(request, store.papers_by_ids, ids)
    return {"tags": [{"tag": t, "count": n} for t, n in locked(request, store.users.tags, user.id)],
            "papers": [hf_paper(papers[i]) for i in ids if i in papers]}


class SaveRequest(BaseModel):
    """A paper to save under tags; unknown fields are refused (`id` for `paper_id` is a 422 that says so)."""

    model_config = ConfigDict(extra="forbid")
    paper_id: str = Field(..., min_length=1, max_length=300, description="a paper id, arXiv id or doi:…")
    tags: list[str] = Field(default_factory=lambda: ["saved"], max_length=50)


@api.post("/library", summary="Save a paper under tags (API token only: no cookies, so no CSRF)")
def api_save(request: Request, body: SaveRequest) -> dict[str, Any]:
    if not request.headers.get("authorization", "").lower().startswith("bearer "):
        raise ForbiddenError("scripts write with an API token: Authorization: Bearer <token>")
    user = require_user(request)
    store = request.app.state.engine.store
    paper = locked(request, store.get_paper, body.paper_id)
    tags = body.tags or ["saved"]
    locked(request, store.users.save, user.id, paper.id, tags)
    return {"saved": paper.id, "tags": tags}


@api.get("/recommendations", summary="Your recommendations, each with the saved papers it is close to")
def api_recommendations(request: Request, tag: str | None = Query(None, max_length=64),
                        limit: int = Query(10, ge=1, le=100)) -> list[dict[str, Any]]:
    user = require_user(request)
    recs = _recommend(request, user.id, tag, limit)
    return [{"paper": hf_paper(r.paper), "score": round(r.score, 4), "because": [p.id for p in r.because]}
            for r in recs]

