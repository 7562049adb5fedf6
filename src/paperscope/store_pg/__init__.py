"""The PostgreSQL twin of `store`: the same public methods over a psycopg 3 connection pool.

One module per thing stored, as in `store/`: papers, embeddings, runs (+ index state, instance secrets),
accounts, library, outbox; `vectors` is the pgvector index, `migrate` copies an embedded install here.
To port a new SQLite store method: copy it into the twin module, `?` → `%s`, `INSERT OR IGNORE` →
`ON CONFLICT DO NOTHING`, `cur.lastrowid` → `RETURNING id`; the backend-parametrised tests then cover it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..models import Batch
from ..store.db import now_utc
from .db import LOCK_PAPERS
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

    def commit_batch(self, source: str, run_id: int, batch: Batch) -> dict[str, int]:
        """Write a batch's papers, its problems and the checkpoint after it, atomically."""
        return self.commit_batches(source, run_id, [batch])

    def commit_batches(self, source: str, run_id: int, batches: Sequence[Batch]) -> dict[str, int]:
        """Write consecutive batches in one transaction, each planned as if committed alone (what is stored does
        not depend on how many were joined), with the checkpoint after the last."""
        seen_at = now_utc()
        totals = {"added": 0, "updated": 0, "unchanged": 0}
        with self.transaction(LOCK_PAPERS):
            for batch in batches:
                counts = self._upsert_many(batch.papers, seen_at, cleaned=batch.cleaned, prepared=batch.prepared)
                self.conn.executemany("INSERT INTO ingest_problems (run_id, record, reason) VALUES (%s, %s, %s)",
                                      [(run_id, pr.record, pr.reason) for pr in batch.problems])
                self.conn.execute(
                    "UPDATE ingest_runs SET added = added + %s, updated = updated + %s, unchanged = unchanged + %s,"
                    " problems = problems + %s WHERE id = %s",
                    (counts["added"], counts["updated"], counts["unchanged"], len(batch.problems), run_id))
                counts["updated"] += self._mark_withdrawn(batch.withdrawn, seen_at)
                for name, n in counts.items():
                    totals[name] += n
            checkpoints = [b.checkpoint for b in batches if b.checkpoint is not None]
            if checkpoints:
                self._set_checkpoint(source, checkpoints[-1])
        return totals

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
