"""A user's library: papers under tags, notes, read marks, hidden papers, votes and saved searches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..models import PaperState
from .accounts import UserRows, clean_tag
from .db import now_utc
from .imports import ImportQueries


def checked_query(query: str) -> str:
    """A saved search's query, or UsageError when it is blank or too long."""
    if not query.strip() or len(query) > 1000:
        raise UsageError("a saved search needs a query of at most 1,000 characters")
    return query


class LibraryQueries(ImportQueries):
    """The library's SQL that reads the same in SQLite and PostgreSQL; each backend's LibraryRows adds the rest."""

    if TYPE_CHECKING:  # each backend's LibraryRows: set one column of paper_state, creating the row (an upsert)
        def _mark(self, user_id: int, paper_id: str, column: str, value: Any) -> None: ...


    def tags_by_paper(self, user_id: int, paper_ids: Sequence[str], private: bool = False) -> dict[str, list[str]]:
        """Each of these saved papers' tags (catalogue papers, or the member's private records), sorted."""
        table = "private_library" if private else "library"
        out: dict[str, list[str]] = {}
        ids = list(paper_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for pid, tag in self.run(f"SELECT paper_id, tag FROM {table} WHERE user_id = ? AND paper_id IN ({marks})"
                                     " ORDER BY paper_id, tag", (user_id, *chunk)):
                out.setdefault(pid, []).append(tag)
        return out

    def library_stamp(self, user_id: int) -> tuple[Any, ...]:
        """A cheap fingerprint of what a member's recommendations learn from (saves, votes, hides, upvotes):
        it changes whenever one of them does, so a cached result can be reused until then."""
        row = self.run(
            "SELECT (SELECT count(*) FROM library WHERE user_id = ?), (SELECT max(saved_at) FROM library WHERE"
            " user_id = ?), (SELECT count(*) FROM paper_state WHERE user_id = ?), (SELECT sum(vote * 2 + hidden)"
            " FROM paper_state WHERE user_id = ?), (SELECT sum(length(paper_id) * (vote * 2 + hidden)) FROM"
            " paper_state WHERE user_id = ?), (SELECT count(*) FROM lab_upvotes WHERE user_id = ?),"
            " (SELECT max(created_at) FROM lab_upvotes WHERE user_id = ?)", (user_id,) * 7).fetchone()
        return tuple(row)

    def remove(self, user_id: int, paper_id: str, tag: str | None = None) -> int:
        """Remove a paper from one tag, or from the whole library; returns rows removed."""
        if tag is None:
            return int(self.write("DELETE FROM library WHERE user_id = ? AND paper_id = ?", (user_id, paper_id)).rowcount)
        return int(self.write("DELETE FROM library WHERE user_id = ? AND paper_id = ? AND tag = ?",
                              (user_id, paper_id, clean_tag(tag))).rowcount)

    def delete_tag(self, user_id: int, tag: str) -> int:
        """Delete a tag (its papers stay under their other tags); returns papers untagged."""
        with self.store.transaction():
            shared = self.run("DELETE FROM library WHERE user_id = ? AND tag = ?", (user_id, clean_tag(tag))).rowcount
            private = self.run("DELETE FROM private_library WHERE user_id = ? AND tag = ?",
                               (user_id, clean_tag(tag))).rowcount
        return int(shared + private)

    def paper_ids(self, user_id: int, tag: str | None = None) -> list[str]:
        """Saved paper ids (under one tag, or all), most recently saved first."""
        if tag is None:
            rows = self.run("SELECT paper_id FROM library WHERE user_id = ? GROUP BY paper_id"
                            " ORDER BY max(saved_at) DESC, paper_id", (user_id,))
        else:
            rows = self.run("SELECT paper_id FROM library WHERE user_id = ? AND tag = ?"
                            " ORDER BY saved_at DESC, paper_id", (user_id, clean_tag(tag)))
        return [r[0] for r in rows]

    def set_note(self, user_id: int, paper_id: str, note: str) -> None:
        """Keep a private note on a paper (≤ 10,000 characters)."""
        if len(note) > 10000:
            raise UsageError("a note is at most 10,000 characters")
        self._mark(user_id, paper_id, "note", note or None)

    def set_read(self, user_id: int, paper_id: str, read: bool = True) -> None:
        """Mark a paper read (or unread)."""
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
        row = self.run("SELECT note, read_at, hidden, vote FROM paper_state WHERE user_id = ? AND paper_id = ?",
                       (user_id, paper_id)).fetchone()
        tags = tuple(r[0] for r in self.run(
            "SELECT tag FROM library WHERE user_id = ? AND paper_id = ? ORDER BY tag", (user_id, paper_id)))
        if not row:
            return PaperState(tags=tags)
        return PaperState(row[0], row[1], bool(row[2]), row[3], tags)

    def negatives(self, user_id: int) -> list[str]:
        """Papers this user hid or voted down."""
        return [r[0] for r in self.run(
            "SELECT paper_id FROM paper_state WHERE user_id = ? AND (hidden = 1 OR vote < 0)", (user_id,))]

    def upvoted(self, user_id: int) -> list[str]:
        """Papers this user voted up (positives even when not saved)."""
        return [r[0] for r in self.run(
            "SELECT paper_id FROM paper_state WHERE user_id = ? AND vote > 0", (user_id,))]

    def saved_searches(self, user_id: int) -> list[tuple[int, str, str]]:
        """(id, name, query) of this user's saved searches."""
        return self.run("SELECT id, name, query FROM saved_searches WHERE user_id = ? ORDER BY id",
                        (user_id,)).fetchall()


class LibraryRows(UserRows, LibraryQueries):
    """The library, paper_state and saved_searches tables on SQLite."""

    def save(self, user_id: int, paper_id: str, tags: Sequence[str]) -> None:
        """Save a paper under one or more tags (saving again is harmless)."""
        cleaned = [clean_tag(t) for t in tags] or ["saved"]
        with self.store.transaction():
            for tag in cleaned:
                self.conn.execute("INSERT OR IGNORE INTO library VALUES (?, ?, ?, ?)", (user_id, paper_id, tag, now_utc()))

    def tags(self, user_id: int) -> list[tuple[str, int]]:
        """(tag, number of papers) for this user, alphabetically."""
        return self.conn.execute(
            "SELECT tag, count(*) FROM (SELECT tag FROM library WHERE user_id = ?1"
            " UNION ALL SELECT tag FROM private_library WHERE user_id = ?1) GROUP BY tag ORDER BY tag COLLATE NOCASE",
            (user_id,)).fetchall()

    def rename_tag(self, user_id: int, old: str, new: str) -> None:
        """Rename a tag, merging into `new` if it already exists."""
        old, new = clean_tag(old), clean_tag(new)
        with self.store.transaction():
            self.conn.execute("INSERT OR IGNORE INTO library SELECT user_id, paper_id, ?, saved_at FROM library"
                              " WHERE user_id = ? AND tag = ?", (new, user_id, old))
            self.conn.execute("DELETE FROM library WHERE user_id = ? AND tag = ?", (user_id, old))
            self.conn.execute("INSERT OR IGNORE INTO private_library SELECT user_id, paper_id, ?, saved_at"
                              " FROM private_library WHERE user_id = ? AND tag = ?", (new, user_id, old))
            self.conn.execute("DELETE FROM private_library WHERE user_id = ? AND tag = ?", (user_id, old))

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

    def save_search(self, user_id: int, name: str, query: str) -> int:
        """Keep a query under a name (for its feed)."""
        checked_query(query)
        with self.store.transaction():
            cur = self.conn.execute("INSERT INTO saved_searches (user_id, name, query, created_at) VALUES (?, ?, ?, ?)",
                                    (user_id, clean_tag(name), query, now_utc()))
        return int(cur.lastrowid or 0)
