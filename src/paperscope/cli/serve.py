"""Commands that serve: serve, and demo (the README's first command)."""

from __future__ import annotations

import click

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


@click.command()
@click.option("--query", default="compressing the key-value cache for long contexts", help="A first search to show.")
@click.option("--serve/--no-serve", "serve_after", default=True, help="Serve the web UI afterwards (default: yes).")
@click.option("--port", default=8000, type=int, help="Port for the web UI.")
@click.pass_context
def demo(ctx: click.Context, query: str, serve_after: bool, port: int) -> None:
    """The main job on the embedded default: ingest the bundled sample, embed, index, search and serve it."""
    report = run_ingest(ctx, "sample", SourceOptions())
    print_report(report, False)
    click.echo(f"embedded {embed_all(ctx)} paper(s)")
    index_all(ctx, False)
    ctx.invoke(stats)
    click.echo(f"\npaperscope search {query!r}")
    ctx.invoke(search_cmd, query=query, mode="hybrid", k=5, offset=0, as_json=False)
    if serve_after:
        ctx.invoke(serve, host="127.0.0.1", port=port, workers=1)
