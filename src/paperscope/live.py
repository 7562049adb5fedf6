"""A search engine for a long-running server: follows index generations live, one SQLite connection per thread.

Each request sees one generation from start to end (`begin_request`); a newer one is noticed by one stat of
the `CURRENT` pointer and loaded in the background, so no request waits for it or fails while it switches.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import generations
from .backends import VectorIndex, open_vector_index
from .config import Settings
from .embed import Embedder, model_identity
from .errors import IndexDamagedError
from .index import KeywordIndex
from .search import Engine
from .store import Store

log = logging.getLogger("paperscope.live")


@dataclass
class Loaded:
    """One opened generation: its hold (keeps the files) and its two indexes."""

    generation: generations.Generation
    keyword: KeywordIndex
    vectors: VectorIndex


_REQUEST: contextvars.ContextVar[tuple[int, Loaded] | None] = contextvars.ContextVar("paperscope_gen", default=None)


class LiveEngine(Engine):
    """An `Engine` whose indexes follow the live generation and whose store is per thread (no global lock)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:  # noqa: D107
        self.settings = settings
        self._embedder = embedder
        self._query_cache = OrderedDict()
        self._cache_lock = threading.Lock()
        self._embedder_lock = threading.Lock()
        self._local = threading.local()
        self._switch = threading.Lock()
        self._loading = False
        self._collect_due = 0.0
        self.root = settings.home / "index"
        self.name, self.dim = model_identity(settings, embedder)
        self.kw_rel, self.vec_rel = (p.name for p in settings.index_paths(self.name))
        self._state: Loaded | None = None
        self._error: IndexDamagedError | None = None
        self._stamp: tuple[int, int] | None = None
        self._load()

    # --- the per-thread store and the request's generation ------------------------------------------
    @property
    def store(self) -> Store:  # type: ignore[override]
        """This thread's connection (SQLite in WAL mode: readers never wait for the writer)."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.settings.db_path)
        return store

    def _loaded(self) -> Loaded:
        pinned = _REQUEST.get()
        if pinned is not None and pinned[0] == id(self):
            return pinned[1]
        if self._state is None:
            self.refresh()
        if self._state is None:
            raise self._error or IndexDamagedError("no index generation is loaded; run `paperscope index --rebuild`")
        return self._state

    @property
    def keyword(self) -> KeywordIndex:  # type: ignore[override]
        """The keyword index of the generation this request started with."""
        return self._loaded().keyword

    @property
    def vectors(self) -> VectorIndex:  # type: ignore[override]
        """The vector index of the generation this request started with."""
        return self._loaded().vectors

    @property
    def generation(self) -> generations.Generation | None:  # type: ignore[override]
        """The generation this request reads."""
        return self._loaded().generation

    @property
    def embedder(self) -> Embedder:
        """The query embedder, loaded once for all threads."""
        with self._embedder_lock:
            return Engine.embedder.fget(self)  # type: ignore[attr-defined,no-any-return]

    def embed_query(self, text: str) -> np.ndarray:
        """As `Engine.embed_query`, with the cache guarded (the embedding itself runs outside the lock)."""
        with self._cache_lock:
            vec = self._query_cache.get(text)
            if vec is not None:
                self._query_cache.move_to_end(text)
                return vec
        vec = self.embedder.embed([text])[0]
        with self._cache_lock:
            self._query_cache[text] = vec
            if len(self._query_cache) > 1024:
                self._query_cache.popitem(last=False)
        return vec

    def begin_request(self) -> contextvars.Token[Any]:
        """Notice a new generation (one stat) and pin the current one for this request."""
        self.refresh()
        state = self._state
        return _REQUEST.set((id(self), state) if state is not None else None)

    def end_request(self, token: contextvars.Token[Any]) -> None:
        """Unpin the request's generation (an old one is released once its last request ends)."""
        _REQUEST.reset(token)

    # --- following the pointer ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Start loading a newer generation in the background if the pointer moved; clean up old ones."""
        self._check_mapped()
        now = generations.stamp(self.root)
        if now != self._stamp:
            with self._switch:
                if self._loading or now == self._stamp:
                    return
                self._loading = True
            if self._state is None:
                self._load_guarded()
            else:
                threading.Thread(target=self._load_guarded, name="paperscope-reload", daemon=True).start()
        elif self._collect_due and time.monotonic() >= self._collect_due:
            self._collect_due = 0.0
            threading.Thread(target=self._collect, name="paperscope-collect", daemon=True).start()

    def _check_mapped(self) -> None:
        """One stat: a memory-mapped vector file cut short under a running server would kill it on the next
        read (SIGBUS); answer `index_damaged` instead until a new generation goes live."""
        state = self._state
        if state is None or not hasattr(state.vectors, "path") or not len(state.vectors):
            return  # Milvus holds no file of ours
        file = state.vectors.path / "vectors.f16"
        try:
            size = os.stat(file).st_size
        except OSError:
            size = -1
        if size < len(state.vectors) * 2 * state.vectors.dim:
            self._error = IndexDamagedError(f"the vector index file {file} was truncated while in use; "
                                            "run `paperscope index --rebuild`")
            self._state = None
            log.error("%s", self._error)

    def _load_guarded(self) -> None:
        try:
            self._load()
        finally:
            self._loading = False

    def _load(self) -> None:
        before = generations.stamp(self.root)
        try:
            held = generations.ensure_live(self.root, lambda p: KeywordIndex(p / self.kw_rel).upsert([], 0))
            vectors = open_vector_index(self.settings, self.name, self.dim, held.path / self.vec_rel)
            keyword = KeywordIndex(held.path / self.kw_rel)
            if hasattr(vectors, "_binary") and len(vectors):
                vectors._binary()  # build the candidate index now, not in the first request
        except IndexDamagedError as exc:
            self._stamp = before  # retry when the pointer moves again
            if self._state is None:
                self._error = exc
            log.error("index generation not loaded (%s); %s", exc,
                      "still serving the previous one" if self._state else "search answers 503")
            return
        old = self._state
        self._state, self._error, self._stamp = Loaded(held, keyword, vectors), None, before
        if old is not None:
            self._collect_due = time.monotonic() + 1.0  # once the requests still reading it are done

    def _collect(self) -> None:
        try:
            if generations.collect(self.root):
                self._collect_due = time.monotonic() + 5.0
        except OSError as exc:
            log.warning("could not delete old index generations: %s", exc)
