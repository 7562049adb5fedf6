"""`/status` and `/api/status`: the update schedule, the next run, and the last scheduled runs with their counts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .common import instance_stats
from .scheduler import last_runs

router = APIRouter()


def status_data(request: Request) -> dict[str, Any]:
    """What the status page shows, as JSON."""
    scheduler = request.app.state.scheduler
    settings = request.app.state.settings
    runs = last_runs(settings.home, 10)
    stats = instance_stats(request)
    return {
        "schedule": str(scheduler.schedule) if scheduler else None,
        "updateArgs": settings.update_args if scheduler else None,
        "nextRun": scheduler.next_at.strftime("%Y-%m-%dT%H:%M:%SZ") if scheduler and scheduler.next_at else None,
        "running": bool(scheduler and scheduler.running),
        "lastRun": asdict(runs[0]) if runs else None,
        "runs": [asdict(r) for r in runs],
        "papers": stats["papers"], "indexedVectors": stats["indexed_vectors"],
        "lastSuccessfulIngest": stats["last_successful_ingest"],
    }


@router.get("/api/status", tags=["api"], summary="Scheduled updates: schedule, next run, last runs")
def api_status(request: Request) -> dict[str, Any]:
    return status_data(request)


@router.get("/status", response_class=HTMLResponse, include_in_schema=False)
def status_page(request: Request) -> HTMLResponse:
    from .pages import render

    return render(request, "status.html", s=status_data(request))
