"""Outputs stay well-formed whatever the records hold: Atom feeds parse as XML, BibTeX parses with unique keys."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import bibtexparser
from fastapi.testclient import TestClient
from lxml import etree

from paperscope.cite import to_bibtex_many, unique_keys
from paperscope.feeds import atom
from paperscope.models import Author, Paper
from paperscope.pipeline import SourceOptions, ingest
from paperscope.search import open_engine
from paperscope.web.app import create_app

DATA = Path(__file__).parent / "data"
NASTY = "Ti\x00t\x07le\x1b with ]]> <b>&amp; \ud800 \ufffe } { \\ % # $ _ ^ ~"


def test_atom_feed_parses_whatever_the_titles_hold():
    p = Paper(id="local:x", title=NASTY, abstract="Ab\x0bstract \x0c", authors=(Author("E\x01ve"),),
              categories=("cs\x02.CR",), published="2024-01-01T00:00:00Z")
    doc = atom("feed \x08 title", "http://h/feeds/daily.atom", "http://h", [(p, "note \x1f")])
    root = etree.fromstring(doc)  # strict XML 1.0 parser: raises on any control character
    ET.fromstring(doc)
    title = root.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title").text
    assert title.startswith("Title with ]]> <b>&amp;")


def test_daily_feed_of_a_hostile_ingest_parses(settings, store, fake_embedder):
    ingest(store, settings, "file", SourceOptions(path=DATA / "hostile.jsonl"))
    # a record written before cleaning existed (an old data dir) must not break the feed either
    store.conn.execute("UPDATE papers SET title = ? WHERE id = 'local:good-1'", (NASTY.replace("\ud800", ""),))
    with TestClient(create_app(settings, open_engine(store, settings, fake_embedder))) as client:
        r = client.get("/feeds/daily.atom")
        assert r.status_code == 200
        etree.fromstring(r.content)
        home = client.get("/")
        assert home.status_code == 200 and "2099" not in home.text


def test_bibtex_export_escapes_every_field_and_keys_are_unique():
    papers = [
        Paper(id="arxiv:2401.00001", arxiv_id="2401.00001", title="Deep {Unbalanced Learning} \\ 100% & more",
              authors=(Author("Ada Smith"),), published="2024-01-02T00:00:00Z", doi="10.1000/a}b{c",
              journal_ref="J. of {Things", links={"abs": "https://ex.org/a b}{c%7D"}),
        Paper(id="local:b", title="Deep } learning again", authors=(Author("Bob Smith"),),
              published="2024-03-01T00:00:00Z"),
        Paper(id="local:c", title="Deep learning thrice", authors=(Author("Cy Smith"),), published="2024-05-01T00:00:00Z"),
    ]
    text = to_bibtex_many(papers)
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    keys = [e.key for e in library.entries]
    assert keys == unique_keys(papers) == ["smith2024deep", "smith2024deepb", "smith2024deepc"]
    first = library.entries[0].fields_dict
    assert first["url"].value == "{https://ex.org/a%20b%7D%7Bc%7D}" or "%7D%7B" in first["url"].value
    assert text.count("{") == text.count("}")  # every brace from the data is escaped
    assert "\\{Unbalanced Learning\\}" in first["title"].value and "100\\%" in first["title"].value
    assert "10.1000/a\\}b\\{c" in first["doi"].value


def test_hostile_file_end_to_end_pages_search_and_feed(settings, store, fake_embedder):
    from paperscope.live import LiveEngine
    from paperscope.pipeline import embed_papers, update_indexes

    report = ingest(store, settings, "file", SourceOptions(path=DATA / "hostile.jsonl"))
    assert report.valid == 164 and [p.record for p in report.problems] == ["hostile.jsonl:164"]
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    with TestClient(create_app(settings, LiveEngine(settings, fake_embedder))) as client:
        hits = client.get("/api/search", params={"q": "robust ingestion of scholarly metadata"}).json()["hits"]
        assert hits[0]["paper"]["paperscopeId"] == "local:good-1"
        page = client.get("/paper/local:hostile-1")
        assert page.status_code == 200 and "<script>alert" not in page.text
        assert "javascript:" not in page.text.lower() and "data:" not in page.text
        assert "2099" not in client.get("/").text
        etree.fromstring(client.get("/feeds/daily.atom").content)
        assert client.get("/api/similar/local:good-1").status_code == 200
