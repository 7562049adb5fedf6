"""What every router shares: limits, the engine call, the Hugging Face paper shape, page rendering.

Routers import this module and the services, never each other; `app` mounts them all.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request, Security
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBearer

from ..errors import (
    ConfigError,
    IndexDamagedError,
    MissingExtraError,
    NotFoundError,
    PaperscopeError,
    SourceError,
    StoreError,
)
from ..models import Paper
from ..search import MODES
from .session import LazyToken, current_user

MAX_QUERY = 1000
# Declares the API token in the OpenAPI schema (so /docs has an Authorize button); the check itself is
# `current_user`, which reads the same header: auto_error=False lets cookie and anonymous calls through to it.
BEARER = Security(HTTPBearer(auto_error=False, scheme_name="API token",
                             description="An API token from /settings: Authorization: Bearer <token>"))
MAX_ROW_ID = 2**63 - 1  # SQLite's and PostgreSQL's bigint: a larger number cannot even be bound
MAX_PAGE = 100
T = TypeVar("T")


def locked(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run engine work. No lock any more (the name stays for the routers that call it): each thread has its
    own SQLite connection and each request its own index generation, so reads never wait for writes."""
    return fn(*args, **kwargs)


def hf_paper(p: Paper) -> dict[str, Any]:
    """A paper in Hugging Face's `paper` shape, plus paperscope's extra fields."""
    def signal(name: str) -> int | None:
        return int(p.signals[name].value) if name in p.signals else None

    return {
        "id": p.arxiv_id or p.id, "paperscopeId": p.id, "title": p.title, "summary": p.abstract,
        "authors": [{"name": a.name, "affiliations": list(a.affiliations)} for a in p.authors],
        "publishedAt": p.published, "submittedOnDailyAt": p.featured, "updatedAt": p.updated,
        "firstSeenAt": p.first_seen, "upvotes": signal("upvotes") or 0, "numComments": signal("comments") or 0,
        "githubRepo": p.links.get("code"), "githubStars": signal("github_stars"),
        "projectPage": p.links.get("project"), "categories": list(p.categories),
        "versions": [{"version": v.version, "created": v.created} for v in p.versions],
        "doi": p.doi, "journalRef": p.journal_ref, "comments": p.comments, "license": p.license,
        "links": p.links, "sources": list(p.sources), "withdrawnAt": p.withdrawn,
        "ai_summary": p.ai_summary, "ai_keywords": list(p.ai_keywords), "organization": hf_organization(p),
        "citationCount": signal("citations"),  # the highest count a citation source reports (see citationSource)
        "citationSource": p.signals["citations"].source if "citations" in p.signals else None,
    }


def hf_organization(p: Paper) -> dict[str, str] | None:
    """The organisation in Hugging Face's shape (`name` is its page's slug, `fullname` what it is called)."""
    if not p.organization:
        return None
    page = p.links.get("organization", "")
    slug = page.rsplit("/", 1)[-1] if page.startswith("https://huggingface.co/") else None
    return {"name": slug or p.organization, "fullname": p.organization}


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    """Render a template (autoescaped: every title, abstract and name is text, never markup)."""
    context.setdefault("user", current_user(request))
    context.setdefault("csrf", LazyToken(request))
    context.setdefault("flash", request.session.pop("flash", None))
    return request.app.state.templates.TemplateResponse(request, template, context)


def row_id(value: int, what: str) -> int:
    """A row id from a request: one outside the database's integer range names nothing there (404, not 500)."""
    if not 0 < value <= MAX_ROW_ID:
        raise NotFoundError(f"there is no {what} with that id")
    return value


def instance_stats(request: Request) -> dict[str, Any]:
    """Counts, models and index sizes for the about page and `/api/stats` (no paths of the server's disk)."""
    engine = request.app.state.engine
    data = locked(request, engine.store.stats)
    data.pop("database", None)
    data["last_successful_ingest"] = {public_source(k): v for k, v in data["last_successful_ingest"].items()}
    data["papers_by_source"] = {public_source(k): v for k, v in data["papers_by_source"].items()}
    data["models"] = [{"name": n, "dim": d, "vectors": c} for n, d, c in locked(request, engine.store.models)]
    try:
        data["index_bytes"] = {"keyword": engine.keyword.size_bytes(), "vectors": engine.vectors.size_bytes()}
        data["indexed_vectors"] = len(engine.vectors)
        data["index_damaged"] = None
    except IndexDamagedError as exc:  # the catalogue still answers; search says what to run
        data["index_bytes"], data["indexed_vectors"] = None, None
        data["index_damaged"] = redact(str(exc), request.app.state.settings.home)
    data["modes"] = list(MODES)
    return data


_PATH = re.compile(r"(?<![\w:/>.~-])/[^\s'\"`()]+")


def public_source(key: str) -> str:
    """An ingest run's source key as anyone may see it: a file's name without its directory."""
    kind, sep, rest = key.partition(":")
    return f"{kind}:{Path(rest).name}" if sep and rest.startswith("/") else key


def redact(message: str, home: Path) -> str:
    """A message without paths of the server's disk (the CLI and the log keep them): the data directory by that
    name, any other absolute path by its last part."""
    for root in {str(home.resolve()), str(home.absolute()), str(home)}:
        if root not in (".", ""):
            message = message.replace(root, "<data dir>")
    return _PATH.sub(lambda m: "…/" + Path(m.group(0)).name, message)


def signup_mode(request: Request) -> str:
    """'open' or 'admin': an admin's switch on /admin wins over the configured `signup` setting."""
    override = locked(request, request.app.state.engine.store.users.instance_setting, "signup")
    return override or request.app.state.engine.settings.signup


def client_address(request: Request) -> str:
    """The peer address the throttles count by (behind a proxy, every client shares the proxy's)."""
    return request.client.host if request.client else "unknown"



# --- what a member reads of an error ----------------------------------------------------------------

log = logging.getLogger("paperscope.web")
# Errors whose whole text is for the operator (upstream URLs, exception text, settings): members read this instead.
PLAIN: tuple[tuple[type[PaperscopeError], str], ...] = (
    (SourceError, "a service this server reads papers from (such as arXiv) could not be reached or did not answer "
                  "properly; try again later"),
    (MissingExtraError, "this feature is not installed on this server"),
    (ConfigError, "this server is not set up for that; the administrator can see why"),
)
_COMMAND_ASIDE = re.compile(r"\s*\([^()]*`[^`]*`[^()]*\)")  # "(`paperscope user add`)", "(with vectors: run `…`)"
_OPERATOR_CLAUSE = re.compile(r"`|\brun the |ask the operator|_url\b|https?://[^\s/]", re.I)  # a URL, not a scheme named
PROBLEMS_KEPT = 50


def member_message(request: Request, exc: PaperscopeError) -> str:
    """The error as a member reads it: no internal URLs, exception text or operator instructions (CLI commands,
    settings, "run the ingest again"). The full text goes to the log and to /admin's recent problems. A damaged
    index keeps naming its rebuild, as /readyz does: it is the one message every reader needs the operator for."""
    home = request.app.state.settings.home
    full = redact(str(exc), home)
    if isinstance(exc, IndexDamagedError):
        return full
    plain = next((text for kind, text in PLAIN if isinstance(exc, kind)), None)
    if plain is None and isinstance(exc, StoreError):
        plain = "the server could not read or write its data just now; try again in a moment"
    if plain is None:
        clauses = [c for c in _COMMAND_ASIDE.sub("", full).split("; ") if c]
        kept = [c.split(": run `")[0] for c in clauses[:1]] + [c for c in clauses[1:] if not _OPERATOR_CLAUSE.search(c)]
        plain = "; ".join(k for k in kept if k) or "that did not work; try again later"
        if _OPERATOR_CLAUSE.search(plain):
            plain = {401: "sign-in needed", 403: "not allowed", 404: "not found here"}.get(
                _status(exc), "that did not work; try again later")
    if plain != full:
        log.warning("%s on %s: %s", type(exc).__name__, request.url.path, str(exc))
        problems = getattr(request.app.state, "problems", None)
        if problems is None:
            problems = request.app.state.problems = deque(maxlen=PROBLEMS_KEPT)
        problems.appendleft((time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), request.url.path,
                             type(exc).__name__, str(exc)[:1000]))
    return plain


def _status(exc: PaperscopeError) -> int:
    from ..errors import AuthError, ForbiddenError

    return 404 if isinstance(exc, NotFoundError) else 403 if isinstance(exc, ForbiddenError) else (
        401 if isinstance(exc, AuthError) else 400)


def recent_problems(request: Request) -> list[tuple[str, str, str, str]]:
    """(when, path, kind, full message) of the latest errors whose text members did not see, newest first."""
    return list(getattr(request.app.state, "problems", None) or ())
