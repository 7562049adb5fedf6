"""The lab's public layer: display names, daily submissions, upvotes, comments and follows.

Only what is listed here is ever shown to other users; libraries, notes and recommendation votes stay in
the per-user tables. Rules that need the current day or a user's role live in `paperscope.community`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import ForbiddenError, LimitError, NotFoundError, UsageError
from ..names import clean_display_name, lookalike
from .db import now_utc
from .pending import PendingQueries

if TYPE_CHECKING:
    from . import Store


@dataclass(frozen=True)
class Submission:
    """One paper on the lab's list of one day, with who submitted it (a display name, never an email)."""

    paper_id: str
    day: str
    user_id: int
    submitted_by: str
    submitted_at: str
    upvotes: int  # local upvotes only; imported ones stay in the paper's signals


@dataclass(frozen=True)
class Comment:
    """One comment; `body` is the Markdown source (rendered and sanitised at output)."""

    id: int
    paper_id: str
    user_id: int
    author: str
    parent_id: int | None
    body: str
    created_at: str
    edited_at: str | None
    deleted: bool
    hidden: bool
    html: str | None = None  # the body rendered and sanitised when written, by renderer `html_version`
    html_version: int = 0


@dataclass(frozen=True)
class Activity:
    """The public counts of one paper on this instance."""

    upvotes: int = 0
    comments: int = 0
    submitted_by: str | None = None
    submitted_on: str | None = None


def _now_ms() -> str:
    """Submission time to the millisecond (Hugging Face's `submittedOnDailyAt` format; orders same-second ties)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def default_name(user_id: int) -> str:
    """The name shown before a member picks one: never derived from the email."""
    return f"member-{user_id}"


def clean_name(name: str) -> str:
    """A display name: NFKC, 2-40 printable characters, no '@' (never an email address), no direction marks,
    not a reserved name (see `paperscope.names`)."""
    return clean_display_name(name)


_NAME = "coalesce(m.display_name, 'member-' || {0}.user_id)"
_COMMENT_COLUMNS = ("c.id, c.paper_id, c.user_id, " + _NAME.format("c") +
                    ", c.parent_id, c.body, c.created_at, c.edited_at, c.deleted, c.hidden, c.html, c.html_version")


def _comment(r: Sequence[Any]) -> Comment:
    return Comment(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), bool(r[9]), r[10], int(r[11] or 0))


def gather_activity(ids: Sequence[str], ups: dict[str, int], coms: dict[str, int],
                    subs: dict[str, tuple[str, str]]) -> dict[str, Activity]:
    """The Activity of each paper with any upvote, visible comment or submission, from the backend's counts."""
    out: dict[str, Activity] = {}
    for pid in ids:
        if pid in ups or pid in coms or pid in subs:
            name, at = subs.get(pid, (None, None))
            out[pid] = Activity(int(ups.get(pid, 0)), int(coms.get(pid, 0)), name, at)
    return out


def _submission(row: Sequence[Any]) -> Submission:
    return Submission(row[0], row[1], int(row[2]), row[3], row[4], int(row[5]))


class CommunityQueries(PendingQueries):
    """The lab's SQL that reads the same in SQLite and PostgreSQL; each backend's CommunityRows adds the rest."""

    # the upvotes a paper brought from its source (JSON in `papers.signals`), read in the backend's dialect
    _IMPORTED_UPVOTES = "json_extract(p.signals, '$.upvotes[0]')"

    def _checked_name(self, user_id: int, name: str) -> str:
        """A display name that is clean and not another member's default (uniqueness is the backend's write)."""
        value = clean_name(name)
        if value.lower().startswith("member-") and value.lower() != default_name(user_id):
            raise UsageError("names starting with 'member-' are reserved; choose another")
        others = (r[0] for r in self.run("SELECT display_name FROM lab_members WHERE user_id != ?", (user_id,)))
        if (twin := lookalike(value, others)) is not None:
            how = "is taken" if twin.casefold() == value.casefold() else f"looks like {twin!r}, another member's name"
            raise UsageError(f"the name {value!r} {how}; choose another")
        return value

    def _lock_member(self, user_id: int) -> None:
        """Serialise this member's counted writes (SQLite: BEGIN IMMEDIATE already serialises every writer)."""

    def submit(self, paper_id: str, user_id: int, day: str, limit: int) -> tuple[Submission, bool]:
        """Put a paper on a day's lab list (once per day); returns it and whether this call added it."""
        with self.store.transaction():
            existing = self.submission(paper_id, day)
            if existing:
                return existing, False
            self._lock_member(user_id)
            self._check_submission_limit(user_id, day, limit)
            added = self._insert_submission(day, paper_id, user_id)
            created = self.submission(paper_id, day)
        assert created is not None
        return created, added

    def add_comment(self, paper_id: str, user_id: int, body: str, parent_id: int | None, limit: int,
                    html: tuple[str, int] | None = None) -> int:
        """A new comment or reply (replies nest one level: a reply to a reply joins its parent), with its
        rendered HTML and the renderer's version when the caller rendered it."""
        with self.store.transaction():
            parent_id = self._thread_parent(paper_id, parent_id)
            self._lock_member(user_id)
            self._check_comment_limit(user_id, limit)
            cid = self._insert_comment(paper_id, user_id, parent_id, body)
            if html is not None:
                self.run("UPDATE lab_comments SET html = ?, html_version = ? WHERE id = ?", (*html, cid))
            return cid

    def set_comment_html(self, comment_id: int, html: str, version: int) -> None:
        """Keep a comment's rendered HTML (written once, or again when the renderer's version changes)."""
        self.write("UPDATE lab_comments SET html = ?, html_version = ? WHERE id = ?", (html, version, comment_id))

    if TYPE_CHECKING:  # each backend's CommunityRows: the INSERTs (SQLite's lastrowid, PostgreSQL's RETURNING)
        def _insert_submission(self, day: str, paper_id: str, user_id: int) -> bool: ...
        def _insert_comment(self, paper_id: str, user_id: int, parent_id: int | None, body: str) -> int: ...

    def _check_submission_limit(self, user_id: int, day: str, limit: int) -> None:
        """Refuse a submission past the day's limit (call inside the write's transaction)."""
        used = self.submissions_today(user_id, day)
        if used >= limit:
            raise LimitError(f"you have submitted {used} papers today, the limit of this instance "
                             f"(setting lab_submissions_per_day); try again tomorrow")

    def _check_comment_limit(self, user_id: int, limit: int) -> None:
        """Refuse a comment past the day's limit (call inside the write's transaction)."""
        used = self.run("SELECT count(*) FROM lab_comments WHERE user_id = ? AND created_at >= ?",
                        (user_id, now_utc()[:10])).fetchone()[0]
        if used >= limit:
            raise LimitError(f"you have written {used} comments today, the limit of this instance "
                             "(setting lab_comments_per_day); try again tomorrow")

    def _thread_parent(self, paper_id: str, parent_id: int | None) -> int | None:
        """The comment a reply hangs under: replies nest one level, so a reply to a reply joins its parent."""
        if parent_id is None:
            return None
        parent = self.comment(parent_id)
        if parent.paper_id != paper_id:
            raise UsageError("a reply belongs to a comment on the same paper")
        return parent.parent_id or parent.id

    def display_name(self, user_id: int) -> str:
        """The public name of a member."""
        row = self.run("SELECT display_name FROM lab_members WHERE user_id = ?", (user_id,)).fetchone()
        return str(row[0]) if row else default_name(user_id)

    def submissions_today(self, user_id: int, day: str) -> int:
        """How many papers this member submitted on a day, queued and failed fetches included (for the limit
        and the form's hint)."""
        return int(self.run("SELECT count(*) FROM lab_submissions WHERE user_id = ? AND day = ?",
                            (user_id, day)).fetchone()[0]) + self.pending_count(user_id, day)

    def withdraw(self, paper_id: str, user_id: int, day: str) -> None:
        """Take one's own submission of a day off the list; anyone else's is refused."""
        with self.store.transaction():
            sub = self.submission(paper_id, day)
            if sub is None:
                raise NotFoundError(f"{paper_id} is not on the lab list of {day}")
            if sub.user_id != user_id:
                raise ForbiddenError("only the member who submitted a paper can withdraw it")
            self.run("DELETE FROM lab_submissions WHERE day = ? AND paper_id = ?", (day, paper_id))

    _SUB = ("SELECT s.paper_id, s.day, s.user_id, " + _NAME.format("s") + ", s.submitted_at,"
            " (SELECT count(*) FROM lab_upvotes u WHERE u.paper_id = s.paper_id)"
            " FROM lab_submissions s LEFT JOIN lab_members m ON m.user_id = s.user_id")

    def submission(self, paper_id: str, day: str) -> Submission | None:
        """The submission of a paper on a day, if any."""
        row = self.run(self._SUB + " WHERE s.day = ? AND s.paper_id = ?", (day, paper_id)).fetchone()
        return _submission(row) if row else None

    def submissions_on_day(self, day: str, limit: int = 100, offset: int = 0) -> list[Submission]:
        """A day's lab list, most upvoted first (imported + local upvotes), then earliest submitted."""
        rows = self.run(
            self._SUB + " JOIN papers p ON p.id = s.paper_id WHERE s.day = ?"
            f" ORDER BY coalesce({self._IMPORTED_UPVOTES}, 0)"
            " + (SELECT count(*) FROM lab_upvotes u WHERE u.paper_id = s.paper_id) DESC, s.submitted_at, s.paper_id"
            " LIMIT ? OFFSET ?", (day, limit, offset)).fetchall()
        return [_submission(r) for r in rows]

    def count_submissions_on_day(self, day: str) -> int:
        """How many papers a day's lab list holds."""
        return int(self.run("SELECT count(*) FROM lab_submissions WHERE day = ?", (day,)).fetchone()[0])

    def submission_days(self, day: str) -> tuple[str | None, str | None]:
        """The nearest earlier and later days with lab submissions."""
        row = self.run("SELECT (SELECT max(day) FROM lab_submissions WHERE day < ?),"
                       " (SELECT min(day) FROM lab_submissions WHERE day > ?)", (day, day)).fetchone()
        return row[0], row[1]

    def latest_submission_day(self) -> str | None:
        """The most recent day with a lab submission."""
        return self.run("SELECT max(day) FROM lab_submissions").fetchone()[0]

    def submitted_since(self, day: str) -> dict[str, tuple[int, str]]:
        """paper id -> (how many days it was submitted, latest submission time), for days >= `day`."""
        rows = self.run("SELECT paper_id, count(*), max(submitted_at) FROM lab_submissions WHERE day >= ?"
                        " GROUP BY paper_id", (day,))
        return {r[0]: (int(r[1]), str(r[2])) for r in rows}

    def has_upvoted(self, user_id: int, paper_id: str) -> bool:
        """Whether this member upvoted this paper."""
        return self.run("SELECT 1 FROM lab_upvotes WHERE user_id = ? AND paper_id = ?",
                        (user_id, paper_id)).fetchone() is not None

    def upvoted_by(self, user_id: int) -> list[str]:
        """The papers a member upvoted, newest first (public, and positives for their recommender)."""
        return [r[0] for r in self.run(
            "SELECT paper_id FROM lab_upvotes WHERE user_id = ? ORDER BY created_at DESC, paper_id", (user_id,))]

    def comment(self, comment_id: int) -> Comment:
        """One comment by id, or NotFoundError."""
        row = self.run(f"SELECT {_COMMENT_COLUMNS} FROM lab_comments c"
                       " LEFT JOIN lab_members m ON m.user_id = c.user_id WHERE c.id = ?",
                       (comment_id,)).fetchone()
        if not row:
            raise NotFoundError(f"no comment {comment_id}")
        return _comment(row)

    def comments_of(self, paper_id: str) -> list[Comment]:
        """Every comment of a paper in thread order (each top-level comment, then its replies)."""
        rows = self.run(f"SELECT {_COMMENT_COLUMNS} FROM lab_comments c"
                        " LEFT JOIN lab_members m ON m.user_id = c.user_id WHERE c.paper_id = ?"
                        " ORDER BY coalesce(c.parent_id, c.id), c.parent_id IS NOT NULL, c.id",
                        (paper_id,)).fetchall()
        return [_comment(r) for r in rows]

    def edit_comment(self, comment_id: int, user_id: int, body: str, html: tuple[str, int] | None = None) -> Comment:
        """Change one's own comment (with its new rendered HTML); another member's is refused."""
        with self.store.transaction():
            c = self.comment(comment_id)
            if c.user_id != user_id:
                raise ForbiddenError("only its author can edit a comment")
            if c.deleted:
                raise UsageError("a deleted comment cannot be edited")
            rendered, version = html if html is not None else (None, 0)
            self.run("UPDATE lab_comments SET body = ?, edited_at = ?, html = ?, html_version = ? WHERE id = ?",
                     (body, now_utc(), rendered, version, comment_id))
        return self.comment(comment_id)

    def delete_comment(self, comment_id: int, user_id: int) -> Comment:
        """Delete one's own comment (its text goes; the place stays so replies keep their thread)."""
        with self.store.transaction():
            c = self.comment(comment_id)
            if c.user_id != user_id:
                raise ForbiddenError("only its author can delete a comment")
            self.run("UPDATE lab_comments SET body = '', html = NULL, deleted = 1, edited_at = ? WHERE id = ?",
                     (now_utc(), comment_id))
        return self.comment(comment_id)

    def set_comment_hidden(self, comment_id: int, hidden: bool) -> Comment:
        """Hide or show a comment (the caller checks that an admin asks)."""
        with self.store.transaction():
            self.comment(comment_id)
            self.run("UPDATE lab_comments SET hidden = ? WHERE id = ?", (int(hidden), comment_id))
        return self.comment(comment_id)

    def is_following(self, user_id: int, paper_id: str) -> bool:
        """Whether this member follows this paper."""
        return self.run("SELECT 1 FROM lab_follows WHERE user_id = ? AND paper_id = ?",
                        (user_id, paper_id)).fetchone() is not None

    def new_replies(self, user_id: int, since: str) -> list[Comment]:
        """Visible comments by others after `since` on papers this member follows, oldest first."""
        rows = self.run(
            f"SELECT {_COMMENT_COLUMNS} FROM lab_comments c JOIN lab_follows f ON f.paper_id = c.paper_id"
            " AND f.user_id = ? LEFT JOIN lab_members m ON m.user_id = c.user_id"
            " WHERE c.user_id != ? AND c.created_at > ? AND c.deleted = 0 AND c.hidden = 0 ORDER BY c.id",
            (user_id, user_id, since)).fetchall()
        return [_comment(r) for r in rows]


class CommunityRows(CommunityQueries):
    """SQL for the lab tables on SQLite; writes are one transaction each, so limits hold under concurrent requests."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn

    # --- display names ----------------------------------------------------------------------------

    def set_display_name(self, user_id: int, name: str) -> str:
        """Choose a public name; names are unique (case-insensitive) and may not look like another's default."""
        value = self._checked_name(user_id, name)
        with self.store.transaction():
            taken = self.conn.execute("SELECT user_id FROM lab_members WHERE display_name = ? AND user_id != ?",
                                      (value, user_id)).fetchone()
            if taken:
                raise UsageError(f"the name {value!r} is taken; choose another")
            self.conn.execute("INSERT INTO lab_members VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE"
                              " SET display_name = excluded.display_name", (user_id, value))
        return value

    # --- submissions ------------------------------------------------------------------------------

    def _insert_submission(self, day: str, paper_id: str, user_id: int) -> bool:
        # BEGIN IMMEDIATE serialises writers, so the paper checked absent is still absent
        self.conn.execute("INSERT INTO lab_submissions VALUES (?, ?, ?, ?)", (day, paper_id, user_id, _now_ms()))
        return True

    # --- upvotes ----------------------------------------------------------------------------------

    def upvote(self, user_id: int, paper_id: str) -> None:
        """One public upvote per member per paper: upvoting again changes nothing."""
        with self.store.transaction():
            self.conn.execute("INSERT OR IGNORE INTO lab_upvotes VALUES (?, ?, ?)", (user_id, paper_id, now_utc()))

    def unupvote(self, user_id: int, paper_id: str) -> None:
        """Take one's upvote back (nothing happens if there was none)."""
        with self.store.transaction():
            self.conn.execute("DELETE FROM lab_upvotes WHERE user_id = ? AND paper_id = ?", (user_id, paper_id))

    def upvote_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """Local upvotes per paper (papers without any are absent)."""
        out: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            out.update((r[0], int(r[1])) for r in self.conn.execute(
                f"SELECT paper_id, count(*) FROM lab_upvotes WHERE paper_id IN ({','.join('?' * len(chunk))})"
                " GROUP BY paper_id", chunk))
        return out

    # --- the public counts of papers --------------------------------------------------------------

    def activity(self, ids: Sequence[str]) -> dict[str, Activity]:
        """Local upvotes, visible comments and the latest submission of each paper (absent: no activity)."""
        out: dict[str, Activity] = {}
        for start in range(0, len(ids), 300):
            chunk = list(dict.fromkeys(ids[start:start + 300]))
            marks = ",".join("?" * len(chunk))
            ups = dict(self.conn.execute(f"SELECT paper_id, count(*) FROM lab_upvotes WHERE paper_id IN ({marks})"
                                         " GROUP BY paper_id", chunk).fetchall())
            coms = dict(self.conn.execute(f"SELECT paper_id, count(*) FROM lab_comments WHERE paper_id IN ({marks})"
                                          " AND deleted = 0 AND hidden = 0 GROUP BY paper_id", chunk).fetchall())
            subs = {r[0]: (r[1], r[2]) for r in self.conn.execute(
                f"SELECT s.paper_id, {_NAME.format('s')}, s.submitted_at FROM lab_submissions s"
                " LEFT JOIN lab_members m ON m.user_id = s.user_id"
                f" WHERE s.paper_id IN ({marks}) ORDER BY s.day", chunk)}  # the latest day wins
            out.update(gather_activity(chunk, ups, coms, subs))
        return out

    # --- comments ---------------------------------------------------------------------------------

    def _insert_comment(self, paper_id: str, user_id: int, parent_id: int | None, body: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO lab_comments (paper_id, user_id, parent_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
            (paper_id, user_id, parent_id, body, now_utc()))
        return int(cur.lastrowid or 0)

    # --- follows ----------------------------------------------------------------------------------

    def follow(self, user_id: int, paper_id: str, on: bool) -> None:
        """Follow a paper's discussion (replies reach the member's digest) or stop."""
        with self.store.transaction():
            if on:
                self.conn.execute("INSERT OR IGNORE INTO lab_follows VALUES (?, ?, ?)", (user_id, paper_id, now_utc()))
            else:
                self.conn.execute("DELETE FROM lab_follows WHERE user_id = ? AND paper_id = ?", (user_id, paper_id))
