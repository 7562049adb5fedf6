"""The lab's public layer on the PostgreSQL backend: not ported yet, so it reads as empty and refuses writes.

Pages, feeds, trending and digests keep working on a server install (no lab counts, no submissions);
every write says what to do instead of failing with an AttributeError. Port `store/community.py` here
(and its tables to `store_pg/schema.py`) to enable the lab's daily list on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import StoreError
from ..store.community import Activity, Comment, Submission, default_name

_REFUSE = ("the lab's daily list (submissions, upvotes, comments) is not yet available on the PostgreSQL "
           "backend; run this instance on the embedded SQLite store to use it")


class PgCommunityRows:
    """Reads answer 'nothing yet'; writes raise a StoreError that names the limitation."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise StoreError(_REFUSE)

    set_display_name = submit = withdraw = upvote = unupvote = add_comment = _refuse
    edit_comment = delete_comment = set_comment_hidden = follow = _refuse

    def display_name(self, user_id: int) -> str:
        """The default public name (no names are stored here yet)."""
        return default_name(user_id)

    def submissions_today(self, user_id: int, day: str) -> int:
        """No submissions on this backend yet."""
        return 0

    def submission(self, paper_id: str, day: str) -> Submission | None:
        """No submissions on this backend yet."""
        return None

    def submissions_on_day(self, day: str, limit: int = 100, offset: int = 0) -> list[Submission]:
        """No submissions on this backend yet."""
        return []

    def count_submissions_on_day(self, day: str) -> int:
        """No submissions on this backend yet."""
        return 0

    def submission_days(self, day: str) -> tuple[str | None, str | None]:
        """No submission days on this backend yet."""
        return None, None

    def latest_submission_day(self) -> str | None:
        """No submission days on this backend yet."""
        return None

    def submitted_since(self, day: str) -> dict[str, tuple[int, str]]:
        """No submissions on this backend yet."""
        return {}

    def has_upvoted(self, user_id: int, paper_id: str) -> bool:
        """No upvotes on this backend yet."""
        return False

    def upvoted_by(self, user_id: int) -> list[str]:
        """No upvotes on this backend yet."""
        return []

    def upvote_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """No upvotes on this backend yet."""
        return {}

    def activity(self, ids: Sequence[str]) -> dict[str, Activity]:
        """No local activity on this backend yet."""
        return {}

    def comment(self, comment_id: int) -> Comment:
        """No comments on this backend yet."""
        from ..errors import NotFoundError

        raise NotFoundError(f"no comment {comment_id}")

    def comments_of(self, paper_id: str) -> list[Comment]:
        """No comments on this backend yet."""
        return []

    def is_following(self, user_id: int, paper_id: str) -> bool:
        """No follows on this backend yet."""
        return False

    def new_replies(self, user_id: int, since: str) -> list[Comment]:
        """No comments on this backend yet."""
        return []
