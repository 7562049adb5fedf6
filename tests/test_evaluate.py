"""Evaluation metrics agree with values worked out by hand on a three-document collection."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from paperscope.errors import SourceError
from paperscope.evaluate import evaluate, mrr, ndcg, read_qrels, recall
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine


def test_metrics_match_hand_computed_values():
    # Relevant d2 at rank 2, d9 never retrieved: DCG = 1/log2(3); ideal = 1 + 1/log2(3).
    assert ndcg(["d1", "d2"], {"d2": 1, "d9": 1}) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    # Graded: a 2 at rank 1 and a 1 at rank 3 against the ideal order 2, 1.
    assert ndcg(["a", "x", "b"], {"a": 2, "b": 1}) == pytest.approx((2 + 1 / 2) / (2 + 1 / math.log2(3)))
    assert recall(["d1", "d2"], {"d2": 1, "d9": 1}) == 0.5
    assert recall(["d1"], {"d1": 0}) == 0.0  # a judged-irrelevant document is not relevant
    assert mrr(["d1", "d2", "d3"], {"d3": 1}) == pytest.approx(1 / 3)
    assert mrr(["d1"] * 10 + ["d2"], {"d2": 1}) == 0.0  # beyond the cut-off of 10
    assert ndcg([], {"d1": 1}) == 0.0 and ndcg(["d1"], {}) == 0.0


def _beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    docs = [("d1", "apple banana"), ("d2", "apple cherry"), ("d3", "durian")]
    (root / "corpus.jsonl").write_text("".join(json.dumps({"_id": i, "title": t, "text": ""}) + "\n" for i, t in docs))
    queries = [("q1", "apple banana"), ("q2", "durian"), ("q3", "unjudged")]
    (root / "queries.jsonl").write_text("".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in queries))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td3\t2\nq2\td1\t1\n")
    return root


def test_evaluate_scores_a_three_document_collection_by_hand(settings, store, fake_embedder, tmp_path):
    beir = _beir(tmp_path / "tiny")
    assert read_qrels(beir / "qrels" / "test.tsv") == {"q1": {"d2": 1}, "q2": {"d3": 2, "d1": 1}}
    ingest(store, settings, "file", SourceOptions(path=beir / "corpus.jsonl"))
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    result = evaluate(open_engine(store, settings, fake_embedder), beir, "test", modes=("keyword",))
    # BM25 ranks q1: d1 (both words), d2 (one word); q2: d3 only.
    q1 = {"ndcg": 1 / math.log2(3), "recall": 1.0, "mrr": 0.5}
    q2 = {"ndcg": 2 / (2 + 1 / math.log2(3)), "recall": 0.5, "mrr": 1.0}
    assert result["queries"] == 2 and result["dataset"] == "tiny"
    scores = result["modes"]["keyword"]
    assert scores["ndcg@10"] == pytest.approx((q1["ndcg"] + q2["ndcg"]) / 2, abs=1e-4)
    assert scores["recall@100"] == pytest.approx(0.75, abs=1e-4)
    assert scores["mrr@10"] == pytest.approx(0.75, abs=1e-4)


def test_evaluate_without_qrels_names_the_layout(settings, store, fake_embedder, tmp_path):
    with pytest.raises(SourceError, match="corpus.jsonl, queries.jsonl, qrels"):
        evaluate(open_engine(store, settings, fake_embedder), tmp_path, "test")
