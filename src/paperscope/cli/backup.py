"""Commands that keep a data directory safe: backup and restore."""

from __future__ import annotations

from pathlib import Path

import click

from .common import echo_json


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the backup manifest as JSON.")
@click.pass_context
def backup_cmd(ctx: click.Context, dest: Path, as_json: bool) -> None:
    """Copy the data directory to DEST while it is in use (database + the live index generation)."""
    from ..backup import backup

    manifest = backup(ctx.find_root().obj, dest)
    if as_json:
        echo_json(manifest)
    else:
        click.echo(f"backed up {manifest['papers']} papers (schema {manifest['schema_version']}, index "
                   f"{manifest['index_generation'] or 'none'}) to {dest}")


@click.command("restore")
@click.argument("src", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data directory's existing database.")
@click.pass_context
def restore_cmd(ctx: click.Context, src: Path, force: bool) -> None:
    """Put a backup made by `paperscope backup` back; a running server switches to its index by itself."""
    from ..backup import restore

    manifest = restore(ctx.find_root().obj, src, force)
    click.echo(f"restored {manifest['papers']} papers from {src} (made {manifest['created_at']})")
