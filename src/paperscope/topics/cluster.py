"""Two levels of topics from the paper vectors: spherical k-means (faiss) for fine topics, the fine centres
clustered again (weighted by size) for broad ones, and ids carried over from the previous build where clusters match.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MAX_FINE = 400
MAX_BROAD = 30
MATCH_JACCARD = 0.3  # a new topic keeps an old id when their papers overlap at least this much (greedy, one-to-one)


def choose_k(n: int, fine: int = 0, broad: int = 0) -> tuple[int, int]:
    """(broad, fine) topic counts for `n` papers: fine ≈ √n (24 for the 564-paper sample, 316 at 100k, at most
    400), broad ≈ 1.6·√fine (8 … 30); a setting above 0 wins. Never more topics than papers allow."""
    k_fine = fine or int(np.clip(round(math.sqrt(n)), 2, MAX_FINE))
    k_fine = max(1, min(k_fine, n // 5 or 1))
    k_broad = broad or int(np.clip(round(1.6 * math.sqrt(k_fine)), 2, MAX_BROAD))
    return max(1, min(k_broad, k_fine)), k_fine


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def kmeans(x: np.ndarray, k: int, seed: int = 0, weights: np.ndarray | None = None,
           init: np.ndarray | None = None, niter: int = 25) -> np.ndarray:
    """k unit-length centres of the rows of x (spherical k-means), trained on at most 256 rows a centre."""
    import faiss

    x = np.ascontiguousarray(x, np.float32)
    if k >= len(x):
        return _unit(x[:k])
    redo = 1 if init is not None or len(x) * k > 20_000_000 else 5  # best of 5 starts when that is cheap
    km = faiss.Kmeans(x.shape[1], k, niter=niter, seed=seed, spherical=True, max_points_per_centroid=256,
                      min_points_per_centroid=1, nredo=redo, verbose=False)
    kw = {}
    if weights is not None:
        kw["weights"] = np.ascontiguousarray(weights, np.float32)
    if init is not None and len(init) == k:
        kw["init_centroids"] = np.ascontiguousarray(init, np.float32)
    km.train(x, **kw)
    return _unit(np.asarray(km.centroids))


def nearest(x: np.ndarray, centres: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest centre (by cosine) and that cosine, in chunks (rows may be float16)."""
    labels = np.empty(len(x), np.int64)
    sims = np.empty(len(x), np.float32)
    c = np.asarray(centres, np.float32)
    for s in range(0, len(x), chunk):
        block = np.asarray(x[s:s + chunk], np.float32) @ c.T
        labels[s:s + chunk] = block.argmax(1)
        sims[s:s + chunk] = block[np.arange(len(block)), labels[s:s + chunk]]
    return labels, sims


@dataclass
class Levels:
    """One clustering: each paper's fine topic (index), fine and broad centres, each fine topic's broad one."""

    fine: np.ndarray  # (n,) index into fine_centres
    fine_sims: np.ndarray  # (n,) cosine to its fine centre
    fine_centres: np.ndarray
    parent: np.ndarray  # (k_fine,) index into broad_centres
    broad_centres: np.ndarray

    @property
    def broad(self) -> np.ndarray:
        """Each paper's broad topic (index)."""
        return self.parent[self.fine]


def two_levels(x: np.ndarray, k_broad: int, k_fine: int, seed: int = 0,
               init_fine: np.ndarray | None = None) -> Levels:
    """Fine topics by k-means over the papers (started from the previous centres when their count matches), broad
    topics by k-means over the fine centres weighted by their sizes; empty fine topics are dropped."""
    rng = np.random.default_rng(seed)
    train = x if len(x) <= 256 * k_fine else x[np.sort(rng.choice(len(x), 256 * k_fine, replace=False))]
    centres = kmeans(np.asarray(train, np.float32), k_fine, seed, init=init_fine)
    fine, sims = nearest(x, centres)
    used = np.flatnonzero(np.bincount(fine, minlength=len(centres)) > 0)
    remap = np.full(len(centres), -1, np.int64)
    remap[used] = np.arange(len(used))
    fine, centres = remap[fine], centres[used]
    # the centres as the mean of their papers (k-means on a sample moves them slightly)
    sums = np.zeros_like(centres)
    for s in range(0, len(x), 65536):
        np.add.at(sums, fine[s:s + 65536], np.asarray(x[s:s + 65536], np.float32))
    centres = _unit(sums)
    sizes = np.bincount(fine, minlength=len(centres)).astype(np.float32)
    broad_centres = kmeans(centres, min(k_broad, len(centres)), seed, weights=sizes)
    parent, _ = nearest(centres, broad_centres)
    used_b = np.unique(parent)
    remap_b = np.full(len(broad_centres), -1, np.int64)
    remap_b[used_b] = np.arange(len(used_b))
    parent = remap_b[parent]
    broad_sums = np.zeros((len(used_b), centres.shape[1]), np.float32)
    np.add.at(broad_sums, parent, sums)
    return Levels(fine, sims, centres, parent, _unit(broad_sums))


def match_ids(new_members: Sequence[np.ndarray], old: Mapping[int, np.ndarray], next_id: int,
              threshold: float = MATCH_JACCARD) -> tuple[list[int], int]:
    """Ids for new clusters: the old topic whose papers overlap most (Jaccard ≥ threshold, each old id used once,
    best pairs first), else a fresh id from `next_id` on. Members are arrays of paper row numbers."""
    pairs: list[tuple[float, int, int]] = []
    old_sets = {tid: set(m.tolist()) for tid, m in old.items()}
    owner: dict[int, list[int]] = {}
    for tid, old_rows in old_sets.items():
        for row in old_rows:
            owner.setdefault(row, []).append(tid)
    for i, members in enumerate(new_members):
        overlap: dict[int, int] = {}
        for row in members.tolist():
            for tid in owner.get(row, ()):
                overlap[tid] = overlap.get(tid, 0) + 1
        for tid, inter in overlap.items():
            jac = inter / (len(members) + len(old_sets[tid]) - inter)
            if jac >= threshold:
                pairs.append((jac, i, tid))
    ids: list[int | None] = [None] * len(new_members)
    taken: set[int] = set()
    for _jac, i, tid in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if ids[i] is None and tid not in taken:
            ids[i] = tid
            taken.add(tid)
    out = []
    for got in ids:
        if got is None:
            got, next_id = next_id, next_id + 1
        out.append(got)
    return out, next_id
