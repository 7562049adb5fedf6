"""End to end with the real bundled model: the sample is ingested, embedded, indexed and searched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paperscope.config import load_settings
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine, search, similar
from paperscope.store import Store

# Natural-language questions about the bundled sample (the seed listing pages' papers) in other words than the answer's.
KNOWN = [
    ("reconstructing people wearing loose clothes from a single video", {"local:lp-1db580daee"}),  # ReLoo
    ("making stickers move with video generation", {"local:lp-bdff9d2c4e"}),  # Animated Stickers
    ("finding text in Japanese comics", {"local:lp-113727a2c4"}),  # text detection in manga
    ("what prompting with examples secretly computes, studied on linear regression", {"local:lp-0adf9761e5"}),
    ("a benchmark for searching recordings of birdsong", {"local:lp-08bedbcc5e"}),  # BIRB
    ("speech synthesis with normalising flows on top of hidden Markov models", {"local:lp-6e5ffeaed9"}),  # OverFlow
    ("guessing when and where a photo was taken", {"local:lp-9046e8841d"}),
    ("sorting sentences of medical trial abstracts into background, methods and results", {"local:lp-b0333d29a2"}),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """The bundled sample with its shipped vectors (made by this model: tests/test_embed_onnx.py checks them);
    queries are embedded by the real model."""
    settings = load_settings(tmp_path_factory.mktemp("e2e"), environ={})
    store = Store(settings.db_path)
    ingest(store, settings, "sample", SourceOptions())
    from paperscope.embed import load_embedder

    embedder = load_embedder("default", 1)
    assert embed_papers(store, embedder) == 0  # every sample paper came with its vector
    update_indexes(store, settings, embedder.name, embedder.dim)
    yield open_engine(store, settings, embedder)
    store.close()


@pytest.mark.parametrize("query,answers", KNOWN)
def test_known_answers_are_in_the_top_5(engine, query, answers):
    ids = [h.paper.id for h in search(engine, query, k=5).hits]
    assert answers & set(ids), f"{query!r} → {ids}"


def test_semantic_mode_finds_what_keywords_cannot(engine):
    query = "cleaning up old scanned pages and turning them black and white"  # DeepOtsu: document binarization
    kw = [h.paper.id for h in search(engine, query, k=5, mode="keyword").hits]
    sem = [h.paper.id for h in search(engine, query, k=5, mode="semantic").hits]
    assert "local:lp-876c8d8c32" in sem and "local:lp-876c8d8c32" not in kw


def test_similar_papers_share_the_topic(engine):
    hits = similar(engine, ["local:lp-388224191c"], k=5)  # BiLLM: 1-bit post-training quantization of LLMs
    titles = [h.paper.title.lower() for h in hits]
    assert sum(any(w in t for w in ("binar", "bit", "quantiz")) for t in titles) >= 4, titles


def test_cli_update_then_search_json_over_a_real_process(tmp_path):
    env_home = str(tmp_path / "home")
    run = [sys.executable, "-m", "paperscope", "--data-dir", env_home]
    subprocess.run(run + ["ingest", "file", str(Path(__file__).parent / "data" / "papers.csv")], check=True,
                   capture_output=True)
    first = subprocess.run(run + ["update"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(run + ["update"], capture_output=True, text=True)
    assert second.returncode == 1  # nothing changed: the next stage can be skipped
    out = subprocess.run(run + ["search", "fusing rankings", "--json"], capture_output=True, text=True, check=True)
    hits = json.loads(out.stdout)["hits"]
    assert hits[0]["id"] == "arxiv:2405.00002" and hits[0]["reason"] == "both"


def test_recommendations_from_a_library_stay_on_topic(engine):
    from paperscope.recommend import recommend

    users = engine.store.users
    ada = users.create("ada@example.org", None)
    saved = ["local:lp-388224191c", "local:lp-94775f36b7", "local:lp-cb3a0e0b2c", "local:lp-e2dd80516e",
             "local:lp-c7d800a7f9"]
    for pid in saved:  # low-bit quantization papers: BiLLM, DB-LLM, PTQ1.61, HAWQ-V2, FLIQS
        users.save(ada.id, pid, ["quantization"])
    recs = recommend(engine, ada.id, "quantization", k=10)
    assert not set(saved) & {r.paper.id for r in recs}
    on_topic = sum(any(w in (r.paper.title + " " + r.paper.abstract).lower() for w in ("quantiz", "quantis"))
                   for r in recs)
    assert on_topic >= 6, [r.paper.title for r in recs]
