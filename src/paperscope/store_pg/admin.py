"""The admin page's switches and views on PostgreSQL: every statement is `store/admin.py`'s AdminQueries."""

from __future__ import annotations

from ..store.admin import AdminQueries
from .accounts import PgUserRows


class PgAdminRows(PgUserRows, AdminQueries):
    """The instance_settings table plus read-only views of ingest runs and the outbox."""
