"""The web pages and JSON API through the in-process client (a hashing embedder stands in for speed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperscope.models import Paper
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine
from paperscope.web.app import create_app

DATA = Path(__file__).parent / "data"
XSS = 'A <script>alert("x")</script> & <img src=x onerror=alert(1)> Title'


@pytest.fixture
def store(snapshot_store):  # every test here starts from the snapshot sample, embedded and indexed
    return snapshot_store


@pytest.fixture
def client(settings, store, fake_embedder, server):
    server.add_file("/api/daily_papers", "hf_daily_2024-05-01.json", when={"date": "2024-05-01"})
    ingest(store, settings, "hf-daily", SourceOptions(since="2024-05-01", until="2024-05-01"))
    store.upsert_papers([Paper(id="local:xss", title=XSS, abstract="Evil <b>abstract</b> <script>x()</script>",
                               published="2024-05-01T10:00:00Z")])
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    with TestClient(create_app(settings, open_engine(store, settings, fake_embedder))) as c:
        yield c


def test_daily_page_lists_the_day_with_links_and_upvotes(client):
    r = client.get("/?date=2024-05-01")  # the day Hugging Face featured them (their arXiv day is 04-30)
    assert r.status_code == 200
    html = r.text
    assert "Dense Retrieval with Binary Embeddings" in html and "▲ 42" in html
    assert 'href="https://github.com/example/binary-retrieval"' in html and "https://arxiv.org/pdf/2405.00001" in html
    assert html.index("Dense Retrieval") < html.index("Video Diffusion")  # most upvoted first
    prev = client.get("/?date=2007-04-03").text
    assert 'rel="prev"' in prev and 'rel="next"' in prev


def test_html_in_titles_and_abstracts_is_escaped_everywhere(client):
    for path in ("/?date=2024-05-01", "/paper/local:xss", "/search?q=evil+title&mode=keyword", "/trending"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or "&lt;script&gt;" in html, path


def test_paper_page_has_citation_meta_versions_bibtex_and_similar(client):
    html = client.get("/paper/0704.0001").text
    assert '<meta name="citation_title" content="Calculation of prompt diphoton production' in html
    assert '<meta name="citation_author" content="C. Balázs">' in html
    assert '<meta name="citation_arxiv_id" content="0704.0001">' in html
    assert "v2 — 24 Jul 2007" in html and "@article{balzs2007calculation," in html
    assert html.count('class="card"') >= 1  # similar papers


def test_search_page_filters_and_paging(client):
    html = client.get("/search", params={"q": "quark", "cat": "hep-ph", "mode": "keyword"}).text
    assert 'id="count"' in html and "hep-ph" in html
    page2 = client.get("/search", params={"q": "the", "mode": "keyword", "page": 1})
    assert page2.status_code == 200 and 'rel="prev"' in page2.text


def test_api_search_shape_and_limits(client):
    r = client.get("/api/search", params={"q": "diphoton", "mode": "keyword", "limit": 3})
    body = r.json()
    assert r.status_code == 200 and body["hits"][0]["paper"]["id"] == "0704.0001"
    assert body["hits"][0]["reason"] == "keyword" and any(s["match"] for s in body["hits"][0]["snippet"])
    assert client.get("/api/search", params={"q": "x", "limit": 1000}).status_code == 422
    long = client.get("/api/search", params={"q": "a" * 5000})
    assert long.status_code == 422 and set(long.json()) == {"error", "code", "status"}


def test_hugging_face_compatible_paths(client):
    daily = client.get("/api/daily_papers", params={"date": "2024-05-01"}).json()
    assert daily[0]["paper"]["id"] == "2405.00001" and daily[0]["paper"]["upvotes"] == 42
    assert daily[0]["paper"]["githubRepo"] == "https://github.com/example/binary-retrieval"
    assert {"title", "summary", "publishedAt"} <= set(daily[0])
    paper = client.get("/api/papers/2405.00001").json()
    assert paper["title"] == "Dense Retrieval with Binary Embeddings" and paper["authors"][0]["name"] == "Ada Lovelace"
    found = client.get("/api/papers/search", params={"q": "binary embeddings"}).json()
    assert found[0]["paper"]["id"] == "2405.00001"


def test_errors_have_one_json_shape_and_no_traces(client):
    r = client.get("/api/papers/9999.99999")
    assert r.status_code == 404 and r.json()["code"] == "not_found" and "Traceback" not in r.text
    bad = client.get("/api/search", params={"q": "x year:abc"})
    assert bad.status_code == 400 and "year:2020..2023" in bad.json()["error"]
    page = client.get("/paper/nope:nope")
    assert page.status_code == 404 and "no paper" in page.text


def test_similar_trending_stats_and_openapi(client):
    sim = client.get("/api/similar/0704.0001", params={"limit": 3}).json()
    assert len(sim) == 3 and all(h["paper"]["paperscopeId"] != "arxiv:0704.0001" for h in sim)
    more = client.post("/api/similar", json={"ids": ["0704.0001"], "negatives": ["0704.0002"], "limit": 2})
    assert more.status_code == 200 and len(more.json()) == 2
    assert client.post("/api/similar", json={"ids": []}).status_code == 422
    trending = client.get("/api/trending").json()
    assert trending and trending[0]["trendingScore"] >= trending[-1]["trendingScore"]
    stats = client.get("/api/stats").json()
    assert stats["papers"] == 203 and stats["indexed_vectors"] == 203
    schema = client.get("/openapi.json").json()
    assert {"/api/search", "/api/papers/search", "/api/daily_papers", "/api/trending", "/api/stats"} <= set(schema["paths"])
    assert "paper-count" in client.get("/about").text


def test_author_page(client):
    html = client.get("/author/C. Balázs").text
    assert "Calculation of prompt diphoton" in html
    assert client.get("/author/Nobody%20At%20All").status_code == 404


def test_saves_on_this_instance_lift_a_paper_in_trending(client, store):
    before = [t["paper"]["paperscopeId"] for t in client.get("/api/trending").json()]
    target = before[-1]
    for i in range(3):
        u = store.users.create(f"u{i}@example.org", None)
        store.users.save(u.id, target, ["x"])
    after = [t["paper"]["paperscopeId"] for t in client.get("/api/trending").json()]
    assert after.index(target) < before.index(target)
