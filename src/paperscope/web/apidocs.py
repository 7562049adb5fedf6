"""Swagger UI and ReDoc from files in installed packages (no CDN, no inline script: a CSP can forbid both)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from ..errors import MissingExtraError

router = APIRouter(include_in_schema=False)


def assets_dir() -> Path:
    """Where `fastapi-offline` (a core dependency) keeps swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js."""
    try:
        import fastapi_offline
    except ImportError:
        raise MissingExtraError("the API docs pages need fastapi-offline: pip install -e .") from None
    return Path(fastapi_offline.__file__).parent / "static"


def mount(app: FastAPI) -> None:
    """Serve the vendored assets under /static/apidocs and the two pages at /docs and /redoc."""
    app.mount("/static/apidocs", StaticFiles(directory=str(assets_dir())), name="apidocs")
    app.include_router(router)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "apidocs.html", {"kind": "swagger", "nonce": getattr(request.state, "csp_nonce", "")})


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "apidocs.html", {"kind": "redoc", "nonce": getattr(request.state, "csp_nonce", "")})
