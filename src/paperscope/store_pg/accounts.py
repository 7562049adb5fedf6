"""Accounts on PostgreSQL: the twin of `store/accounts.py` (emails unique ignoring case)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import NotFoundError, UsageError
from ..models import User
from ..store.accounts import _USER_COLUMNS, _user, clean_tag
from ..store.db import now_utc

if TYPE_CHECKING:
    from . import PgStore


class PgUserRows:
    """Base of the per-user row classes: every query is scoped by user id, so one user never sees another's."""

    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.conn = store.conn


class PgAccountRows(PgUserRows):
    """The users table."""

    def create(self, email: str, password_hash: str | None, role: str = "user") -> User:
        """A new account (the first one on an instance is its admin); the email must be new."""
        email = email.strip()
        if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
            raise UsageError(f"{email!r} is not an email address")
        with self.store.transaction():
            first = self.conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
            # feed_token / unsubscribe_token are legacy NOT NULL UNIQUE columns: filled with unusable values
            row = self.conn.execute(
                "INSERT INTO users (email, password_hash, role, created_at, feed_token, unsubscribe_token)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id",
                (email, password_hash, "admin" if first else role, now_utc(), "unused:" + secrets.token_hex(16),
                 "unused:" + secrets.token_hex(16))).fetchone()
        if row is None:
            raise UsageError(f"an account for {email} already exists")
        return self.get(int(row[0]))

    def get(self, user_id: int) -> User:
        """The account with this id, or NotFoundError."""
        row = self.conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = %s", (user_id,)).fetchone()
        if not row:
            raise NotFoundError(f"no user {user_id}")
        return _user(row)

    def _one(self, where: str, value: str) -> User | None:
        row = self.conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE {where} = %s", (value,)).fetchone()
        return _user(row) if row else None

    def by_email(self, email: str) -> User | None:
        """The account for an email (case-insensitive)."""
        return self._one("lower(email)", email.strip().lower())

    def by_api_token_hash(self, token_hash: str) -> User | None:
        """The enabled account whose API token hashes to this."""
        user = self._one("api_token_hash", token_hash)
        return None if user is None or user.disabled else user

    def by_feed_token(self, token: str) -> User | None:
        """The account a private feed URL belongs to."""
        return self.by_token("feed", token)  # type: ignore[attr-defined,no-any-return]

    def by_unsubscribe_token(self, token: str) -> User | None:
        """The account an unsubscribe link belongs to."""
        return self.by_token("unsubscribe", token)  # type: ignore[attr-defined,no-any-return]

    def password_hash(self, user_id: int) -> str | None:
        """The stored password hash (never leaves the auth module)."""
        row = self.conn.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,)).fetchone()
        return row[0] if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the password hash (on password change or rehash)."""
        self.conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))

    def set_api_token_hash(self, user_id: int, token_hash: str | None, hint: str | None = None) -> None:
        """Store the hash of a new API token and its masked hint (or revoke with None)."""
        self.conn.execute("UPDATE users SET api_token_hash = %s, api_token_hint = %s WHERE id = %s",
                          (token_hash, hint if token_hash else None, user_id))

    def api_token_hint(self, user_id: int) -> str | None:
        """The masked hint of the current API token, or None when there is none."""
        row = self.conn.execute("SELECT api_token_hint, api_token_hash FROM users WHERE id = %s",
                                (user_id,)).fetchone()
        return (row[0] or "ps_…") if row and row[1] else None

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Switch an account off (its sessions end at once) or back on."""
        with self.store.transaction():
            self.conn.execute("UPDATE users SET disabled = %s WHERE id = %s", (int(disabled), user_id))
            if disabled:
                self.conn.execute("DELETE FROM sessions WHERE user_id = %s", (user_id,))

    def set_role(self, user_id: int, role: str) -> None:
        """Make an account an admin or a plain user."""
        if role not in ("admin", "user"):
            raise UsageError("a role is admin or user")
        self.conn.execute("UPDATE users SET role = %s WHERE id = %s", (role, user_id))

    def delete_user(self, user_id: int) -> None:
        """Delete an account and everything it owns (library, marks, private records, sessions, tokens, mail)."""
        with self.store.transaction():
            for table in ("private_library", "private_papers", "digest_sent"):
                self.conn.execute(f"DELETE FROM {table} WHERE user_id = %s", (user_id,))
            self.conn.execute("DELETE FROM users WHERE id = %s", (user_id,))

    def all(self) -> list[User]:
        """Every account, oldest first."""
        return [_user(r) for r in self.conn.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY id")]

    def count(self) -> int:
        """How many accounts exist."""
        return int(self.conn.execute("SELECT count(*) FROM users").fetchone()[0])

    def set_digest(self, user_id: int, frequency: str, tags: Sequence[str], size: int, trending: bool,
                   webhook_url: str | None) -> User:
        """Save digest preferences (validated here so every caller gets the same rules)."""
        if frequency not in ("daily", "weekly", "off"):
            raise UsageError("digest frequency is daily, weekly or off")
        if not 1 <= size <= 100:
            raise UsageError("a digest holds 1 to 100 papers")
        if webhook_url and not webhook_url.startswith(("https://", "http://")):
            raise UsageError("a webhook is an http(s) URL")
        self.conn.execute(
            "UPDATE users SET digest_frequency = %s, digest_tags = %s, digest_size = %s, digest_trending = %s,"
            " webhook_url = %s WHERE id = %s",
            (frequency, json.dumps([clean_tag(t) for t in tags]), size, int(trending), webhook_url or None, user_id))
        return self.get(user_id)

    def unsubscribe(self, user_id: int) -> None:
        """Stop every digest for this user."""
        self.conn.execute("UPDATE users SET digest_frequency = 'off' WHERE id = %s", (user_id,))
