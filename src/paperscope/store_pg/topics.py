"""The topic tables on PostgreSQL: the shared SQL of `store.topics`, run with `%s` placeholders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..store.topics import TopicQueries

if TYPE_CHECKING:
    from . import PgStore


class PgTopicRows(TopicQueries):
    """Topics, paper places and topic follows on PostgreSQL (`day` is a generated column there)."""

    MARK = "%s"
    WRITE_IN_TRANSACTION = False
    _DAY = "p.day"

    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.conn = store.conn
