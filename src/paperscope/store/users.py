"""All per-user SQL, composed: accounts, libraries and marks, the digest outbox."""

from __future__ import annotations

from .accounts import AccountRows, UserRows, clean_tag
from .admin import AdminRows
from .library import LibraryRows
from .outbox import OutboxRows
from .private import PrivateRows
from .sessions import SessionRows

__all__ = ["UserRows", "UserStore", "clean_tag"]


class UserStore(AccountRows, LibraryRows, OutboxRows, SessionRows, PrivateRows, AdminRows):
    """Per-user tables of the store; every query is scoped by user id, so one user never sees another's."""
