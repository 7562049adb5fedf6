"""Search and similar papers: one ranking used by the CLI, the web pages, the API and the digests."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .config import Settings
from .embed import Embedder, load_query_embedder
from .errors import NotFoundError, UsageError
from .index import KeywordIndex, VectorIndex
from .models import Filters, Hit, ParsedQuery, SearchResult
from .rank import minmax_fusion, rrf, top
from .store import Store
from .text import highlight, parse_query

MODES = ("hybrid", "keyword", "semantic")


@dataclass
class Engine:
    """The open store and indexes of one data directory, built once by the CLI or the web app."""

    store: Store
    settings: Settings
    keyword: KeywordIndex
    vectors: VectorIndex
    _embedder: Embedder | None = None
    generation: Any = None  # the index generation held open (generations.Generation) while this engine lives

    _query_cache: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)

    @property
    def embedder(self) -> Embedder:
        """The query embedder, loaded on first use (one thread: queries share the box)."""
        if self._embedder is None:
            self._embedder = load_query_embedder(self.settings.model, self.settings.query_threads)
        return self._embedder

    def embed_query(self, text: str) -> np.ndarray:
        """A query's vector, remembered for the last 1,024 queries (paging re-runs the same query)."""
        vec = self._query_cache.get(text)
        if vec is None:
            vec = self.embedder.embed([text])[0]
            self._query_cache[text] = vec
            if len(self._query_cache) > 1024:
                self._query_cache.popitem(last=False)
        else:
            self._query_cache.move_to_end(text)
        return vec


def open_engine(store: Store, settings: Settings, embedder: Embedder | None = None) -> Engine:
    """Open the indexes beside the store; the vector index must belong to the configured model."""
    from .embed import model_identity

    from .generations import ensure_live

    name, dim = model_identity(settings, embedder)
    kw_rel, vec_rel = (p.name for p in settings.index_paths(name))
    gen = ensure_live(settings.home / "index", lambda path: KeywordIndex(path / kw_rel).upsert([], 0))
    return Engine(store, settings, KeywordIndex(gen.path / kw_rel), VectorIndex.open(gen.path / vec_rel, name, dim),
                  embedder, generation=gen)


def _author_ids(engine: Engine, filters: Filters) -> list[str] | None:
    if not filters.authors:
        return None
    sets = [set(engine.store.paper_ids_by_author(a)) for a in filters.authors]
    return sorted(set.intersection(*sets))


def _semantic(engine: Engine, pq: ParsedQuery, depth: int) -> list[tuple[str, float]]:
    if not pq.text:
        return []
    qvec = engine.embed_query(pq.text)
    mask = engine.vectors.mask(pq.filters, _author_ids(engine, pq.filters))
    hits = engine.vectors.search(qvec, depth, mask)
    if pq.excluded and hits:
        papers = engine.store.papers_by_ids([i for i, _ in hits])
        banned = re.compile(r"\b(" + "|".join(map(re.escape, pq.excluded)) + r")", re.I)
        hits = [(i, s) for i, s in hits if i in papers and not banned.search(papers[i].title + " " + papers[i].abstract)]
    return hits


def _fuse(engine: Engine, kw: list[tuple[str, float]], sem: list[tuple[str, float]]) -> dict[str, float]:
    s = engine.settings
    if s.fusion == "rrf":
        return rrf([[i for i, _ in kw], [i for i, _ in sem]], [s.keyword_weight, s.semantic_weight], s.rrf_k)
    return minmax_fusion([kw, sem], [s.keyword_weight, s.semantic_weight])


def run_query(engine: Engine, pq: ParsedQuery, mode: str, depth: int) -> tuple[dict[str, float], list[str], list[str], int]:
    """Scores of every candidate for a parsed query, plus each list's ranking and the keyword match count."""
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    kw: list[tuple[str, float]] = []
    sem: list[tuple[str, float]] = []
    count = 0
    if mode in ("hybrid", "keyword") or not pq.text:
        kw, count = engine.keyword.search(pq, depth)
    if mode in ("hybrid", "semantic"):
        sem = _semantic(engine, pq, depth)
    if mode == "keyword" or not sem:
        scores = dict(kw) if pq.text else {i: -r for r, (i, _) in enumerate(kw)}
    elif mode == "semantic":
        scores = dict(sem)
    else:
        scores = _fuse(engine, kw, sem)
    return scores, [i for i, _ in kw], [i for i, _ in sem], count


def _hits(engine: Engine, ranked: list[tuple[str, float]], pq: ParsedQuery, kw: list[str], sem: list[str]) -> list[Hit]:
    papers = engine.store.papers_by_ids([i for i, _ in ranked])
    kw_rank = {i: r for r, i in enumerate(kw, 1)}
    sem_rank = {i: r for r, i in enumerate(sem, 1)}
    query_words = set(pq.terms) | {w for p in pq.phrases for w in p}
    hits = []
    for pid, score in ranked:
        paper = papers.get(pid)
        if paper is None or paper.withdrawn:  # index ahead of a deleted row, or a withdrawn paper: skip
            continue
        in_kw, in_sem = pid in kw_rank, pid in sem_rank
        reason = "both" if in_kw and in_sem else ("keyword" if in_kw else "semantic")
        hits.append(Hit(paper, score, reason, highlight(paper.abstract or paper.title, query_words),
                        kw_rank.get(pid), sem_rank.get(pid)))
    return hits


def search(engine: Engine, query: str, k: int = 10, mode: str = "hybrid", offset: int = 0) -> SearchResult:
    """Search by meaning and by keyword at once; filters in the query apply inside both candidate searches."""
    started = time.perf_counter()
    if not 1 <= k <= 200 or offset < 0 or offset > 10000:
        raise UsageError("k must be 1..200 and offset 0..10000")
    pq = parse_query(query)
    if engine.keyword.manifest()["last_seq"] == 0 and engine.store.max_seq() > 0:
        raise UsageError("the search indexes are not built yet: run `paperscope update` (embed + index) first")
    depth = max(engine.settings.candidates, k + offset)
    scores, kw, sem, count = run_query(engine, pq, mode, depth)
    ranked = top(scores, k, offset)
    hits = _hits(engine, ranked, pq, kw, sem)
    total = count if mode == "keyword" or not pq.text else len(scores)
    return SearchResult(tuple(hits), total, (time.perf_counter() - started) * 1000, pq, mode)


NO_FILTERS = Filters()


def similar(engine: Engine, ids: Sequence[str], negatives: Sequence[str] = (), filters: Filters = NO_FILTERS,
            k: int = 10) -> list[Hit]:
    """Papers nearest to the given papers' vectors (minus the negatives'), with the usual filters."""
    def vectors_of(refs: Sequence[str]) -> list[np.ndarray]:
        out = []
        for ref in refs:
            pid = engine.store.resolve_id(ref)
            if pid is None:
                raise NotFoundError(f"no paper {ref!r} in this store")
            v = engine.vectors.vector(pid)
            if v is None:
                raise NotFoundError(f"{pid} has no vector yet; run `paperscope update` (or embed + index)")
            out.append(v)
        return out

    if not ids:
        raise UsageError("similar needs at least one paper id")
    pos = vectors_of(ids)
    query = np.mean(pos, axis=0)
    if negatives:
        query = query - 0.5 * np.mean(vectors_of(negatives), axis=0)
    query /= np.linalg.norm(query) or 1.0
    exclude = [engine.store.resolve_id(r) or r for r in list(ids) + list(negatives)]
    mask = engine.vectors.mask(filters, _author_ids(engine, filters))
    found = engine.vectors.search(query, k, mask, exclude=exclude)
    papers = engine.store.papers_by_ids([i for i, _ in found])
    return [Hit(papers[i], s, "semantic", highlight(papers[i].abstract, set()), None, r)
            for r, (i, s) in enumerate(found, 1) if i in papers and not papers[i].withdrawn]
