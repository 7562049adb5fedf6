"""What both stores' row classes share: SQL written once with `?` placeholders, run in each backend's style.

SQLite takes `?`; PostgreSQL (psycopg) takes `%s` and reads a literal `%` as `%%`. A row class of a backend
sets `MARK`; the shared query classes (`CommunityQueries`, `AccountQueries`, ...) call `self.run(text, params)`.
Only statements that are the same in both dialects belong in shared classes; the rest stays per backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled); shared SQL holds no other `?`."""
    return sql.replace("%", "%%").replace("?", "%s")


class SqlRows:
    """Base of the shared query classes: `self.conn` and `self.store` come from the backend's row class."""

    MARK = "?"
    WRITE_IN_TRANSACTION = True  # SQLite takes its write lock up front (BEGIN IMMEDIATE) even for one statement
    conn: Any
    store: Any

    def sql(self, text: str) -> str:
        """The statement in this backend's placeholder style."""
        return text if self.MARK == "?" else to_pyformat(text)

    def run(self, text: str, params: Sequence[Any] = ()) -> Any:
        """Execute shared SQL on this backend's connection (a sqlite3 cursor or the pool's eager `Result`)."""
        return self.conn.execute(self.sql(text), params)

    def write(self, text: str, params: Sequence[Any] = ()) -> Any:
        """Execute one shared statement that changes rows, the way this backend runs its single writes."""
        if not self.WRITE_IN_TRANSACTION:
            return self.run(text, params)
        with self.store.transaction():
            return self.run(text, params)
