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

# Natural-language questions about the bundled sample (real HF daily papers) that share few words with the answer.
KNOWN = [
    ("dressing a person in any garment in a photo", {"arxiv:2607.21694"}),
    ("speeding up the first pass over a long input when serving chatbots", {"arxiv:2608.19758"}),
    ("robots learning from first-person videos of people", {"arxiv:2608.02580"}),
    ("touch sensing for robot hands handling objects", {"arxiv:2607.23783"}),
    ("predicting molecules that stick two proteins together", {"arxiv:2607.22143"}),
    ("planning chemical reactions backwards from the product with language models", {"arxiv:2608.18940"}),
    ("repairing damaged old manuscripts with a language model that looks things up", {"arxiv:2607.21936"}),
    ("a model that writes fiction in many genres", {"arxiv:2608.13947"}),
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
    query = "protecting the identity of people talking in recordings"  # speaker anonymization
    kw = [h.paper.id for h in search(engine, query, k=5, mode="keyword").hits]
    sem = [h.paper.id for h in search(engine, query, k=5, mode="semantic").hits]
    assert "arxiv:2607.19636" in sem and "arxiv:2607.19636" not in kw


def test_similar_papers_share_the_topic(engine):
    hits = similar(engine, ["2608.19758"], k=5)  # FlashPrefill: long-context attention
    titles = " ".join(h.paper.title.lower() for h in hits)
    assert "kv cache" in titles or "attention" in titles, titles


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
    memory = ["arxiv:2607.24368", "arxiv:2607.26760", "arxiv:2607.26637", "arxiv:2608.07169", "arxiv:2608.12990"]
    for pid in memory:  # agent-memory papers: InMind, Metis, filesystem memory, memory distillation, LycheeMemory
        users.save(ada.id, pid, ["memory"])
    recs = recommend(engine, ada.id, "memory", k=10)
    assert not set(memory) & {r.paper.id for r in recs}
    on_topic = sum("memory" in (r.paper.title + " " + r.paper.abstract).lower() for r in recs)
    assert on_topic >= 6, [r.paper.title for r in recs]
