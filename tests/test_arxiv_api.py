"""arXiv API (Atom) against a real HTTP server: paging, versions, errors, empty pages."""

from __future__ import annotations

import pytest

from paperscope.errors import SourceError, UsageError
from paperscope.pipeline import SourceOptions, ingest

Q = "cat:cs.IR"


def _pages(server):
    server.add_file("/api/query", "atom_page1.xml", when={"search_query": Q, "start": "0"})
    server.add_file("/api/query", "atom_page2.xml", when={"search_query": Q, "start": "2"})


def test_pages_through_results_with_start(server, settings, store):
    _pages(server)
    report = ingest(store, settings, "arxiv-api", SourceOptions(query=Q, extra={"page_size": 2}))
    assert report.added == 3
    assert [r.params["start"] for r in server.log] == ["0", "2"]
    p = store.get_paper("arxiv:2405.00010")
    assert [v.version for v in p.versions] == ["v1", "v2"] and p.updated == "2024-05-08T09:30:00Z"
    assert p.categories == ("cs.CL", "cs.IR") and p.authors[1].name == "Kurt Gödel"
    rrf = store.get_paper("2405.00002")
    assert rrf.title == "Reciprocal Rank Fusion Revisited" and rrf.authors[0].affiliations == ("Bletchley Park",)
    assert rrf.doi == "10.1145/1234567.8901234" and rrf.journal_ref == "SIGIR 2024"
    script = store.get_paper("2405.00011")
    assert script.title == "A <script>alert(1)</script> Title & More"  # kept as text, escaped when rendered


def test_spurious_empty_page_is_asked_again(server, settings, store):
    server.add_file("/api/query", "atom_page1.xml", when={"search_query": Q, "start": "0"})
    server.add_file("/api/query", "atom_empty.xml", when={"search_query": Q, "start": "2"}, times=1)
    server.add_file("/api/query", "atom_page2.xml", when={"search_query": Q, "start": "2"})
    report = ingest(store, settings, "arxiv-api", SourceOptions(query=Q, extra={"page_size": 2}))
    assert report.added == 3 and len(server.log) == 3


def test_api_error_entry_is_a_clear_error(server, settings, store):
    server.add_file("/api/query", "atom_error.xml")
    with pytest.raises(SourceError, match="incorrect id format for 1234.12345"):
        ingest(store, settings, "arxiv-api", SourceOptions(ids=("1234.12345",)))


def test_id_list_fetch_and_same_paper_from_oai_merges(server, settings, store):
    server.add_file("/oai", "oai_arxiv_page1.xml", when={"metadataPrefix": "arXiv"})
    server.add("/oai", "<x/>", when={"resumptionToken": "token-page-2"})
    with pytest.raises(SourceError):
        ingest(store, settings, "arxiv-oai", SourceOptions(since="2024-05-01"))
    server.add_file("/api/query", "atom_page1.xml", when={"id_list": "2405.00002"})
    ingest(store, settings, "arxiv-api", SourceOptions(ids=("2405.00002",)))
    assert server.log[-1].params["id_list"] == "2405.00002"
    p = store.get_paper("2405.00002")
    assert p.sources == ("arxiv_oai", "arxiv_api")
    assert store.stats()["papers"] == 3


def test_query_is_required(settings, store):
    with pytest.raises(UsageError, match="--query"):
        ingest(store, settings, "arxiv-api", SourceOptions())
