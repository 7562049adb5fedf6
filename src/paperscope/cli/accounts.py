"""Commands for accounts and digests: user add/list/token, digest send."""

from __future__ import annotations

from pathlib import Path

import click

from .common import echo_json, open_engine, open_store


@click.group()
def user() -> None:
    """Manage accounts on this instance (admins create users when sign-up is closed)."""


@user.command("add")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (prompted when not given; at least 8 characters).")
@click.pass_context
def user_add(ctx: click.Context, email: str, admin: bool, password: str) -> None:
    """Create an account."""
    from ..auth import hash_password

    created = open_store(ctx).users.create(email, hash_password(password), "admin" if admin else "user")
    click.echo(f"created {created.role} {created.email} (id {created.id})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts with their digest settings."""
    users = open_store(ctx).users.all()
    if as_json:
        echo_json([{"id": u.id, "email": u.email, "role": u.role, "digest": u.digest_frequency} for u in users])
        return
    for u in users:
        click.echo(f"{u.id:>4}  {u.email:<32} {u.role:<5} digest {u.digest_frequency}")


@user.command("token")
@click.argument("email")
@click.pass_context
def user_token(ctx: click.Context, email: str) -> None:
    """Issue a new API token for an account (printed once)."""
    from ..auth import new_api_token
    from ..errors import NotFoundError

    store = open_store(ctx)
    found = store.users.by_email(email)
    if found is None:
        raise NotFoundError(f"no account {email}; create it with `paperscope user add {email}`")
    click.echo(new_api_token(store, found.id))


@click.group()
def digest() -> None:
    """Email digests of new papers ranked for each user."""


@digest.command("send")
@click.option("--dry-run", "dry_run", type=click.Path(file_okay=False, path_type=Path),
              help="Write the mails as .eml files to this folder instead of sending (nothing is marked sent).")
@click.pass_context
def digest_send(ctx: click.Context, dry_run: Path | None) -> None:
    """Compose digests for every due user and send them (and retry earlier failures)."""
    from ..digest import run

    root = ctx.find_root()
    report = run(open_engine(root), root.obj, dry_run=dry_run)
    click.echo(f"composed {report.composed}, sent {report.sent}, failed {report.failed} (kept for retry), "
               f"empty {report.skipped_empty}")
    for path in report.written:
        click.echo(f"  wrote {path}")
    for error in report.errors:
        click.echo(f"  {error}", err=True)
    if report.failed:
        ctx.exit(1)
