"""A 2-D map of the papers, numpy and faiss only (no UMAP, no torch):

1. PCA of the vectors to 32 dimensions;
2. the fine topic centres laid out by a small exact t-SNE (their arrangement is the map's global shape);
3. each paper starts at the similarity-weighted place of its nearest centres;
4. a UMAP-style refinement: each paper is pulled toward its 10 nearest neighbours (faiss kNN in PCA space) and
   pushed from random others, for a few dozen full-batch epochs.

New papers are placed between rebuilds at the weighted mean of their nearest placed neighbours (`place`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

A, B = 1.577, 0.895  # UMAP's curve for min_dist = 0.1
SCALE = 10.0  # the layout spans about ±SCALE


def pca(x: np.ndarray, dims: int = 32, sample: int = 50_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(mean, components) of the rows of x (components as rows), from at most `sample` rows."""
    rng = np.random.default_rng(seed)
    rows = x if len(x) <= sample else x[np.sort(rng.choice(len(x), sample, replace=False))]
    rows = np.asarray(rows, np.float32)
    mean = rows.mean(0)
    cov = np.cov((rows - mean).T)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(-vals)[:dims]
    return mean.astype(np.float32), np.ascontiguousarray(vecs[:, order].T, np.float32)


def project(x: np.ndarray, mean: np.ndarray, comps: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Rows of x in PCA coordinates (float32), chunk by chunk (x may be a float16 memmap)."""
    out = np.empty((len(x), len(comps)), np.float32)
    for s in range(0, len(x), chunk):
        out[s:s + chunk] = (np.asarray(x[s:s + chunk], np.float32) - mean) @ comps.T
    return out


def knn(points: np.ndarray, k: int = 10, seed: int = 0) -> np.ndarray:
    """Each row's k nearest other rows (L2): exact below 50k rows, faiss IVF (nprobe 8) above."""
    import faiss

    n, d = points.shape
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, 0), np.int64)
    pts = np.ascontiguousarray(points, np.float32)
    if n <= 50_000:
        index: faiss.Index = faiss.IndexFlatL2(d)
    else:
        nlist = int(min(4096, 4 * np.sqrt(n)))
        quant = faiss.IndexFlatL2(d)
        index = faiss.IndexIVFFlat(quant, d, nlist)
        rng = np.random.default_rng(seed)
        index.train(pts[rng.choice(n, min(n, 64 * nlist), replace=False)])
        index.nprobe = 8
    index.add(pts)
    out = np.empty((n, k), np.int64)
    for s in range(0, n, 100_000):
        _, idx = index.search(pts[s:s + 100_000], k + 1)
        for r in range(len(idx)):  # drop the row itself wherever it comes
            row = idx[r][idx[r] != s + r][:k]
            out[s + r, :len(row)] = row
            out[s + r, len(row):] = row[-1] if len(row) else s + r
    return out


def tsne(points: np.ndarray, seed: int = 0, iters: int = 500) -> np.ndarray:
    """An exact t-SNE of a few hundred points (the topic centres), scaled to about ±SCALE."""
    m = len(points)
    if m <= 2:
        return np.array([[-SCALE / 2, 0.0], [SCALE / 2, 0.0]][:m], np.float32)
    x = np.asarray(points, np.float64)
    d2 = np.maximum(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0)
    perplexity = min(30.0, (m - 1) / 3)
    p = np.zeros((m, m))
    target = np.log(perplexity)
    for i in range(m):  # binary search for each point's Gaussian width
        lo, hi, beta = 0.0, np.inf, 1.0
        di = np.delete(d2[i], i)
        for _ in range(60):
            w = np.exp(-(di - di.min()) * beta)
            sw = w.sum()
            h = np.log(sw) + beta * (di - di.min()).dot(w) / sw
            if abs(h - target) < 1e-4:
                break
            if h > target:
                lo, beta = beta, beta * 2 if hi == np.inf else (beta + hi) / 2
            else:
                hi, beta = beta, (beta + lo) / 2
        p[i, np.arange(m) != i] = w / sw
    p = np.maximum((p + p.T) / (2 * m), 1e-12)
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1e-4, (m, 2))
    # start from the first two principal components: the same data gives the same map
    centred = x - x.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    y += centred @ vt[:2].T * 1e-2
    gains, update = np.ones_like(y), np.zeros_like(y)
    for it in range(iters):
        diff = y[:, None, :] - y[None, :, :]
        num = 1 / (1 + (diff ** 2).sum(-1))
        np.fill_diagonal(num, 0)
        q = np.maximum(num / num.sum(), 1e-12)
        exaggeration = 12.0 if it < 100 else 1.0
        grad = 4 * (((exaggeration * p - q) * num)[:, :, None] * diff).sum(1)
        gains = np.where(np.sign(grad) != np.sign(update), gains + 0.2, gains * 0.8).clip(0.01)
        update = (0.5 if it < 250 else 0.8) * update - 200.0 * gains * grad
        y += update
        y -= y.mean(0)
    return (y / (np.abs(y).max() or 1.0) * SCALE).astype(np.float32)


def init_positions(x: np.ndarray, centres: np.ndarray, centre_xy: np.ndarray, seed: int = 0,
                   top: int = 3, chunk: int = 65536) -> np.ndarray:
    """Each paper at the similarity-weighted place of its `top` nearest centres, with a little jitter."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(x), 2), np.float32)
    c = np.asarray(centres, np.float32)
    t = min(top, len(c))
    for s in range(0, len(x), chunk):
        sims = np.asarray(x[s:s + chunk], np.float32) @ c.T
        idx = np.argpartition(-sims, t - 1, axis=1)[:, :t]
        w = np.exp(np.take_along_axis(sims, idx, 1) * 20)
        w /= w.sum(1, keepdims=True)
        out[s:s + chunk] = (w[:, :, None] * centre_xy[idx]).sum(1)
    spread = SCALE / max(np.sqrt(len(c)), 1.0) * 0.3
    return out + rng.normal(0, spread, out.shape).astype(np.float32)


def refine(y: np.ndarray, neighbours: np.ndarray, epochs: int = 60, negatives: int = 5, seed: int = 0,
           on_epoch: Callable[[int], None] | None = None, repulsion: float = 10.0) -> np.ndarray:
    """UMAP-style refinement in full-batch epochs: attraction along kNN edges, repulsion from random points;
    each paper moves by the mean of its forces (so a well-connected one does not jump), learning rate 1 → 0."""
    rng = np.random.default_rng(seed)
    y = np.array(y, np.float32, copy=True)
    n, k = neighbours.shape
    if n < 3 or k == 0:
        return y
    src = np.repeat(np.arange(n), k)
    dst = neighbours.reshape(-1)
    for epoch in range(epochs):
        lr = 1.0 - epoch / epochs
        move = np.zeros_like(y)
        d = y[src] - y[dst]
        d2 = (d * d).sum(1)
        coef = -2 * A * B * np.power(np.maximum(d2, 1e-6), B - 1) / (1 + A * np.power(d2, B))
        g = np.clip(coef[:, None] * d, -4, 4)
        for axis in (0, 1):
            move[:, axis] += np.bincount(src, g[:, axis], n) - np.bincount(dst, g[:, axis], n)
        neg_src = np.repeat(np.arange(n), negatives)
        neg = rng.integers(0, n, len(neg_src))
        d = y[neg_src] - y[neg]
        d2 = (d * d).sum(1)
        coef = 2 * B / ((1e-3 + d2) * (1 + A * np.power(d2, B)))
        g = np.clip(coef[:, None] * d, -4, 4)
        for axis in (0, 1):  # few samples standing for UMAP's 5 per edge: each pushes `repulsion` times harder
            move[:, axis] += repulsion * np.bincount(neg_src, g[:, axis], n)
        y += lr * move / (2 * k + repulsion * negatives)
        if on_epoch:
            on_epoch(epoch)
    return y


def layout(x: np.ndarray, centres: np.ndarray, seed: int = 0, epochs: int | None = None,
           on_step: Callable[[str], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(paper places (n, 2), centre places (k, 2)) for unit vectors x and their fine topic centres."""
    say = on_step or (lambda _s: None)
    mean, comps = pca(x, seed=seed)
    say("pca")
    centre_xy = tsne(project(centres, mean, comps), seed)
    say("centres")
    y = init_positions(x, centres, centre_xy, seed)
    pts = project(x, mean, comps)
    neighbours = knn(pts, 10, seed)
    del pts
    say("neighbours")
    if epochs is None:
        epochs = 150 if len(x) <= 20_000 else 60 if len(x) <= 200_000 else 30
    y = refine(y, neighbours, epochs, seed=seed)
    say("refined")
    return y, centre_xy


def place(neighbour_xy: np.ndarray, sims: np.ndarray) -> tuple[float, float]:
    """A new paper's place: the mean of its nearest placed neighbours' places, weighted by similarity."""
    if len(neighbour_xy) == 0:
        return 0.0, 0.0
    w = np.exp((np.asarray(sims, np.float32) - float(np.max(sims))) * 20)
    xy = (w[:, None] * np.asarray(neighbour_xy, np.float32)).sum(0) / w.sum()
    return float(xy[0]), float(xy[1])


def _topk(q: np.ndarray, rows: np.ndarray, data: np.ndarray, k: int, score: Callable[[np.ndarray, np.ndarray], np.ndarray],
          chunk: int = 20_000) -> np.ndarray:
    """The k best rows of `data` for each query (higher score is better; a query's own row is excluded)."""
    best_s = np.full((len(q), k), -np.inf, np.float32)
    best_i = np.zeros((len(q), k), np.int64)
    for c in range(0, len(data), chunk):
        sc = score(q, np.asarray(data[c:c + chunk], np.float32))
        own = (rows >= c) & (rows < c + chunk)
        sc[np.flatnonzero(own), rows[own] - c] = -np.inf
        both_s = np.hstack([best_s, sc])
        both_i = np.hstack([best_i, np.broadcast_to(np.arange(c, c + sc.shape[1]), sc.shape)])
        top = np.argpartition(-both_s, k - 1, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(both_s, top, 1), np.take_along_axis(both_i, top, 1)
    return best_i


def preservation(x: np.ndarray, y: np.ndarray, k: int = 10, sample: int = 1000, seed: int = 0) -> float:
    """The share of each sampled paper's k nearest neighbours by cosine in full dimension that are also among its k
    nearest on the map (exact on both sides, over all papers)."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(x), min(sample, len(x)), replace=False))
    k = min(k, len(x) - 1)
    if k <= 0:
        return 1.0
    hi = _topk(np.asarray(x[rows], np.float32), rows, x, k, lambda q, d: q @ d.T)
    yf = np.asarray(y, np.float32)
    lo = _topk(yf[rows], rows, yf, k, lambda q, d: -((q[:, None, :] - d[None, :, :]) ** 2).sum(-1))
    kept = sum(len(set(a) & set(b)) for a, b in zip(hi.tolist(), lo.tolist(), strict=True))
    return kept / (len(rows) * k)
