"""Ranking quality cannot silently regress: `eval` on a fixed SciFact slice with the real model.

The slice (50 claims, 243 abstracts including each claim's top BM25 hard negatives) is cut from BEIR SciFact test
in ../shared/data at test time, and its abstracts are embedded by the default model, both into the test cache
outside git (tests/derived.py: built once, reused while the shared files, the texts and the model are unchanged);
the claims are embedded by the live model. Hybrid nDCG@10 may not fall more than 0.01 below the figure recorded in
data/scifact-slice-expected.json; re-record it (with the reason in the commit) only when a change is meant to move it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from derived import cached_vectors, scifact_slice, stored_texts
from paperscope.config import load_settings
from paperscope.embed import OnnxMiniLMEmbedder
from paperscope.evaluate import evaluate
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.sample_vectors import load_sample_vectors
from paperscope.search import open_engine
from paperscope.store import Store

EXPECTED = Path(__file__).parent / "data" / "scifact-slice-expected.json"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("slice"), environ={})
    store = Store(settings.db_path)
    cut = scifact_slice()
    ingest(store, settings, "file", SourceOptions(path=cut / "corpus.jsonl"))
    assert load_sample_vectors(store, settings, *cached_vectors("scifact-slice", stored_texts(store))) == 243
    embedder = OnnxMiniLMEmbedder(threads=1)
    assert embed_papers(store, embedder) == 0
    update_indexes(store, settings, embedder.name, embedder.dim)
    yield evaluate(open_engine(store, settings, embedder), cut, "test")
    store.close()


def test_hybrid_ndcg_holds_on_the_scifact_slice(result):
    expected = json.loads(EXPECTED.read_text())
    assert result["queries"] == 50
    hybrid = result["modes"]["hybrid"]["ndcg@10"]
    assert hybrid >= expected["hybrid_ndcg@10"] - 0.01, result["modes"]


def test_eval_json_keeps_its_shape_and_fusion_beats_plain_rrf(result):
    modes = result["modes"]
    assert set(modes) >= {"hybrid", "keyword", "semantic", "rrf"}
    assert all(set(m) == {"ndcg@10", "recall@100", "mrr@10"} for m in modes.values())
    assert not any("hybrid" in name for name in modes if name != "hybrid")
    # the slice's negatives are BM25's own top hits, so keyword is handicapped here and semantic is not
    assert modes["hybrid"]["ndcg@10"] > max(modes["keyword"]["ndcg@10"], modes["rrf"]["ndcg@10"])
