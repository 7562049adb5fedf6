"""Server-side sessions and hashed bearer tokens (feed, unsubscribe, password reset): only hashes are stored."""

from __future__ import annotations

import json
import time
from typing import Any

from ..models import User
from .accounts import _USER_COLUMNS, UserRows, _user, sha256_hex
from .db import now_utc
from .rows import SqlRows

TOKEN_KINDS = ("feed", "unsubscribe", "reset")


class SessionQueries(SqlRows):
    """The sessions and tokens tables (the same SQL on both backends); a secret is looked up by its SHA-256."""

    def session_create(self, id_hash: str, user_id: int | None, data: dict[str, Any], now: float) -> None:
        """Record a new session under the hash of its cookie id."""
        with self.store.transaction():
            self.run("INSERT INTO sessions (id_hash, user_id, data, created_at, seen_at)"
                     " VALUES (?, ?, ?, ?, ?)", (id_hash, user_id, json.dumps(data), now, now))

    def session_get(self, id_hash: str) -> tuple[int | None, dict[str, Any], float, float] | None:
        """(user id, data, created, last seen) of a session, or None when it does not exist (any more)."""
        row = self.run("SELECT user_id, data, created_at, seen_at FROM sessions WHERE id_hash = ?",
                       (id_hash,)).fetchone()
        return (row[0], json.loads(row[1]), row[2], row[3]) if row else None

    def session_save(self, id_hash: str, data: dict[str, Any], now: float) -> None:
        """Store a session's data and mark it used now."""
        with self.store.transaction():
            self.run("UPDATE sessions SET data = ?, seen_at = ? WHERE id_hash = ?",
                     (json.dumps(data), now, id_hash))

    def session_touch(self, id_hash: str, now: float) -> None:
        """Mark a session used now (for the idle limit)."""
        with self.store.transaction():
            self.run("UPDATE sessions SET seen_at = ? WHERE id_hash = ?", (now, id_hash))

    def session_delete(self, id_hash: str) -> None:
        """End one session (logout)."""
        with self.store.transaction():
            self.run("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

    def sessions_end_all(self, user_id: int) -> int:
        """End every session of a user (log out everywhere, password change, disable); returns how many."""
        with self.store.transaction():
            return self.run("DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount

    def sessions_purge(self, idle_before: float, created_before: float) -> int:
        """Delete sessions past their idle or absolute limit, and anonymous form sessions unused for a day."""
        with self.store.transaction():
            return self.run("DELETE FROM sessions WHERE seen_at < ? OR created_at < ?"
                            " OR (user_id IS NULL AND seen_at < ?)",
                            (idle_before, created_before, time.time() - 86400)).rowcount

    def session_count(self, user_id: int) -> int:
        """How many live sessions a user has (shown on the settings page)."""
        return int(self.run("SELECT count(*) FROM sessions WHERE user_id = ?", (user_id,)).fetchone()[0])

    # --- tokens ----------------------------------------------------------------------------------

    def add_token(self, user_id: int, kind: str, token: str, hint: str, expires_at: str | None = None,
                  replace: bool = False) -> None:
        """Keep the hash of a new token (replacing this user's tokens of that kind when asked)."""
        assert kind in TOKEN_KINDS
        with self.store.transaction():
            if replace:
                self.run("DELETE FROM tokens WHERE user_id = ? AND kind = ?", (user_id, kind))
            self.run("INSERT INTO tokens (hash, user_id, kind, hint, created_at, expires_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", (sha256_hex(token), user_id, kind, hint, now_utc(),
                                                             expires_at))

    def by_token(self, kind: str, token: str) -> User | None:
        """The enabled account a live token of this kind belongs to."""
        cols = ", ".join("u." + c.strip() for c in _USER_COLUMNS.split(","))
        row = self.run(
            f"SELECT {cols} FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND t.kind = ?"
            " AND u.disabled = 0 AND (t.expires_at IS NULL OR t.expires_at > ?)",
            (sha256_hex(token), kind, now_utc())).fetchone()
        return _user(row) if row else None

    def use_token(self, kind: str, token: str) -> User | None:
        """Consume a single-use token (password reset): the account, and the token is gone."""
        user = self.by_token(kind, token)
        with self.store.transaction():
            gone = self.run("DELETE FROM tokens WHERE hash = ? AND kind = ?", (sha256_hex(token), kind))
        return user if user is not None and gone.rowcount == 1 else None

    def revoke_tokens(self, user_id: int, kind: str) -> int:
        """Revoke every token of a kind for a user; returns how many."""
        with self.store.transaction():
            return self.run("DELETE FROM tokens WHERE user_id = ? AND kind = ?", (user_id, kind)).rowcount

    def token_hints(self, user_id: int, kind: str) -> list[tuple[str, str]]:
        """(masked hint, created) of a user's live tokens of a kind, newest first."""
        return self.run("SELECT hint, created_at FROM tokens WHERE user_id = ? AND kind = ?"
                        " AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC",
                        (user_id, kind, now_utc())).fetchall()


class SessionRows(UserRows, SessionQueries):
    """The sessions and tokens tables; a cookie or URL secret is looked up by its SHA-256."""
