"""One error hierarchy: every failure a user can meet carries a message that says what to do."""

from __future__ import annotations


class PaperscopeError(Exception):
    """Base of every error paperscope raises on purpose; `str()` is the user-facing message.

    `code` is the stable kind the web's JSON errors carry (`{"error", "code", "status"}`), never a class name."""

    exit_code = 1
    code = "error"


class ConfigError(PaperscopeError):
    """A setting is missing or has a value that cannot be used."""

    exit_code = 2
    code = "bad_config"


class UsageError(PaperscopeError):
    """The command or request was malformed (unknown source, bad option, bad id)."""

    exit_code = 2
    code = "bad_request"


class NotFoundError(PaperscopeError):
    """A paper, user or file that was asked for does not exist."""

    exit_code = 3
    code = "not_found"


class StoreError(PaperscopeError):
    """The database could not be opened, migrated or written."""

    exit_code = 4
    code = "store_error"


class IndexDamagedError(StoreError):
    """An index generation is damaged, from an older layout or of another model; the fix is a rebuild."""

    code = "index_damaged"


class SourceError(PaperscopeError):
    """A source could not be read at all (network down, server error, unreadable file)."""

    exit_code = 5
    code = "source_error"


class RecordError(PaperscopeError):
    """One record of a source is malformed; the rest of the source is still ingested."""

    code = "bad_record"

    def __init__(self, record: str, reason: str) -> None:
        super().__init__(f"record {record}: {reason}")
        self.record = record
        self.reason = reason


class MissingExtraError(PaperscopeError):
    """An optional dependency is not installed; the message names the pip command."""

    exit_code = 6
    code = "missing_extra"


class AuthError(PaperscopeError):
    """Wrong credentials, a missing login, or a revoked token."""

    exit_code = 7
    code = "unauthorized"


class ForbiddenError(AuthError):
    """Logged in, but not allowed: a bad CSRF token, another user's data, or an admin-only action."""

    code = "forbidden"


class BadQueryError(UsageError):
    """A search query with nothing to search for (empty or only whitespace); the message shows what works."""

    code = "bad_query"

class RateLimitError(PaperscopeError):
    """Too many attempts or requests; `retry_after` says in how many seconds to try again."""

    exit_code = 8
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

class LimitError(UsageError):
    """A per-user daily limit (submissions, comments) is reached; the web answers 429."""

    code = "limit_reached"
