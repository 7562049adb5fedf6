"""Build the FastAPI app once from the settings; errors are shaped here and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..backends import open_store
from ..config import Settings, export_database_url, export_home
from ..errors import (
    AuthError,
    ForbiddenError,
    IndexDamagedError,
    LimitError,
    NotFoundError,
    PaperscopeError,
    RateLimitError,
    SourceError,
    UsageError,
)
from ..live import LiveEngine
from ..schedule import parse_schedule
from ..search import Engine, open_engine
from .common import member_message
from .reccache import RecommendationCache

HERE = Path(__file__).parent
log = logging.getLogger("paperscope.web")


# first match wins: a subclass stands before its base (IndexDamagedError is a StoreError, ForbiddenError an AuthError)
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (RateLimitError, 429), (IndexDamagedError, 503), (NotFoundError, 404), (LimitError, 429), (UsageError, 400),
    (ForbiddenError, 403), (AuthError, 401), (SourceError, 502),
)


def status_of(exc: Exception) -> int:
    """HTTP status for an error of ours (500 for any other)."""
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), 500)


HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}


class PinGeneration:
    """ASGI middleware: each request reads one index generation from start to end (see live.py)."""

    def __init__(self, app: Any, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not isinstance(self.engine, LiveEngine):
            await self.app(scope, receive, send)
            return
        token = self.engine.begin_request()
        try:
            await self.app(scope, receive, send)
        finally:
            self.engine.end_request(token)


def not_found_context(path: str, message: str) -> dict[str, str]:
    """What a 404 page offers instead: a search for the words in the path (never a CLI command)."""
    import re
    from urllib.parse import unquote

    what = {"paper": "no paper with that id here", "author": "no papers by that name here"}.get(
        path.strip("/").split("/")[0], "")
    tail = unquote(path).strip("/").split("/", 1)[-1]
    words = [w for w in re.split(r"[^\w.]+", tail) if w and w not in ("paper", "author", "arxiv", "local")]
    return {"what": what, "suggestion": " ".join(words)[:200]}


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The app with its engine (store + indexes + lazily loaded model) opened once."""
    from ..logs import configure
    from ..throttle import FailureLimiter
    from . import accounts, admin, api, apidocs, citations, lab, labdata, maps, ops, pages, passwords, status
    from .headers import HEADERS, HeadAsGet, SecurityHeaders
    from .limits import ApiLimits, BodyLimit
    from .mailer import MailWorker
    from .session import SessionMiddleware

    configure(settings.log_format)

    if settings.update_schedule:
        parse_schedule(settings.update_schedule)  # a bad schedule stops the server before it starts

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.update_schedule:
            from .scheduler import Scheduler

            app.state.scheduler = Scheduler(settings, lambda: follow_new_generation(app))
            app.state.scheduler.start()
        from .worker import start_workers

        workers = start_workers(app.state.engine, lambda: follow_new_generation(app))
        yield
        for worker in workers:
            worker.stop()
        if app.state.scheduler:
            app.state.scheduler.stop()

    app = FastAPI(title="paperscope", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Search, daily and trending papers of a self-hosted paperscope instance. "
                              "Paths under /api/ that Hugging Face's papers API also has keep its shapes.")
    if engine is None and settings.database_url:  # PostgreSQL: a pooled store, indexes in the database
        engine = open_engine(open_store(settings), settings)
    app.state.engine = engine or LiveEngine(settings)  # per-thread SQLite, index generations followed live
    app.state.settings = settings
    app.state.scheduler = None
    app.state.recs = RecommendationCache()
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.templates.env.globals["version"] = __version__
    apidocs.mount(app)  # before /static, which would otherwise answer /static/apidocs/… with a 404
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    https = settings.base_url.startswith("https://")
    app.state.login_account = FailureLimiter(settings.login_limit)  # failed sign-ins per account
    app.state.login_address = FailureLimiter(settings.login_address_limit)  # ... and per client address
    app.state.signup_address = FailureLimiter(max(1, settings.signup_per_address_per_hour), window=3600.0)
    app.state.mailer = MailWorker()  # password-reset requests, off the request
    app.add_middleware(ApiLimits, per_token=settings.api_rate, per_address=settings.api_anon_rate)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, imports=settings.max_import_bytes)
    app.add_middleware(SessionMiddleware, store_app=app, idle_hours=settings.session_idle_hours,
                       max_days=settings.session_max_days, secure=https)
    app.add_middleware(PinGeneration, engine=app.state.engine)
    app.add_middleware(HeadAsGet)  # HEAD wherever GET is (inside the access log, which records it as HEAD)
    ops.install(app)  # /healthz /readyz /metrics and the access log
    app.add_middleware(SecurityHeaders, https=https)  # added last = outermost: every response gets them
    labdata.install(app)
    maps.install(app)
    citations.install(app)
    app.include_router(lab.api)  # before api.router, whose /papers/{id:path} would swallow /papers/{id}/comments
    app.include_router(citations.api)  # before api.router too: /papers/{id}/citations, /references
    app.include_router(api.router)
    app.include_router(maps.api)
    app.include_router(accounts.api)
    app.include_router(pages.router)
    app.include_router(maps.router)
    app.include_router(accounts.router)
    app.include_router(passwords.router)
    app.include_router(admin.router)
    app.include_router(lab.router)
    app.include_router(status.router)

    def respond(request: Request, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Any:
        headers = {**HEADERS, **(headers or {})}  # also on 500s, which are answered outside the middleware
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message, "code": code, "status": status}, status_code=status,
                                headers=headers)
        context: dict[str, Any] = {"status": status, "message": message, "path": request.url.path[:200]}
        if status == 404 and request.method in ("GET", "HEAD"):  # a link led nowhere: offer a search
            context.update(not_found_context(request.url.path, message), search_instead=True)
        return app.state.templates.TemplateResponse(request, "error.html", context, status_code=status,
                                                    headers=headers)

    @app.exception_handler(PaperscopeError)
    async def paperscope_error(request: Request, exc: PaperscopeError) -> Any:
        status = status_of(exc)
        if status == 500:
            log.error("request failed: %s", exc)
        extra = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitError) else None
        return respond(request, status, member_message(request, exc), exc.code, extra)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        parts = "; ".join(f"{'.'.join(str(x) for x in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return respond(request, 422, f"invalid request ({parts})", "invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        return respond(request, exc.status_code, str(exc.detail), HTTP_CODES.get(exc.status_code, "http_error"))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Any:
        log.exception("unexpected error on %s", request.url.path)
        return respond(request, 500, "internal error; the server log has the details", "internal")

    return app


def follow_new_generation(app: FastAPI) -> None:
    """After a scheduled update or a fetch: load the generation it wrote now. The live engine (the server's)
    would notice it at the next request anyway; a plain engine (tests, embedding callers) reopens it here."""
    engine = app.state.engine
    refresh = getattr(engine, "refresh", None)
    if refresh is not None:
        refresh()
    elif not engine.settings.database_url:
        fresh = open_engine(engine.store, engine.settings, engine._embedder)
        engine.keyword, engine.vectors, engine.generation = fresh.keyword, fresh.vectors, fresh.generation


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run uvicorn on the app (the CLI's `paperscope serve`)."""
    if workers > 1 and settings.update_schedule:
        raise UsageError("scheduled updates run inside a single-worker server; with --workers N run "
                         "`paperscope update` from cron instead")

    import uvicorn

    # paperscope.logs formats every line (text or JSON) and writes the access log itself
    quiet: dict[str, Any] = {"log_level": "warning", "log_config": None, "access_log": False}
    if workers > 1:  # each worker loads the settings again: hand over what this process chose
        export_home(settings.home)
        export_database_url(settings.database_url)
        uvicorn.run("paperscope.web.app:app_from_env", factory=True, host=host, port=port, workers=workers, **quiet)
    else:
        uvicorn.run(create_app(settings), host=host, port=port, **quiet)


def app_from_env() -> FastAPI:
    """Factory for multi-worker uvicorn: each worker opens its own engine from the environment."""
    from ..config import load_settings

    return create_app(load_settings())
