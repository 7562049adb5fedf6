"""Embedding rows on PostgreSQL: the twin of `store/embeddings.py`, vectors held as pgvector `halfvec`.

Each row also carries its paper's day number and categories, so the pgvector index filters inside the
HNSW scan without a join (refreshed whenever the paper's change number moves)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import StoreError
from .db import PgDatabase

# days since 1970 of a stored ISO date (NULL when there is none), and the category list, from a papers row
DAY_OF = ("CASE WHEN p.published ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN"
          " substr(p.published, 1, 10)::date - DATE '1970-01-01' END")
CATS_OF = "ARRAY(SELECT jsonb_array_elements_text(p.categories::jsonb))"


def to_literal(blob: bytes) -> str:
    """float16 vector bytes as a pgvector literal."""
    return "[" + ",".join(repr(float(x)) for x in np.frombuffer(blob, np.float16)) + "]"


def from_literal(text: str) -> np.ndarray:
    """A pgvector text value as float32."""
    return np.array(text[1:-1].split(","), np.float32) if len(text) > 2 else np.zeros(0, np.float32)


class PgEmbeddingRows(PgDatabase):
    """Vectors of each registered model; a model name keeps one dimension for ever."""

    def model_id(self, name: str, dim: int) -> int:
        """Register an embedding model (or find it); a known name with another dimension is an error."""
        self.conn.execute("INSERT INTO embedding_models (name, dim) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                          (name, dim))
        mid, stored = self.conn.execute("SELECT id, dim FROM embedding_models WHERE name = %s", (name,)).fetchone()
        if stored != dim:
            raise StoreError(f"model {name!r} was stored with dimension {stored}, now it gives {dim}; "
                             "vectors of two models are never mixed: configure another model name")
        return int(mid)

    def models(self) -> list[tuple[str, int, int]]:
        """(name, dim, vectors stored) for every model that has embedded anything."""
        return self.conn.execute(
            "SELECT m.name, m.dim, count(e.paper_id) FROM embedding_models m"
            " LEFT JOIN embeddings e ON e.model_id = m.id GROUP BY m.id ORDER BY m.id").fetchall()

    def count_to_embed(self, model_id: int) -> int:
        """How many papers have no vector for this model, or changed since theirs was made."""
        return int(self.conn.execute(
            "SELECT count(*) FROM papers p LEFT JOIN embeddings e ON e.paper_id = p.id AND e.model_id = %s"
            " WHERE e.paper_id IS NULL OR e.seq < p.seq", (model_id,)).fetchone()[0])

    def papers_to_embed(self, model_id: int, after_seq: int, limit: int) -> list[tuple[str, int, str, str, str | None]]:
        """(id, seq, title, abstract, stored text hash) of papers after `after_seq` whose vector is missing or stale."""
        return self.conn.execute(
            "SELECT p.id, p.seq, p.title, p.abstract, e.text_hash FROM papers p"
            " LEFT JOIN embeddings e ON e.paper_id = p.id AND e.model_id = %s"
            " WHERE p.seq > %s AND (e.paper_id IS NULL OR e.seq < p.seq) ORDER BY p.seq LIMIT %s",
            (model_id, after_seq, limit)).fetchall()

    def save_embeddings(self, model_id: int, rows: Sequence[tuple[str, int, str, bytes | None]]) -> None:
        """Store (id, seq, text hash, float16 vector bytes) in one transaction; `None` bytes only bump seq."""
        with self.transaction():
            self.conn.executemany(
                f"UPDATE embeddings e SET seq = %s, day = {DAY_OF}, cats = {CATS_OF} FROM papers p"
                " WHERE p.id = e.paper_id AND e.paper_id = %s AND e.model_id = %s",
                [(seq, pid, model_id) for pid, seq, _, blob in rows if blob is None])
            self.conn.executemany(
                f"INSERT INTO embeddings SELECT p.id, %s, %s, %s, %s::halfvec, {DAY_OF}, {CATS_OF}"
                " FROM papers p WHERE p.id = %s ON CONFLICT (paper_id, model_id) DO UPDATE SET seq = excluded.seq,"
                " text_hash = excluded.text_hash, vector = excluded.vector, day = excluded.day, cats = excluded.cats",
                [(model_id, seq, text_hash, to_literal(blob), pid) for pid, seq, text_hash, blob in rows
                 if blob is not None])

    def count_embeddings_since(self, model_id: int, seq: int) -> int:
        """How many vectors of a model were made after change number `seq`."""
        return int(self.conn.execute("SELECT count(*) FROM embeddings WHERE model_id = %s AND seq > %s",
                                     (model_id, seq)).fetchone()[0])

    def embeddings_since(self, model_id: int, seq: int, limit: int) -> list[tuple[str, int, bytes]]:
        """(paper id, seq, float16 vector bytes) made after change `seq`, in change order (for index updates)."""
        rows = self.conn.execute(
            "SELECT paper_id, seq, vector::text FROM embeddings WHERE model_id = %s AND seq > %s ORDER BY seq"
            " LIMIT %s", (model_id, seq, limit)).fetchall()
        return [(pid, int(s), from_literal(v).astype(np.float16).tobytes()) for pid, s, v in rows]
