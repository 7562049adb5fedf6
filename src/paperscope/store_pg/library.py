"""A user's library on PostgreSQL: the twin of `store/library.py`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..store.accounts import clean_tag
from ..store.db import now_utc
from ..store.library import LibraryQueries, checked_query
from .accounts import PgUserRows


class PgLibraryRows(PgUserRows, LibraryQueries):
    """The library, paper_state and saved_searches tables."""

    def save(self, user_id: int, paper_id: str, tags: Sequence[str]) -> None:
        """Save a paper under one or more tags (saving again is harmless)."""
        cleaned = [clean_tag(t) for t in tags] or ["saved"]
        with self.store.transaction():
            self.conn.executemany("INSERT INTO library VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                  [(user_id, paper_id, tag, now_utc()) for tag in cleaned])

    def tags(self, user_id: int) -> list[tuple[str, int]]:
        """(tag, number of papers, private records included) for this user, alphabetically (ignoring case)."""
        return self.conn.execute(
            "SELECT tag, count(*) FROM (SELECT tag FROM library WHERE user_id = %(u)s"
            " UNION ALL SELECT tag FROM private_library WHERE user_id = %(u)s) AS t GROUP BY tag"
            " ORDER BY lower(tag), tag", {"u": user_id}).fetchall()

    def rename_tag(self, user_id: int, old: str, new: str) -> None:
        """Rename a tag, merging into `new` if it already exists."""
        old, new = clean_tag(old), clean_tag(new)
        with self.store.transaction():
            self.conn.execute("INSERT INTO library SELECT user_id, paper_id, %s, saved_at FROM library"
                              " WHERE user_id = %s AND tag = %s ON CONFLICT DO NOTHING", (new, user_id, old))
            self.conn.execute("DELETE FROM library WHERE user_id = %s AND tag = %s", (user_id, old))
            self.conn.execute("INSERT INTO private_library SELECT user_id, paper_id, %s, saved_at FROM private_library"
                              " WHERE user_id = %s AND tag = %s ON CONFLICT DO NOTHING", (new, user_id, old))
            self.conn.execute("DELETE FROM private_library WHERE user_id = %s AND tag = %s", (user_id, old))

    def saves_by_paper(self, paper_ids: Sequence[str]) -> dict[str, int]:
        """How many users saved each of these papers (a trending signal of this instance)."""
        if not paper_ids:
            return {}
        return dict(self.conn.execute("SELECT paper_id, count(DISTINCT user_id) FROM library"
                                      " WHERE paper_id = ANY(%s) GROUP BY paper_id", (list(paper_ids),)).fetchall())

    # --- marks and votes ----------------------------------------------------------------------

    def _mark(self, user_id: int, paper_id: str, column: str, value: Any) -> None:
        self.conn.execute(f"INSERT INTO paper_state (user_id, paper_id, {column}) VALUES (%s, %s, %s)"
                          f" ON CONFLICT (user_id, paper_id) DO UPDATE SET {column} = excluded.{column}",
                          (user_id, paper_id, value))

    def save_search(self, user_id: int, name: str, query: str) -> int:
        """Keep a query under a name (for its feed)."""
        checked_query(query)
        row = self.conn.execute("INSERT INTO saved_searches (user_id, name, query, created_at)"
                                " VALUES (%s, %s, %s, %s) RETURNING id",
                                (user_id, clean_tag(name), query, now_utc())).fetchone()
        return int(row[0])
