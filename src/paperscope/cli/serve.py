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
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web UI and the JSON API (OpenAPI docs at /docs)."""
    from ..web.app import serve as run

    click.echo(f"paperscope serving {ctx.obj.home} on http://{host}:{port}/ (API docs at /docs)", err=True)
    run(ctx.obj, host, port, workers)


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
