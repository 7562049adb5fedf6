"""The `paperscope` command: builds the services once from the settings and turns errors into messages."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from ..config import SETTINGS, load_settings, settings_markdown
from ..errors import PaperscopeError
from . import accounts, backup, ingest, lab, migrate, papers, query, serve, topics


class _Group(click.Group):
    """The CLI's one error boundary: `error: …` on stderr and a non-zero exit, a traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # a reader that went away is noticed here, inside the boundary
        except BrokenPipeError:  # `paperscope search … | head -1`: end quietly, as Unix tools do on SIGPIPE
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
            ctx.exit(128 + signal.SIGPIPE)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except PaperscopeError as exc:
            if ctx.meta.get("debug"):
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; what was committed is kept and the next run resumes", err=True)
            ctx.exit(130)
        except Exception as exc:  # the boundary: anything unexpected becomes one line, not a traceback
            if ctx.meta.get("debug"):
                traceback.print_exc()
            click.echo(f"error: unexpected {type(exc).__name__}: {exc}. Re-run with --debug for the traceback "
                       "and report it.", err=True)
            ctx.exit(1)


@click.group(cls=_Group, epilog="Settings come from PAPERSCOPE_<NAME> environment variables or "
             "<data-dir>/paperscope.toml; `paperscope settings` lists them all.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Data directory (default: PAPERSCOPE_HOME or the user's data dir).")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="paperscope")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, debug: bool) -> None:
    """paperscope: a self-hosted research-paper discovery engine."""
    ctx.meta["debug"] = debug
    os.umask(0o077)  # the database, index files and secret are readable by this user only
    ctx.obj = load_settings(data_dir)


@click.command("settings")
@click.option("--markdown", is_flag=True, help="Print the table of docs/settings.md instead.")
def settings_cmd(markdown: bool) -> None:
    """List every setting: its name, environment variable, default and meaning."""
    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    click.echo("Settings (env PAPERSCOPE_<NAME> or <data-dir>/paperscope.toml):\n")
    for s in SETTINGS:
        click.echo(f"{s.name} = {s.default!r}  (PAPERSCOPE_{s.name.upper()})")
        click.echo(click.wrap_text(s.help, initial_indent="    ", subsequent_indent="    ") + "\n")


for _command in (settings_cmd, ingest.ingest_cmd, ingest.embed, ingest.index_cmd, ingest.update, papers.show, papers.stats,
                 query.search_cmd, query.similar_cmd, query.eval_cmd, serve.serve, serve.demo,
                 accounts.user, accounts.digest, backup.backup_cmd, backup.restore_cmd, migrate.migrate_cmd,
                 lab.submit_cmd, topics.topics_cmd):
    main.add_command(_command)
