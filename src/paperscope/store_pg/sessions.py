"""Sessions and hashed bearer tokens on PostgreSQL: every statement is `store/sessions.py`'s SessionQueries."""

from __future__ import annotations

from ..store.sessions import SessionQueries
from .accounts import PgUserRows


class PgSessionRows(PgUserRows, SessionQueries):
    """The sessions and tokens tables; a cookie or URL secret is looked up by its SHA-256."""
