"""The JSON API: search, similar, paper, daily, trending, stats (Hugging Face's paths and fields where they exist)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..models import Hit, Paper
from ..search import search, similar
from ..text import parse_query
from ..trending import most_cited_lately, trending
from .common import MAX_PAGE, MAX_QUERY, hf_paper, instance_stats, locked
from .labdata import lab_item_json, lab_items, with_activities, with_activity
from .present import parse_day

router = APIRouter(prefix="/api", tags=["api"])


def hf_item(p: Paper) -> dict[str, Any]:
    """A list item in Hugging Face's daily-papers / search shape."""
    comments = p.signals.get("comments")
    paper = hf_paper(p)
    return {"paper": paper, "title": p.title, "summary": p.abstract, "publishedAt": p.published,
            "numComments": int(comments.value) if comments else 0, "thumbnail": None,
            "organization": paper["organization"]}


def hit_json(h: Hit) -> dict[str, Any]:
    """A search hit: the paper, its score (null for a filter-only listing), why it matched, and snippet segments."""
    return {"paper": hf_paper(h.paper), "score": None if h.reason == "filter" else round(h.score, 6), "reason": h.reason,
            "keywordRank": h.keyword_rank, "semanticRank": h.semantic_rank,
            "snippet": [{"text": t, "match": m} for t, m in h.snippet]}


Q = Query(..., max_length=MAX_QUERY, description="query in paperscope's syntax (empty: a `bad_query` error)")
TOTAL_MEANING = ("`total`: keyword mode and filter-only queries (no words), the exact number of matching papers; "
                 "semantic and hybrid modes, the ranked candidates (at most `candidates` per list) that pass the "
                 "phrases, exclusions and filters. One ranking per query: `total` and the order never change with "
                 "`limit`/`offset`, and pages past `total` are empty. `reason` is keyword, semantic, both, or "
                 "filter (filter-only listing, newest first, `score` null). `notes` say how the query was read and "
                 "why nothing matched.")

SORT_MEANING = ("`citations`: most cited first (each paper's `citationCount`, the highest any citation source reported; "
                "never counted = 0; ties keep the relevance order). Keyword mode and filter-only queries sort every "
                "match (up to 50,000, with a note past that); semantic and hybrid modes sort their ranked candidates.")


@router.get("/search", summary="Hybrid search with filters and query syntax", description=TOTAL_MEANING)
def api_search(request: Request, q: str = Q, mode: str = Query("hybrid", pattern="^(hybrid|keyword|semantic)$"),
               limit: int = Query(10, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0, le=10000),
               sort: str = Query("relevance", pattern="^(relevance|citations)$", description=SORT_MEANING)
               ) -> JSONResponse:
    result = locked(request, search, request.app.state.engine, q, limit, mode, offset, sort)
    return JSONResponse({"query": q, "mode": mode, "sort": sort, "total": result.total,
                         "tookMs": round(result.took_ms, 2),
                         "notes": list(result.notes), "offset": offset,
                         "hits": [hit_json(h) for h in result.hits]})  # plain JSON: no re-encoding pass


@router.get("/papers/search", summary="Hugging Face-compatible paper search")
def api_papers_search(request: Request, q: str = Q, limit: int = Query(50, ge=1, le=MAX_PAGE)) -> list[dict[str, Any]]:
    result = locked(request, search, request.app.state.engine, q, limit, "hybrid", 0)
    return locked(request, with_activities, request.app.state.engine.store, [hf_item(h.paper) for h in result.hits])


@router.get("/papers/{paper_id:path}", summary="One paper (Hugging Face-compatible)")
def api_paper(request: Request, paper_id: str) -> dict[str, Any]:
    store = request.app.state.engine.store
    return locked(request, with_activity, store, hf_paper(locked(request, store.get_paper, paper_id)))


@router.get("/daily_papers", summary="Papers of a day (Hugging Face-compatible)")
def api_daily(request: Request, date_: str | None = Query(None, alias="date", max_length=40,
                                                     description="a day, YYYY-MM-DD (default: the newest day)"),
              limit: int = Query(50, ge=1, le=MAX_PAGE), p: int = Query(0, ge=0, le=1000),
              submitted: bool = Query(False, description="only the lab's submissions of the day, most upvoted first"),
              ) -> list[dict[str, Any]]:
    store = request.app.state.engine.store
    date_ = parse_day(date_)  # a bad day is the pages' 400, not an empty list
    if submitted:
        day = date_ or locked(request, store.community.latest_submission_day) or date.today().isoformat()
        return [lab_item_json(*x) for x in locked(request, lab_items, store, day, limit, p * limit)]
    day = date_ or locked(request, store.latest_day) or date.today().isoformat()
    papers = locked(request, store.papers_on_day, day, limit, p * limit)
    return locked(request, with_activities, store, [hf_item(x) for x in papers])


@router.get("/trending", summary="Trending papers (recent signals decayed by age)")
def api_trending(request: Request, limit: int = Query(30, ge=1, le=MAX_PAGE),
                 by: str = Query("signals", pattern="^(signals|citations)$",
                                 description="citations: most cited lately (citations gained in `days` days, "
                                             "`citationGain`), from the counts' history"),
                 days: int = Query(30, ge=1, le=365)) -> list[dict[str, Any]]:
    store = request.app.state.engine.store
    if by == "citations":
        cited = locked(request, most_cited_lately, store, days, limit)
        return locked(request, with_activities, store, [{**hf_item(c.paper), "citationGain": c.gain,
                                                         "citationGainSource": c.source} for c in cited])
    rows = locked(request, trending, store, limit)
    items = [{**hf_item(p), "trendingScore": round(s, 6)} for p, s in rows]
    return locked(request, with_activities, request.app.state.engine.store, items)


class SimilarRequest(BaseModel):
    ids: list[str] = Field(..., min_length=1, max_length=100)
    negatives: list[str] = Field(default_factory=list, max_length=100)
    filter: str = Field("", max_length=MAX_QUERY, description="filters in query syntax, e.g. 'cat:cs.CL since:2024'")
    limit: int = Field(10, ge=1, le=MAX_PAGE)


@router.get("/similar/{paper_id:path}", summary="Papers similar to one paper")
def api_similar_one(request: Request, paper_id: str, limit: int = Query(10, ge=1, le=MAX_PAGE),
                    filter: str = Query("", max_length=MAX_QUERY)) -> list[dict[str, Any]]:
    hits = locked(request, similar, request.app.state.engine, [paper_id], (), parse_query(filter).filters, limit)
    return [hit_json(h) for h in hits]


@router.post("/similar", summary="More like these (and less like those)")
def api_similar(request: Request, body: SimilarRequest) -> list[dict[str, Any]]:
    hits = locked(request, similar, request.app.state.engine, body.ids, body.negatives,
                  parse_query(body.filter).filters, body.limit)
    return [hit_json(h) for h in hits]


@router.get("/stats", summary="About this instance")
def api_stats(request: Request) -> dict[str, Any]:
    return instance_stats(request)
