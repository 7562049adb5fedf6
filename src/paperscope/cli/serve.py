"""Commands that serve: serve, and demo (the README's first command)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import click

from ..config import Settings
from ..errors import PaperscopeError
from ..pipeline import SourceOptions
from .common import embed_all, index_all, print_report, run_ingest
from .papers import stats
from .query import search_cmd


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Processes, each with its own engine (use the number of cores for throughput).")
@click.option("--schedule", help="Run `paperscope update` inside the server: 'daily 06:00' (UTC), 'every 6h', "
                                 "'every 30m' (default: the update_schedule setting).")
@click.option("--update-args", help="What a scheduled update ingests, as `update`'s arguments, e.g. "
                                    "'arxiv-oai --set cs --category cs.CL,cs.IR' (default: the update_args setting).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, schedule: str | None,
          update_args: str | None) -> None:
    """Serve the web UI and the JSON API (OpenAPI docs at /docs); optionally run scheduled updates."""
    import dataclasses
    import logging

    from ..schedule import parse_schedule
    from ..web.app import serve as run

    settings = ctx.obj
    if schedule is not None or update_args is not None:
        settings = dataclasses.replace(settings, update_schedule=settings.update_schedule if schedule is None
                                       else schedule, update_args=settings.update_args if update_args is None
                                       else update_args)
        ctx.find_root().obj = settings
    planned = parse_schedule(settings.update_schedule)
    click.echo(f"paperscope serving {settings.home} on http://{host}:{port}/ (API docs at /docs)", err=True)
    if planned:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        click.echo(f"scheduled updates {planned}: paperscope update {settings.update_args} (status at /status)",
                   err=True)
    run(settings, host, port, workers)


DEMO_DAYS = 7  # the latest week: the newest listing day and the six before it (~100 papers)
OFFLINE = ("serving the bundled offline sample instead: 564 papers from the seed listing pages "
           "(titles and abstracts; no authors or dates, so they are searchable but on no day)")


def _short(exc: Exception) -> str:
    """The gist of why a request failed (`[Errno 111] Connection refused`, `timed out`), not urllib3's prose."""
    import re

    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^'\")(]+|timed out|answered HTTP \d+", text)
    return found.group(0).strip() if found else text.split(" (after")[0][:120]


def _latest_week(settings: Settings, wait: float) -> tuple[str, str] | str:
    """(since, until) of Hugging Face's latest week of daily papers, or why it cannot be had (one line).

    The question runs on a daemon thread given `wait` seconds in all: a name lookup that hangs is not bounded by
    the HTTP timeout."""
    import threading
    from datetime import timedelta

    from ..sources._http import Client
    from ..sources.hf_daily import latest_day

    client = Client(delay=0, retries=0, timeout=wait, sleep=lambda _: None)
    answer: list[Any] = []
    asking = threading.Thread(target=lambda: answer.append(_outcome(latest_day, client, settings.hf_api_url)),
                              daemon=True)
    asking.start()
    asking.join(wait + 0.5)
    if not answer or (isinstance(answer[0], Exception) and "timed out" in _short(answer[0])):
        return f"Hugging Face did not answer within {wait:g} s"
    if isinstance(answer[0], Exception):
        return f"Hugging Face could not be reached ({_short(answer[0])})"
    if answer[0] is None:
        return "Hugging Face listed no daily papers"
    newest = answer[0]
    return (newest - timedelta(days=DEMO_DAYS - 1)).isoformat(), newest.isoformat()


def _outcome(fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args), or the PaperscopeError it raised (for a thread to hand back)."""
    try:
        return fn(*args)
    except PaperscopeError as exc:
        return exc


@click.command()
@click.option("--query", default="compressing the key-value cache for long contexts", help="A first search to show.")
@click.option("--serve/--no-serve", "serve_after", default=True, help="Serve the web UI afterwards (default: yes).")
@click.option("--port", default=8000, type=int, help="Port for the web UI.")
@click.option("--wait", default=5.0, type=click.FloatRange(0.1, 120), show_default=True,
              help="Seconds to wait for Hugging Face before serving the bundled offline sample instead.")
@click.pass_context
def demo(ctx: click.Context, query: str, serve_after: bool, port: int, wait: float) -> None:
    """The main job on the embedded default: the latest week of Hugging Face daily papers, embedded, indexed,
    searched and served (the bundled offline sample when Hugging Face does not answer)."""
    import time

    started = time.monotonic()
    settings: Settings = ctx.find_root().obj
    click.echo(f"[1/4] asking {settings.hf_api_url} for its latest daily papers (waiting up to {wait:g} s)")
    week = _latest_week(settings, wait)
    offline = isinstance(week, str)
    if isinstance(week, tuple):
        click.echo(f"[1/4] ingesting the Hugging Face daily papers of {week[0]} to {week[1]}")
        try:
            report = run_ingest(ctx, "hf-daily", SourceOptions(since=week[0], until=week[1]))
        except PaperscopeError as exc:  # it answered, then stopped: keep what arrived, add the offline sample
            week, offline = f"Hugging Face stopped answering ({_short(exc)})", True
        else:
            print_report(report, False)
    if isinstance(week, str):
        click.echo(f"{week}; {OFFLINE}")
        print_report(run_ingest(ctx, "sample", SourceOptions()), False)
    click.echo("[2/4] embedding the new papers")
    click.echo(f"embedded {embed_all(ctx)} paper(s)")
    click.echo("[3/4] indexing")
    index_all(ctx, False)
    ctx.invoke(stats)
    click.echo(f"\n[4/4] paperscope search {query!r}")
    ctx.invoke(search_cmd, query=query, mode="hybrid", k=5, offset=0, as_json=False)
    click.echo(f"first answer {time.monotonic() - started:.1f} s after the start")
    if serve_after:
        if offline:
            click.echo(f"the offline sample is on no day: start at http://127.0.0.1:{port}/search?q=" + quote_plus(query))
        ctx.invoke(serve, host="127.0.0.1", port=port, workers=1)
