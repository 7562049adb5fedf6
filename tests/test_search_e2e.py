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

# Natural-language questions that share few words with the paper that answers them.
KNOWN = [
    ("splitting a giant network across accelerators with micro-batches", {"local:lp-7eaf099857"}),
    ("compress the key value cache to serve very long contexts", {"local:lp-0c68d3be7a"}),
    ("turning photos of objects into simple line drawings", {"local:lp-5abbd1ad2e"}),
    ("state space models as a backbone for image recognition", {"local:lp-733188b2f6", "local:lp-35970faa02"}),
    ("language models whose weights are ternary", {"local:lp-dcbdc156fc", "local:lp-b824e079f0"}),
    ("thesis on neural networks as continuous-time dynamical systems", {"local:lp-7775122b52"}),
    ("abstractive summarization with BERT", {"local:lp-83a49beb09"}),
    ("open-vocabulary 3D scene graphs for robot planning", {"local:lp-ce86bc592b"}),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("e2e"), environ={})
    store = Store(settings.db_path)
    ingest(store, settings, "file", SourceOptions(path=Path(__file__).parent / "data" / "listing-papers.jsonl"))
    from paperscope.embed import load_embedder

    embedder = load_embedder("default", 2)
    assert embed_papers(store, embedder) == 564
    update_indexes(store, settings, embedder.name, embedder.dim)
    yield open_engine(store, settings, embedder)
    store.close()


@pytest.mark.parametrize("query,answers", KNOWN)
def test_known_answers_are_in_the_top_5(engine, query, answers):
    ids = [h.paper.id for h in search(engine, query, k=5).hits]
    assert answers & set(ids), f"{query!r} → {ids}"


def test_semantic_mode_finds_what_keywords_cannot(engine):
    query = "splitting a giant network across accelerators with micro-batches"
    sem = [h.paper.id for h in search(engine, query, k=5, mode="semantic").hits]
    assert "local:lp-7eaf099857" in sem


def test_similar_papers_share_the_topic(engine):
    hits = similar(engine, ["lp-733188b2f6"], k=5)  # Vision Mamba
    titles = " ".join(h.paper.title.lower() for h in hits)
    assert "mamba" in titles or "state space" in titles


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
    quantization = ["local:lp-dcbdc156fc", "local:lp-b824e079f0", "local:lp-0c68d3be7a", "local:lp-f60d265923",
                    "local:lp-8fc5d3de74"]  # BitNet, ternary NLG, KVQuant, HAWQ-V3, QuEST
    users.save(ada.id, quantization[0], ["quant"])
    for pid in quantization[1:]:
        users.save(ada.id, pid, ["quant"])
    recs = recommend(engine, ada.id, "quant", k=10)
    text = " ".join((r.paper.title + " " + r.paper.abstract).lower() for r in recs)
    assert sum(("quantiz" in (r.paper.title + r.paper.abstract).lower()) or ("binar" in r.paper.abstract.lower())
               for r in recs) >= 6, text[:500]
