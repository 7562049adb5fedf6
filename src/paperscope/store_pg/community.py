"""The lab's public layer on PostgreSQL: the twin of `store/community.py` (display names, daily
submissions, upvotes, comments, follows).

Limits hold under concurrent requests from several workers: a write that counts a member's rows first locks
that member's `users` row, so two requests of one member run one after the other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ForbiddenError, LimitError, NotFoundError, UsageError
from ..store.community import (
    _COMMENT_COLUMNS,
    _NAME,
    Activity,
    Comment,
    Submission,
    _comment,
    _now_ms,
    clean_name,
    default_name,
)
from ..store.db import now_utc
from .db import psycopg_modules

if TYPE_CHECKING:
    from . import PgStore


class PgCommunityRows:
    """SQL for the lab tables; writes are one transaction each."""

    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.conn = store.conn

    def _lock_member(self, user_id: int) -> None:
        self.conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))

    # --- display names ----------------------------------------------------------------------------

    def display_name(self, user_id: int) -> str:
        """The public name of a member."""
        row = self.conn.execute("SELECT display_name FROM lab_members WHERE user_id = %s", (user_id,)).fetchone()
        return str(row[0]) if row else default_name(user_id)

    def set_display_name(self, user_id: int, name: str) -> str:
        """Choose a public name; names are unique (case-insensitive) and may not look like another's default."""
        value = clean_name(name)
        if value.lower().startswith("member-") and value.lower() != default_name(user_id):
            raise UsageError("names starting with 'member-' are reserved; choose another")
        taken = UsageError(f"the name {value!r} is taken; choose another")
        psycopg, _ = psycopg_modules()
        try:
            with self.store.transaction():
                if self.conn.execute("SELECT user_id FROM lab_members WHERE lower(display_name) = lower(%s)"
                                     " AND user_id != %s", (value, user_id)).fetchone():
                    raise taken
                self.conn.execute("INSERT INTO lab_members VALUES (%s, %s) ON CONFLICT (user_id) DO UPDATE"
                                  " SET display_name = excluded.display_name", (user_id, value))
        except psycopg.errors.UniqueViolation:  # another member took it between the check and the write
            raise taken from None
        return value

    # --- submissions ------------------------------------------------------------------------------

    def submit(self, paper_id: str, user_id: int, day: str, limit: int) -> tuple[Submission, bool]:
        """Put a paper on a day's lab list (once per day); returns it and whether this call added it."""
        with self.store.transaction():
            existing = self.submission(paper_id, day)
            if existing:
                return existing, False
            self._lock_member(user_id)
            used = self.submissions_today(user_id, day)
            if used >= limit:
                raise LimitError(f"you have submitted {used} papers today, the limit of this instance "
                                 f"(setting lab_submissions_per_day); try again tomorrow")
            added = self.conn.execute("INSERT INTO lab_submissions VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                      (day, paper_id, user_id, _now_ms())).rowcount == 1
            created = self.submission(paper_id, day)
        assert created is not None
        return created, added

    def submissions_today(self, user_id: int, day: str) -> int:
        """How many papers this member submitted on a day (for the limit and the form's hint)."""
        return int(self.conn.execute("SELECT count(*) FROM lab_submissions WHERE user_id = %s AND day = %s",
                                     (user_id, day)).fetchone()[0])  # type: ignore[index]

    def withdraw(self, paper_id: str, user_id: int, day: str) -> None:
        """Take one's own submission of a day off the list; anyone else's is refused."""
        with self.store.transaction():
            sub = self.submission(paper_id, day)
            if sub is None:
                raise NotFoundError(f"{paper_id} is not on the lab list of {day}")
            if sub.user_id != user_id:
                raise ForbiddenError("only the member who submitted a paper can withdraw it")
            self.conn.execute("DELETE FROM lab_submissions WHERE day = %s AND paper_id = %s", (day, paper_id))

    _SUB = ("SELECT s.paper_id, s.day, s.user_id, " + _NAME.format("s") + ", s.submitted_at,"
            " (SELECT count(*) FROM lab_upvotes u WHERE u.paper_id = s.paper_id)"
            " FROM lab_submissions s LEFT JOIN lab_members m ON m.user_id = s.user_id")

    def submission(self, paper_id: str, day: str) -> Submission | None:
        """The submission of a paper on a day, if any."""
        row = self.conn.execute(self._SUB + " WHERE s.day = %s AND s.paper_id = %s", (day, paper_id)).fetchone()
        return _submission(row) if row else None

    def submissions_on_day(self, day: str, limit: int = 100, offset: int = 0) -> list[Submission]:
        """A day's lab list, most upvoted first (imported + local upvotes), then earliest submitted."""
        rows = self.conn.execute(
            self._SUB + " JOIN papers p ON p.id = s.paper_id WHERE s.day = %s"
            " ORDER BY coalesce((p.signals::jsonb -> 'upvotes' ->> 0)::numeric, 0)"
            " + (SELECT count(*) FROM lab_upvotes u WHERE u.paper_id = s.paper_id) DESC, s.submitted_at, s.paper_id"
            " LIMIT %s OFFSET %s", (day, limit, offset)).fetchall()
        return [_submission(r) for r in rows]

    def count_submissions_on_day(self, day: str) -> int:
        """How many papers a day's lab list holds."""
        return int(self.conn.execute("SELECT count(*) FROM lab_submissions WHERE day = %s",
                                     (day,)).fetchone()[0])  # type: ignore[index]

    def submission_days(self, day: str) -> tuple[str | None, str | None]:
        """The nearest earlier and later days with lab submissions."""
        row = self.conn.execute("SELECT (SELECT max(day) FROM lab_submissions WHERE day < %s),"
                                " (SELECT min(day) FROM lab_submissions WHERE day > %s)", (day, day)).fetchone()
        assert row is not None
        return row[0], row[1]

    def latest_submission_day(self) -> str | None:
        """The most recent day with a lab submission."""
        return self.conn.execute("SELECT max(day) FROM lab_submissions").fetchone()[0]  # type: ignore[index]

    def submitted_since(self, day: str) -> dict[str, tuple[int, str]]:
        """paper id -> (how many days it was submitted, latest submission time), for days >= `day`."""
        rows = self.conn.execute("SELECT paper_id, count(*), max(submitted_at) FROM lab_submissions"
                                 " WHERE day >= %s GROUP BY paper_id", (day,))
        return {r[0]: (int(r[1]), str(r[2])) for r in rows}

    # --- upvotes ----------------------------------------------------------------------------------

    def upvote(self, user_id: int, paper_id: str) -> None:
        """One public upvote per member per paper: upvoting again changes nothing."""
        self.conn.execute("INSERT INTO lab_upvotes VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                          (user_id, paper_id, now_utc()))

    def unupvote(self, user_id: int, paper_id: str) -> None:
        """Take one's upvote back (nothing happens if there was none)."""
        self.conn.execute("DELETE FROM lab_upvotes WHERE user_id = %s AND paper_id = %s", (user_id, paper_id))

    def has_upvoted(self, user_id: int, paper_id: str) -> bool:
        """Whether this member upvoted this paper."""
        return self.conn.execute("SELECT 1 FROM lab_upvotes WHERE user_id = %s AND paper_id = %s",
                                 (user_id, paper_id)).fetchone() is not None

    def upvoted_by(self, user_id: int) -> list[str]:
        """The papers a member upvoted, newest first (public, and positives for their recommender)."""
        return [r[0] for r in self.conn.execute(
            "SELECT paper_id FROM lab_upvotes WHERE user_id = %s ORDER BY created_at DESC, paper_id", (user_id,))]

    def upvote_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """Local upvotes per paper (papers without any are absent)."""
        if not ids:
            return {}
        return {r[0]: int(r[1]) for r in self.conn.execute(
            "SELECT paper_id, count(*) FROM lab_upvotes WHERE paper_id = ANY(%s) GROUP BY paper_id", (list(ids),))}

    # --- the public counts of papers --------------------------------------------------------------

    def activity(self, ids: Sequence[str]) -> dict[str, Activity]:
        """Local upvotes, visible comments and the latest submission of each paper (absent: no activity)."""
        chunk = list(dict.fromkeys(ids))
        if not chunk:
            return {}
        ups = dict(self.conn.execute("SELECT paper_id, count(*) FROM lab_upvotes WHERE paper_id = ANY(%s)"
                                     " GROUP BY paper_id", (chunk,)).fetchall())
        coms = dict(self.conn.execute("SELECT paper_id, count(*) FROM lab_comments WHERE paper_id = ANY(%s)"
                                      " AND deleted = 0 AND hidden = 0 GROUP BY paper_id", (chunk,)).fetchall())
        subs = {r[0]: (r[1], r[2]) for r in self.conn.execute(
            f"SELECT s.paper_id, {_NAME.format('s')}, s.submitted_at FROM lab_submissions s"
            " LEFT JOIN lab_members m ON m.user_id = s.user_id"
            " WHERE s.paper_id = ANY(%s) ORDER BY s.day", (chunk,))}  # the latest day wins
        out: dict[str, Activity] = {}
        for pid in chunk:
            if pid in ups or pid in coms or pid in subs:
                name, at = subs.get(pid, (None, None))
                out[pid] = Activity(int(ups.get(pid, 0)), int(coms.get(pid, 0)), name, at)
        return out

    # --- comments ---------------------------------------------------------------------------------

    def add_comment(self, paper_id: str, user_id: int, body: str, parent_id: int | None, limit: int) -> int:
        """A new comment or reply (replies nest one level: a reply to a reply joins its parent)."""
        with self.store.transaction():
            if parent_id is not None:
                parent = self.comment(parent_id)
                if parent.paper_id != paper_id:
                    raise UsageError("a reply belongs to a comment on the same paper")
                parent_id = parent.parent_id or parent.id
            self._lock_member(user_id)
            used = self.conn.execute("SELECT count(*) FROM lab_comments WHERE user_id = %s AND created_at >= %s",
                                     (user_id, now_utc()[:10])).fetchone()[0]  # type: ignore[index]
            if used >= limit:
                raise LimitError(f"you have written {used} comments today, the limit of this instance "
                                 "(setting lab_comments_per_day); try again tomorrow")
            row = self.conn.execute(
                "INSERT INTO lab_comments (paper_id, user_id, parent_id, body, created_at)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING id", (paper_id, user_id, parent_id, body, now_utc())).fetchone()
        assert row is not None
        return int(row[0])

    def comment(self, comment_id: int) -> Comment:
        """One comment by id, or NotFoundError."""
        row = self.conn.execute(f"SELECT {_COMMENT_COLUMNS} FROM lab_comments c"
                                " LEFT JOIN lab_members m ON m.user_id = c.user_id WHERE c.id = %s",
                                (comment_id,)).fetchone()
        if not row:
            raise NotFoundError(f"no comment {comment_id}")
        return _comment(row)

    def comments_of(self, paper_id: str) -> list[Comment]:
        """Every comment of a paper in thread order (each top-level comment, then its replies)."""
        rows = self.conn.execute(f"SELECT {_COMMENT_COLUMNS} FROM lab_comments c"
                                 " LEFT JOIN lab_members m ON m.user_id = c.user_id WHERE c.paper_id = %s"
                                 " ORDER BY coalesce(c.parent_id, c.id), c.parent_id IS NOT NULL, c.id",
                                 (paper_id,)).fetchall()
        return [_comment(r) for r in rows]

    def edit_comment(self, comment_id: int, user_id: int, body: str) -> Comment:
        """Change one's own comment; another member's is refused."""
        with self.store.transaction():
            c = self.comment(comment_id)
            if c.user_id != user_id:
                raise ForbiddenError("only its author can edit a comment")
            if c.deleted:
                raise UsageError("a deleted comment cannot be edited")
            self.conn.execute("UPDATE lab_comments SET body = %s, edited_at = %s WHERE id = %s",
                              (body, now_utc(), comment_id))
        return self.comment(comment_id)

    def delete_comment(self, comment_id: int, user_id: int) -> Comment:
        """Delete one's own comment (its text goes; the place stays so replies keep their thread)."""
        with self.store.transaction():
            c = self.comment(comment_id)
            if c.user_id != user_id:
                raise ForbiddenError("only its author can delete a comment")
            self.conn.execute("UPDATE lab_comments SET body = '', deleted = 1, edited_at = %s WHERE id = %s",
                              (now_utc(), comment_id))
        return self.comment(comment_id)

    def set_comment_hidden(self, comment_id: int, hidden: bool) -> Comment:
        """Hide or show a comment (the caller checks that an admin asks)."""
        with self.store.transaction():
            self.comment(comment_id)
            self.conn.execute("UPDATE lab_comments SET hidden = %s WHERE id = %s", (int(hidden), comment_id))
        return self.comment(comment_id)

    # --- follows ----------------------------------------------------------------------------------

    def follow(self, user_id: int, paper_id: str, on: bool) -> None:
        """Follow a paper's discussion (replies reach the member's digest) or stop."""
        if on:
            self.conn.execute("INSERT INTO lab_follows VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                              (user_id, paper_id, now_utc()))
        else:
            self.conn.execute("DELETE FROM lab_follows WHERE user_id = %s AND paper_id = %s", (user_id, paper_id))

    def is_following(self, user_id: int, paper_id: str) -> bool:
        """Whether this member follows this paper."""
        return self.conn.execute("SELECT 1 FROM lab_follows WHERE user_id = %s AND paper_id = %s",
                                 (user_id, paper_id)).fetchone() is not None

    def new_replies(self, user_id: int, since: str) -> list[Comment]:
        """Visible comments by others after `since` on papers this member follows, oldest first."""
        rows = self.conn.execute(
            f"SELECT {_COMMENT_COLUMNS} FROM lab_comments c JOIN lab_follows f ON f.paper_id = c.paper_id"
            " AND f.user_id = %s LEFT JOIN lab_members m ON m.user_id = c.user_id"
            " WHERE c.user_id != %s AND c.created_at > %s AND c.deleted = 0 AND c.hidden = 0 ORDER BY c.id",
            (user_id, user_id, since)).fetchall()
        return [_comment(r) for r in rows]


def _submission(row: Sequence[Any]) -> Submission:
    return Submission(row[0], row[1], int(row[2]), row[3], row[4], int(row[5]))
