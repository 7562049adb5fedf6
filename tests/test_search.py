"""Search, filters, query syntax and similar papers (unit level: a hashing embedder stands in for the model)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from fakes import HashingEmbedder
from paperscope.errors import StoreError, UsageError
from paperscope.index import KeywordIndex, VectorIndex
from paperscope.models import Filters, Paper
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine, search, similar
from paperscope.text import highlight, parse_query, words_starting_with
from pg_schema import new_pg_schema
from recorded import shared

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module", params=["embedded", "postgres", "milvus"])
def backend(request):  # overrides conftest's: Milvus Lite joins the matrix (embedded SQLite, vectors in a .db file)
    return str(request.param)


@pytest.fixture
def settings(backend, backend_settings, tmp_path):  # every engine test runs on each backend
    if backend == "milvus":
        return dataclasses.replace(backend_settings, vector_backend="milvus", milvus_uri=str(tmp_path / "milvus.db"))
    return backend_settings


@pytest.fixture
def store(backend_store):
    return backend_store


def _built_engine(settings, store, embedder):
    """The snapshot sample and papers.csv ingested, embedded by the hashing embedder and indexed."""
    ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    ingest(store, settings, "file", SourceOptions(path=DATA / "papers.csv"))
    embed_papers(store, embedder)
    update_indexes(store, settings, embedder.name, embedder.dim)
    return open_engine(store, settings, embedder)


@pytest.fixture(scope="module")
def engine(backend, tmp_path_factory, request):
    """One engine per backend for the tests that only read (built once per backend, not per test)."""
    from paperscope.backends import open_store
    from paperscope.config import load_settings

    home = tmp_path_factory.mktemp(f"search-{backend}")
    overrides = {"database_url": new_pg_schema(request.getfixturevalue("pg_server")) if backend == "postgres" else ""}
    if backend == "milvus":
        overrides |= {"vector_backend": "milvus", "milvus_uri": str(home / "milvus.db")}
    settings = load_settings(home / "home", overrides=overrides, environ={})
    store = open_store(settings)
    engine = _built_engine(settings, store, HashingEmbedder())
    yield engine
    getattr(engine.vectors, "close", lambda: None)()
    store.close()


def test_keyword_search_finds_stemmed_words_and_highlights(engine):
    result = search(engine, "diphoton productions", mode="keyword")
    assert result.hits[0].paper.id == "arxiv:0704.0001"
    assert result.hits[0].reason == "keyword"
    assert any(m and t.lower().startswith("diphoton") for t, m in result.hits[0].snippet)


def test_hybrid_marks_reason_and_fuses_both_lists(engine):
    result = search(engine, "diphoton production cross sections", k=5)
    top = result.hits[0]
    assert top.paper.id == "arxiv:0704.0001" and top.reason == "both"
    assert top.keyword_rank == 1 and top.semantic_rank is not None


def test_filters_apply_inside_candidate_search_not_after(engine):
    # only a handful of papers are in math.CO; a post-filter of the global top 10 would return fewer
    result = search(engine, "graph cat:math.CO", k=10, mode="semantic")
    ids = [h.paper.id for h in result.hits]
    assert ids and all("math.CO" in h.paper.categories for h in result.hits)
    expected = sum(1 for p in engine.store.iter_papers() if "math.CO" in p.categories)
    assert len(ids) == min(10, expected)


def test_date_and_author_filters(engine):
    hits = search(engine, "author:Nadolsky", mode="keyword").hits
    assert [h.paper.id for h in hits] == ["arxiv:0704.0001"]
    dated = search(engine, "quark year:2007", k=50).hits
    assert dated and all((h.paper.published or "").startswith("2007") for h in dated)
    assert search(engine, "quark year:1999").hits == ()
    sem = search(engine, "production author:\"P. M. Nadolsky\"", mode="semantic").hits
    assert [h.paper.id for h in sem] == ["arxiv:0704.0001"]


def test_exclusion_removes_papers_from_both_lists(engine):
    def has_gluon(h):
        return "gluon" in (h.paper.title + h.paper.abstract).lower()

    assert any(has_gluon(h) for h in search(engine, "quark", k=50).hits)
    without = search(engine, "quark -gluon", k=50).hits
    assert without and not any(has_gluon(h) for h in without)


@pytest.mark.parametrize("query", ['"unclosed phrase', "-", "author:", "a" * 10000, "x\x00\x1b[31m y",
                                   "title:foo AND OR NOT (", "'; DROP TABLE papers; --", "cat: year: \"\"", "*?~^"])
def test_malformed_queries_never_crash(engine, query):
    before = engine.store.paper_count()
    result = search(engine, query)
    assert len(result.hits) <= result.total
    assert all(engine.store.resolve_id(h.paper.id) == h.paper.id for h in result.hits)
    assert engine.store.paper_count() == before  # nothing in a query reaches SQL or the index as syntax


def test_bad_date_filter_is_a_clear_error(engine):
    with pytest.raises(UsageError, match="year:2020..2023"):
        search(engine, "quark year:twenty")


def test_query_syntax_reading():
    pq = parse_query('binary "dense retrieval" author:"Ada Lovelace" cat:cs.IR year:2020..2023 -survey')
    assert pq.terms == ("binary",) and pq.phrases == (("dense", "retrieval"),) and pq.excluded == ("survey",)
    assert pq.filters == Filters("2020-01-01", "2023-12-31", ("cs.IR",), ("Ada Lovelace",))
    assert parse_query("since:2024-02 until:2024-02").filters == Filters("2024-02-01", "2024-02-29")
    assert "unmatched quote" in parse_query('stray " quote').notes[0]


def test_phrase_query_requires_adjacent_words(engine):
    loose = {h.paper.id for h in search(engine, "cross sections", mode="keyword", k=200).hits}
    exact = {h.paper.id for h in search(engine, '"cross sections"', mode="keyword", k=200).hits}
    assert exact and exact <= loose


def test_similar_excludes_itself_and_honours_negatives_and_filters(engine):
    hits = similar(engine, ["0704.0001"], k=5)
    assert len(hits) == 5 and "arxiv:0704.0001" not in {h.paper.id for h in hits}
    more = similar(engine, ["0704.0001", "0704.0002"], negatives=["0704.0003"], k=5)
    assert {"arxiv:0704.0001", "arxiv:0704.0002", "arxiv:0704.0003"}.isdisjoint(h.paper.id for h in more)
    filtered = similar(engine, ["0704.0001"], filters=Filters(categories=("hep-ph",)), k=5)
    assert all("hep-ph" in h.paper.categories for h in filtered)


def test_incremental_update_and_new_version_reindexes(settings, store, fake_embedder):
    own = _built_engine(settings, store, fake_embedder)  # this test writes: its own data dir
    assert len(own.vectors) == 202
    getattr(own.vectors, "close", lambda: None)()
    store.upsert_papers([Paper(id="local:new", title="Quark gluon plasma thermometry", abstract="Thermometry.")])
    assert embed_papers(store, fake_embedder) == 1
    counts = update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    assert counts == {"keyword": 1, "vectors": 1}
    fresh = open_engine(store, settings, fake_embedder)
    try:
        assert search(fresh, "thermometry", mode="keyword").hits[0].paper.id == "local:new"
        assert len(fresh.vectors) == 203
    finally:
        getattr(fresh.vectors, "close", lambda: None)()


def test_vector_index_refuses_another_model(tmp_path):
    idx = VectorIndex.open(tmp_path, "m1", 16)
    v = np.eye(16, dtype=np.float32)[:2]
    idx.upsert(["a", "b"], v, [Paper(id="a", title="a"), Paper(id="b", title="b")], 2)
    with pytest.raises(StoreError, match=r"holds m1 \(16-d\).*paperscope index --rebuild"):
        VectorIndex.open(tmp_path, "m2", 16)


def test_binary_candidates_with_rescoring_match_exact_search(tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(50, 64))
    x = centers[rng.integers(0, 50, 30000)] + 0.6 * rng.normal(size=(30000, 64))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    idx = VectorIndex.open(tmp_path, "m", 64)
    idx.upsert([str(i) for i in range(len(x))], x, [Paper(id=str(i), title="t") for i in range(len(x))], 1)
    idx.exact_below = 0
    recalls = []
    for q in x[:50] + 0.1 * rng.normal(size=(50, 64)).astype(np.float32):
        exact = set(map(str, np.argsort(-(x @ q))[:10]))
        got = {i for i, _ in idx.search(q, 10)}
        recalls.append(len(exact & got) / 10)
    assert np.mean(recalls) >= 0.9


def test_hybrid_runs_its_keyword_leg_on_a_worker_thread_when_alone_and_ranks_as_the_two_legs_do(engine, monkeypatch):
    import threading

    import paperscope.search as search_module

    pq = parse_query("retrieval embeddings")
    kw, _ = engine.keyword.search(pq, engine.settings.candidates)
    sem = search_module._semantic(engine, pq, engine.settings.candidates)
    expected = search_module.top(search_module._fuse(engine, pq, kw, sem), 1000)
    threads = []
    real = type(engine.keyword).search

    def recording(self, *args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(engine.keyword), "search", recording)
    ranking = search_module.run_query(engine, pq, "hybrid")
    assert len(threads) == 1 and threads[0].startswith("paperscope-keyword")
    assert ranking.ranked == expected
    with search_module._searching():  # another search is running: the cores are busy, no second thread
        busy = search_module.run_query(engine, pq, "hybrid")
    assert threads[1] == threading.current_thread().name and busy.ranked == expected
    assert search_module._BUSY == [0]


def test_keyword_threads_are_made_anew_in_a_forked_process(monkeypatch):
    import paperscope.search as search_module

    first = search_module._legs()
    assert search_module._legs() is first
    monkeypatch.setattr(search_module.os, "getpid", lambda: -1)
    assert search_module._legs() is not first


def test_counting_hamming_selection_finds_what_the_heap_finds():
    import faiss

    from paperscope.index import _hamming_index

    codes = np.random.default_rng(3).integers(0, 256, size=(20000, 8), dtype=np.uint8)
    heap, counting = faiss.IndexBinaryFlat(64), _hamming_index(64)
    heap.add(codes)
    counting.add(codes)
    for m in (1, 10, 600, 7200):
        want, got = heap.search(codes[:20], m), counting.search(codes[:20], m)
        assert np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1])


def test_rescored_scores_are_the_float16_rows_cosines(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5000, 48)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    idx = VectorIndex.open(tmp_path, "m", 48)
    idx.upsert([str(i) for i in range(len(x))], x, [Paper(id=str(i), title="t") for i in range(len(x))], 1)
    q = x[7]
    exact = x.astype(np.float16).astype(np.float32) @ q
    for below in (0, 10_000):  # the candidate path and the exact path rescore the same way
        idx.exact_below = below
        got = idx.search(q, 20)
        assert got[0][0] == "7"
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        assert np.allclose([s for _, s in got], exact[[int(i) for i, _ in got]], atol=1e-5)
    looked_up = idx.cosines(q, ["3", "4999", "nope"])
    assert set(looked_up) == {"3", "4999"} and np.isclose(looked_up["4999"], exact[4999], atol=1e-5)


def test_snippet_marks_the_same_words_whether_or_not_candidates_prefilter(tmp_path):
    words = KeywordIndex(tmp_path).stem
    texts = [" ".join(["filler"] * n + ["ranked retrieval"] + ["more words"] * n) for n in (0, 3, 40, 200)]
    texts.append("Retrieval, RETRIEVED and retrievers: Übersicht of re-ranking (retrieval-augmented).")
    stems = {words("retrieval"), words("ranking")}
    candidates = words_starting_with({st[:3] for st in stems})

    def is_match(w: str) -> bool:
        return words(w.lower()) in stems

    for text in texts:
        assert highlight(text, set(), is_match=is_match, candidates=candidates) == highlight(text, set(), is_match=is_match)
    assert [t for t, m in highlight(texts[-1], set(), is_match=is_match, candidates=candidates) if m] == [
        "Retrieval", "RETRIEVED", "retrievers", "ranking", "retrieval"]


def test_snippet_never_marks_part_of_a_word():
    # Devanagari vowel signs are not \w: a literal prefix would cut "कित" out of "किताब" and mark it
    stems = {"कित", "कि", "ranked"}
    got = highlight("एक किताब, यह कि वह; ranked rankedness", set(), is_match=lambda w: w in stems,
                    candidates=words_starting_with(stems))
    assert [t for t, m in got if m] == ["ranked"]
    assert words_starting_with(()).findall("anything at all") == []


def test_vector_index_appends_updates_and_survives_a_torn_append(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    papers = [Paper(id=str(i), title="t", categories=("cs.IR",)) for i in range(6)]
    idx = VectorIndex.open(tmp_path, "m", 16)
    idx.upsert(["0", "1", "2"], x[:3], papers[:3], 3)
    idx.upsert(["1", "3"], x[[4, 3]], [papers[1], papers[3]], 5)  # "1" gets a new vector, "3" is new
    with open(tmp_path / "codes.u8", "ab") as fh:  # a crash after appending, before the manifest
        fh.write(b"\xff" * 10)
    again = VectorIndex.open(tmp_path, "m", 16)
    assert again.ids == ["0", "1", "2", "3"] and again.last_seq == 5
    np.testing.assert_allclose(again.vector("1"), x[4], atol=1e-3)
    again.upsert(["5"], x[5:6], papers[5:6], 6)
    final = VectorIndex.open(tmp_path, "m", 16)
    assert final.search(x[5], 1)[0][0] == "5" and final.search(x[4], 1)[0][0] == "1"
    assert (tmp_path / "codes.u8").stat().st_size == 5 * 2


@pytest.mark.parametrize("share", [0.5, 0.05, 0.002])
def test_filtered_candidates_match_exact_filtered_search(tmp_path, share):
    rng = np.random.default_rng(2)
    centers = rng.normal(size=(40, 64))
    x = centers[rng.integers(0, 40, 20000)] + 0.6 * rng.normal(size=(20000, 64))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    idx = VectorIndex.open(tmp_path, "m", 64)
    idx.upsert([str(i) for i in range(len(x))], x, [Paper(id=str(i), title="t") for i in range(len(x))], 1)
    idx.exact_below = 0  # force the candidate paths (over-fetch for broad masks, admitted subset for narrow)
    mask = rng.random(len(x)) < share
    recalls = []
    for q in x[:30]:
        admitted = np.flatnonzero(mask)
        exact = {str(i) for i in admitted[np.argsort(-(x[admitted] @ q))[:10]]}
        got = idx.search(q, 10, mask)
        assert all(mask[int(i)] for i, _ in got)
        recalls.append(len(exact & {i for i, _ in got}) / len(exact))
    assert np.mean(recalls) >= 0.9
