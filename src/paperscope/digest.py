"""Email digests: compose per due user, queue atomically (no paper twice), send over SMTP, retry later."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .auth import new_reset_token, new_unsubscribe_token
from .community import reply_notes
from .config import Settings
from .errors import UsageError
from .models import Paper, User
from .recommend import recommend
from .search import Engine
from .trending import trending

log = logging.getLogger("paperscope.digest")
INTERVAL = {"daily": timedelta(hours=20), "weekly": timedelta(days=6, hours=20)}


@dataclass(frozen=True)
class Item:
    """One paper in a digest and the sentence that says why it is there."""

    paper: Paper
    why: str


@dataclass
class DigestReport:
    """What one `digest send` run did."""

    composed: int = 0
    sent: int = 0
    failed: int = 0
    skipped_empty: int = 0
    written: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _templates() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                       autoescape=select_autoescape(["html"]))


def is_due(user: User, now: datetime) -> bool:
    """Whether this user's digest should go out now."""
    if user.digest_frequency == "off":
        return False
    if not user.last_digest_at:
        return True
    last = datetime.fromisoformat(user.last_digest_at.replace("Z", "+00:00"))
    return now - last >= INTERVAL[user.digest_frequency]


def select(engine: Engine, user: User, now: datetime) -> list[Item]:
    """The papers for this user's next digest: new since the last one, ranked by their model, never resent."""
    since = user.last_digest_at or (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sent = engine.store.users.already_sent(user.id)
    new = [i for i in engine.store.ids_first_seen_since(since) if i not in sent]
    items: list[Item] = []
    seen: set[str] = set()
    for tag in user.digest_tags or (None,):
        try:
            recs = recommend(engine, user.id, tag, k=user.digest_size, candidates=new, exclude=list(sent))
        except UsageError:
            continue  # nothing saved under this tag yet
        for r in recs:
            if r.paper.id not in seen:
                seen.add(r.paper.id)
                near = "; ".join(p.title[:80] for p in r.because)
                items.append(Item(r.paper, f"{'In ' + tag + ': ' if tag else ''}close to {near}"))
    items = items[: user.digest_size]
    if user.digest_trending:
        new_set = (set(new) | set(engine.store.community.submitted_since(since[:10]))) - sent  # lab picks count
        for paper, _ in trending(engine.store, 50, now):
            if len(items) >= user.digest_size + 3:
                break
            if paper.id in new_set and paper.id not in seen:
                seen.add(paper.id)
                items.append(Item(paper, "Trending on this instance"))
    followed = engine.store.topics.followed_topics(user.id)
    if followed:  # new in topics the member follows (a topic follow, not a paper's discussion)
        label = {t.id: t.label for t in engine.store.topics.topics()}
        for paper, tid in engine.store.topics.new_in_topics(followed, since, user.digest_size):
            if paper.id not in seen and paper.id not in sent:
                seen.add(paper.id)
                items.append(Item(paper, f"New in a topic you follow: {label.get(tid, f'topic {tid}')}"))
    for paper, why in reply_notes(engine, user, since):  # discussions the user follows, whatever was sent before
        items.append(Item(paper, why))
    return items


def compose(settings: Settings, user: User, items: list[Item], unsubscribe_token: str) -> EmailMessage:
    """The digest mail: text and HTML, one-click unsubscribe (RFC 8058), header-safe by construction."""
    env = _templates()
    base = settings.base_url.rstrip("/")
    unsubscribe = f"{base}/unsubscribe/{unsubscribe_token}"
    msg = EmailMessage(policy=SMTP)
    msg["From"] = settings.mail_from
    msg["To"] = user.email
    msg["Subject"] = f"paperscope: {len(items)} new paper{'s' if len(items) != 1 else ''}" + (
        f" in {', '.join(user.digest_tags)}" if user.digest_tags else "")
    msg["Message-ID"] = make_msgid(domain=urlsplit(base).hostname or "paperscope.local")
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    context = {"papers": items, "base": base, "unsubscribe": unsubscribe}
    msg.set_content(env.get_template("digest.txt").render(**context))
    msg.add_alternative(env.get_template("digest.html").render(**context), subtype="html")
    return msg


def smtp_send(settings: Settings, message: bytes, to: str) -> None:
    """Deliver one message; any failure raises so the outbox keeps it for the next run."""
    context = ssl.create_default_context()
    if settings.smtp_security == "tls":
        server: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=30, context=context)
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    with server:
        if settings.smtp_security == "starttls":
            server.starttls(context=context)
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password)
        server.sendmail(_address(settings.mail_from), [to], message)


def _address(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1]


def post_webhook(url: str, user: User, items: list[Item], allow: str = "") -> None:
    """Tell a chat tool about the digest (best effort; the URL is checked again against SSRF before sending)."""
    import http.client

    from .netguard import post_json

    payload = {"text": f"{len(items)} new papers", "papers": [
        {"id": i.paper.id, "title": i.paper.title, "why": i.why, "url": i.paper.links.get("abs")} for i in items]}
    try:
        post_json(url, json.dumps(payload).encode("utf-8"), allow)
    except (UsageError, OSError, http.client.HTTPException) as exc:
        log.warning("webhook for user %s failed: %s", user.id, exc)


def reset_message(settings: Settings, to: str, link: str) -> bytes:
    """The password-reset mail (the link is the only secret; it expires in an hour and works once)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = "paperscope: reset your password"
    msg["Message-ID"] = make_msgid(domain=urlsplit(settings.base_url).hostname or "paperscope.local")
    msg.set_content(f"Someone (hopefully you) asked to reset the password of {to} on {settings.base_url}.\n\n"
                    f"Choose a new password here within the hour (the link works once):\n{link}\n\n"
                    "If it was not you, ignore this mail; your password stays as it is.\n")
    return msg.as_bytes()


def mail_reset(engine: Engine, settings: Settings, address: str,
               send: Callable[[Settings, bytes, str], None] = smtp_send) -> bool:
    """The work of a "forgot password" request, done after its answer (so a known and an unknown address answer
    alike, in the same time): find the account, issue a reset link, queue the mail and try to send it. The
    outbox keeps the link only until the mail is delivered. False when there is no (enabled) account."""
    user = engine.store.users.by_email(address) if address else None
    if user is None or user.disabled:  # the same composing work, so the worker's load does not tell either
        reset_message(settings, address or "nobody@invalid", f"{settings.base_url}/password/reset/r{'0' * 43}")
        return False
    token = new_reset_token(engine.store, user.id)
    link = f"{settings.base_url.rstrip('/')}/password/reset/{token}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    outbox_id = engine.store.users.queue_mail(user.id, reset_message(settings, user.email, link), stamp)
    send_queued(engine, settings, outbox_id, send)
    return True


def send_queued(engine: Engine, settings: Settings, outbox_id: int,
                send: Callable[[Settings, bytes, str], None] = smtp_send) -> bool:
    """Try one queued mail now; a failure stays in the outbox for `digest send` to retry."""
    users = engine.store.users
    row = next((r for r in users.pending_digests() if r[0] == outbox_id), None)
    if row is None:
        return False
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        send(settings, row[2], users.get(row[1]).email)
    except (smtplib.SMTPException, OSError) as exc:
        users.digest_result(outbox_id, f"{type(exc).__name__}: {exc}", stamp)
        return False
    users.digest_result(outbox_id, None, stamp)
    return True


def run(engine: Engine, settings: Settings, now: datetime | None = None, dry_run: Path | None = None,
        send: Callable[[Settings, bytes, str], None] = smtp_send) -> DigestReport:
    """Compose digests for every due user, then send everything pending (earlier failures included)."""
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    report = DigestReport()
    users = engine.store.users
    for user in users.all():
        if user.disabled or not is_due(user, now):
            continue
        items = select(engine, user, now)
        if not items:
            report.skipped_empty += 1
            continue
        message = compose(settings, user, items, new_unsubscribe_token(engine.store, user.id))
        report.composed += 1
        if dry_run is not None:
            dry_run.mkdir(parents=True, exist_ok=True)
            path = dry_run / f"digest-{user.id}-{now.strftime('%Y%m%dT%H%M%S')}.eml"
            path.write_bytes(message.as_bytes())
            report.written.append(str(path))
            continue
        users.queue_digest(user.id, message.as_bytes(), [i.paper.id for i in items], stamp)
        if user.webhook_url:
            post_webhook(user.webhook_url, user, items, settings.webhook_allow)
    if dry_run is None:
        for outbox_id, user_id, message_bytes, _attempts in users.pending_digests():
            try:
                send(settings, message_bytes, users.get(user_id).email)
            except (smtplib.SMTPException, OSError) as exc:
                users.digest_result(outbox_id, f"{type(exc).__name__}: {exc}", stamp)
                report.failed += 1
                report.errors.append(f"user {user_id}: {exc}")
                continue
            users.digest_result(outbox_id, None, stamp)
            report.sent += 1
    return report
