"""Citation edges and counts on PostgreSQL: the shared SQL of `store/citations.py` with `%s` placeholders; a
write that touches papers.signals takes the papers' writer lock, as ingest does."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from ..store.citations import CitationQueries
from .db import LOCK_PAPERS


class PgCitationRows(CitationQueries):
    """The PostgreSQL twin of `CitationRows`."""

    MARK = "%s"

    def _papers_transaction(self) -> AbstractContextManager[Any]:
        return self.store.transaction(LOCK_PAPERS)  # type: ignore[no-any-return]
