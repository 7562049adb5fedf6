"""All per-user SQL on PostgreSQL, composed like `store/users.py`."""

from __future__ import annotations

from .accounts import PgAccountRows, PgUserRows
from .admin import PgAdminRows
from .library import PgLibraryRows
from .outbox import PgOutboxRows
from .private import PgPrivateRows
from .sessions import PgSessionRows

__all__ = ["PgUserRows", "PgUserStore"]


class PgUserStore(PgAccountRows, PgLibraryRows, PgOutboxRows, PgSessionRows, PgPrivateRows,
                  PgAdminRows):
    """Per-user tables of the server store; every query is scoped by user id."""
