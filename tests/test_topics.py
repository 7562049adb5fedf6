"""Topics found in the papers (issue 28): labelled two-level topics, stable ids, `topic:` in every mode, new papers
placed by `update` without a rebuild, and the topic tables on both store backends."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from paperscope.cli import main
from paperscope.config import load_settings
from paperscope.models import Paper, Topic
from paperscope.store import Store
from paperscope.store.topics import TopicRow
from paperscope.topics.cluster import choose_k, match_ids, two_levels
from paperscope.topics.label import Corpus, Tokeniser, class_tfidf, diversity, npmi, top_terms
from paperscope.topics.layout import layout, place, preservation


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--data-dir", str(home), *args], catch_exceptions=False)


@pytest.fixture
def topic_home(new_sample_home) -> Path:
    home = new_sample_home()
    r = run(home, "topics", "--rebuild", "--json")
    assert r.exit_code == 0, r.output
    return home


def _store(home: Path) -> Store:
    return Store(load_settings(home, environ={}).db_path)


def test_rebuild_gives_labelled_topics_on_two_levels_and_every_paper_one_of_each(topic_home):
    out = json.loads(run(topic_home, "topics", "--json").stdout)
    broad = [t for t in out["topics"] if t["level"] == 0]
    fine = [t for t in out["topics"] if t["level"] == 1]
    assert (len(broad), len(fine)) == (8, 24)  # choose_k for the 564-paper sample
    assert all(t["label"] and t["terms"] and t["papers"] for t in out["topics"])
    assert {t["parent"] for t in fine} <= {t["id"] for t in broad}
    assert sum(t["size"] for t in fine) == sum(t["size"] for t in broad) == 564
    store = _store(topic_home)
    try:
        labelled = {t.label for t in store.topics.topics()}
        assert any("quantization" in label or "binarization" in label for label in labelled)
        points = store.topics.map_points(limit=1000)
        assert len(points.ids) == 564 and np.isfinite(points.x).all() and np.isfinite(points.y).all()
        assert set(points.ids) == {p.id for p in store.iter_papers()}
    finally:
        store.close()


def test_topic_ids_stay_the_same_when_the_papers_do(topic_home):
    store = _store(topic_home)
    try:
        before = {t.id: t.label for t in store.topics.topics()}
        members = {t: set(store.topics.topic_paper_ids([t])) for t in before}
    finally:
        store.close()
    assert run(topic_home, "topics", "--rebuild").exit_code == 0
    store = _store(topic_home)
    try:
        after = {t.id for t in store.topics.topics()}
        assert after == set(before)
        for t in after:  # the same id names (nearly) the same papers
            now = set(store.topics.topic_paper_ids([t]))
            assert len(now & members[t]) / len(now | members[t]) > 0.8
    finally:
        store.close()


def test_topic_filter_returns_exactly_that_topics_papers_in_every_mode(topic_home):
    store = _store(topic_home)
    try:
        topic = next(t for t in store.topics.topics(1) if "quantization" in t.label or "binarization" in t.label)
        members = set(store.topics.topic_paper_ids([topic.id]))
    finally:
        store.close()
    listing = json.loads(run(topic_home, "search", f"topic:{topic.id}", "-k", "200", "--json").stdout)
    assert listing["total"] == len(members) and {h["id"] for h in listing["hits"]} == members
    for mode in ("keyword", "semantic", "hybrid"):
        got = json.loads(run(topic_home, "search", f"quantization topic:{topic.id}", "--mode", mode, "-k", "200",
                             "--json").stdout)
        assert got["hits"] and {h["id"] for h in got["hits"]} <= members, mode
    bad = json.loads(run(topic_home, "search", "topic:nope quantization", "--json").stdout)
    assert any("not a topic id" in n for n in bad["notes"])
    empty = json.loads(run(topic_home, "search", "topic:99999", "--json").stdout)
    assert empty["total"] == 0 and any("topic:99999" in n for n in empty["notes"])


def test_update_places_a_new_paper_in_a_topic_and_on_the_map_without_a_rebuild(topic_home, tmp_path):
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "new-quant", "title": "Ternary Weight Quantization for Vision Transformers",
                               "abstract": "We quantize the weights of vision transformers to ternary values with a "
                                           "learned scale, keeping accuracy at 2-bit precision."}) + "\n")
    store = _store(topic_home)
    try:
        build = store.topics.topic_build()
    finally:
        store.close()
    r = run(topic_home, "update", "file", str(new), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["topics"] == {"placed": 1, "rebuilt": 0}
    store = _store(topic_home)
    try:
        assert store.topics.topic_build()["id"] == build["id"]  # no rebuild
        (broad, fine), = store.topics.topics_of(["local:new-quant"]).values()
        topic = store.topics.topic(fine)
        assert topic.parent == broad and ("quantization" in topic.label or "bit" in topic.label)
        (x, y), = store.topics.map_places(["local:new-quant"]).values()
        assert np.isfinite([x, y]).all()
        assert store.topics.map_version()[1] == 1
    finally:
        store.close()
    hits = json.loads(run(topic_home, "search", f"topic:{fine}", "-k", "200", "--json").stdout)["hits"]
    assert "local:new-quant" in {h["id"] for h in hits}


def test_topic_tables_on_both_backends(backend_store):
    store = backend_store
    store.upsert_papers([Paper(id=f"local:p{i}", title=f"Paper {i}", abstract="text", published=f"2024-01-{i + 1:02d}")
                         for i in range(6)])
    unit = np.eye(4, dtype=np.float32)
    rows = [TopicRow(Topic(1, 0, "broad one", (("word", 1.0),), ("local:p0",), 6), unit[0]),
            TopicRow(Topic(2, 1, "fine a", (("alpha", 0.5),), ("local:p0",), 3, parent=1, x=1.0), unit[1]),
            TopicRow(Topic(3, 1, "fine b", (("beta", 0.5),), ("local:p3",), 3, parent=1, x=-1.0), unit[2])]
    points = [(f"local:p{i}", 1, 2 if i < 3 else 3, float(i), -float(i)) for i in range(6)]
    build = store.topics.save_topic_build("m", {"k": 2}, {"npmi": 0.1}, rows, iter(points))
    assert store.topics.topic_build()["id"] == build
    assert [t.id for t in store.topics.topics(1)] == [2, 3]
    assert store.topics.topic(2).terms == (("alpha", 0.5),)
    ids, centres = store.topics.topic_centroids(1)
    assert ids == [2, 3] and np.allclose(centres, unit[1:3])
    assert sorted(store.topics.topic_paper_ids([3])) == ["local:p3", "local:p4", "local:p5"]
    assert len(store.topics.topic_paper_ids([1])) == 6
    assert [p.id for p in store.topics.topic_papers(2)] == ["local:p2", "local:p1", "local:p0"]  # newest first
    page = store.topics.map_points(after="local:p1", limit=2)
    assert page.ids == ["local:p2", "local:p3"] and page.x.tolist() == [2.0, 3.0]
    store.upsert_papers([Paper(id="local:new", title="New", abstract="text")])
    store.topics.place_papers([("local:new", 1, 3, 0.5, 0.5)])
    assert store.topics.topic(3).size == 4 and store.topics.map_version() == (build, 1)
    # a rebuild that keeps only topic 2: topic 3 stays resolvable but inactive
    store.topics.save_topic_build("m", {}, {}, rows[:2], iter(points[:3]))
    assert store.topics.topic(3).active is False and [t.id for t in store.topics.topics(1)] == [2]
    assert store.topics.next_topic_id() == 4


def test_topic_follows_on_both_backends(backend_store):
    store = backend_store
    user = _a_user(store)
    store.upsert_papers([Paper(id="local:f1", title="F1", abstract="x")])
    store.topics.save_topic_build("m", {}, {}, [TopicRow(Topic(7, 0, "t", size=1), np.ones(2, np.float32))],
                                  iter([("local:f1", 7, 7, 0.0, 0.0)]))
    store.topics.follow_topic(user, 7)
    store.topics.follow_topic(user, 7)  # twice is once
    assert store.topics.followed_topics(user) == [7]
    got = store.topics.new_in_topics([7], "2000-01-01")
    assert [(p.id, t) for p, t in got] == [("local:f1", 7)]
    assert store.topics.new_in_topics([7], "2999-01-01") == []
    store.topics.follow_topic(user, 7, on=False)
    assert store.topics.followed_topics(user) == []


def _a_user(store) -> int:
    return store.users.create("reader@example.org", None).id


def test_choose_k_scales_with_the_corpus():
    assert choose_k(564) == (8, 24)
    assert choose_k(100_000) == (28, 316)
    assert choose_k(1_000_000) == (30, 400)
    assert choose_k(12) == (2, 2)
    assert choose_k(1000, fine=50, broad=5) == (5, 50)


def test_match_ids_keeps_ids_of_clusters_that_overlap_and_gives_new_ones_otherwise():
    old = {10: np.array([0, 1, 2, 3]), 11: np.array([4, 5, 6, 7]), 12: np.array([8, 9])}
    new = [np.array([4, 5, 6]), np.array([0, 1, 2, 3, 8]), np.array([9, 20, 21, 22, 23, 24])]
    ids, nxt = match_ids(new, old, 13)
    assert ids == [11, 10, 13] and nxt == 14


def test_two_levels_nest_fine_topics_in_broad_ones():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(6, 16))
    x = np.vstack([c + 0.05 * rng.normal(size=(50, 16)) for c in centres]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    lv = two_levels(x, 3, 6)
    assert len(lv.fine_centres) == 6 and len(lv.broad_centres) == 3
    for j in range(6):  # each planted cluster is one fine topic
        assert len(set(lv.fine[j * 50:(j + 1) * 50].tolist())) == 1
    assert np.array_equal(lv.broad, lv.parent[lv.fine])


def test_class_tfidf_ranks_a_topics_own_words_first_and_measures_are_in_range():
    texts = ["Quantization of weights to low bit integers."] * 5 + ["Retrieval of documents by dense vectors."] * 5
    tok = Tokeniser()
    corpus = Corpus.build(texts, tok)
    terms = top_terms(class_tfidf(corpus, np.array([0] * 5 + [1] * 5), 2), corpus.vocab, 3)
    words = [[tok.written(t) for t, _ in ts] for ts in terms]
    assert "quantization" in " ".join(words[0]) and "retrieval" in " ".join(words[1])
    assert all("of" not in w.split() for ws in words for w in ws)  # stopwords never label
    assert -1 <= npmi(corpus, [[t for t, _ in ts] for ts in terms]) <= 1
    assert diversity([["a", "b"], ["a", "c"]]) == 0.75


def test_layout_keeps_neighbours_near_and_places_new_points_among_theirs():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(8, 32))
    x = np.vstack([c + 0.3 * rng.normal(size=(80, 32)) for c in centres]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    lv = two_levels(x, 3, 8)
    xy, centre_xy = layout(x, lv.fine_centres)
    assert xy.shape == (640, 2) and centre_xy.shape == (8, 2) and np.isfinite(xy).all()
    assert preservation(x, xy, sample=300) > 0.2  # noise inside a planted cluster: 10 of its 80 by chance is 0.125
    # points of one planted cluster sit closer to each other than to the rest
    inside = np.linalg.norm(xy[:80] - xy[:80].mean(0), axis=1).mean()
    assert inside < np.linalg.norm(xy - xy.mean(0), axis=1).mean()
    assert place(np.array([[0.0, 0.0], [2.0, 2.0]]), np.array([0.9, 0.9])) == (1.0, 1.0)


def test_topics_and_map_api(topic_home):
    from fastapi.testclient import TestClient

    from paperscope.web.app import create_app

    with TestClient(create_app(load_settings(topic_home, environ={}))) as client:
        topics = client.get("/api/topics").json()["topics"]
        fine = next(t for t in topics if t["level"] == "fine")
        one = client.get(f"/api/topics/{fine['id']}?limit=200").json()
        assert one["label"] == fine["label"] and one["query"] == f"topic:{fine['id']}"
        assert len(one["papers"]) == fine["size"] and one["neighbours"]
        first = client.get("/api/map?limit=500").json()
        assert first["total"] == 564 and len(first["points"]["id"]) == 500
        rest = client.get("/api/map?limit=500&offset=500").json()
        assert len(set(first["points"]["id"]) | set(rest["points"]["id"])) == 564
        x0, y0, x1, y1 = first["bounds"]
        box = client.get(f"/api/map?bbox={x0},{y0},{(x0 + x1) / 2},{y1}").json()
        assert 0 < box["total"] < 564 and all(x <= (x0 + x1) / 2 for x in box["points"]["x"])
        grid = client.get("/api/map/density?size=32").json()
        assert sum(grid["counts"]) == 564 and len(grid["broad"]) == 32 * 32
        assert client.get("/api/topics/999999").status_code == 404
        page = client.get(f"/topic/{fine['id']}")
        assert page.status_code == 200 and fine["label"] in page.text
        assert client.get("/map").status_code == 200 and "/static/map.js" in client.get("/map").text


def test_paper_page_draws_its_neighbourhood_and_topic_page_what_trends_in_it(topic_home):
    from fastapi.testclient import TestClient

    from paperscope import community
    from paperscope.web.app import create_app

    store = _store(topic_home)
    try:
        paper = next(iter(store.iter_papers()))
        fine = store.topics.topics_of([paper.id])[paper.id][1]
        user = store.users.create("ada@example.org", None)
        store.community.submit(paper.id, user.id, community.today(), 10)  # the lab makes it trend today
    finally:
        store.close()
    client = TestClient(create_app(load_settings(topic_home, environ={})))
    page = client.get(f"/paper/{paper.id}").text
    section = page[page.index('id="neighbourhood"'):]
    section = section[:section.index("</section>")]
    assert section.count("<circle") >= 7 and section.count('<a href="/paper/') >= 6  # itself + 30 nearest, linked
    assert "<script" not in section
    topic_page = client.get(f"/topic/{fine}").text
    assert 'id="topic-trending"' in topic_page and paper.title[:40] in topic_page
