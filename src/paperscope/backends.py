"""Which store, keyword index and vector index a run uses, picked once from the settings.

`database_url` empty → the embedded SQLite `Store` with tantivy and faiss files in the data directory;
`postgresql://…` → `PgStore` (psycopg 3 pool), keyword search from a per-process tantivy mirror of the
papers table, and vectors in pgvector or Milvus (`vector_backend`; Milvus also serves an embedded install,
its vectors outside the index generations). The protocols
below are what `search`, `recommend` and the pipeline rely on; a new backend implements them."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Union

import numpy as np

from .config import Settings
from .errors import ConfigError
from .models import Filters, Paper, ParsedQuery

if TYPE_CHECKING:
    from .store import Store
    from .store_pg import PgStore

AnyStore = Union["Store", "PgStore"]


class VectorIndex(Protocol):
    """Nearest neighbours over one model's vectors, with filters applied inside the candidate search."""

    model: str
    dim: int

    @property
    def last_seq(self) -> int:
        """How far through the store's vector changes (`embeddings.seq`) the index is."""

    def __len__(self) -> int: ...

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, papers: Sequence[Paper], last_seq: int) -> None:
        """Add or replace these papers' vectors (float32 rows) and record how far the index has followed."""

    def mask(self, filters: Filters, allowed_ids: Sequence[str] | None = None) -> Any:
        """An opaque admission rule for `search` from the filters and an optional id allow-list (None: all)."""

    def vector(self, paper_id: str) -> np.ndarray | None:
        """One paper's vector (float32) or None."""

    def vectors_of(self, ids: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """The vectors of those ids that have one, and those ids, in the order asked."""

    def count(self, mask: Any) -> int:
        """How many papers a mask from `mask()` admits."""

    def cosines(self, query: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Exact cosine of the query with these papers' vectors (papers without one are left out)."""

    def search(self, query: np.ndarray, k: int, mask: Any = None,
               exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
        """Top-k (paper id, cosine) among the admitted papers, minus `exclude`."""

    def size_bytes(self) -> int:
        """Bytes the index takes (disk or database)."""


class KeywordSearch(Protocol):
    """BM25 keyword search with filters inside the search."""

    def manifest(self) -> dict[str, Any]:
        """At least {"last_seq": how far through the papers' changes the index is}."""

    def upsert(self, papers: Sequence[Paper], last_seq: int) -> None:
        """Add or replace these papers and record how far the index has followed."""

    def search(self, pq: ParsedQuery, k: int) -> tuple[list[tuple[str, float]], int]:
        """Top-k (id, score) and the number of matches."""

    def size_bytes(self) -> int:
        """Bytes the index takes."""

    def stem(self, word: str) -> str:
        """The index's own stem of a word (for truthful highlights)."""

    def count(self, pq: ParsedQuery) -> int:
        """How many papers match the query and its filters exactly."""

    def admitted(self, pq: ParsedQuery, ids: Sequence[str] | None = None, limit: int = 0) -> list[str]:
        """Ids that satisfy the query's phrases, exclusions and filters (among `ids` when given)."""


def vector_backend(settings: Settings) -> str:
    """The vector backend in force: `auto` means pgvector on PostgreSQL, faiss otherwise."""
    if settings.vector_backend != "auto":
        return settings.vector_backend
    return "pgvector" if settings.database_url else "faiss"


def open_store(settings: Settings) -> AnyStore:
    """The store the settings name: PostgreSQL when `database_url` is set, else the data dir's SQLite file."""
    if settings.database_url:
        from .store_pg import PgStore

        return PgStore(settings.database_url)
    from .store import Store

    return Store(settings.db_path)


def open_vectors(store: AnyStore, settings: Settings, name: str, dim: int) -> VectorIndex:
    """The vector index of this model in the configured backend."""
    backend = vector_backend(settings)
    if backend == "pgvector":
        from .store_pg import PgStore
        from .store_pg.vectors import PgVectorIndex

        if not isinstance(store, PgStore):
            raise ConfigError("vector_backend=pgvector needs database_url to name a PostgreSQL database")
        return PgVectorIndex(store, name, dim)
    if backend == "milvus":
        return _milvus(settings, name, dim)
    from .index import VectorIndex as FaissIndex

    return FaissIndex.open(settings.index_paths(name)[1], name, dim)


def uses_milvus(settings: Settings) -> bool:
    """Vectors live in Milvus, outside the index generations of the data directory (and outside PostgreSQL)."""
    return vector_backend(settings) == "milvus"


def _milvus(settings: Settings, name: str, dim: int) -> VectorIndex:
    from .milvus_index import MilvusVectorIndex, resolve_uri

    return MilvusVectorIndex.open(resolve_uri(settings.milvus_uri, settings.home), name, dim)


def open_vector_index(settings: Settings, name: str, dim: int, faiss_path: Path) -> VectorIndex:
    """Embedded installs: this model's Milvus collection, or the faiss files at `faiss_path` (inside an index
    generation)."""
    if uses_milvus(settings):
        return _milvus(settings, name, dim)
    from .index import VectorIndex as FaissIndex

    return FaissIndex.open(faiss_path, name, dim)


def vector_progress(settings: Settings, name: str, dim: int, faiss_path: Path | None) -> int:
    """The last embedding change the configured vector index holds (0: none; faiss: that generation's)."""
    if uses_milvus(settings):
        return _milvus(settings, name, dim).last_seq
    from .index import vector_last_seq

    return vector_last_seq(faiss_path) if faiss_path is not None else 0


def drop_milvus_vectors(settings: Settings, name: str, dim: int) -> None:
    """Empty this model's Milvus collection (`index --rebuild`; faiss rebuilds start a fresh generation)."""
    if uses_milvus(settings):
        _milvus(settings, name, dim).drop()  # type: ignore[attr-defined]


def open_keyword(store: AnyStore, settings: Settings, name: str) -> KeywordSearch:
    """The keyword index: tantivy files in the data dir (embedded), or a private mirror of PostgreSQL."""
    if settings.database_url:
        return MirroredKeywordIndex(store)
    from .index import KeywordIndex

    return KeywordIndex(settings.index_paths(name)[0])


def _sweep_orphans() -> None:
    """Delete mirrors left by processes that were killed before they could clean up (named by pid)."""
    for path in Path(tempfile.gettempdir()).glob("paperscope-keyword-*-*"):
        pid = path.name.split("-")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, another user's
            pass


class MirroredKeywordIndex:
    """A per-process tantivy index rebuilt from the papers table and kept fresh by following `seq`.

    Nothing is shared between workers or machines: each builds its own copy in a private temp dir on the
    first search and catches up (a `max(seq)` query at most once a second) before later ones. On SciFact it
    ranks exactly as the embedded index (the same BM25); see docs/scale.md for PG full-text figures."""

    state_key = "keyword"
    fresh_every = 1.0

    def __init__(self, store: Any) -> None:
        self.store = store
        self._index: Any = None
        self._checked = 0.0
        self._sync = threading.Lock()  # server threads share the mirror; one of them catches it up

    def manifest(self) -> dict[str, Any]:
        """How far `paperscope update` has brought keyword search (0: never; search then says so)."""
        return {"last_seq": self.store.index_seq(self.state_key)}

    def catch_up(self, rebuild: bool = False) -> int:
        """For `update`: papers changed since the last update, now published to every worker's mirror."""
        since = 0 if rebuild else self.store.index_seq(self.state_key)
        top = self.store.max_seq()
        changed = self.store.count_changed_since(since)
        self.store.set_index_seq(self.state_key, top)
        return changed

    def upsert(self, papers: Sequence[Paper], last_seq: int) -> None:
        """Record progress (the mirror itself follows the table on its own)."""
        self.store.set_index_seq(self.state_key, last_seq)

    def _local(self) -> Any:
        with self._sync:
            return self._catch_up_local()

    def _catch_up_local(self) -> Any:
        from .index import KeywordIndex

        if self._index is None:
            _sweep_orphans()
            path = Path(tempfile.mkdtemp(prefix=f"paperscope-keyword-{os.getpid()}-"))
            weakref.finalize(self, shutil.rmtree, path, True)
            self._index = KeywordIndex(path)
            self._checked = 0.0
        if time.monotonic() - self._checked >= self.fresh_every:
            seq = self._index.manifest()["last_seq"]
            while True:
                changed = self.store.papers_changed_since(seq, 5000)
                if not changed:
                    break
                seq = changed[-1][0]
                self._index.upsert([p for _, p in changed], seq)
            self._checked = time.monotonic()
        return self._index

    def search(self, pq: ParsedQuery, k: int) -> tuple[list[tuple[str, float]], int]:
        """BM25 top-k on the local mirror, brought up to date with the database first."""
        return self._local().search(pq, k)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        """The rest of the keyword index's interface (count, admitted, scores_of, stem, …), on the fresh mirror."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._local(), name)

    def size_bytes(self) -> int:
        """Bytes of this process's mirror (0 before the first search)."""
        return int(self._index.size_bytes()) if self._index is not None else 0
