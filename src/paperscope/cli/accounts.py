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
    from ..auth import hash_password, normalise_email

    created = open_store(ctx, create=True).users.create(normalise_email(email), hash_password(password), "admin" if admin else "user")
    click.echo(f"created {created.role} {created.email} (id {created.id})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts with their digest settings."""
    users = open_store(ctx).users.all()
    if as_json:
        echo_json([{"id": u.id, "email": u.email, "role": u.role, "digest": u.digest_frequency,
                    "disabled": u.disabled} for u in users])
        return
    for u in users:
        click.echo(f"{u.id:>4}  {u.email:<32} {u.role:<5} digest {u.digest_frequency}"
                   + ("  DISABLED" if u.disabled else ""))


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


def _account(ctx: click.Context, email: str):  # type: ignore[no-untyped-def]
    from ..errors import NotFoundError

    store = open_store(ctx)
    found = store.users.by_email(email)
    if found is None:
        raise NotFoundError(f"no account {email}; `paperscope user list` shows them")
    return store, found


def _switch(ctx: click.Context, email: str, disabled: bool) -> None:
    """`user disable` and `user enable`: one switch, said back with the account's stored email."""
    store, found = _account(ctx, email)
    store.users.set_disabled(found.id, disabled)
    click.echo(f"{'disabled' if disabled else 'enabled'} {found.email}")


@user.command("disable")
@click.argument("email")
@click.pass_context
def user_disable(ctx: click.Context, email: str) -> None:
    """Switch an account off: its sessions end, its tokens stop working, no digests."""
    _switch(ctx, email, disabled=True)


@user.command("enable")
@click.argument("email")
@click.pass_context
def user_enable(ctx: click.Context, email: str) -> None:
    """Switch a disabled account back on."""
    _switch(ctx, email, disabled=False)


@user.command("delete")
@click.argument("email")
@click.confirmation_option(prompt="Delete this account and everything it owns?")
@click.pass_context
def user_delete(ctx: click.Context, email: str) -> None:
    """Delete an account with its library, private records, sessions and tokens."""
    store, found = _account(ctx, email)
    store.users.delete_user(found.id)
    click.echo(f"deleted {found.email}")


@user.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(["admin", "user"]))
@click.pass_context
def user_role(ctx: click.Context, email: str, role: str) -> None:
    """Make an account an admin (it sees /admin) or a plain user."""
    store, found = _account(ctx, email)
    store.users.set_role(found.id, role)
    click.echo(f"{found.email} is now {role}")


@user.command("reset")
@click.argument("email")
@click.pass_context
def user_reset(ctx: click.Context, email: str) -> None:
    """Print a single-use password-reset link for an account (valid one hour); its sessions end."""
    from ..auth import new_reset_token

    store, found = _account(ctx, email)
    token = new_reset_token(store, found.id)
    store.users.sessions_end_all(found.id)
    click.echo(f"{ctx.find_root().obj.base_url.rstrip('/')}/password/reset/{token}")


@user.command("signup")
@click.argument("mode", type=click.Choice(["open", "admin"]), required=False)
@click.pass_context
def user_signup(ctx: click.Context, mode: str | None) -> None:
    """Show or set who creates accounts (overrides the `signup` setting, like the switch on /admin)."""
    store = open_store(ctx, create=mode is not None)
    if mode:
        store.users.set_instance_setting("signup", mode)
    click.echo(f"sign-up: {store.users.instance_setting('signup') or ctx.find_root().obj.signup}")


@user.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_status(ctx: click.Context, as_json: bool) -> None:
    """What /admin shows: recent ingest runs with their last errors, and mail that failed."""
    store = open_store(ctx)
    runs, failures = store.users.recent_runs(10), store.users.outbox_failures(50)
    if as_json:
        echo_json({"runs": runs, "outbox_failures": failures})
        return
    for r in runs:
        click.echo(f"run {r['id']:>4} {r['source']:<10} {r['started_at']} {r['status']:<8} +{r['added']} "
                   f"~{r['updated']} problems {r['problems']} {r['message'] or ''}")
        for p in r["last_problems"]:
            click.echo(f"    {p}")
    for f in failures:
        click.echo(f"mail {f['id']} to {f['email']}: {f['attempts']} attempts, last error {f['last_error']}")
    if not runs and not failures:
        click.echo("no ingest runs and no failed mail")


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
