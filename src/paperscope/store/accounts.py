"""Accounts: email, password hash, role, tokens and digest preferences."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError, UsageError
from ..models import User
from .db import now_utc
from .rows import SqlRows

if TYPE_CHECKING:
    from . import Store

_USER_COLUMNS = ("id, email, role, created_at, digest_frequency, digest_tags, "
                 "digest_size, digest_trending, webhook_url, last_digest_at, disabled")


def _user(row: Sequence[Any]) -> User:
    return User(row[0], row[1], row[2], row[3], "", "", row[4], tuple(json.loads(row[5])), row[6],
                bool(row[7]), row[8], row[9], bool(row[10]))


def sha256_hex(token: str) -> str:
    """What the store keeps of any bearer secret (API, feed, unsubscribe, reset, session id)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def checked_email(email: str) -> str:
    """An email trimmed, or UsageError when it cannot be an address (sign-up checks deliverability itself)."""
    email = email.strip()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise UsageError(f"{email!r} is not an email address")
    return email


def clean_tag(tag: str) -> str:
    """A tag as stored: trimmed, inner whitespace collapsed, control characters refused, ≤ 64 characters."""
    value = " ".join(str(tag).split())
    if not value or len(value) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError("a tag is 1 to 64 printable characters")
    return value




class UserRows(SqlRows):
    """Base of the per-user row classes: every query is scoped by user id, so one user never sees another's."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn


class AccountQueries(SqlRows):
    """The users table's SQL that reads the same in SQLite and PostgreSQL; each backend's AccountRows adds the rest."""

    if TYPE_CHECKING:  # provided by the tokens mixin of the composed UserStore
        def by_token(self, kind: str, token: str) -> User | None: ...

    _INSERT_USER = ("INSERT INTO users (email, password_hash, role, created_at, feed_token, unsubscribe_token)"
                    " VALUES (?, ?, ?, ?, ?, ?)")

    def _new_user(self, email: str, password_hash: str | None, role: str) -> tuple[Any, ...]:
        """The values of `_INSERT_USER` (call inside the write's transaction: the first account is the admin)."""
        first = self.count() == 0
        # feed_token / unsubscribe_token are legacy NOT NULL UNIQUE columns: filled with unusable values
        return (email, password_hash, "admin" if first else role, now_utc(), "unused:" + secrets.token_hex(16),
                "unused:" + secrets.token_hex(16))

    def get(self, user_id: int) -> User:
        """The account with this id, or NotFoundError."""
        row = self.run(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
        if not row:
            raise NotFoundError(f"no user {user_id}")
        return _user(row)

    def _one(self, column: str, value: str) -> User | None:
        row = self.run(f"SELECT {_USER_COLUMNS} FROM users WHERE {column} = ?", (value,)).fetchone()
        return _user(row) if row else None

    def by_api_token_hash(self, token_hash: str) -> User | None:
        """The account whose API token hashes to this."""
        user = self._one("api_token_hash", token_hash)
        return None if user is None or user.disabled else user

    def by_feed_token(self, token: str) -> User | None:
        """The account a private feed URL belongs to."""
        return self.by_token("feed", token)

    def by_unsubscribe_token(self, token: str) -> User | None:
        """The account an unsubscribe link belongs to."""
        return self.by_token("unsubscribe", token)

    def password_hash(self, user_id: int) -> str | None:
        """The stored password hash (never leaves the auth module)."""
        row = self.run("SELECT password_hash FROM users WHERE id = ?", (user_id,)).fetchone()
        return row[0] if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the password hash (on password change or rehash)."""
        self.write("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    def set_api_token_hash(self, user_id: int, token_hash: str | None, hint: str | None = None) -> None:
        """Store the hash of a new API token and its masked hint (or revoke with None)."""
        self.write("UPDATE users SET api_token_hash = ?, api_token_hint = ? WHERE id = ?",
                   (token_hash, hint if token_hash else None, user_id))

    def api_token_hint(self, user_id: int) -> str | None:
        """The masked hint of the current API token, or None when there is none."""
        row = self.run("SELECT api_token_hint, api_token_hash FROM users WHERE id = ?", (user_id,)).fetchone()
        return (row[0] or "ps_…") if row and row[1] else None

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Switch an account off (its sessions end at once) or back on."""
        with self.store.transaction():
            self.run("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id))
            if disabled:
                self.run("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def set_role(self, user_id: int, role: str) -> None:
        """Make an account an admin or a plain user."""
        if role not in ("admin", "user"):
            raise UsageError("a role is admin or user")
        self.write("UPDATE users SET role = ? WHERE id = ?", (role, user_id))

    def delete_user(self, user_id: int) -> None:
        """Delete an account and everything it owns (library, marks, private records, sessions, tokens, mail)."""
        with self.store.transaction():
            for table in ("private_library", "private_papers", "digest_sent"):
                self.run(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            self.run("DELETE FROM users WHERE id = ?", (user_id,))

    def all(self) -> list[User]:
        """Every account, oldest first."""
        return [_user(r) for r in self.run(f"SELECT {_USER_COLUMNS} FROM users ORDER BY id")]

    def count(self) -> int:
        """How many accounts exist."""
        return int(self.run("SELECT count(*) FROM users").fetchone()[0])

    def set_digest(self, user_id: int, frequency: str, tags: Sequence[str], size: int, trending: bool,
                   webhook_url: str | None) -> User:
        """Save digest preferences (validated here so every caller gets the same rules)."""
        if frequency not in ("daily", "weekly", "off"):
            raise UsageError("digest frequency is daily, weekly or off")
        if not 1 <= size <= 100:
            raise UsageError("a digest holds 1 to 100 papers")
        if webhook_url and not webhook_url.startswith(("https://", "http://")):
            raise UsageError("a webhook is an http(s) URL")
        self.write(
            "UPDATE users SET digest_frequency = ?, digest_tags = ?, digest_size = ?, digest_trending = ?,"
            " webhook_url = ? WHERE id = ?",
            (frequency, json.dumps([clean_tag(t) for t in tags]), size, int(trending), webhook_url or None, user_id))
        return self.get(user_id)

    def unsubscribe(self, user_id: int) -> None:
        """Stop every digest for this user."""
        self.write("UPDATE users SET digest_frequency = 'off' WHERE id = ?", (user_id,))


class AccountRows(UserRows, AccountQueries):
    """The users table on SQLite (emails unique by the column's NOCASE collation)."""

    def create(self, email: str, password_hash: str | None, role: str = "user") -> User:
        """A new account (the first one on an instance is its admin); the email must be new."""
        email = checked_email(email)
        if self.by_email(email):
            raise UsageError(f"an account for {email} already exists")
        with self.store.transaction():
            cur = self.conn.execute(self._INSERT_USER, self._new_user(email, password_hash, role))
        return self.get(int(cur.lastrowid or 0))

    def by_email(self, email: str) -> User | None:
        """The account for an email (case-insensitive)."""
        return self._one("email", email.strip())
