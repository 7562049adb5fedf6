"""Embedding rows: one vector per paper and model, stamped with the paper's change number."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import StoreError
from .db import Database


class EmbeddingRows(Database):
    """Vectors of each registered model; a model name keeps one dimension for ever."""

    def model_id(self, name: str, dim: int) -> int:
        """Register an embedding model (or find it); a known name with another dimension is an error."""
        row = self.conn.execute("SELECT id, dim FROM embedding_models WHERE name = ?", (name,)).fetchone()
        if row:
            if row[1] != dim:
                raise StoreError(f"model {name!r} was stored with dimension {row[1]}, now it gives {dim}; "
                                 "vectors of two models are never mixed: configure another model name")
            return int(row[0])
        with self.transaction():
            cur = self.conn.execute("INSERT INTO embedding_models (name, dim) VALUES (?, ?)", (name, dim))
        return int(cur.lastrowid or 0)

    def models(self) -> list[tuple[str, int, int]]:
        """(name, dim, vectors stored) for every model that has embedded anything."""
        return self.conn.execute(
            "SELECT m.name, m.dim, count(e.paper_id) FROM embedding_models m"
            " LEFT JOIN embeddings e ON e.model_id = m.id GROUP BY m.id ORDER BY m.id"
        ).fetchall()

    def count_to_embed(self, model_id: int) -> int:
        """How many papers have no vector for this model, or changed since theirs was made."""
        return int(self.conn.execute(
            "SELECT count(*) FROM papers p LEFT JOIN embeddings e ON e.paper_id = p.id AND e.model_id = ?"
            " WHERE e.paper_id IS NULL OR e.seq < p.seq", (model_id,)
        ).fetchone()[0])

    def papers_to_embed(self, model_id: int, after_seq: int, limit: int) -> list[tuple[str, int, str, str, str | None]]:
        """(id, seq, title, abstract, stored text hash) of papers after `after_seq` whose vector is missing or stale."""
        return self.conn.execute(
            "SELECT p.id, p.seq, p.title, p.abstract, e.text_hash FROM papers p"
            " LEFT JOIN embeddings e ON e.paper_id = p.id AND e.model_id = ?"
            " WHERE p.seq > ? AND (e.paper_id IS NULL OR e.seq < p.seq) ORDER BY p.seq LIMIT ?",
            (model_id, after_seq, limit)).fetchall()

    def save_embeddings(self, model_id: int, rows: Sequence[tuple[str, int, str, bytes | None]]) -> None:
        """Store (id, seq, text hash, vector bytes) in one transaction; `None` bytes only bump seq."""
        with self.transaction():
            for pid, seq, text_hash, blob in rows:
                if blob is None:
                    self.conn.execute("UPDATE embeddings SET seq = ? WHERE paper_id = ? AND model_id = ?",
                                      (seq, pid, model_id))
                else:
                    self.conn.execute("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?)",
                                      (pid, model_id, seq, text_hash, blob))

    def count_embeddings_since(self, model_id: int, seq: int) -> int:
        """How many vectors of a model were made after change number `seq`."""
        return int(self.conn.execute("SELECT count(*) FROM embeddings WHERE model_id = ? AND seq > ?",
                                     (model_id, seq)).fetchone()[0])

    def embeddings_since(self, model_id: int, seq: int, limit: int) -> list[tuple[str, int, bytes]]:
        """(paper id, seq, vector bytes) made after change `seq`, in change order (for index updates)."""
        return self.conn.execute(
            "SELECT paper_id, seq, vector FROM embeddings WHERE model_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (model_id, seq, limit)).fetchall()
