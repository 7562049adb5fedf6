"""Server-rendered pages: daily, trending, search, paper, author, about. Usable without JavaScript."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ..cite import to_bibtex
from ..errors import IndexDamagedError, NotFoundError, UsageError
from ..rank import TRENDING_FORMULA
from ..search import MODES, search, similar
from ..trending import trending
from .common import MAX_QUERY, instance_stats, locked, render

router = APIRouter(include_in_schema=False)
PAGE = 20


@router.get("/", response_class=HTMLResponse)
def daily(request: Request, date_: str | None = Query(None, alias="date"), p: int = Query(0, ge=0, le=1000)) -> HTMLResponse:
    store = request.app.state.engine.store
    try:
        day = date.fromisoformat(date_).isoformat() if date_ else None
    except ValueError:
        raise UsageError(f"date {date_!r} is not a day; use YYYY-MM-DD") from None
    day = day or locked(request, store.latest_day) or date.today().isoformat()
    papers = locked(request, store.papers_on_day, day, PAGE, p * PAGE)
    total = locked(request, store.count_on_day, day)
    prev_day, next_day = locked(request, store.neighbour_days, day)
    more = f"/?{urlencode({'date': day, 'p': p + 1})}" if (p + 1) * PAGE < total else None
    return render(request, "list.html", heading=f"Papers of {_long_day(day)}", day=day, prev_day=prev_day,
                  next_day=next_day, items=[(x, None) for x in papers], more_url=more,
                  note=f"{total} paper{'s' if total != 1 else ''}, most upvoted first; a paper is shown on the day "
                       "Hugging Face featured it, else on its arXiv announcement day")


def _long_day(day: str) -> str:
    return date.fromisoformat(day).strftime("%A %-d %B %Y")


@router.get("/trending", response_class=HTMLResponse)
def trending_page(request: Request) -> HTMLResponse:
    rows = locked(request, trending, request.app.state.engine.store, 50)
    return render(request, "list.html", heading="Trending", items=[(x, f"score {s:.3g}") for x, s in rows],
                  formula=TRENDING_FORMULA,
                  note="Papers of the last 30 days (up to the newest day here); age counts from the day a paper "
                       "was featured or announced, or from the lab's submission. Undated papers are left out.")


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = Query("", max_length=MAX_QUERY), mode: str = "hybrid",
                cat: str = Query("", max_length=100), author: str = Query("", max_length=200),
                since: str = Query("", max_length=10), until: str = Query("", max_length=10),
                page: int = Query(0, ge=0, le=100)) -> HTMLResponse:
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    full = q
    for op, value in (("cat", cat), ("since", since), ("until", until)):
        if value.strip():
            full += f" {op}:{value.strip().replace(' ', '')}"
    if author.strip():
        full += f' author:"{author.strip().replace(chr(34), "")}"'
    result = None
    prev_url = next_url = None
    if full.strip():
        result = locked(request, search, request.app.state.engine, full, PAGE, mode, page * PAGE)
        params = {"q": q, "mode": mode, "cat": cat, "author": author, "since": since, "until": until}
        if page > 0:
            prev_url = "/search?" + urlencode({**params, "page": page - 1})
        if (page + 1) * PAGE < result.total and len(result.hits) == PAGE:
            next_url = "/search?" + urlencode({**params, "page": page + 1})
    return render(request, "search.html", q=q, mode=mode, modes=MODES, cat=cat, author=author, since=since,
                  until=until, result=result, prev_url=prev_url, next_url=next_url)


@router.get("/paper/{paper_id:path}", response_class=HTMLResponse)
def paper_page(request: Request, paper_id: str) -> HTMLResponse:
    engine = request.app.state.engine
    paper = locked(request, engine.store.get_paper, paper_id)
    note = "No similar papers yet: this paper has no vector (run `paperscope update`)."
    try:
        hits = locked(request, similar, engine, [paper.id], k=6)
    except NotFoundError:
        hits = []
    except IndexDamagedError:  # the paper itself is in the store: show it, without its neighbours
        hits, note = [], "Similar papers are unavailable until the operator rebuilds the index."
    from .session import current_user

    user = current_user(request)
    state = locked(request, engine.store.users.state, user.id, paper.id) if user else None
    return render(request, "paper.html", p=paper, bibtex=to_bibtex(paper), similar=hits, similar_note=note,
                  user=user, state=state)


@router.get("/author/{name:path}", response_class=HTMLResponse)
def author_page(request: Request, name: str) -> HTMLResponse:
    papers = locked(request, request.app.state.engine.store.papers_by_author, name, 200)
    if not papers:
        raise NotFoundError(f"no papers by {name!r} here")
    return render(request, "list.html", heading=name, items=[(x, None) for x in papers],
                  note=f"{len(papers)} paper{'s' if len(papers) != 1 else ''} in this instance, newest first")


@router.get("/about", response_class=HTMLResponse)
def about(request: Request) -> HTMLResponse:
    return render(request, "about.html", stats=instance_stats(request))
