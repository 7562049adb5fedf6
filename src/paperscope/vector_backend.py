"""Which vector index serves this installation: faiss files (default) or Milvus, chosen by the settings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import Settings
from .models import Filters, Paper


class VectorIndexLike(Protocol):
    """What search, recommend and the pipeline need of a vector index, whatever holds the vectors."""

    model: str
    dim: int
    last_seq: int

    def __len__(self) -> int: ...

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, papers: Sequence[Paper], last_seq: int) -> None:
        """Insert or replace rows and record the last store change seen."""
        ...

    def mask(self, filters: Filters, author_ids: Sequence[str] | None = None) -> Any:
        """An opaque admission (None: every row) that `search` understands."""
        ...

    def vector(self, paper_id: str) -> np.ndarray | None:
        """One stored vector, or None."""
        ...

    def count(self, mask: Any = None) -> int:
        """How many rows the admission lets through (all rows for None)."""
        ...

    def cosines(self, query: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Exact cosine of the query with these papers' stored vectors (papers without one left out)."""
        ...

    def vectors_of(self, ids: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """The stored vectors of those ids that have one, and those ids."""
        ...

    def search(self, query: np.ndarray, k: int, mask: Any = None,
               exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
        """Top-k (id, cosine) among admitted rows."""
        ...

    def size_bytes(self) -> int:
        """Bytes the index occupies."""
        ...


def uses_milvus(settings: Settings) -> bool:
    """Vectors live in Milvus, outside the index generations of the data directory."""
    return settings.vector_backend == "milvus"


def open_vector_index(settings: Settings, name: str, dim: int, faiss_path: Path) -> VectorIndexLike:
    """The configured backend's index for this model: Milvus, or the faiss files at `faiss_path`
    (inside an index generation)."""
    if uses_milvus(settings):
        from .milvus_index import MilvusVectorIndex, resolve_uri

        return MilvusVectorIndex.open(resolve_uri(settings.milvus_uri, settings.home), name, dim)
    from .index import VectorIndex

    return VectorIndex.open(faiss_path, name, dim)


def vector_progress(settings: Settings, name: str, dim: int, faiss_path: Path | None) -> int:
    """The last embedding change the configured vector index holds (0: none; faiss: that generation's)."""
    if uses_milvus(settings):
        return open_vector_index(settings, name, dim, Path()).last_seq
    from .index import vector_last_seq

    return vector_last_seq(faiss_path) if faiss_path is not None else 0


def drop_milvus_vectors(settings: Settings, name: str, dim: int) -> None:
    """Empty this model's Milvus collection (`index --rebuild`; faiss rebuilds start a fresh generation)."""
    if uses_milvus(settings):
        from .milvus_index import MilvusVectorIndex, resolve_uri

        MilvusVectorIndex.open(resolve_uri(settings.milvus_uri, settings.home), name, dim).drop()
