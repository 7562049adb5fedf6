"""Accounts on PostgreSQL: the twin of `store/accounts.py` (emails unique ignoring case)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import UsageError
from ..models import User
from ..store.accounts import AccountQueries, checked_email
from ..store.rows import SqlRows

if TYPE_CHECKING:
    from . import PgStore


class PgUserRows(SqlRows):
    """Base of the per-user row classes: every query is scoped by user id, so one user never sees another's."""

    MARK = "%s"
    WRITE_IN_TRANSACTION = False  # a single statement commits on its own (autocommit), or joins an open transaction

    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.conn = store.conn


class PgAccountRows(PgUserRows, AccountQueries):
    """The users table on PostgreSQL (emails unique ignoring case by an index on lower(email))."""

    def create(self, email: str, password_hash: str | None, role: str = "user") -> User:
        """A new account (the first one on an instance is its admin); the email must be new."""
        email = checked_email(email)
        with self.store.transaction():
            row = self.run(self._INSERT_USER + " ON CONFLICT ((lower(email))) DO NOTHING RETURNING id",
                           self._new_user(email, password_hash, role)).fetchone()
        if row is None:
            raise UsageError(f"an account for {email} already exists")
        return self.get(int(row[0]))

    def by_email(self, email: str) -> User | None:
        """The account for an email (case-insensitive)."""
        return self._one("lower(email)", email.strip().lower())
