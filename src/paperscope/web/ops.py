"""Operations endpoints: /healthz (alive), /readyz (database and indexes reachable), /metrics (Prometheus)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ..metrics import Metrics, gauge_lines
from .common import locked, public_source, redact

router = APIRouter(include_in_schema=False)
access = logging.getLogger("paperscope.access")
SEARCH_ROUTES = {"/api/search", "/api/papers/search", "/search"}


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers (a liveness probe: restart the worker when this fails)."""
    return {"status": "ok"}


def _check(request: Request, fn: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"ok": True, "detail": fn()}
    except Exception as exc:  # a readiness probe reports any failure instead of raising it
        return {"ok": False, "error": f"{type(exc).__name__}: {redact(str(exc), request.app.state.settings.home)}"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database and both indexes answer (a readiness probe: route no traffic here until 200)."""
    engine = request.app.state.engine
    checks = {
        "database": _check(request, lambda: {"changes": locked(request, engine.store.max_seq)}),
        "keyword_index": _check(request, lambda: {"documents": int(locked(request,
                                                                  lambda: engine.keyword.index.searcher().num_docs))}),
        "vector_index": _check(request, lambda: {"vectors": locked(request, len, engine.vectors),
                                        "backend": type(engine.vectors).__name__}),
    }
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


def _catalogue_gauges(request: Request) -> list[str]:
    """Gauges read now from the store and indexes: the same on every worker."""
    engine = request.app.state.engine

    def read() -> dict[str, Any]:
        return {"seq": engine.store.max_seq(), "keyword": engine.keyword.manifest()["last_seq"],
                "vectors": engine.vectors.last_seq, "runs": engine.store.last_ok_runs(),
                "outbox": engine.store.users.count_pending_digests()}

    got = locked(request, read)
    now = datetime.now(UTC)
    lag: dict[tuple[tuple[str, str], ...], float] = {
        (("source", public_source(str(src))),): max(0.0, (now - datetime.fromisoformat(at.replace("Z", "+00:00"))).total_seconds())
        for src, at in got["runs"].items() if at}
    generation: dict[tuple[tuple[str, str], ...], float] = {(("index", "keyword"),): float(got["keyword"]),
                                                            (("index", "vectors"),): float(got["vectors"])}
    return [
        *gauge_lines("paperscope_store_changes", "The store's change counter (every paper write bumps it)",
                     {(): got["seq"]}),
        *gauge_lines("paperscope_index_generation", "The last store change each index has taken in", generation),
        *gauge_lines("paperscope_index_lag_changes", "Store changes an index has not taken in yet",
                     {k: got["seq"] - v for k, v in generation.items()}),
        *gauge_lines("paperscope_ingest_lag_seconds", "Seconds since each source's last successful ingest", lag),
        *gauge_lines("paperscope_outbox_backlog", "Digest mails composed and not yet sent", {(): got["outbox"]}),
    ]


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text format: this worker's counters and histogram, the catalogue's gauges."""
    body = request.app.state.metrics.render(_catalogue_gauges(request))
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")


async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Middleware: count every answer by route and status, time searches, write one access log line."""
    started = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        seconds = time.perf_counter() - started
        route = request.scope.get("route")
        kind = getattr(route, "path", "unmatched")
        request.app.state.metrics.observe_request(kind, status, seconds, kind in SEARCH_ROUTES)
        if kind not in ("/healthz", "/readyz", "/metrics"):
            access.info("%s %s %d", request.method, kind, status,
                        extra={"method": request.method, "route": kind, "status": status,
                               "ms": round(seconds * 1000, 2)})


def install(app: Any) -> None:
    """Mount the endpoints and the middleware on the app."""
    app.state.metrics = Metrics()
    app.include_router(router)
    app.middleware("http")(observe)
