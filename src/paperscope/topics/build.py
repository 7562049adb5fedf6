"""`paperscope topics --rebuild` and the topic step of `update`: read the vectors from the store, cluster,
label, lay out, and write the result back to the store in one transaction; place new papers between rebuilds."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..backends import AnyStore, VectorIndex
from ..errors import UsageError
from ..models import Topic
from ..store.topics import TopicRow
from .cluster import Levels, choose_k, match_ids, nearest, two_levels
from .label import Corpus, Tokeniser, class_tfidf, diversity, label_of, npmi, top_terms
from .layout import layout, place

MIN_PAPERS = 10
LABEL_DOCS = 300  # documents a fine topic contributes to its label (a sample at scale: c-TF-IDF is robust to it)
TERMS = 10
REPRESENTATIVES = 5


def load_vectors(store: AnyStore, model_id: int, dim: int, chunk: int = 20_000) -> tuple[list[str], np.ndarray]:
    """Every stored vector of a model (float16 rows) and the paper ids, in change order."""
    ids: list[str] = []
    parts: list[np.ndarray] = []
    seq = 0
    while rows := store.embeddings_since(model_id, seq, chunk):
        seq = max(r[1] for r in rows)
        ids += [r[0] for r in rows]
        parts.append(np.frombuffer(b"".join(bytes(r[2]) for r in rows), np.float16).reshape(len(rows), dim))
    return ids, (np.concatenate(parts) if parts else np.zeros((0, dim), np.float16))


@dataclass
class Built:
    """What a rebuild made, for the CLI and the bench."""

    build_id: int
    papers: int
    broad: int
    fine: int
    seconds: dict[str, float]
    stats: dict[str, Any]


def _members(labels: np.ndarray, k: int) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(k)]


def _old_members(store: AnyStore, ids: Sequence[str]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """The previous build's topics as arrays of this build's row numbers (broad, fine)."""
    prior = store.topics.topics_of(ids)
    broad: dict[int, list[int]] = {}
    fine: dict[int, list[int]] = {}
    for row, pid in enumerate(ids):
        got = prior.get(pid)
        if got:
            broad.setdefault(got[0], []).append(row)
            fine.setdefault(got[1], []).append(row)
    return ({t: np.array(r) for t, r in broad.items()}, {t: np.array(r) for t, r in fine.items()})


def label_topics(store: AnyStore, ids: Sequence[str], levels: Levels, seed: int = 0
                 ) -> tuple[list[list[tuple[str, float]]], list[list[tuple[str, float]]], Tokeniser, dict[str, float]]:
    """(fine terms, broad terms, the tokeniser with written forms, coherence and diversity) from a sample of
    each fine topic's titles and abstracts."""
    rng = np.random.default_rng(seed)
    k_fine, k_broad = len(levels.fine_centres), len(levels.broad_centres)
    picked = []
    for members in _members(levels.fine, k_fine):
        picked.append(members if len(members) <= LABEL_DOCS else rng.choice(members, LABEL_DOCS, replace=False))
    chosen: list[int] = (np.sort(np.concatenate(picked)) if picked else np.zeros(0, np.int64)).tolist()
    papers = store.papers_by_ids([ids[r] for r in chosen])
    rows = np.array([r for r in chosen if ids[r] in papers], np.int64)
    texts = [f"{papers[ids[r]].title}. {papers[ids[r]].abstract}" for r in rows.tolist()]
    tok = Tokeniser()
    corpus = Corpus.build(texts, tok)
    fine_terms = top_terms(class_tfidf(corpus, levels.fine[rows], k_fine), corpus.vocab, TERMS)
    broad_terms = top_terms(class_tfidf(corpus, levels.broad[rows], k_broad), corpus.vocab, TERMS)
    quality = {"npmi_fine": npmi(corpus, [[t for t, _ in ts] for ts in fine_terms]),
               "diversity_fine": diversity([[t for t, _ in ts] for ts in fine_terms]),
               "npmi_broad": npmi(corpus, [[t for t, _ in ts] for ts in broad_terms]),
               "diversity_broad": diversity([[t for t, _ in ts] for ts in broad_terms]),
               "label_docs": len(texts)}
    return fine_terms, broad_terms, tok, quality


def rebuild(store: AnyStore, model: str, dim: int, fine: int = 0, broad: int = 0, seed: int = 0,
            on_step: Callable[[str], None] | None = None) -> Built:
    """Find topics in every stored vector of `model`, label them, lay the papers out, and save it all."""
    say = on_step or (lambda _s: None)
    clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 3)
        clock = now
        say(name)

    model_id = store.model_id(model, dim)
    ids, x = load_vectors(store, model_id, dim)
    if len(ids) < MIN_PAPERS:
        raise UsageError(f"topics need at least {MIN_PAPERS} papers with vectors ({len(ids)} have one); "
                         "run `paperscope update` first")
    lap("read")
    k_broad, k_fine = choose_k(len(ids), fine, broad)
    prev_ids, prev = store.topics.topic_centroids(1)
    levels = two_levels(x, k_broad, k_fine, seed, prev if len(prev_ids) == k_fine and prev.shape[1] == dim else None)
    k_fine, k_broad = len(levels.fine_centres), len(levels.broad_centres)
    old_broad, old_fine = _old_members(store, ids)
    next_id = first_new = store.topics.next_topic_id()
    fine_ids, next_id = match_ids(_members(levels.fine, k_fine), old_fine, next_id)
    broad_ids, next_id = match_ids(_members(levels.broad, k_broad), old_broad, next_id)
    lap("cluster")
    fine_terms, broad_terms, tok, quality = label_topics(store, ids, levels, seed)
    lap("label")
    xy, _centre_xy = layout(x, levels.fine_centres, seed)
    lap("layout")
    rows = _topic_rows(ids, x, levels, xy, fine_ids, broad_ids, fine_terms, broad_terms, tok)
    fine_of, broad_of = np.array(fine_ids)[levels.fine], np.array(broad_ids)[levels.broad]
    points = ((pid, int(b), int(f), float(p[0]), float(p[1]))
              for pid, b, f, p in zip(ids, broad_of.tolist(), fine_of.tolist(), xy, strict=True))
    params = {"fine": fine, "broad": broad, "seed": seed, "k_fine": k_fine, "k_broad": k_broad}
    stats = {**quality, "papers": len(ids), "kept_ids": sum(1 for i in fine_ids + broad_ids if i < first_new)}
    build_id = store.topics.save_topic_build(model, params, stats, rows, points)
    lap("save")
    return Built(build_id, len(ids), k_broad, k_fine, seconds, stats)


def _topic_rows(ids: Sequence[str], x: np.ndarray, levels: Levels, xy: np.ndarray, fine_ids: list[int],
                broad_ids: list[int], fine_terms: list[list[tuple[str, float]]],
                broad_terms: list[list[tuple[str, float]]], tok: Tokeniser) -> list[TopicRow]:
    out = []
    broad_sims = np.empty(len(ids), np.float32)
    for s in range(0, len(ids), 65536):
        chunk = np.asarray(x[s:s + 65536], np.float32)
        broad_sims[s:s + 65536] = (chunk * levels.broad_centres[levels.broad[s:s + 65536]]).sum(1)
    for level, labels, sims, centres, tids, terms in (
            (0, levels.broad, broad_sims, levels.broad_centres, broad_ids, broad_terms),
            (1, levels.fine, levels.fine_sims, levels.fine_centres, fine_ids, fine_terms)):
        for j, members in enumerate(_members(labels, len(centres))):
            best = members[np.argsort(-sims[members], kind="stable")[:REPRESENTATIVES]]
            written = tuple((tok.written(t), w) for t, w in terms[j])
            where = np.median(xy[members], axis=0) if len(members) else np.zeros(2)
            parent = broad_ids[int(levels.parent[j])] if level == 1 else None
            out.append(TopicRow(Topic(tids[j], level, label_of(terms[j], tok), written,
                                      tuple(ids[r] for r in best.tolist()), len(members), parent,
                                      float(where[0]), float(where[1])), centres[j]))
    return out


def stale(store: AnyStore, days: float) -> bool:
    """A build exists and is older than `days` (0: never stale)."""
    build = store.topics.topic_build()
    if build is None or days <= 0:
        return False
    built = datetime.strptime(build["built_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return (datetime.now(UTC) - built).total_seconds() > days * 86400


def place_new(store: AnyStore, vectors: VectorIndex, model: str, dim: int, limit: int = 10_000) -> int:
    """Give papers that arrived since the last rebuild their nearest fine topic (and its broad one) and a place on
    the map by their nearest placed neighbours; no rebuild. How many were placed."""
    if store.topics.topic_build() is None:
        return 0
    todo = store.topics.unplaced_ids(store.model_id(model, dim), limit)
    if not todo:
        return 0
    fine_ids, centres = store.topics.topic_centroids(1)
    if not fine_ids:
        return 0
    parent = {t.id: t.parent for t in store.topics.topics(1)}
    where = {t.id: (t.x, t.y) for t in store.topics.topics(1)}
    vecs, found = vectors.vectors_of(todo)
    if not found:
        return 0
    labels, _ = nearest(vecs, centres)
    rows = []
    for v, pid, lab in zip(vecs, found, labels.tolist(), strict=True):
        near = vectors.search(v, 12, exclude=[pid])
        places = store.topics.map_places([i for i, _ in near])
        got = [(places[i], s) for i, s in near if i in places][:10]
        fid = fine_ids[lab]
        xy = place(np.array([g[0] for g in got]), np.array([g[1] for g in got])) if got else where[fid]
        rows.append((pid, int(parent[fid] or fid), fid, xy[0], xy[1]))
    store.topics.place_papers(rows)
    return len(rows)
