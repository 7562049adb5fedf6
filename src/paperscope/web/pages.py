"""Server-rendered pages: daily, trending, search, paper, author, about. Usable without JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from ..cite import to_bibtex
from ..community import today
from ..errors import IndexDamagedError, NotFoundError, UsageError
from ..rank import CITED_LATELY_FORMULA, TRENDING_FORMULA, TRENDING_WINDOW_DAYS
from ..search import MODES, SORTS, search, similar
from ..topics.minimap import neighbourhood
from ..trending import BASIS, BASIS_SHORT, most_cited_lately, trending_board
from .common import MAX_QUERY, instance_stats, locked, render
from .present import day, long_day, parse_day

router = APIRouter(include_in_schema=False)
PAGE = 20


@router.get("/", response_class=HTMLResponse)
def daily(request: Request, date_: str | None = Query(None, alias="date", max_length=40),
          p: int = Query(0, ge=0, le=1000)) -> HTMLResponse:
    store = request.app.state.engine.store
    latest = locked(request, store.latest_day)
    if latest is None and not date_ and locked(request, store.paper_count):
        return _undated(request, p)
    day = parse_day(date_) or latest or today()
    papers = locked(request, store.papers_on_day, day, PAGE, p * PAGE)
    total = locked(request, store.count_on_day, day)
    lab_total = locked(request, store.community.count_submissions_on_day, day)
    prev_day, next_day = locked(request, store.neighbour_days, day)
    more = f"/?{urlencode({'date': day, 'p': p + 1})}" if (p + 1) * PAGE < total else None
    lab_now = None  # the home page shows the latest listing day: today's lab list, when newer, is pointed at
    if not date_ and day < today():
        count = locked(request, store.community.count_submissions_on_day, today())
        lab_now = (today(), count) if count else None
    if total:
        note = (f"{total} paper{'s' if total != 1 else ''} featured on Hugging Face or announced on arXiv this day, "
                "most upvoted first")
    elif lab_total:
        note = "No paper was featured on Hugging Face or announced on arXiv this day; the lab's submissions are below."
    else:
        note = "No paper was featured on Hugging Face, announced on arXiv or submitted by the lab this day."
    return render(request, "list.html", heading=f"Papers of {long_day(day)}", day=day, prev_day=prev_day,
                  next_day=next_day, items=[(x, None) for x in papers], more_url=more, note=note,
                  lab_now=lab_now, lab_url="/lab" if not date_ else f"/lab?{urlencode({'date': day})}",
                  lab_total=lab_total)


def _undated(request: Request, p: int) -> HTMLResponse:
    """Home when no paper has a date (the bundled offline sample): no day lists them, so list the catalogue in
    the order it was added and point at search."""
    store = request.app.state.engine.store
    total = locked(request, store.paper_count)
    rows = locked(request, store.papers_changed_since, 0, (p + 1) * PAGE)[p * PAGE:]
    more = f"/?{urlencode({'p': p + 1})}" if (p + 1) * PAGE < total else None
    return render(request, "list.html", heading="Papers in this catalogue", items=[(x, None) for _, x in rows],
                  more_url=more, undated=total,
                  note=f"None of the {total} papers here has a date, so no day lists them and nothing trends yet: "
                       "search them by words or meaning, or browse them in the order they were added.")


@router.get("/trending", response_class=HTMLResponse)
def trending_page(request: Request, by: str = Query("signals", pattern="^(signals|citations)$"),
                  days: int = Query(TRENDING_WINDOW_DAYS, ge=1, le=365)) -> HTMLResponse:
    if by == "citations":
        return _cited_lately_page(request, days)
    board = locked(request, trending_board, request.app.state.engine.store, 50)
    items = [(t.paper, Markup(f'<span title="{BASIS[t.basis]}">counts from {BASIS_SHORT[t.basis]} {day(t.since)}'
                              f"</span> · score {t.score:.3g}")) for t in board.rows]
    return render(request, "list.html", heading="Trending", items=items, formula=TRENDING_FORMULA,
                  note=f"Papers of the {TRENDING_WINDOW_DAYS} days up to {long_day(board.until)} (the newest day with "
                       "papers or lab submissions here). A paper's age counts from the later of the day Hugging Face "
                       "featured it (else its arXiv announcement) and the day the lab last submitted it; each card "
                       "names that day. Undated papers are left out.",
                  switch=("/trending?by=citations", "Most cited lately: citations gained in the last 30 days"))


def _cited_lately_page(request: Request, days: int) -> HTMLResponse:
    from ..store.citations import SOURCE_NAMES

    rows = locked(request, most_cited_lately, request.app.state.engine.store, days, 50)
    items = [(c.paper, f"+{c.gain} citation{'' if c.gain == 1 else 's'} in {days} days · {c.count} now "
                       f"({SOURCE_NAMES.get(c.source, c.source)})") for c in rows]
    return render(request, "list.html", heading="Most cited lately", items=items, formula=CITED_LATELY_FORMULA,
                  note=f"Papers by the citations they gained in the {days} days up to now, from the counts each "
                       "citation update (OpenAlex, Semantic Scholar) keeps: a paper needs two counts from one source, "
                       "the window's newest and an earlier one (the last before the window, else the first inside "
                       "it), so a paper counted once shows no gain yet. The sources differ in coverage, so a paper's "
                       "gain is its larger source's, never a sum. Papers gaining nothing are left out.",
                  switch=("/trending", "Trending by upvotes, saves and stars"))


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = Query("", max_length=MAX_QUERY), mode: str = "hybrid",
                cat: str = Query("", max_length=100), author: str = Query("", max_length=200),
                since: str = Query("", max_length=10), until: str = Query("", max_length=10),
                page: int = Query(0, ge=0, le=100), sort: str = "relevance") -> HTMLResponse:
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    full = q
    for op, value in (("cat", cat), ("since", since), ("until", until)):
        if value.strip():
            full += f" {op}:{value.strip().replace(' ', '')}"
    if author.strip():
        full += f' author:"{author.strip().replace(chr(34), "")}"'
    result = None
    prev_url = next_url = None
    if full.strip():
        result = locked(request, search, request.app.state.engine, full, PAGE, mode, page * PAGE, sort)
        params = {"q": q, "mode": mode, "cat": cat, "author": author, "since": since, "until": until}
        if sort != "relevance":
            params["sort"] = sort
        if page > 0:
            prev_url = "/search?" + urlencode({**params, "page": page - 1})
        if (page + 1) * PAGE < result.total and len(result.hits) == PAGE:
            next_url = "/search?" + urlencode({**params, "page": page + 1})
    hints = _filter_hints(request)
    return render(request, "search.html", q=q, mode=mode, modes=MODES, cat=cat, author=author, since=since,
                  until=until, result=result, prev_url=prev_url, next_url=next_url, hints=hints, sort=sort,
                  sorts=SORTS, candidates=request.app.state.engine.settings.candidates)


def _filter_hints(request: Request) -> dict[str, Any]:
    """The search form's examples from the data: categories and years that exist (kept until the catalogue
    changes: the categories are read from the newest papers that have any)."""
    store = request.app.state.engine.store
    seq = locked(request, store.max_seq)
    cached = getattr(request.app.state, "filter_hints", None)
    if cached is None or cached[0] != seq:
        cats, first, last = locked(request, store.filter_hints)
        years = (first[:4], last[:4]) if first and last else None
        cached = request.app.state.filter_hints = (seq, {"categories": cats, "years": years})
    return cached[1]


@router.get("/paper/{paper_id:path}", response_class=HTMLResponse)
def paper_page(request: Request, paper_id: str) -> HTMLResponse:
    engine = request.app.state.engine
    paper = locked(request, engine.store.get_paper, paper_id)
    note = "No other paper here has a vector yet, so none can be compared with this one."
    try:
        near = locked(request, similar, engine, [paper.id], k=30)  # 6 listed, all 30 drawn on the small map
        hits = near[:6]
    except NotFoundError:  # the paper has no vector (yet): the operator's next update embeds it
        hits, note = [], "No similar papers yet: this paper has not been embedded (the next update does it)."
    except IndexDamagedError:  # the paper itself is in the store: show it, without its neighbours
        hits, note = [], "Similar papers are unavailable until the operator rebuilds the index."
    from .session import current_user

    user = current_user(request)
    state = locked(request, engine.store.users.state, user.id, paper.id) if user else None
    near_ids = [(h.paper.id, h.paper.title) for h in (near if hits else [])]
    places = locked(request, engine.store.topics.map_places, [paper.id] + [i for i, _ in near_ids])
    return render(request, "paper.html", p=paper, bibtex=to_bibtex(paper), similar=hits, similar_note=note,
                  user=user, state=state, neighbourhood=neighbourhood(paper.id, places, near_ids))


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
