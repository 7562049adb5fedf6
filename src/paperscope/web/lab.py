"""The lab's daily list: submit, upvote, withdraw, discuss and follow papers; the Lab tab, its feed and API.

Every form answers with a redirect (post/redirect/get) and works without JavaScript. Public data only:
submissions, upvotes and comments, each shown with a display name, never an email.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import community
from ..errors import ForbiddenError, UsageError
from ..feeds import atom, json_feed
from .common import BEARER, hf_paper, locked, render, row_id
from .labdata import lab_items, with_activity
from .session import check_csrf, current_user, require_user

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["lab"], dependencies=[BEARER])


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _paper_url(paper_id: str, anchor: str = "") -> str:
    return f"/paper/{quote(paper_id, safe=':/')}" + (f"#{anchor}" if anchor else "")


def _next(next_: str, fallback: str) -> str:
    """Only local paths: a form's `next` can never send the browser to another site."""
    return next_ if next_.startswith("/") and not next_.startswith("//") and "\\" not in next_ else fallback


def _day(raw: str | None) -> str:
    if not raw:
        return community.today()
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise UsageError(f"date {raw!r} is not a day; use YYYY-MM-DD") from None


def _submit(request: Request, ref: str) -> community.SubmitResult | community.Queued:
    return community.submit(request.app.state.engine, require_user(request), ref, run=partial(locked, request))


# --- pages and forms ------------------------------------------------------------------------------

@router.get("/lab", response_class=HTMLResponse)
def lab_page(request: Request, date_: str | None = Query(None, alias="date", max_length=10)) -> HTMLResponse:
    """The Lab tab: the day's submissions, most upvoted first; a member also sees their fetches in flight."""
    store = request.app.state.engine.store
    day = _day(date_)
    items = locked(request, lab_items, store, day, 100, 0)
    prev_day, next_day = locked(request, store.community.submission_days, day)
    user = current_user(request)
    pending = locked(request, store.community.pending_of, user.id, day) if user else []
    return render(request, "lab.html", day=day, items=items, prev_day=prev_day, next_day=next_day,
                  today=community.today(), tab="lab", pending=pending)


@router.post("/submit")
def submit_form(request: Request, paper: str = Form("", max_length=community.MAX_REF),
                csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    result = _submit(request, paper)
    if isinstance(result, community.Queued):
        request.session["flash"] = (f"Fetching arXiv {result.arxiv_id}: it joins today's lab list as soon as it "
                                    "arrives (this page shows how it goes).")
        return _back("/lab?" + urlencode({"date": result.day}) + "#pending")
    pid = result.paper.id
    if result.created:
        note = f"Submitted “{result.paper.title}” to today's lab list."
    else:
        note = f"“{result.paper.title}” is already on today's lab list (submitted by {result.submission.submitted_by})."
    request.session["flash"] = note
    return _back("/lab?" + urlencode({"date": result.submission.day}) + f"#{quote(pid)}")


@router.post("/paper/{paper_id:path}/withdraw")
def withdraw_form(request: Request, paper_id: str, csrf: str = Form(""), next: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    community.withdraw(request.app.state.engine, user, paper_id, run=partial(locked, request))
    request.session["flash"] = "Withdrawn from today's lab list."
    return _back(_next(next, "/lab"))


def _vote(request: Request, paper_id: str, up: bool) -> str:
    user = require_user(request)
    store = request.app.state.engine.store
    paper = locked(request, store.get_paper, paper_id)
    locked(request, store.community.upvote if up else store.community.unupvote, user.id, paper.id)
    return paper.id


@router.post("/paper/{paper_id:path}/upvote")
def upvote_form(request: Request, paper_id: str, csrf: str = Form(""), next: str = Form("")) -> Response:
    check_csrf(request, csrf)
    pid = _vote(request, paper_id, True)
    return _back(_next(next, _paper_url(pid)))


@router.post("/paper/{paper_id:path}/unupvote")
def unupvote_form(request: Request, paper_id: str, csrf: str = Form(""), next: str = Form("")) -> Response:
    check_csrf(request, csrf)
    pid = _vote(request, paper_id, False)
    return _back(_next(next, _paper_url(pid)))


@router.post("/paper/{paper_id:path}/follow")
def follow_form(request: Request, paper_id: str, csrf: str = Form(""), on: str = Form("1")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    store = request.app.state.engine.store
    paper = locked(request, store.get_paper, paper_id)
    locked(request, store.community.follow, user.id, paper.id, on == "1")
    return _back(_paper_url(paper.id, "discussion"))


@router.post("/paper/{paper_id:path}/comments")
def comment_form(request: Request, paper_id: str, body: str = Form("", max_length=community.MAX_COMMENT + 1000),
                 parent: int | None = Form(None), csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    engine = request.app.state.engine
    parent = None if parent is None else row_id(parent, "comment")
    cid = community.comment(engine, user, paper_id, body, parent, run=partial(locked, request))
    return _back(_paper_url(locked(request, engine.store.community.comment, cid).paper_id, f"c{cid}"))


@router.post("/comments/{comment_id}/edit")
def edit_form(request: Request, comment_id: int, body: str = Form("", max_length=community.MAX_COMMENT + 1000),
              csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    c = community.edit(request.app.state.engine, user, row_id(comment_id, "comment"), body, run=partial(locked, request))
    return _back(_paper_url(c.paper_id, f"c{c.id}"))


@router.post("/comments/{comment_id}/delete")
def delete_form(request: Request, comment_id: int, csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    c = locked(request, request.app.state.engine.store.community.delete_comment, row_id(comment_id, "comment"), user.id)
    return _back(_paper_url(c.paper_id, f"c{c.id}"))


@router.post("/comments/{comment_id}/hide")
def hide_form(request: Request, comment_id: int, hidden: str = Form("1"), csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    c = community.hide(request.app.state.engine, user, row_id(comment_id, "comment"), hidden == "1", run=partial(locked, request))
    return _back(_paper_url(c.paper_id, f"c{c.id}"))


@router.post("/settings/display-name")
def display_name_form(request: Request, name: str = Form("", max_length=200), csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    value = locked(request, request.app.state.engine.store.community.set_display_name, user.id, name)
    request.session["flash"] = f"Others now see you as {value}."
    return _back("/settings")


# --- feed -----------------------------------------------------------------------------------------

@router.get("/feeds/lab.{fmt}")
def lab_feed(request: Request, fmt: str, date_: str | None = Query(None, alias="date", max_length=10)) -> Response:
    """The lab's daily list as Atom or JSON Feed (the latest day with submissions by default)."""
    from fastapi.responses import JSONResponse

    store = request.app.state.engine.store
    day = _day(date_) if date_ else (locked(request, store.community.latest_submission_day) or community.today())
    items = locked(request, lab_items, store, day, 100, 0)
    base = request.app.state.engine.settings.base_url.rstrip("/")
    url = base + request.url.path
    entries = [(p, f"Submitted to the lab by {s.submitted_by} on {s.day} · {upvotes} upvote"
                   f"{'s' if upvotes != 1 else ''} · {comments} comment{'s' if comments != 1 else ''}")
               for p, s, upvotes, comments in items]
    title = f"paperscope lab: papers of {day}"
    if fmt == "atom":
        return Response(atom(title, url, base, entries), media_type="application/atom+xml")
    if fmt == "json":
        doc = json_feed(title, url, base, entries)
        for item, (_, s, upvotes, comments) in zip(doc["items"], items, strict=True):
            item["_paperscope"] = {"upvotes": upvotes, "numComments": comments, "submittedBy": s.submitted_by,
                                   "submittedOnDailyAt": s.submitted_at}
        return JSONResponse(doc, media_type="application/feed+json")
    from ..errors import NotFoundError

    raise NotFoundError("feeds end in .atom or .json")


# --- JSON API (writes need an API token: no cookies, so no CSRF) -----------------------------------

def _token_user(request: Request) -> Any:
    if not request.headers.get("authorization", "").lower().startswith("bearer "):
        raise ForbiddenError("scripts write with an API token: Authorization: Bearer <token>")
    return require_user(request)


def _paper_json(request: Request, paper_id: str) -> dict[str, Any]:
    store = request.app.state.engine.store
    return locked(request, with_activity, store, hf_paper(locked(request, store.get_paper, paper_id)))


@api.post("/papers/{paper_id:path}/upvote", summary="Upvote a paper (idempotent; Bearer token)")
def api_upvote(request: Request, paper_id: str) -> dict[str, Any]:
    _token_user(request)
    pid = _vote(request, paper_id, True)
    return {**_paper_json(request, pid), "upvoted": True}


@api.post("/papers/{paper_id:path}/unupvote", summary="Take an upvote back (idempotent; Bearer token)")
def api_unupvote(request: Request, paper_id: str) -> dict[str, Any]:
    _token_user(request)
    pid = _vote(request, paper_id, False)
    return {**_paper_json(request, pid), "upvoted": False}


@api.post("/submit", summary="Submit a paper to today's lab list by arXiv id or URL (Bearer token)")
def api_submit(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    _token_user(request)
    ref = body.get("paper")
    if not isinstance(ref, str):
        raise UsageError('send {"paper": "<arXiv id or URL>"}')
    result = _submit(request, ref)
    if isinstance(result, community.Queued):  # answered at once; GET /api/lab/pending says how it goes
        return {"id": result.arxiv_id, "day": result.day, "state": "fetching", "created": result.created}
    store = request.app.state.engine.store
    items = locked(request, lab_items, store, result.submission.day, 1000, 0)
    from .labdata import lab_item_json

    item = next(lab_item_json(*x) for x in items if x[0].id == result.paper.id)
    return {**item, "state": "submitted", "created": result.created}


@api.get("/lab/pending", summary="Your submissions still fetching from arXiv, or failed (Bearer token)")
def api_pending(request: Request, date_: str | None = Query(None, alias="date", max_length=10)) -> list[dict[str, Any]]:
    user = _token_user(request)
    rows = locked(request, request.app.state.engine.store.community.pending_of, user.id, _day(date_))
    return [{"id": p.arxiv_id, "day": p.day, "state": "fetching" if p.state != "failed" else "failed",
             "reason": p.reason, "createdAt": p.created_at} for p in rows]


@api.get("/papers/{paper_id:path}/comments", summary="A paper's discussion (sanitised HTML and Markdown source)")
def api_comments(request: Request, paper_id: str) -> list[dict[str, Any]]:
    store = request.app.state.engine.store
    paper = locked(request, store.get_paper, paper_id)
    out = []
    for c in locked(request, store.community.comments_of, paper.id):
        gone = c.deleted or c.hidden
        out.append({"id": c.id, "parentId": c.parent_id, "author": c.author, "createdAt": c.created_at,
                    "editedAt": c.edited_at, "deleted": c.deleted, "hidden": c.hidden,
                    "body": "" if gone else c.body,
                    "html": "" if gone else community.comment_html(request.app.state.engine, c,
                                                                   run=partial(locked, request))})
    return out
