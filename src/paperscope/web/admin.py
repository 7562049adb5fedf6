"""/admin, for admins only (403 for everyone else): accounts, sign-up mode, scheduled updates, ingest runs, failed mail."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..digest import mail_reset
from ..errors import UsageError
from .common import locked, recent_problems, render, row_id, signup_mode
from .scheduler import last_runs
from .session import check_csrf, require_admin

router = APIRouter(include_in_schema=False)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> HTMLResponse:
    me = require_admin(request)
    users = request.app.state.engine.store.users
    return render(request, "admin.html", me=me, accounts=locked(request, users.all), mode=signup_mode(request),
                  runs=locked(request, users.recent_runs, 10), updates=last_runs(request.app.state.settings.home, 10),
                  failures=locked(request, users.outbox_failures, 50),
                  problems=recent_problems(request))


@router.post("/admin/user")
def admin_user(request: Request, tasks: BackgroundTasks, user_id: int = Form(...), action: str = Form(...),
               csrf: str = Form("")) -> Response:
    """disable, enable, delete, reset (mail a reset link), admin, user (change the role)."""
    check_csrf(request, csrf)
    me = require_admin(request)
    engine = request.app.state.engine
    users = engine.store.users
    target = locked(request, users.get, row_id(user_id, "account"))
    if target.id == me.id and action in ("disable", "delete", "user"):
        raise UsageError("an admin cannot disable, delete or demote their own account here; use the CLI")
    if action in ("disable", "enable"):
        locked(request, users.set_disabled, target.id, action == "disable")
    elif action == "delete":
        locked(request, users.delete_user, target.id)
    elif action in ("admin", "user"):
        locked(request, users.set_role, target.id, action)
    elif action == "reset":
        tasks.add_task(mail_reset, engine, engine.settings, target.email)
        request.session["flash"] = f"A reset link is on its way to {target.email}."
    else:
        raise UsageError("actions are disable, enable, delete, reset, admin and user")
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/signup")
def admin_signup(request: Request, mode: str = Form(...), csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    require_admin(request)
    if mode not in ("open", "admin"):
        raise UsageError("sign-up is open or admin")
    locked(request, request.app.state.engine.store.users.set_instance_setting, "signup", mode)
    return RedirectResponse("/admin", status_code=303)
