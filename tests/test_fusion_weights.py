"""Hybrid fusion leans on BM25 for a few keywords and on the vectors for sentence-long queries."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fakes import HashingEmbedder
from paperscope.config import load_settings
from paperscope.models import ParsedQuery
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.rank import LENGTH_PIVOT, length_weight, normalise
from paperscope.search import open_engine, run_query
from paperscope.store import Store
from paperscope.text import words


def test_the_configured_weight_holds_at_eight_words_and_moves_by_the_slope_per_doubling():
    assert length_weight(0.3, LENGTH_PIVOT, 0.15) == pytest.approx(0.3)
    assert length_weight(0.3, 16, 0.15) == pytest.approx(0.45)
    assert length_weight(0.3, 4, 0.15) == pytest.approx(0.15)
    shares = [length_weight(0.3, n, 0.15) for n in range(1, 200)]
    assert shares == sorted(shares) and shares[-1] > shares[0]
    assert min(shares) == pytest.approx(0.1) and max(shares) == pytest.approx(0.9)  # never one list alone
    assert length_weight(0.3, 0, 0.15) == length_weight(0.3, 1, 0.15)
    assert all(length_weight(0.42, n, 0.0) == 0.42 for n in (1, 8, 100))  # slope 0: fixed weights


def test_defaults_are_the_weights_chosen_on_train(tmp_path):
    s = load_settings(tmp_path, environ={})
    assert (s.fusion, s.keyword_weight, s.semantic_weight, s.length_slope) == ("zscore", 0.7, 0.3, 0.15)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("weights"), environ={})
    store = Store(settings.db_path)
    embedder = HashingEmbedder()
    ingest(store, settings, "sample", SourceOptions())
    embed_papers(store, embedder)
    update_indexes(store, settings, embedder.name, embedder.dim)
    yield open_engine(store, settings, embedder)
    store.close()


def _expected(engine, text: str, share: float) -> dict[str, float]:
    """(1 − w)·z(BM25) + w·z(cosine) over the union, computed here from the two lists."""
    pq = ParsedQuery(terms=tuple(words(text)))
    depth = engine.settings.candidates
    kw, _ = engine.keyword.search(pq, depth)
    sem = engine.vectors.search(engine.embed_query(pq.text), depth)
    ids = list(dict.fromkeys([i for i, _ in kw] + [i for i, _ in sem]))
    bm25 = dict(kw)
    cos = engine.vectors.cosines(engine.embed_query(pq.text), ids)
    fused = (1 - share) * normalise(np.array([bm25.get(i, 0.0) for i in ids]), "z") \
        + share * normalise(np.array([cos[i] for i in ids]), "z")
    return dict(zip(ids, fused.tolist(), strict=True))


@pytest.mark.parametrize("text, searchable", [
    ("language model", 2),
    ("the of and language model", 2),  # stopwords do not count
    ("retrieval augmented generation with large language models for answering open domain questions "
     "over scientific papers and their citations in long documents", 16),
])
def test_hybrid_scores_use_the_share_for_the_query_length(engine, text, searchable):
    s = engine.settings
    share = length_weight(s.semantic_weight / (s.keyword_weight + s.semantic_weight), searchable, s.length_slope)
    ranked = dict(run_query(engine, ParsedQuery(terms=tuple(words(text))), "hybrid").ranked)
    expected = _expected(engine, text, share)
    assert ranked.keys() == expected.keys()
    assert np.allclose([ranked[i] for i in expected], list(expected.values()))
    fixed = _expected(engine, text, 0.3)
    if searchable != LENGTH_PIVOT:  # another share gives other scores: the test can tell them apart
        assert not np.allclose([ranked[i] for i in fixed], list(fixed.values()))


def test_slope_zero_keeps_the_configured_weights(engine):
    fixed = dataclasses.replace(engine, settings=dataclasses.replace(engine.settings, length_slope=0.0,
                                                                     keyword_weight=0.5, semantic_weight=0.5))
    text = "graph neural networks"
    ranked = dict(run_query(fixed, ParsedQuery(terms=tuple(words(text))), "hybrid").ranked)
    expected = _expected(engine, text, 0.5)
    assert np.allclose([ranked[i] for i in expected], list(expected.values()))
