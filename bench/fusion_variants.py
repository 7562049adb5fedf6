"""Fusion variants scored offline by bench/fusion_study.py (each: query data → fused scores)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Fuse = Callable[[dict[str, Any]], dict[str, float]]


def lists(q: dict[str, Any], depth: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    return q["kw"][:depth], q["sem"][:depth]


def rrf(depth: int, k: float = 60, w: float = 0.5) -> Fuse:
    def fuse(q: dict[str, Any]) -> dict[str, float]:
        kw, sem = lists(q, depth)
        out: dict[str, float] = {}
        for weight, run in ((1 - w, kw), (w, sem)):
            for r, (d, _) in enumerate(run, 1):
                out[d] = out.get(d, 0.0) + weight / (k + r)
        return out
    return fuse


def minmax_lists(depth: int, w: float) -> Fuse:
    def fuse(q: dict[str, Any]) -> dict[str, float]:
        kw, sem = lists(q, depth)
        out: dict[str, float] = {}
        for weight, run in ((1 - w, kw), (w, sem)):
            if not run:
                continue
            v = np.array([s for _, s in run])
            lo, span = v.min(), (v.max() - v.min()) or 1.0
            for d, s in run:
                out[d] = out.get(d, 0.0) + weight * (s - lo) / span
        return out
    return fuse


def _complete(q: dict[str, Any], depth: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    kw, sem = lists(q, depth)
    union = list(dict.fromkeys([d for d, _ in kw] + [d for d, _ in sem]))
    b = np.array([q["bm25"].get(d, 0.0) for d in union])
    c = np.array([q["cos"].get(d, 0.0) for d in union])
    return union, b, c


def _norm(x: np.ndarray, how: str) -> np.ndarray:
    if len(x) == 0:
        return x
    if how == "minmax":
        span = x.max() - x.min()
        return (x - x.min()) / (span or 1.0)
    if how == "z":
        return (x - x.mean()) / (x.std() or 1.0)
    if how == "max":
        return x / (x.max() or 1.0)
    raise ValueError(how)


def complete(depth: int, w: float | Callable[[int], float], how: str = "minmax") -> Fuse:
    def fuse(q: dict[str, Any]) -> dict[str, float]:
        union, b, c = _complete(q, depth)
        ws = w(q["n_words"]) if callable(w) else w
        s = (1 - ws) * _norm(b, how) + ws * _norm(c, how)
        return dict(zip(union, s.tolist(), strict=True))
    return fuse


def by_length(w0: float, slope: float) -> Callable[[int], float]:
    """Semantic weight that moves with the number of searchable words (log2 scale around 8 words)."""
    return lambda n: float(np.clip(w0 + slope * np.log2(max(n, 1) / 8), 0.1, 0.9))


def cos_only_complete(depth: int, w: float, how: str) -> Fuse:
    """Cosine looked up for keyword-only papers, BM25 of semantic-only papers left at 0 (cheaper)."""
    def fuse(q: dict[str, Any]) -> dict[str, float]:
        kw, sem = lists(q, depth)
        union = list(dict.fromkeys([d for d, _ in kw] + [d for d, _ in sem]))
        kwd = dict(kw)
        b = np.array([kwd.get(d, 0.0) for d in union])
        c = np.array([q["cos"].get(d, 0.0) for d in union])
        s = (1 - w) * _norm(b, how) + w * _norm(c, how)
        return dict(zip(union, s.tolist(), strict=True))
    return fuse


def rank_convex(depth: int, w: float) -> Fuse:
    """Rank-based convex combination: each model's complete scores turned into ranks over the union (0..1)."""
    def fuse(q: dict[str, Any]) -> dict[str, float]:
        union, b, c = _complete(q, depth)
        n = max(len(union) - 1, 1)
        rb = 1 - np.argsort(np.argsort(-b, kind="stable"), kind="stable") / n
        rc = 1 - np.argsort(np.argsort(-c, kind="stable"), kind="stable") / n
        return dict(zip(union, ((1 - w) * rb + w * rc).tolist(), strict=True))
    return fuse


def variants() -> dict[str, Fuse]:
    out: dict[str, Fuse] = {}
    for depth in (100, 150, 200, 300):
        out[f"RRF k=60 d={depth}"] = rrf(depth)
    for depth in (100, 150, 200):
        for w in (0.45,):
            out[f"minmax lists w={w} d={depth} (old default)"] = minmax_lists(depth, w)
    for depth in (150, 200, 300):
        for how in ("minmax", "z"):
            for w in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65):
                out[f"complete {how} w={w} d={depth}"] = complete(depth, w, how)
    for how in ("minmax", "z"):
        for w0 in (0.4, 0.45, 0.5):
            for slope in (-0.1, 0.1):
                out[f"complete {how} w={w0}{slope:+} log2(n/8) d=150"] = complete(150, by_length(w0, slope), how)
    for w in (0.4, 0.5, 0.6):
        out[f"rank-convex w={w} d=150"] = rank_convex(150, w)
        out[f"complete max w={w} d=150"] = complete(150, w, "max")
    for how in ("minmax", "z"):
        for w in (0.35, 0.4, 0.45, 0.5, 0.55):
            out[f"cos-complete {how} w={w} d=150"] = cos_only_complete(150, w, how)
    for k in (10, 30, 60):
        for w in (0.4, 0.5, 0.6):
            out[f"RRF k={k} wsem={w} d=200"] = rrf(200, k, w)
    return out
