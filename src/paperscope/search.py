"""Search and similar papers: one ranking used by the CLI, the web pages, the API and the digests."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .backends import AnyStore, KeywordSearch, VectorIndex, open_keyword, open_vector_index, open_vectors
from .config import Settings
from .embed import Embedder, load_query_embedder
from .errors import BadQueryError, NotFoundError, UsageError
from .models import Filters, Hit, ParsedQuery, SearchResult
from .rank import convex_fusion, length_weight, rrf, top
from .text import highlight, is_blank, parse_query, words_starting_with

MODES = ("hybrid", "keyword", "semantic")
SORTS = ("relevance", "citations")
SORT_ALL_MAX = 50_000  # sort=citations reads at most this many matches of a keyword or filter-only query


@dataclass
class Engine:
    """The open store and indexes of one data directory, built once by the CLI or the web app."""

    store: AnyStore
    settings: Settings
    keyword: KeywordSearch
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


def open_engine(store: AnyStore, settings: Settings, embedder: Embedder | None = None) -> Engine:
    """Open the configured indexes over the store; the vector index must belong to the configured model."""
    from .embed import model_identity
    from .generations import ensure_live

    name, dim = model_identity(settings, embedder)
    if settings.database_url:  # server backends: nothing of the index lives in the data dir
        return Engine(store, settings, open_keyword(store, settings, name), open_vectors(store, settings, name, dim),
                      embedder)
    from .index import KeywordIndex

    kw_rel, vec_rel = (p.name for p in settings.index_paths(name))
    gen = ensure_live(settings.home / "index", lambda path: KeywordIndex(path / kw_rel).upsert([], 0))
    vectors = open_vector_index(settings, name, dim, gen.path / vec_rel)  # Milvus: outside the generation
    return Engine(store, settings, KeywordIndex(gen.path / kw_rel), vectors, embedder, generation=gen)


def _author_ids(engine: Engine, filters: Filters) -> list[str] | None:
    """The papers the author and topic filters allow (None: no such filter), for the vector leg's mask."""
    sets = [set(engine.store.paper_ids_by_author(a)) for a in filters.authors]
    if filters.ids is not None:
        sets.append(set(filters.ids))
    if not sets:
        return None
    return sorted(set.intersection(*sets))


def resolve_topics(engine: Engine, filters: Filters) -> Filters:
    """`topic:` filters with their papers read from the store (both indexes then admit exactly those papers)."""
    if not filters.topics or filters.ids is not None:
        return filters
    return replace(filters, ids=frozenset(engine.store.topics.topic_paper_ids(filters.topics)))


def resolve_citations(engine: Engine, filters: Filters) -> Filters:
    """`cites:` / `citedby:` filters as the papers the stored citation edges give (kept within any topic's), so both
    indexes admit exactly those papers."""
    if not (filters.cites or filters.cited_by):
        return filters
    rows, resolve = engine.store.citations, engine.store.resolve_id
    sets = [set(rows.citing_ids(resolve(ref) or ref)) for ref in filters.cites]
    sets += [set(rows.cited_ids(resolve(ref) or ref)) for ref in filters.cited_by]
    if filters.ids is not None:
        sets.append(set(filters.ids))
    return replace(filters, ids=frozenset(set.intersection(*sets)))


SYNTAX_MASK_MAX = 20_000  # phrases/exclusions admitting at most this many papers become a row mask


def _has_syntax(pq: ParsedQuery) -> bool:
    return bool(pq.phrases or pq.excluded or pq.excluded_phrases)


def _semantic(engine: Engine, pq: ParsedQuery, depth: int) -> list[tuple[str, float]]:
    """Top-`depth` by cosine among papers that pass the filters, required phrases and exclusions.

    Filters are a row mask before the search. Phrases and exclusions are checked by the keyword index
    (the same unstemmed words keyword mode uses): when few papers pass, they join the mask; otherwise
    candidates are drawn in growing batches and checked until `depth` pass or the admitted rows run out."""
    if not pq.text:
        return []
    qvec = engine.embed_query(pq.text)
    authors = _author_ids(engine, pq.filters)
    mask = engine.vectors.mask(pq.filters, authors)
    if not _has_syntax(pq):
        return engine.vectors.search(qvec, depth, mask)
    passing = engine.keyword.count(pq)
    if passing == 0:
        return []
    if passing <= SYNTAX_MASK_MAX:  # the few papers with the phrase join the filters as an id restriction
        admitted = engine.keyword.admitted(pq, limit=passing)
        if authors is not None:
            admitted = sorted(set(admitted) & set(authors))
        return engine.vectors.search(qvec, depth, engine.vectors.mask(pq.filters, admitted))
    admitted_rows = engine.vectors.count(mask)
    m = 2 * depth
    while True:
        found = engine.vectors.search(qvec, min(m, admitted_rows), mask)
        ok = set(engine.keyword.admitted(pq, [i for i, _ in found]))
        kept = [(i, s) for i, s in found if i in ok]
        if len(kept) >= depth or m >= admitted_rows:
            return kept[:depth]
        m *= 4


def _fuse(engine: Engine, pq: ParsedQuery, kw: list[tuple[str, float]], sem: list[tuple[str, float]],
          fusion: str | None = None) -> dict[str, float]:
    """Fuse the two lists: `rrf` by ranks; `zscore`/`minmax` as a convex combination of normalised scores
    over the union of both lists, where the cosine of a paper only the keyword list reached is looked up
    (one read of its float16 row) rather than counted as 0; BM25 past its depth counts as 0. The semantic
    share follows the query's length (`rank.length_weight`)."""
    s = engine.settings
    fusion = fusion or s.fusion
    if fusion == "rrf-plain":  # the textbook baseline: equal weights, k = 60
        return rrf([[i for i, _ in kw], [i for i, _ in sem]])
    if fusion == "rrf":
        return rrf([[i for i, _ in kw], [i for i, _ in sem]], [s.keyword_weight, s.semantic_weight], s.rrf_k)
    ids = list(dict.fromkeys([i for i, _ in kw] + [i for i, _ in sem]))
    bm25, cosine = dict(kw), dict(sem)  # a paper past the BM25 depth counts as 0 there (looking it up: no gain)
    cosine.update(engine.vectors.cosines(engine.embed_query(pq.text), [i for i in ids if i not in cosine]))
    floor = min(cosine.values(), default=0.0)  # a paper with no vector yet ranks as the least similar
    n_words = sum(1 for w in list(pq.terms) + [w for p in pq.phrases for w in p] if engine.keyword.stem(w))
    weight = length_weight(s.semantic_weight / ((s.keyword_weight + s.semantic_weight) or 1.0), n_words, s.length_slope)
    return convex_fusion(ids, np.array([bm25.get(i, 0.0) for i in ids]), np.array([cosine.get(i, floor) for i in ids]),
                         weight, "z" if fusion == "zscore" else "minmax")


_POOL: tuple[int, ThreadPoolExecutor] | None = None
_BUSY = [0]  # hybrid searches running in this process
_BUSY_LOCK = threading.Lock()


@contextmanager
def _searching() -> Iterator[bool]:
    """Count this search while it runs; True when it is the only one (measured with 20 clients on 2 cores:
    splitting every search into two threads cut throughput 183 -> 153 requests/s; alone it is 24% faster at 1M)."""
    with _BUSY_LOCK:
        _BUSY[0] += 1
        alone = _BUSY[0] == 1
    try:
        yield alone
    finally:
        with _BUSY_LOCK:
            _BUSY[0] -= 1


def _legs() -> ThreadPoolExecutor:
    """This process's threads for the keyword leg of hybrid queries (made anew after a fork: threads don't survive one).

    As many as a server has request threads at once, so one request's keyword list never queues behind another's."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=32, thread_name_prefix="paperscope-keyword"))
    return _POOL[1]


@dataclass(frozen=True)
class Ranking:
    """One query ranked once: the ordered candidates, each list's ranks, and the truthful total."""

    ranked: list[tuple[str, float]]
    keyword: dict[str, int]  # paper id → rank (from 1) in the keyword list
    semantic: dict[str, int]
    total: int
    filter_only: bool = False


def run_query(engine: Engine, pq: ParsedQuery, mode: str, need: int = 0, fusion: str | None = None) -> Ranking:
    """Rank a parsed query once at the fixed candidate depth; any page is a slice of this ranking.

    Keyword mode (and a filter-only query) ranks exactly, so it reaches `need` papers when deeper than
    the depth: a shorter BM25 list is always a prefix of a longer one."""
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    depth = engine.settings.candidates
    if not (pq.terms or pq.phrases):  # filters only (maybe with exclusions): newest first, no score
        kw, count = engine.keyword.search(pq, max(depth, need))
        return Ranking(kw, {i: r for r, (i, _) in enumerate(kw, 1)}, {}, count, True)
    kw = []
    sem: list[tuple[str, float]] = []
    count = 0
    if mode == "keyword":
        kw, count = engine.keyword.search(pq, max(depth, need))
    elif mode == "semantic":
        sem = _semantic(engine, pq, depth)
    else:
        with _searching() as alone:  # alone: BM25 on another thread while the query is embedded and the
            # vectors searched (the index is resolved here, on the request's generation); with other searches
            # running the cores are busy and a second thread would only add hand-offs
            pending = _legs().submit(engine.keyword.search, pq, depth) if alone else None
            sem = _semantic(engine, pq, depth)
            kw, count = pending.result() if pending else engine.keyword.search(pq, depth)
    kw_rank = {i: r for r, (i, _) in enumerate(kw, 1)}
    sem_rank = {i: r for r, (i, _) in enumerate(sem, 1)}
    if mode == "keyword":
        return Ranking(kw, kw_rank, {}, count)
    if mode == "semantic":
        return Ranking(sem, {}, sem_rank, len(sem))
    fused = _fuse(engine, pq, kw, sem, fusion)
    return Ranking(top(fused, len(fused)), kw_rank, sem_rank, len(fused))


def by_citations(engine: Engine, pq: ParsedQuery, ranking: Ranking, mode: str) -> tuple[Ranking, list[str]]:
    """The ranking reordered by citation count, most cited first; ties (and papers never counted, as 0) keep the
    ranking's order. Keyword mode and filter-only queries rank exactly, so every match is read and sorted (up to
    SORT_ALL_MAX, said in a note past it); semantic and hybrid modes sort their ranked candidates."""
    notes: list[str] = []
    ranked = ranking.ranked
    if (mode == "keyword" or ranking.filter_only) and ranking.total > len(ranked):
        ranked, _ = engine.keyword.search(pq, min(ranking.total, SORT_ALL_MAX))
        if ranking.total > SORT_ALL_MAX:
            notes.append(f"sorted by citations among the first {SORT_ALL_MAX:,} of {ranking.total:,} matches (by "
                         f"{'date, newest first' if ranking.filter_only else 'BM25 relevance'}); narrow the query "
                         "to sort every match")
        ranking = replace(ranking, keyword={i: r for r, (i, _) in enumerate(ranked, 1)})
    counts = engine.store.citations.counts_of([i for i, _ in ranked])
    order = sorted(range(len(ranked)), key=lambda n: (-counts.get(ranked[n][0], 0), n))
    return replace(ranking, ranked=[ranked[n] for n in order]), notes


def _hits(engine: Engine, ranking: Ranking, page: list[tuple[str, float]], pq: ParsedQuery, mode: str) -> list[Hit]:
    papers = engine.store.papers_by_ids([i for i, _ in page])
    stems = {engine.keyword.stem(w) for w in list(pq.terms) + [w for p in pq.phrases for w in p]} - {""}

    heads = {st[:3] for st in stems}
    candidates = words_starting_with(heads)
    seen: dict[str, bool] = {}

    def is_match(word: str) -> bool:  # a stem shares its word's first letters: most words skip the stemmer
        got = seen.get(word)
        if got is None:
            low = word.lower()
            got = seen[word] = low[:3] in heads and engine.keyword.stem(low) in stems
        return got

    hits = []
    for pid, score in page:
        paper = papers.get(pid)
        if paper is None or paper.withdrawn:  # index ahead of a deleted row, or a withdrawn paper: skip
            continue
        in_kw, in_sem = pid in ranking.keyword, pid in ranking.semantic
        reason = "filter" if ranking.filter_only else "both" if in_kw and in_sem else "keyword" if in_kw else "semantic"
        snippet = highlight(paper.abstract or paper.title, set(), is_match=is_match, candidates=candidates)
        hits.append(Hit(paper, score, reason, snippet, ranking.keyword.get(pid) if not ranking.filter_only else None,
                        ranking.semantic.get(pid)))
    return hits


def _why_empty(engine: Engine, pq: ParsedQuery) -> list[str]:
    """Name the filter, phrase or exclusion that leaves nothing, so the user knows what to loosen."""
    from dataclasses import replace

    f = pq.filters
    checks: list[tuple[str, ParsedQuery]] = []
    if f.since or f.until:
        label = f"since:{f.since} until:{f.until}" if f.since and f.until else (
            f"since:{f.since}" if f.since else f"until:{f.until}")
        checks.append((f"the date filter {label}", ParsedQuery(filters=Filters(since=f.since, until=f.until))))
    for c in f.categories:
        checks.append((f"the category filter cat:{c}", ParsedQuery(filters=Filters(categories=(c,)))))
    if len(f.categories) > 1:
        checks.append((f"the category filter cat:{','.join(f.categories)}", ParsedQuery(filters=Filters(categories=f.categories))))
    for a in f.authors:
        checks.append((f'the author filter author:"{a}"', ParsedQuery(filters=Filters(authors=(a,)))))
    for t in f.topics:
        checks.append((f"the topic filter topic:{t}",
                       ParsedQuery(filters=resolve_topics(engine, Filters(topics=(t,))))))
    for p in pq.phrases:
        checks.append((f'the phrase "{" ".join(p)}"', ParsedQuery(phrases=(p,))))
    notes = [f"{label} matches no paper" for label, q in checks if engine.keyword.count(q) == 0]
    if not notes and len(checks) > 1 and engine.keyword.count(replace(pq, terms=())) == 0:
        notes.append("no paper passes all the filters, phrases and exclusions together; drop one")
    return notes


def filter_notes(engine: Engine, filters: Filters) -> list[str]:
    """Why filters leave no paper (each one that matches nothing is named), for `similar`'s empty answers."""
    return _why_empty(engine, ParsedQuery(filters=filters)) if filters else []


def search(engine: Engine, query: str, k: int = 10, mode: str = "hybrid", offset: int = 0,
           sort: str = "relevance") -> SearchResult:
    """Search by meaning and by keyword at once; filters, phrases and exclusions apply inside every mode.
    `sort="citations"` orders the matches most cited first (see `by_citations` for which matches)."""
    started = time.perf_counter()
    if not 1 <= k <= 200 or offset < 0 or offset > 10000:
        raise UsageError("k must be 1..200 and offset 0..10000")
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    if is_blank(query):
        raise BadQueryError('the query is empty; give words, a "quoted phrase" or a filter, e.g. '
                            '"graph neural networks", cat:cs.CL, author:"Ada Lovelace" or since:2024-01')
    pq = parse_query(query)
    pq = replace(pq, filters=resolve_citations(engine, resolve_topics(engine, pq.filters)))
    notes = list(pq.notes)
    if engine.keyword.manifest()["last_seq"] == 0 and engine.store.max_seq() > 0:
        raise UsageError("the search indexes are not built yet: run `paperscope update` (embed + index) first")
    searchable = [w for w in list(pq.terms) + [w for p in pq.phrases for w in p] if engine.keyword.stem(w)]
    if not searchable and not pq.filters:
        dropped = list(pq.terms) + [w for p in pq.phrases for w in p]
        why = (f"every word ({', '.join(dropped)}) is too common to search for" if dropped
               else "the query has no words to search for" + (" besides exclusions" if pq.excluded or pq.excluded_phrases else ""))
        notes.append(f"{why}; add a distinctive word, a \"quoted phrase\" or a filter such as cat:cs.CL")
        return SearchResult((), 0, (time.perf_counter() - started) * 1000, pq, mode, tuple(notes))
    if not searchable:
        pq = replace(pq, terms=(), phrases=())  # only stopwords left beside the filters: a filter-only listing
    ranking = run_query(engine, pq, mode, offset + k)
    if sort == "citations" and ranking.total:
        ranking, sort_notes = by_citations(engine, pq, ranking, mode)
        notes += sort_notes
    page = ranking.ranked[offset:offset + k]
    hits = _hits(engine, ranking, page, pq, mode)
    if ranking.total == 0:
        notes += _why_empty(engine, pq)
    meaning_only = mode == "hybrid" and ranking.total > 0 and not ranking.filter_only and not ranking.keyword
    if meaning_only:
        parts = list(pq.terms) + [f'"{" ".join(p)}"' for p in pq.phrases]
        notes.append(f"no paper{' that passes the filters' if pq.filters else ''} contains "
                     f"{'any of ' if len(parts) > 1 else ''}{' '.join(parts)}: the results below match by meaning "
                     "only (the nearest papers, which may be unrelated)")
    return SearchResult(tuple(hits), ranking.total, (time.perf_counter() - started) * 1000, pq, mode, tuple(notes),
                        meaning_only, sort)


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
    filters = resolve_topics(engine, filters)
    mask = engine.vectors.mask(filters, _author_ids(engine, filters))
    found = engine.vectors.search(query, k, mask, exclude=exclude)
    papers = engine.store.papers_by_ids([i for i, _ in found])
    return [Hit(papers[i], s, "semantic", highlight(papers[i].abstract, set()), None, r)
            for r, (i, s) in enumerate(found, 1) if i in papers and not papers[i].withdrawn]
