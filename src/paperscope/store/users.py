"""All per-user SQL, composed: accounts, libraries and marks, the digest outbox."""

from __future__ import annotations

from .accounts import AccountRows, UserRows, clean_tag
from .library import LibraryRows
from .outbox import OutboxRows

__all__ = ["UserRows", "UserStore", "clean_tag"]


class UserStore(AccountRows, LibraryRows, OutboxRows):
    """Per-user tables of the store; every query is scoped by user id, so one user never sees another's."""
