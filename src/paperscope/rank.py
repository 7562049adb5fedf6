"""Ranking maths, pure: reciprocal-rank fusion, min-max score fusion, top-k."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RRF_K = 60


def rrf(rankings: Sequence[Sequence[str]], weights: Sequence[float] | None = None, k: int = RRF_K) -> dict[str, float]:
    """Reciprocal-rank fusion: score(d) = Σ_i w_i / (k + rank_i(d)), ranks from 1."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank)
    return scores


def minmax_fusion(runs: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float]) -> dict[str, float]:
    """Convex combination of min-max normalised scores; a document missing from a run scores 0 there."""
    scores: dict[str, float] = {}
    for run, w in zip(runs, weights, strict=True):
        if not run:
            continue
        values = np.array([s for _, s in run], np.float64)
        lo, hi = float(values.min()), float(values.max())
        span = hi - lo or 1.0
        for (doc, s) in run:
            scores[doc] = scores.get(doc, 0.0) + w * (s - lo) / span
    return scores


def normalise(values: np.ndarray, how: str) -> np.ndarray:
    """Put one list's scores on a common scale: `z` (mean 0, sd 1) or `minmax` (0..1)."""
    if len(values) == 0:
        return values
    if how == "z":
        return (values - values.mean()) / (values.std() or 1.0)
    return (values - values.min()) / ((values.max() - values.min()) or 1.0)


LENGTH_PIVOT = 8  # words of a query at which the configured weights hold unchanged
WEIGHT_RANGE = (0.1, 0.9)


def length_weight(semantic_weight: float, n_words: int, slope: float) -> float:
    """The semantic share for a query of `n_words` searchable words: w + slope·log2(n / 8), within 0.1..0.9.

    A few keywords say little a sentence embedding can use, so BM25 leads; a sentence-long query carries
    meaning the words alone miss, so the vectors count more (chosen on SciFact and hf-keywords train)."""
    if slope == 0:
        return semantic_weight
    w = semantic_weight + slope * float(np.log2(max(n_words, 1) / LENGTH_PIVOT))
    return min(max(w, WEIGHT_RANGE[0]), WEIGHT_RANGE[1])


def convex_fusion(ids: Sequence[str], keyword: np.ndarray, semantic: np.ndarray, semantic_weight: float,
                  how: str = "z") -> dict[str, float]:
    """(1 − w)·norm(BM25) + w·norm(cosine) over the union of both lists, each paper scored by both models
    (no zero filled in for a paper one list did not reach), normalised over that union."""
    fused = (1 - semantic_weight) * normalise(keyword, how) + semantic_weight * normalise(semantic, how)
    return dict(zip(ids, fused.tolist(), strict=True))


def top(scores: dict[str, float], k: int, offset: int = 0) -> list[tuple[str, float]]:
    """The k best (id, score) pairs after `offset`, ties broken by id for stable pages."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[offset:offset + k]


TRENDING_GRAVITY = 1.5
TRENDING_WINDOW_DAYS = 30


TRENDING_FORMULA = ("score = (upvotes + 3·saves + 3·lab submissions + ln(1 + GitHub stars) + 1) / "
                    "(age in hours + 2)^1.5, where upvotes = Hugging Face upvotes + this lab's upvotes")


CITED_LATELY_FORMULA = ("gain = newest count − count at the window's start (the last fetch before it, else the "
                        "first fetch inside it), per citation source; a paper's gain is its larger source's")


def citation_gain(history: list[tuple[str, int]], since: str) -> int:
    """Citations gained since `since` by one source's counts (ISO time, count; oldest first): the newest count
    minus the last one fetched before `since`, or minus the first one inside the window when none was."""
    if not history:
        return 0
    before = [n for at, n in history if at < since]
    inside = [n for at, n in history if at >= since]
    if not inside:
        return 0
    return max(inside[-1] - (before[-1] if before else inside[0]), 0)


def trending_score(upvotes: float, stars: float, saves: float, age_hours: float, submissions: float = 0.0) -> float:
    """The one trending formula: (upvotes + 3·saves + 3·submissions + ln(1 + stars) + 1) / (age_hours + 2)^1.5.

    Upvotes (Hugging Face's plus this lab's own), saves and lab submissions on this instance count
    linearly, saves and submissions more since they are local intent; GitHub stars are heavy-tailed and
    count by their logarithm; age decays like Hacker News.
    """
    local = 3.0 * saves + 3.0 * submissions
    return (upvotes + local + float(np.log1p(max(stars, 0.0))) + 1.0) / (max(age_hours, 0.0) + 2.0) ** TRENDING_GRAVITY
