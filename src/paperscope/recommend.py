"""Recommendations learned from a user's library: logistic regression over paper embeddings.

Positives are the saved (or up-voted) papers of a tag or of the whole library; negatives are hidden and
down-voted papers (weighted ×3) and a random background sample of the collection, as arxiv-sanity-lite
and Scholar Inbox do. Each recommendation names the saved papers it is closest to.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import logreg
from .errors import UsageError
from .models import Filters, Paper
from .search import Engine

BACKGROUND = 2000


@dataclass(frozen=True)
class Recommendation:
    """A recommended paper, the model's score, and the member's papers that explain it with why each counts."""

    paper: Paper
    score: float
    because: tuple[Paper, ...]
    why: tuple[str, ...] = ()  # per `because` paper, how the member marked it: saved, marked more like this, upvoted


@dataclass(frozen=True)
class Model:
    """A trained linear model over embeddings: score(x) = x·w + b."""

    w: np.ndarray
    b: float
    positives: tuple[str, ...]
    train_ms: float


def _matrix(engine: Engine, ids: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    return engine.vectors.vectors_of(ids)


def train(engine: Engine, positives: Sequence[str], negatives: Sequence[str] = (), seed: int = 0,
          c: float = 1.0) -> Model:
    """Fit the user's model; UsageError when no saved paper has a vector yet."""
    started = time.perf_counter()
    pos, pos_ids = _matrix(engine, positives)
    if not pos_ids:
        raise UsageError("save a few papers first (with vectors: run `paperscope update`) to get recommendations")
    known = set(pos_ids) | set(negatives)
    background = [i for i in engine.store.random_paper_ids(BACKGROUND, seed) if i not in known]
    neg, _ = _matrix(engine, list(negatives))
    bg, _ = _matrix(engine, background)
    x = np.vstack([pos, neg, bg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg) + len(bg))])
    weight = np.concatenate([np.ones(len(pos)), np.full(len(neg), 3.0), np.ones(len(bg))])
    if len(neg) + len(bg) == 0:
        raise UsageError("the collection is too small to learn from: ingest more papers")
    w, b = logreg.fit(x, y, sample_weight=weight, c=c, balanced=True)
    return Model(w.astype(np.float32), b, tuple(pos_ids), (time.perf_counter() - started) * 1000)


def recommend(engine: Engine, user_id: int, tag: str | None = None, k: int = 10,
              candidates: Sequence[str] | None = None, exclude: Sequence[str] = ()) -> list[Recommendation]:
    """The user's top-k unseen papers for a tag (or the whole library), each with its reasons."""
    users = engine.store.users
    saved = users.paper_ids(user_id, tag)
    thumbs = [] if tag else users.upvoted(user_id)
    lab = [] if tag else engine.store.community.upvoted_by(user_id)  # public upvotes on the lab list count too
    positives = list(dict.fromkeys(saved + thumbs + lab))
    marks = (("saved", set(saved)), ("marked more like this", set(thumbs)), ("upvoted", set(lab)))
    kinds = {pid: [k for k, ids in marks if pid in ids] for pid in positives}
    negatives = users.negatives(user_id)
    model = train(engine, positives, negatives, seed=user_id)
    allowed = engine.vectors.mask(Filters(), candidates)
    seen = sorted(set(users.paper_ids(user_id)) | set(negatives) | set(exclude) | set(positives))
    # Unit vectors rank by x·w exactly as by cosine with w/|w|: the top of a linear model is a
    # nearest-neighbour query, answered by the vector index (1-bit candidates, float rescoring, filters).
    norm = float(np.linalg.norm(model.w)) or 1.0
    found = engine.vectors.search(model.w / norm, k, allowed, exclude=seen)
    ids = [pid for pid, _ in found]
    pos_matrix, pos_ids = _matrix(engine, model.positives)
    papers = engine.store.papers_by_ids(ids + pos_ids)
    out = []
    for pid, cosine in found:
        sims = pos_matrix @ engine.vectors.vector(pid)
        because = tuple(papers[pos_ids[j]] for j in np.argsort(-sims)[:2] if pos_ids[j] in papers)
        why = tuple(" and ".join(kinds.get(b.id, ["saved"])) for b in because)
        if pid in papers and not papers[pid].withdrawn:  # withdrawn papers are never suggested
            out.append(Recommendation(papers[pid], cosine * norm + model.b, because, why))
    return out
