"""The map of the field and its topics: `/map` (a canvas drawn by /static/map.js), `/topic/<id>`, topic chips on
cards, following a topic, and the JSON API's `/api/map`, `/api/map/density`, `/api/topics`, `/api/topics/{id}`.

The map's points are read from the store once per build (and again after `update` places new papers) and kept
as arrays, so a page of points or a box of them is a slice, not a query."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from ..errors import NotFoundError
from ..models import Paper, Topic
from ..trending import trending_board
from .common import locked, render, row_id
from .session import check_csrf, current_user, require_user

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["topics"])
PAGE_POINTS = 50_000
PAGE = 20


@dataclass
class MapData:
    """Every placed paper's id, place and topics, and the active topics, for one map version."""

    version: tuple[int, int]
    ids: list[str]
    x: np.ndarray
    y: np.ndarray
    broad: np.ndarray
    fine: np.ndarray
    topics: list[Topic]

    @property
    def bounds(self) -> list[float]:
        """The box the map opens on: 99% of the papers and a margin (a few outliers do not shrink the rest)."""
        if not self.ids:
            return [0.0, 0.0, 1.0, 1.0]
        (x0, x1), (y0, y1) = np.percentile(self.x, [0.5, 99.5]), np.percentile(self.y, [0.5, 99.5])
        mx, my = 0.08 * (x1 - x0) + 1e-6, 0.08 * (y1 - y0) + 1e-6
        return [float(x0 - mx), float(y0 - my), float(x1 + mx), float(y1 + my)]


class MapCache:
    """The map of the store's newest build, read again when `map_version` changes (one cheap query a request)."""

    def __init__(self) -> None:
        self._data: MapData | None = None
        self._lock = threading.Lock()

    def get(self, store: Any) -> MapData:
        version = store.topics.map_version()
        data = self._data
        if data is not None and data.version == version:
            return data
        with self._lock:
            if self._data is not None and self._data.version == version:
                return self._data
            ids: list[str] = []
            parts = []
            after = ""
            while True:
                page = store.topics.map_points(after, 200_000)
                if not page.ids:
                    break
                ids += page.ids
                parts.append(page)
                after = page.ids[-1]
            def cat(name: str) -> np.ndarray:
                return np.concatenate([getattr(p, name) for p in parts]) if parts else np.zeros(0)

            self._data = MapData(version, ids, cat("x"), cat("y"), cat("broad"), cat("fine"), store.topics.topics())
            return self._data


def _data(request: Request) -> MapData:
    return locked(request, request.app.state.map_cache.get, request.app.state.engine.store)


def topic_json(t: Topic, brief: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "level": "broad" if t.level == 0 else "fine", "label": t.label,
                           "size": t.size, "parent": t.parent, "x": round(t.x, 3), "y": round(t.y, 3)}
    if not brief:
        out.update(terms=[{"term": w, "weight": round(s, 5)} for w, s in t.terms], representatives=list(t.papers),
                   active=t.active, url=f"/topic/{t.id}", query=f"topic:{t.id}")
    return out


def _neighbours(store: Any, topic: Topic, n: int = 6) -> list[Topic]:
    """The topics of the same level whose centres are nearest to this one's."""
    ids, centres = store.topics.topic_centroids(topic.level)
    if topic.id not in ids or len(ids) < 2:
        return []
    me = centres[ids.index(topic.id)]
    order = np.argsort(-(centres @ me), kind="stable")
    near = [ids[i] for i in order.tolist() if ids[i] != topic.id][:n]
    by_id = {t.id: t for t in store.topics.topics(topic.level)}
    return [by_id[i] for i in near if i in by_id]


def _topic(request: Request, topic_id: int) -> Topic:
    topic = locked(request, request.app.state.engine.store.topics.topic, row_id(topic_id, "topic"))
    if topic is None:
        raise NotFoundError(f"no topic {topic_id} here (the Topics page lists them all)")
    return topic


# --- the JSON API -------------------------------------------------------------------------------------

@api.get("/topics", summary="The topics found in the papers (broad and fine), with labels and map places")
def api_topics(request: Request, level: str = Query("all", pattern="^(all|broad|fine)$")) -> dict[str, Any]:
    store = request.app.state.engine.store
    topics = locked(request, store.topics.topics, None if level == "all" else 0 if level == "broad" else 1)
    build = locked(request, store.topics.topic_build)
    return {"builtAt": build["built_at"] if build else None, "model": build["model"] if build else None,
            "topics": [topic_json(t) for t in topics]}


@api.get("/topics/{topic_id}", summary="One topic: its label, terms, representative papers and neighbours")
def api_topic(request: Request, topic_id: int, limit: int = Query(20, ge=0, le=200),
              offset: int = Query(0, ge=0, le=100_000)) -> dict[str, Any]:
    from .common import hf_paper

    store = request.app.state.engine.store
    topic = _topic(request, topic_id)
    papers = locked(request, store.topics.topic_papers, topic.id, limit, offset)
    return {**topic_json(topic), "neighbours": [topic_json(t, True) for t in locked(request, _neighbours, store, topic)],
            "children": [topic_json(t, True) for t in locked(request, store.topics.topics, 1) if t.parent == topic.id],
            "offset": offset, "papers": [hf_paper(p) for p in papers]}


@api.get("/map", summary="Map points (id, x, y, topic), paged by offset or cut to a box")
def api_map(request: Request, offset: int = Query(0, ge=0), limit: int = Query(PAGE_POINTS, ge=1, le=PAGE_POINTS),
            bbox: str = Query("", max_length=200, description="x0,y0,x1,y1: only points inside this box")
            ) -> JSONResponse:
    data = _data(request)
    rows = np.arange(len(data.ids))
    if bbox:
        try:
            x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
        except ValueError:
            from ..errors import UsageError

            raise UsageError("bbox is x0,y0,x1,y1 (four numbers)") from None
        rows = np.flatnonzero((data.x >= x0) & (data.x <= x1) & (data.y >= y0) & (data.y <= y1))
    page = rows[offset:offset + limit]
    return JSONResponse({
        "total": int(len(rows)), "offset": offset, "bounds": data.bounds, "version": list(data.version),
        "points": {"id": [data.ids[i] for i in page.tolist()], "x": np.round(data.x[page].astype(np.float64), 3).tolist(),
                   "y": np.round(data.y[page].astype(np.float64), 3).tolist(), "topic": data.fine[page].tolist(),
                   "broad": data.broad[page].tolist()}})


@api.get("/map/density", summary="The map as a grid of counts (for a million points at low zoom)")
def api_map_density(request: Request, size: int = Query(256, ge=16, le=1024)) -> JSONResponse:
    data = _data(request)
    x0, y0, x1, y1 = data.bounds
    gx = np.clip(((data.x - x0) / max(x1 - x0, 1e-9) * size).astype(np.int64), 0, size - 1)
    gy = np.clip(((data.y - y0) / max(y1 - y0, 1e-9) * size).astype(np.int64), 0, size - 1)
    cell = gy * size + gx
    counts = np.bincount(cell, minlength=size * size)
    # each cell's most common broad topic (by sorting cells then topics)
    dominant = np.full(size * size, -1, np.int64)
    if len(cell):
        order = np.lexsort((data.broad, cell))
        c, b = cell[order], data.broad[order]
        change = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (b[1:] != b[:-1])])
        runs = np.diff(np.r_[change, len(c)])
        best: dict[int, tuple[int, int]] = {}
        for start, n in zip(change.tolist(), runs.tolist(), strict=True):
            key = int(c[start])
            if n > best.get(key, (0, -1))[0]:
                best[key] = (n, int(b[start]))
        for key, (_n, topic) in best.items():
            dominant[key] = topic
    return JSONResponse({"size": size, "bounds": data.bounds, "total": len(data.ids),
                         "counts": counts.tolist(), "broad": dominant.tolist()})


# --- pages --------------------------------------------------------------------------------------------

@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request) -> HTMLResponse:
    build = locked(request, request.app.state.engine.store.topics.topic_build)
    return render(request, "map.html", build=build)


@router.get("/topics", response_class=HTMLResponse)
def topics_page(request: Request) -> HTMLResponse:
    store = request.app.state.engine.store
    topics = locked(request, store.topics.topics)
    broad = [t for t in topics if t.level == 0]
    fine: dict[int | None, list[Topic]] = {}
    for t in topics:
        if t.level == 1:
            fine.setdefault(t.parent, []).append(t)
    return render(request, "topics.html", broad=broad, fine=fine, build=locked(request, store.topics.topic_build))


@router.get("/topic/{topic_id}", response_class=HTMLResponse)
def topic_page(request: Request, topic_id: int, p: int = Query(0, ge=0, le=1000)) -> HTMLResponse:
    store = request.app.state.engine.store
    topic = _topic(request, topic_id)
    papers = locked(request, store.topics.topic_papers, topic.id, PAGE + 1, p * PAGE)
    reps = locked(request, store.papers_by_ids, list(topic.papers))
    user = current_user(request)
    following = user is not None and topic.id in locked(request, store.topics.followed_topics, user.id)
    parent = locked(request, store.topics.topic, topic.parent) if topic.parent else None
    children = [t for t in locked(request, store.topics.topics, 1) if t.parent == topic.id] if topic.level == 0 else []
    return render(request, "topic.html", topic=topic, papers=papers[:PAGE], more=len(papers) > PAGE, p=p,
                  representatives=[reps[i] for i in topic.papers if i in reps], parent=parent, children=children,
                  neighbours=locked(request, _neighbours, store, topic), following=following,
                  trending=locked(request, _trending_in, store, topic) if p == 0 else [])


def _trending_in(store: Any, topic: Topic, limit: int = 5) -> list[Any]:
    """What is trending in a topic: the instance's trending board (one formula, one window) kept to its papers."""
    members = set(store.topics.topic_paper_ids([topic.id]))
    return [t for t in trending_board(store, 10_000).rows if t.paper.id in members][:limit]


@router.post("/topic/{topic_id}/follow")
def follow_topic_form(request: Request, topic_id: int, csrf: str = Form(""), on: str = Form("1")) -> Response:
    check_csrf(request, csrf)
    user = require_user(request)
    topic = _topic(request, topic_id)
    locked(request, request.app.state.engine.store.topics.follow_topic, user.id, topic.id, on == "1")
    return RedirectResponse(f"/topic/{topic.id}", status_code=303)


def install(app: FastAPI) -> None:
    """The map cache and the `topic_chip(paper)` template function (a card's fine topic, linked)."""
    app.state.map_cache = MapCache()
    labels: dict[str, Any] = {"version": None, "topics": {}}

    def topic_chip(p: Paper) -> Markup:
        store = app.state.engine.store
        got = store.topics.topics_of([p.id]).get(p.id)
        if got is None:
            return Markup("")
        version = store.topics.map_version()[0]
        if labels["version"] != version:
            labels["topics"] = {t.id: t for t in store.topics.topics()}
            labels["version"] = version
        t = labels["topics"].get(got[1])
        if t is None:
            return Markup("")
        return Markup(' <a class="topic-chip" href="/topic/{}" title="topic: {}">{}</a>').format(
            t.id, ", ".join(w for w, _ in t.terms[:6]), t.label)

    app.state.templates.env.globals["topic_chip"] = topic_chip
