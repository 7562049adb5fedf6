"""The pgvector index: vectors stay in the `embeddings` table; one HNSW index per model (cosine, halfvec).

Filters (dates, categories, allowed ids) are `WHERE` clauses inside the index scan, with
`hnsw.iterative_scan = relaxed_order` so a selective filter keeps scanning instead of returning too few
rows; the candidates are re-sorted by exact distance. Implements `backends.VectorIndex`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..index import day_number
from ..models import Filters, Paper
from .embeddings import from_literal

EF_SEARCH = 100  # measured at 200k: recall@10 0.994 at p50 2 ms (docs/DESIGN.md)


def _literal(query: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in np.asarray(query, np.float32).reshape(-1)) + "]"


@dataclass(frozen=True)
class PgMask:
    """What `search` admits: the filters and, if given, only these paper ids."""

    filters: Filters
    ids: tuple[str, ...] | None = None


class PgVectorIndex:
    """Nearest neighbours of one model's vectors in PostgreSQL (the vectors are the store's rows)."""

    def __init__(self, store: Any, model: str, dim: int) -> None:
        self.store, self.model, self.dim = store, model, dim
        self.model_id = store.model_id(model, dim)
        self.state_key = f"vectors:{model}"
        self._cast = f"halfvec({int(dim)})"

    @property
    def last_seq(self) -> int:
        """How far the index has followed the store's vectors (recorded in the database)."""
        return int(self.store.index_seq(self.state_key))

    def __len__(self) -> int:
        return int(self.store.conn.execute("SELECT count(*) FROM embeddings WHERE model_id = %s",
                                           (self.model_id,)).fetchone()[0])

    def _index_name(self) -> str:
        return f"embeddings_hnsw_{self.model_id}"

    def catch_up(self, rebuild: bool = False) -> int:
        """Build the model's HNSW index if missing (pgvector keeps it current on every write); count new vectors."""
        name = self._index_name()
        with self.store.transaction():
            if rebuild:
                self.store.conn.execute(f"DROP INDEX IF EXISTS {name}")
                self.store.set_index_seq(self.state_key, 0)
            self.store.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON embeddings"
                f" USING hnsw ((vector::{self._cast}) halfvec_cosine_ops)"
                f" WITH (m = 16, ef_construction = 64) WHERE model_id = {int(self.model_id)}")
        since = self.last_seq
        new = self.store.count_embeddings_since(self.model_id, since)
        if new:  # fresh statistics, so the planner sees how many rows the HNSW index saves it from sorting
            self.store.conn.execute("ANALYZE embeddings")
        top = self.store.conn.execute("SELECT coalesce(max(seq), 0) FROM embeddings WHERE model_id = %s",
                                      (self.model_id,)).fetchone()[0]
        self.store.set_index_seq(self.state_key, max(int(top), since))
        return int(new)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, papers: Sequence[Paper], last_seq: int) -> None:
        """Nothing to copy: the store's `embeddings` rows are this index; record how far it has followed."""
        self.store.set_index_seq(self.state_key, last_seq)

    def mask(self, filters: Filters, allowed_ids: Sequence[str] | None = None) -> PgMask | None:
        """The admission rule for `search` (None: everything)."""
        if not filters and allowed_ids is None:
            return None
        return PgMask(filters, None if allowed_ids is None else tuple(allowed_ids))

    def vector(self, paper_id: str) -> np.ndarray | None:
        """A stored paper's vector as float32, or None."""
        row = self.store.conn.execute("SELECT vector::text FROM embeddings WHERE model_id = %s AND paper_id = %s",
                                      (self.model_id, paper_id)).fetchone()
        return None if row is None else from_literal(row[0])

    def vectors_of(self, ids: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """The vectors of those ids that have one (float32 rows) and the ids, in the order asked."""
        rows = dict(self.store.conn.execute(
            "SELECT paper_id, vector::text FROM embeddings WHERE model_id = %s AND paper_id = ANY(%s)",
            (self.model_id, list(ids))).fetchall()) if ids else {}
        found = [i for i in dict.fromkeys(ids) if i in rows]
        if not found:
            return np.zeros((0, self.dim), np.float32), []
        return np.vstack([from_literal(rows[i]) for i in found]), found

    def _where(self, mask: PgMask | None, exclude: Sequence[str] = ()) -> tuple[list[str], list[Any]]:
        where, params = ["model_id = %s"], [self.model_id]
        f = mask.filters if mask else Filters()
        if f.since:
            where.append("day >= %s")
            params.append(day_number(f.since))
        if f.until:
            where.append("day <= %s")
            params.append(day_number(f.until))
        if f.categories:
            where.append("cats && %s")
            params.append(list(f.categories))
        if mask is not None and mask.ids is not None:
            where.append("paper_id = ANY(%s)")
            params.append(list(mask.ids))
        if exclude:
            where.append("NOT (paper_id = ANY(%s))")
            params.append(list(exclude))
        return where, params

    def count(self, mask: PgMask | None) -> int:
        """How many vectors a mask from `mask()` admits."""
        where, params = self._where(mask)
        return int(self.store.conn.execute(f"SELECT count(*) FROM embeddings WHERE {' AND '.join(where)}",
                                           params).fetchone()[0])

    def cosines(self, query: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Exact cosine of the query with these papers' stored vectors (papers without one are left out)."""
        if not ids:
            return {}
        rows = self.store.conn.execute(
            f"SELECT paper_id, 1 - (vector::{self._cast} <=> %s::{self._cast}) FROM embeddings"
            " WHERE model_id = %s AND paper_id = ANY(%s)", (_literal(query), self.model_id, list(ids))).fetchall()
        return {pid: float(c) for pid, c in rows}

    def search(self, query: np.ndarray, k: int, mask: PgMask | None = None,
               exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
        """Top-k (id, cosine) by HNSW with the filters inside the scan, re-sorted by exact distance."""
        if k <= 0:
            return []
        where, params = self._where(mask, exclude)
        q = _literal(query)
        sql = (f"WITH c AS MATERIALIZED (SELECT paper_id, vector::{self._cast} <=> %s::{self._cast} AS d"
               f" FROM embeddings WHERE {' AND '.join(where)} ORDER BY d LIMIT %s)"
               " SELECT paper_id, d FROM c ORDER BY d")
        with self.store.transaction() as conn:
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, min(int(k), 1000))}")
            conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            rows = conn.execute(sql, [q, *params, int(k)]).fetchall()
        return [(pid, 1.0 - float(d)) for pid, d in rows]

    def size_bytes(self) -> int:
        """Bytes the model's HNSW index takes in the database."""
        row = self.store.conn.execute("SELECT coalesce(pg_relation_size(to_regclass(%s)), 0)",
                                      (self._index_name(),)).fetchone()
        return int(row[0])
