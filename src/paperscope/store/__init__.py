"""All SQL lives in this package: one module per thing stored, composed into one `Store`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..models import Batch
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

    def commit_batch(self, source: str, run_id: int, batch: Batch) -> dict[str, int]:
        """Write a batch's papers, its problems and the checkpoint after it, atomically."""
        return self.commit_batches(source, run_id, [batch])

    def commit_batches(self, source: str, run_id: int, batches: Sequence[Batch]) -> dict[str, int]:
        """Write consecutive batches in one transaction, each planned as if committed alone (what is stored does
        not depend on how many were joined), with the checkpoint after the last."""
        seen_at = now_utc()
        totals = {"added": 0, "updated": 0, "unchanged": 0}
        with self.transaction():
            for batch in batches:
                counts = self._upsert_many(batch.papers, seen_at, cleaned=batch.cleaned, prepared=batch.prepared)
                self.conn.executemany(
                    "INSERT INTO ingest_problems (run_id, record, reason) VALUES (?, ?, ?)",
                    [(run_id, pr.record, pr.reason) for pr in batch.problems],
                )
                self.conn.execute(
                    "UPDATE ingest_runs SET added = added + ?, updated = updated + ?, unchanged = unchanged + ?,"
                    " problems = problems + ? WHERE id = ?",
                    (counts["added"], counts["updated"], counts["unchanged"], len(batch.problems), run_id),
                )
                counts["updated"] += self._mark_withdrawn(batch.withdrawn, seen_at)
                for name, n in counts.items():
                    totals[name] += n
            checkpoints = [b.checkpoint for b in batches if b.checkpoint is not None]
            if checkpoints:
                self._set_checkpoint(source, checkpoints[-1])
        return totals

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
