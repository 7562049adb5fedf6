"""The PostgreSQL twin of `store`: the same public methods over a psycopg 3 connection pool.

One module per thing stored, as in `store/`: papers, embeddings, runs (+ index state, instance secrets),
accounts, library, outbox; `vectors` is the pgvector index, `migrate` copies an embedded install here.
To port a new SQLite store method: copy it into the twin module, `?` → `%s`, `INSERT OR IGNORE` →
`ON CONFLICT DO NOTHING`, `cur.lastrowid` → `RETURNING id`; the backend-parametrised tests then cover it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .embeddings import PgEmbeddingRows
from .papers import PgPaperRows
from .runs import PgRunRows

if TYPE_CHECKING:
    from .citations import PgCitationRows
    from .community import PgCommunityRows
    from .topics import PgTopicRows
    from .users import PgUserStore

__all__ = ["PgStore"]


class PgStore(PgPaperRows, PgEmbeddingRows, PgRunRows):
    """The one owner of a server install's PostgreSQL database (papers, vectors, users, ingest state)."""

    @property
    def users(self) -> PgUserStore:
        """Accounts, libraries, votes and digests: the per-user half of the store."""
        from .users import PgUserStore

        return PgUserStore(self)

    @property
    def citations(self) -> PgCitationRows:
        """Citation edges and per-source counts (OpenAlex, Semantic Scholar)."""
        from .citations import PgCitationRows

        return PgCitationRows(self)

    @property
    def community(self) -> PgCommunityRows:
        """The lab's public layer: submissions, upvotes, comments, follows and display names."""
        from .community import PgCommunityRows

        return PgCommunityRows(self)

    @property
    def topics(self) -> PgTopicRows:
        """Topics found in the papers, each paper's topics and place on the map, and members' topic follows."""
        from .topics import PgTopicRows

        return PgTopicRows(self)
