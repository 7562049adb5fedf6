"""All SQL lives in this package: one module per thing stored, composed into one `Store`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .db import Database, now_utc
from .embeddings import EmbeddingRows
from .papers import PaperRows, name_key
from .runs import RunRows

if TYPE_CHECKING:
    from .citations import CitationRows
    from .community import CommunityRows
    from .topics import TopicRows
    from .users import UserStore

__all__ = ["Database", "Store", "name_key", "now_utc"]


class Store(PaperRows, EmbeddingRows, RunRows):
    """The one owner of the SQLite database of a data directory (the embedded backend)."""

    @property
    def users(self) -> UserStore:
        """Accounts, libraries, votes and digests: the per-user half of the store."""
        from .users import UserStore

        return UserStore(self)

    @property
    def citations(self) -> CitationRows:
        """Citation edges and per-source counts (OpenAlex, Semantic Scholar)."""
        from .citations import CitationRows

        return CitationRows(self)

    @property
    def community(self) -> CommunityRows:
        """The lab's public layer: submissions, upvotes, comments, follows and display names."""
        from .community import CommunityRows

        return CommunityRows(self)

    @property
    def topics(self) -> TopicRows:
        """Topics found in the papers, each paper's topics and place on the map, and members' topic follows."""
        from .topics import TopicRows

        return TopicRows(self)
