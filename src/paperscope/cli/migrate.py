"""`paperscope migrate --to postgresql://…`: move an embedded install into PostgreSQL."""

from __future__ import annotations

import click

from ..config import Settings
from ..errors import UsageError
from .common import bar, echo_json


@click.command("migrate")
@click.option("--to", "url", required=True, help="postgresql://user:password@host/db to copy into.")
@click.option("--batch", default=2000, show_default=True, type=click.IntRange(1, 100000),
              help="Papers or vectors per transaction.")
@click.option("--json", "as_json", is_flag=True, help="Print the table counts as JSON.")
@click.pass_context
def migrate_cmd(ctx: click.Context, url: str, batch: int, as_json: bool) -> None:
    """Copy this data dir's SQLite database (papers, vectors, users, libraries, digests) into PostgreSQL.

    Resumable: run it again after an interruption. Counts are compared at the end. Then set
    PAPERSCOPE_DATABASE_URL and run `paperscope update` to build the pgvector index."""
    from ..store import Store
    from ..store_pg import PgStore
    from ..store_pg.db import redact
    from ..store_pg.migrate import migrate

    settings: Settings = ctx.find_root().obj
    if not url.startswith(("postgresql://", "postgres://")):
        raise UsageError("--to takes a postgresql:// URL")
    if not settings.db_path.exists():
        raise UsageError(f"there is no embedded database at {settings.db_path} to copy; pass --data-dir")
    src, dst = Store(settings.db_path), PgStore(url)
    progress = bar("migrate", "row")
    try:
        result = migrate(src, dst, batch, lambda table, n: progress.update(n))
    finally:
        progress.close()
        src.close()
        dst.close()
    if as_json:
        echo_json({"to": redact(url), **result})
        return
    for table, n in result["tables"].items():
        click.echo(f"{table:<16} {n:>10}")
    click.echo(f"copied into {redact(url)}; counts match. Next: PAPERSCOPE_DATABASE_URL=… paperscope update")
