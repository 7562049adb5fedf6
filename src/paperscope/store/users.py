"""All per-user SQL: accounts, tokens, libraries and tags, marks and votes, digest bookkeeping."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import NotFoundError, UsageError
from ..models import PaperState, User

if TYPE_CHECKING:
    from . import Store

_USER_COLUMNS = ("id, email, role, created_at, feed_token, unsubscribe_token, digest_frequency, digest_tags, "
                 "digest_size, digest_trending, webhook_url, last_digest_at")


def _user(row: Sequence[Any]) -> User:
    return User(row[0], row[1], row[2], row[3], row[4], row[5], row[6], tuple(json.loads(row[7])), row[8],
                bool(row[9]), row[10], row[11])


def clean_tag(tag: str) -> str:
    """A tag as stored: trimmed, inner whitespace collapsed, control characters refused, ≤ 64 characters."""
    value = " ".join(str(tag).split())
    if not value or len(value) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError("a tag is 1 to 64 printable characters")
    return value


class UserStore:
    """Per-user tables of the store; every query is scoped by user id, so one user never sees another's."""

    def __init__(self, store: "Store") -> None:
        self.store = store
        self.conn = store.conn

    # --- accounts -----------------------------------------------------------------------------

    def create(self, email: str, password_hash: str | None, role: str = "user") -> User:
        """A new account with fresh feed and unsubscribe tokens; the email must be new."""
        from . import now_utc

        email = email.strip()
        if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
            raise UsageError(f"{email!r} is not an email address")
        if self.by_email(email):
            raise UsageError(f"an account for {email} already exists")
        with self.store.transaction():
            cur = self.conn.execute(
                "INSERT INTO users (email, password_hash, role, created_at, feed_token, unsubscribe_token)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (email, password_hash, role, now_utc(), secrets.token_urlsafe(24), secrets.token_urlsafe(24)))
        return self.get(int(cur.lastrowid or 0))

    def get(self, user_id: int) -> User:
        """The account with this id, or NotFoundError."""
        row = self.conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
        if not row:
            raise NotFoundError(f"no user {user_id}")
        return _user(row)

    def _one(self, column: str, value: str) -> User | None:
        row = self.conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE {column} = ?", (value,)).fetchone()
        return _user(row) if row else None

    def by_email(self, email: str) -> User | None:
        """The account for an email (case-insensitive)."""
        return self._one("email", email.strip())

    def by_api_token_hash(self, token_hash: str) -> User | None:
        """The account whose API token hashes to this."""
        return self._one("api_token_hash", token_hash)

    def by_feed_token(self, token: str) -> User | None:
        """The account a private feed URL belongs to."""
        return self._one("feed_token", token)

    def by_unsubscribe_token(self, token: str) -> User | None:
        """The account an unsubscribe link belongs to."""
        return self._one("unsubscribe_token", token)

    def password_hash(self, user_id: int) -> str | None:
        """The stored password hash (never leaves the auth module)."""
        row = self.conn.execute("SELECT password_hash FROM users WHERE id = ?", (user_id,)).fetchone()
        return row[0] if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the password hash (on password change or rehash)."""
        with self.store.transaction():
            self.conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    def set_api_token_hash(self, user_id: int, token_hash: str | None) -> None:
        """Store the hash of a new API token (or revoke with None)."""
        with self.store.transaction():
            self.conn.execute("UPDATE users SET api_token_hash = ? WHERE id = ?", (token_hash, user_id))

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
        with self.store.transaction():
            self.conn.execute(
                "UPDATE users SET digest_frequency = ?, digest_tags = ?, digest_size = ?, digest_trending = ?,"
                " webhook_url = ? WHERE id = ?",
                (frequency, json.dumps([clean_tag(t) for t in tags]), size, int(trending), webhook_url or None, user_id))
        return self.get(user_id)

    def unsubscribe(self, user_id: int) -> None:
        """Stop every digest for this user."""
        with self.store.transaction():
            self.conn.execute("UPDATE users SET digest_frequency = 'off' WHERE id = ?", (user_id,))

    # --- library ------------------------------------------------------------------------------

    def save(self, user_id: int, paper_id: str, tags: Sequence[str]) -> None:
        """Save a paper under one or more tags (saving again is harmless)."""
        from . import now_utc

        cleaned = [clean_tag(t) for t in tags] or ["saved"]
        with self.store.transaction():
            for tag in cleaned:
                self.conn.execute("INSERT OR IGNORE INTO library VALUES (?, ?, ?, ?)", (user_id, paper_id, tag, now_utc()))

    def remove(self, user_id: int, paper_id: str, tag: str | None = None) -> int:
        """Remove a paper from one tag, or from the whole library; returns rows removed."""
        with self.store.transaction():
            if tag is None:
                cur = self.conn.execute("DELETE FROM library WHERE user_id = ? AND paper_id = ?", (user_id, paper_id))
            else:
                cur = self.conn.execute("DELETE FROM library WHERE user_id = ? AND paper_id = ? AND tag = ?",
                                        (user_id, paper_id, clean_tag(tag)))
        return cur.rowcount

    def tags(self, user_id: int) -> list[tuple[str, int]]:
        """(tag, number of papers) for this user, alphabetically."""
        return self.conn.execute(
            "SELECT tag, count(*) FROM library WHERE user_id = ? GROUP BY tag ORDER BY tag COLLATE NOCASE",
            (user_id,)).fetchall()

    def rename_tag(self, user_id: int, old: str, new: str) -> None:
        """Rename a tag, merging into `new` if it already exists."""
        old, new = clean_tag(old), clean_tag(new)
        with self.store.transaction():
            self.conn.execute("INSERT OR IGNORE INTO library SELECT user_id, paper_id, ?, saved_at FROM library"
                              " WHERE user_id = ? AND tag = ?", (new, user_id, old))
            self.conn.execute("DELETE FROM library WHERE user_id = ? AND tag = ?", (user_id, old))

    def delete_tag(self, user_id: int, tag: str) -> int:
        """Delete a tag (its papers stay under their other tags); returns papers untagged."""
        with self.store.transaction():
            cur = self.conn.execute("DELETE FROM library WHERE user_id = ? AND tag = ?", (user_id, clean_tag(tag)))
        return cur.rowcount

    def paper_ids(self, user_id: int, tag: str | None = None) -> list[str]:
        """Saved paper ids (under one tag, or all), most recently saved first."""
        if tag is None:
            rows = self.conn.execute("SELECT paper_id FROM library WHERE user_id = ? GROUP BY paper_id"
                                     " ORDER BY max(saved_at) DESC, paper_id", (user_id,))
        else:
            rows = self.conn.execute("SELECT paper_id FROM library WHERE user_id = ? AND tag = ?"
                                     " ORDER BY saved_at DESC, paper_id", (user_id, clean_tag(tag)))
        return [r[0] for r in rows]

    def saves_by_paper(self, paper_ids: Sequence[str]) -> dict[str, int]:
        """How many users saved each of these papers (a trending signal of this instance)."""
        out: dict[str, int] = {}
        for start in range(0, len(paper_ids), 500):
            chunk = list(paper_ids[start:start + 500])
            out.update(self.conn.execute(
                f"SELECT paper_id, count(DISTINCT user_id) FROM library WHERE paper_id IN ({','.join('?' * len(chunk))})"
                " GROUP BY paper_id", chunk).fetchall())
        return out

    # --- marks and votes ----------------------------------------------------------------------

    def _mark(self, user_id: int, paper_id: str, column: str, value: Any) -> None:
        with self.store.transaction():
            self.conn.execute("INSERT OR IGNORE INTO paper_state (user_id, paper_id) VALUES (?, ?)", (user_id, paper_id))
            self.conn.execute(f"UPDATE paper_state SET {column} = ? WHERE user_id = ? AND paper_id = ?",
                              (value, user_id, paper_id))

    def set_note(self, user_id: int, paper_id: str, note: str) -> None:
        """Keep a private note on a paper (≤ 10,000 characters)."""
        if len(note) > 10000:
            raise UsageError("a note is at most 10,000 characters")
        self._mark(user_id, paper_id, "note", note or None)

    def set_read(self, user_id: int, paper_id: str, read: bool = True) -> None:
        """Mark a paper read (or unread)."""
        from . import now_utc

        self._mark(user_id, paper_id, "read_at", now_utc() if read else None)

    def set_hidden(self, user_id: int, paper_id: str, hidden: bool = True) -> None:
        """'Not interested': never recommend it again; it counts as a negative."""
        self._mark(user_id, paper_id, "hidden", int(hidden))

    def vote(self, user_id: int, paper_id: str, value: int) -> None:
        """Thumbs up (+1), down (-1) or neither (0) on a paper; feeds the user's model."""
        if value not in (-1, 0, 1):
            raise UsageError("a vote is -1, 0 or 1")
        self._mark(user_id, paper_id, "vote", value)

    def state(self, user_id: int, paper_id: str) -> PaperState:
        """This user's marks and tags on one paper."""
        row = self.conn.execute("SELECT note, read_at, hidden, vote FROM paper_state WHERE user_id = ? AND paper_id = ?",
                                (user_id, paper_id)).fetchone()
        tags = tuple(r[0] for r in self.conn.execute(
            "SELECT tag FROM library WHERE user_id = ? AND paper_id = ? ORDER BY tag", (user_id, paper_id)))
        if not row:
            return PaperState(tags=tags)
        return PaperState(row[0], row[1], bool(row[2]), row[3], tags)

    def negatives(self, user_id: int) -> list[str]:
        """Papers this user hid or voted down."""
        return [r[0] for r in self.conn.execute(
            "SELECT paper_id FROM paper_state WHERE user_id = ? AND (hidden = 1 OR vote < 0)", (user_id,))]

    def upvoted(self, user_id: int) -> list[str]:
        """Papers this user voted up (positives even when not saved)."""
        return [r[0] for r in self.conn.execute(
            "SELECT paper_id FROM paper_state WHERE user_id = ? AND vote > 0", (user_id,))]

    # --- digests ------------------------------------------------------------------------------

    def already_sent(self, user_id: int) -> set[str]:
        """Every paper any digest (sent or pending) has carried to this user."""
        return {r[0] for r in self.conn.execute("SELECT paper_id FROM digest_sent WHERE user_id = ?", (user_id,))}

    def queue_digest(self, user_id: int, message: bytes, paper_ids: Sequence[str], at: str) -> int:
        """Put a composed digest in the outbox and reserve its papers, atomically (never sent twice)."""
        with self.store.transaction():
            cur = self.conn.execute("INSERT INTO digest_outbox (user_id, created_at, message) VALUES (?, ?, ?)",
                                    (user_id, at, message))
            outbox_id = int(cur.lastrowid or 0)
            self.conn.executemany("INSERT OR IGNORE INTO digest_sent VALUES (?, ?, ?)",
                                  [(user_id, pid, outbox_id) for pid in paper_ids])
            self.conn.execute("UPDATE users SET last_digest_at = ? WHERE id = ?", (at, user_id))
        return outbox_id

    def pending_digests(self) -> list[tuple[int, int, bytes, int]]:
        """(outbox id, user id, message bytes, attempts) still to send, oldest first."""
        return self.conn.execute(
            "SELECT id, user_id, message, attempts FROM digest_outbox WHERE status = 'pending' ORDER BY id").fetchall()

    def digest_result(self, outbox_id: int, error: str | None, at: str) -> None:
        """Record a send attempt: sent, or the error to retry after."""
        with self.store.transaction():
            if error is None:
                self.conn.execute("UPDATE digest_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
                                  " last_error = NULL WHERE id = ?", (at, outbox_id))
            else:
                self.conn.execute("UPDATE digest_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                                  (error[:500], outbox_id))

    # --- saved searches -----------------------------------------------------------------------

    def save_search(self, user_id: int, name: str, query: str) -> int:
        """Keep a query under a name (for its feed)."""
        from . import now_utc

        if not query.strip() or len(query) > 1000:
            raise UsageError("a saved search needs a query of at most 1,000 characters")
        with self.store.transaction():
            cur = self.conn.execute("INSERT INTO saved_searches (user_id, name, query, created_at) VALUES (?, ?, ?, ?)",
                                    (user_id, clean_tag(name), query, now_utc()))
        return int(cur.lastrowid or 0)

    def saved_searches(self, user_id: int) -> list[tuple[int, str, str]]:
        """(id, name, query) of this user's saved searches."""
        return self.conn.execute("SELECT id, name, query FROM saved_searches WHERE user_id = ? ORDER BY id",
                                 (user_id,)).fetchall()
