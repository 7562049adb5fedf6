"""The Milvus vector backend against a real Milvus Lite file under tmp (a missing wheel fails, never skips)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperscope.config import load_settings
from paperscope.errors import MissingExtraError, StoreError
from paperscope.milvus_index import MilvusVectorIndex, resolve_uri
from paperscope.models import Filters, Paper
from recorded import shared

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _papers(n: int) -> list[Paper]:
    cats = (("cs.IR",), ("cs.CL", "cs.IR"), ("hep-ph",), ())
    return [Paper(id=f"p{i}", title="t", published=f"20{10 + i % 12:02d}-03-0{1 + i % 9}" if i % 7 else None,
                  categories=cats[i % 4]) for i in range(n)]


def test_milvus_lite_is_installed():
    import milvus_lite  # noqa: F401
    import pymilvus  # noqa: F401


def test_uri_file_path_is_lite_under_the_data_dir_and_servers_pass_through(tmp_path):
    assert resolve_uri("", tmp_path) == str(tmp_path / "index" / "milvus.db")
    assert resolve_uri("vec/m.db", tmp_path) == str(tmp_path / "vec" / "m.db")
    assert resolve_uri(str(tmp_path / "abs.db"), tmp_path) == str(tmp_path / "abs.db")
    assert resolve_uri("http://milvus:19530", tmp_path) == "http://milvus:19530"
    with pytest.raises(StoreError, match=r"must end in \.db"):
        resolve_uri(str(tmp_path / "milvus"), tmp_path)


def test_upsert_replaces_rows_and_progress_survives_reopening(tmp_path):
    uri = str(tmp_path / "m.db")
    rng = np.random.default_rng(0)
    x = _unit(rng, 5, 16)
    papers = _papers(5)
    idx = MilvusVectorIndex.open(uri, "m", 16)
    assert len(idx) == 0 and idx.last_seq == 0
    idx.upsert(["p0", "p1", "p2"], x[:3], papers[:3], 3)
    idx.upsert(["p1", "p3", "p3"], x[[4, 0, 3]], [papers[1], papers[3], papers[3]], 7)  # p1 new vector; p3 twice
    idx.close()
    again = MilvusVectorIndex.open(uri, "m", 16)
    assert len(again) == 4 and again.last_seq == 7
    np.testing.assert_allclose(again.vector("p1"), x[4], atol=1e-6)
    np.testing.assert_allclose(again.vector("p3"), x[3], atol=1e-6)  # the last of a repeated id wins
    assert again.vector("nope") is None
    assert again.search(x[4], 1)[0][0] == "p1"
    matrix, ids = again.vectors_of(["p3", "missing", "p0", "p3"])
    assert ids == ["p3", "p0"] and np.allclose(matrix, x[[3, 0]], atol=1e-6)
    assert again.size_bytes() > 0
    again.close()


def test_each_model_gets_its_own_collection_with_its_dimension(tmp_path):
    uri = str(tmp_path / "m.db")
    rng = np.random.default_rng(1)
    a = MilvusVectorIndex.open(uri, "model-a", 16)
    b = MilvusVectorIndex.open(uri, "model/b", 32)
    a.upsert(["p0"], _unit(rng, 1, 16), _papers(1), 1)
    b.upsert(["p0", "p1"], _unit(rng, 2, 32), _papers(2), 2)
    assert (len(a), a.last_seq, len(b), b.last_seq) == (1, 1, 2, 2)
    assert a.collection != b.collection
    b.drop()
    assert len(b) == 0 and b.last_seq == 0 and len(a) == 1
    a.close()
    b.close()


@pytest.mark.parametrize("filters,authors", [
    (Filters(since="2015-01-01"), None),
    (Filters(until="2014-12-31"), None),
    (Filters(since="2012-01-01", until="2018-12-31", categories=("cs.CL", "hep-ph")), None),
    (Filters(), ["p3", "p10", "p11", "p200", "absent"]),
])
def test_filters_run_inside_milvus_and_match_exact_filtered_search(tmp_path, filters, authors):
    rng = np.random.default_rng(2)
    n, dim = 600, 32
    x = _unit(rng, n, dim)
    papers = _papers(n)
    idx = MilvusVectorIndex.open(str(tmp_path / "m.db"), "m", dim)
    idx.upsert([p.id for p in papers], x, papers, 1)

    def admitted(p: Paper) -> bool:
        day = p.published
        ok = (not filters.since or (day is not None and day >= filters.since))
        ok = ok and (not filters.until or (day is not None and day <= filters.until))
        ok = ok and (not filters.categories or bool(set(p.categories) & set(filters.categories)))
        return ok and (authors is None or p.id in authors)

    rows = np.array([i for i, p in enumerate(papers) if admitted(p)])
    mask = idx.mask(filters, authors)
    rows = np.array([i for i in rows if papers[i].id != "p0"])
    for q in x[:5]:
        exact = [papers[i].id for i in rows[np.argsort(-(x[rows] @ q))[:10]]]
        got = idx.search(q, 10, mask, exclude=["p0"])
        assert [i for i, _ in got] == exact
    idx.close()


def test_hostile_filter_values_stay_strings(tmp_path):
    rng = np.random.default_rng(3)
    idx = MilvusVectorIndex.open(str(tmp_path / "m.db"), "m", 8)
    papers = _papers(8)
    idx.upsert([p.id for p in papers], _unit(rng, 8, 8), papers, 1)
    for evil in ["", 'cs.IR"] or id != "', "x\\\"] or true or [\"", "é\x00"]:
        mask = idx.mask(Filters(categories=(evil,)), [evil])
        assert idx.search(np.ones(8, np.float32), 10, mask) == []
    idx.close()


def test_a_lite_file_held_by_another_process_is_a_clear_error(tmp_path):
    uri = str(tmp_path / "m.db")
    MilvusVectorIndex.open(uri, "m", 8).close()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pymilvus import MilvusClient; "
                               f"c = MilvusClient({uri!r}); print('open', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match="one process"):
            MilvusVectorIndex.open(uri, "m", 8)
    finally:
        holder.kill()
        holder.wait()


def test_missing_pymilvus_names_the_extra(monkeypatch):
    from paperscope import milvus_index

    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(MissingExtraError, match=r"install paperscope\[milvus\]"):
        milvus_index.connect("/tmp/never.db")


QUERIES = ["quark gluon plasma", "cross sections of diphoton production", "graph colouring",
           "dense retrieval with binary embeddings", "neutrino oscillations"]


def test_cli_with_milvus_env_writes_vectors_there_and_agrees_with_the_default(served_home, tmp_path):
    """The issue's check: PAPERSCOPE_VECTOR_BACKEND=milvus + a Lite file; semantic top 10 shares >= 8."""
    from paperscope.search import open_engine, search
    from paperscope.store import Store

    uri = tmp_path / "milvus.db"
    env = {**os.environ, "PYTHONPATH": SRC, "PAPERSCOPE_VECTOR_BACKEND": "milvus", "PAPERSCOPE_MILVUS_URI": str(uri)}
    run = [sys.executable, "-m", "paperscope", "--data-dir", str(served_home)]
    built = subprocess.run(run + ["index"], env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    found = subprocess.run(run + ["search", QUERIES[0], "--mode", "semantic", "-k", "10", "--json"], env=env,
                           capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    cli_ids = [h["id"] for h in json.loads(found.stdout)["hits"]]
    assert uri.is_dir() and len(cli_ids) == 10

    store = Store(served_home / "paperscope.sqlite3")
    default = open_engine(store, load_settings(served_home, environ={}))
    milvus = open_engine(store, load_settings(served_home, overrides={"vector_backend": "milvus",
                                                                       "milvus_uri": str(uri)}, environ={}))
    try:
        assert len(milvus.vectors) == len(default.vectors) == store.models()[0][2]
        for query in QUERIES:
            a = {h.paper.id for h in search(default, query, 10, "semantic").hits}
            b = [h.paper.id for h in search(milvus, query, 10, "semantic").hits]
            assert len(a & set(b)) >= 8, query
            if query == QUERIES[0]:
                assert b == cli_ids
        filtered = search(milvus, "quark year:2007 cat:hep-ph", 10, "semantic").hits
        assert filtered and all(h.paper.published.startswith("2007") and "hep-ph" in h.paper.categories
                                for h in filtered)
    finally:
        milvus.vectors.close()  # type: ignore[attr-defined]
        store.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_postgres_with_milvus_update_copies_vectors_and_search_agrees_with_pgvector(
        backend, backend_settings, tmp_path, fake_embedder):
    """database_url + vector_backend=milvus: `update` copies new embeddings into Milvus (none left behind),
    --rebuild refills the emptied collection, and semantic search matches pgvector's exact ranking."""
    import dataclasses

    from paperscope.backends import open_store
    from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
    from paperscope.search import open_engine, search

    pg = backend_settings
    on_milvus = dataclasses.replace(pg, vector_backend="milvus", milvus_uri=str(tmp_path / "milvus.db"))
    store = open_store(on_milvus)
    try:
        ingest(store, on_milvus, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
        embedded = embed_papers(store, fake_embedder)
        name, dim = fake_embedder.name, fake_embedder.dim
        assert update_indexes(store, on_milvus, name, dim)["vectors"] == embedded > 0
        assert update_indexes(store, on_milvus, name, dim)["vectors"] == 0  # nothing new
        assert update_indexes(store, on_milvus, name, dim, rebuild=True)["vectors"] == embedded
        update_indexes(store, pg, name, dim)
        milvus, pgvector = open_engine(store, on_milvus, fake_embedder), open_engine(store, pg, fake_embedder)
        assert type(milvus.vectors).__name__ == "MilvusVectorIndex" and len(milvus.vectors) == embedded
        for query in ("quark gluon", "photon production"):
            a = [h.paper.id for h in search(pgvector, query, 5, "semantic").hits]
            b = [h.paper.id for h in search(milvus, query, 5, "semantic").hits]
            assert len(set(a) & set(b)) >= 4, query
        milvus.vectors.close()  # type: ignore[attr-defined]
    finally:
        store.close()
