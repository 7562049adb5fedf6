"""Records a user imported that match nothing in the catalogue: visible to their owner only, never shared."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Paper
from .accounts import UserRows, clean_tag
from .db import now_utc
from .records import PRIVATE, clean_stored_records, from_record, private_record, recleaned
from .rows import SqlRows

__all__ = ["PRIVATE", "PrivateQueries", "PrivateRows", "clean_stored_records", "from_record", "private_record",
           "recleaned"]

class PrivateQueries(SqlRows):
    """Private records' SQL that reads the same in SQLite and PostgreSQL; each backend's PrivateRows adds the rest."""

    def _put_record(self, user_id: int, pid: str, record: str, now: str) -> None:
        """Insert or refresh one private record (call inside the save's transaction)."""
        self.run("INSERT INTO private_papers VALUES (?, ?, ?, ?) ON CONFLICT (user_id, id)"
                 " DO UPDATE SET record = excluded.record", (user_id, pid, record, now))

    def private_ids(self, user_id: int, tag: str | None = None) -> list[str]:
        """This user's private record ids (under a tag, or all), newest first."""
        if tag is None:
            rows = self.run("SELECT id FROM private_papers WHERE user_id = ? ORDER BY created_at DESC, id",
                            (user_id,))
        else:
            rows = self.run("SELECT paper_id FROM private_library WHERE user_id = ? AND tag = ?"
                            " ORDER BY saved_at DESC, paper_id", (user_id, clean_tag(tag)))
        return [r[0] for r in rows]

    def private_tags(self, user_id: int) -> list[tuple[str, int]]:
        """(tag, count) over this user's private records."""
        return self.run("SELECT tag, count(*) FROM private_library WHERE user_id = ? GROUP BY tag",
                        (user_id,)).fetchall()

    def remove_private(self, user_id: int, paper_id: str) -> int:
        """Delete one of this user's private records (its tags go with it)."""
        return int(self.write("DELETE FROM private_papers WHERE user_id = ? AND id = ?", (user_id, paper_id)).rowcount)

    def all_marks(self, user_id: int) -> dict[str, dict[str, object]]:
        """Every note, read mark, hide and vote of this user (for the download of everything they own)."""
        rows = self.run("SELECT paper_id, note, read_at, hidden, vote FROM paper_state WHERE user_id = ?"
                        " ORDER BY paper_id", (user_id,)).fetchall()
        return {r[0]: {"note": r[1], "read_at": r[2], "hidden": bool(r[3]), "vote": r[4]} for r in rows}


class PrivateRows(UserRows, PrivateQueries):
    """The private_papers and private_library tables on SQLite; every query is scoped by the owner's id."""

    def save_private(self, user_id: int, paper: Paper, tags: Sequence[str]) -> str:
        """Keep (or refresh) this user's own copy of a record under tags; returns its private id."""
        pid, record = private_record(paper)
        now = now_utc()
        with self.store.transaction():
            self._put_record(user_id, pid, record, now)
            for tag in [clean_tag(t) for t in tags] or ["saved"]:
                self.conn.execute("INSERT OR IGNORE INTO private_library VALUES (?, ?, ?, ?)", (user_id, pid, tag, now))
        return pid

    def private_papers(self, user_id: int, ids: Sequence[str] | None = None) -> dict[str, Paper]:
        """This user's private records by id (all of them, or these)."""
        if ids is None:
            rows = self.conn.execute("SELECT id, record FROM private_papers WHERE user_id = ?", (user_id,)).fetchall()
        else:  # only these: a page of a large library reads its page, not every record
            wanted, rows = list(dict.fromkeys(ids)), []
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                rows += self.conn.execute("SELECT id, record FROM private_papers WHERE user_id = ? AND id IN"
                                          f" ({','.join('?' * len(chunk))})", (user_id, *chunk)).fetchall()
        return {i: from_record(r) for i, r in rows}
