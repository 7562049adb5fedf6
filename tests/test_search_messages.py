"""What the CLI and the JSON API say about a search: errors with hints, notes, and lists never cut silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from fakes import HashingEmbedder
from paperscope.cli import main
from paperscope.config import load_settings
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine
from paperscope.store import Store
from paperscope.web.app import create_app

ROWS = [{"id": f"m-{i}", "title": f"Sparse retrieval study {i}", "abstract": "Sparse retrieval with learned terms.",
         "authors": "; ".join(f"Writer {j} Number{i}" for j in range(1 + 4 * i)),
         "categories": " ".join(["cs.IR", "cs.CL", "cs.LG", "cs.AI", "stat.ML", "cs.DL"][: 1 + 2 * i]),
         "date": f"2024-0{1 + i}-15"} for i in range(3)]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    corpus = tmp_path / "m.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    settings = load_settings(tmp_path / "home", environ={})
    store = Store(settings.db_path)
    ingest(store, settings, "file", SourceOptions(path=corpus))
    update_indexes(store, settings, "all-MiniLM-L6-v2", 384)  # keyword index; no vectors yet
    store.close()
    return tmp_path / "home"


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--data-dir", str(home), *args], catch_exceptions=False)


@pytest.mark.parametrize("query", ["", "   "])
def test_cli_empty_query_is_an_error_with_a_hint(home, query):
    r = run(home, "search", query, "--mode", "keyword")
    assert r.exit_code == 2 and "query is empty" in r.output and "cat:cs.CL" in r.output


def test_cli_shows_every_author_and_category_or_says_how_many_more(home):
    out = run(home, "search", "sparse retrieval", "--mode", "keyword").output
    assert "Writer 0 Number0 ·" not in out and "Writer 0 Number0" in out  # one author: shown whole
    assert "Writer 4 Number1" in out and "+4 more" in out  # 9 authors: the first five and how many more
    assert "cs.IR cs.CL cs.LG +2 more" in out  # 5 categories: three and the rest counted


def test_cli_notes_dropped_words_and_empty_filters(home):
    r = run(home, "search", "the of", "--mode", "keyword")
    assert r.exit_code == 0 and "too common" in r.output and "0 result(s)" in r.output
    r = run(home, "search", "retrieval cat:q-bio.XX", "--mode", "keyword", "--json")
    assert any("cat:q-bio.XX" in n for n in json.loads(r.stdout)["notes"])


def test_cli_filter_only_lists_newest_first_without_score(home):
    data = json.loads(run(home, "search", "since:2024-01-01", "--json").stdout)
    assert [h["id"] for h in data["hits"]] == ["local:m-2", "local:m-1", "local:m-0"]
    assert all(h["score"] is None and h["reason"] == "filter" for h in data["hits"]) and data["total"] == 3


def test_cli_similar_without_vectors_says_to_update(home):
    r = run(home, "similar", "local:m-1")
    assert r.exit_code == 3 and "paperscope update" in r.output


def test_api_errors_and_notes_have_stable_codes(home):
    settings = load_settings(home, environ={})
    store = Store(settings.db_path)
    embedder = HashingEmbedder()
    embed_papers(store, embedder)
    update_indexes(store, settings, embedder.name, embedder.dim)
    with TestClient(create_app(settings, open_engine(store, settings, embedder))) as client:
        for q in ("", "  "):
            r = client.get("/api/search", params={"q": q})
            assert r.status_code == 400 and r.json()["code"] == "bad_query" and "cat:cs.CL" in r.json()["error"]
        body = client.get("/api/search", params={"q": "retrieval year:1999"}).json()
        assert body["total"] == 0 and any("until:1999-12-31" in n for n in body["notes"])
        listing = client.get("/api/search", params={"q": "cat:cs.IR", "limit": 2, "offset": 1}).json()
        assert [h["paper"]["paperscopeId"] for h in listing["hits"]] == ["local:m-1", "local:m-0"]
        assert listing["total"] == 3 and all(h["score"] is None for h in listing["hits"])
        assert "`total`" in client.get("/openapi.json").json()["paths"]["/api/search"]["get"]["description"]
    store.close()
