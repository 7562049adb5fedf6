"""arXiv OAI-PMH against a real HTTP server serving recorded ListRecords pages."""

from __future__ import annotations

import pytest

from paperscope.errors import NotFoundError, SourceError
from paperscope.pipeline import SourceOptions, ingest


def _two_pages(server, **kw):
    server.add_file("/oai", "oai_arxiv_page1.xml", when={"metadataPrefix": "arXiv"}, **kw)
    server.add_file("/oai", "oai_arxiv_page2.xml", when={"resumptionToken": "token-page-2"})


def test_resumption_token_chain_ingests_every_page(server, settings, store):
    _two_pages(server)
    report = ingest(store, settings, "arxiv-oai", SourceOptions(set_spec="cs", since="2024-05-01", until="2024-05-02"))
    assert report.added == 4
    assert [r.params.get("resumptionToken") for r in server.log] == [None, "token-page-2"]
    assert server.log[0].params["set"] == "cs" and server.log[0].params["from"] == "2024-05-01"
    # the record without a title is reported by its identifier, the rest kept
    assert [(p.record, p.reason) for p in report.problems] == [("oai:arXiv.org:2405.00005", "no title")]


def test_oai_record_fields_affiliations_latex_and_no_abstract(server, settings, store):
    _two_pages(server)
    ingest(store, settings, "arxiv-oai", SourceOptions(since="2024-05-01", until="2024-05-02"))
    p = store.get_paper("2405.00001")
    assert p.title == "Dense Retrieval with Binary Embeddings"
    assert [(a.name, a.affiliations) for a in p.authors] == [
        ("Ada Lovelace", ("Analytical Engine Lab",)), ("Csaba Balázs", ())]
    assert p.categories == ("cs.IR", "cs.CL") and p.published == "2024-04-30T00:00:00Z"
    assert p.abstract.startswith("We show that 1-bit") and "\n" not in p.abstract
    assert store.get_paper("arxiv:2405.00003").abstract == ""
    html = store.get_paper("2405.00004")
    assert html.title == "Ab initio Learning of O(n) Attention for x < y"  # shown as text, the LaTeX kept
    assert html.title_source == "Ab initio Learning of $\\mathcal{O}(n)$ Attention for x < y"
    assert html.abstract == "We derive linear attention; see α < 1."  # shown as text, the LaTeX kept
    assert html.abstract_source == "We derive linear attention; see $\\alpha < 1$."
    assert html.authors[0].name == "Erwin Schrödinger"
    assert store.get_paper("doi:10.1145/1234567.8901234").id == "arxiv:2405.00002"
    with pytest.raises(NotFoundError):
        store.get_paper("2405.00099")  # deleted record is not stored


def test_503_with_retry_after_is_honoured_then_retried(server, settings, store):
    server.add("/oai", "busy", status=503, headers={"Retry-After": "1"}, times=1)
    _two_pages(server)
    report = ingest(store, settings, "arxiv-oai", SourceOptions(since="2024-05-01", until="2024-05-02"))
    assert report.added == 4
    first, second = server.log[0], server.log[1]
    assert first.params == second.params
    assert second.at - first.at >= 0.95  # waited as the server asked


def test_truncated_page_fails_clearly_and_rerun_resumes_from_token(server, settings, store):
    server.add_file("/oai", "oai_arxiv_page1.xml", when={"metadataPrefix": "arXiv"})
    server.add_file("/oai", "oai_truncated.xml", when={"resumptionToken": "token-page-2"}, times=3)
    opts = SourceOptions(since="2024-05-01", until="2024-05-02")
    with pytest.raises(SourceError, match="malformed XML"):
        ingest(store, settings, "arxiv-oai", opts)
    assert store.stats()["papers"] == 2  # page 1 kept
    server.add_file("/oai", "oai_arxiv_page2.xml", when={"resumptionToken": "token-page-2"})
    before = len(server.log)
    report = ingest(store, settings, "arxiv-oai", opts)
    assert report.resumed and report.added == 2
    assert server.log[before].params == {"verb": "ListRecords", "resumptionToken": "token-page-2"}


def test_empty_window_and_incremental_from_date(server, settings, store):
    _two_pages(server)
    ingest(store, settings, "arxiv-oai", SourceOptions(since="2024-05-01", until="2024-05-02"))
    server.add_file("/oai", "oai_norecords.xml", when={"from": "2024-05-02"}, first=True)
    report = ingest(store, settings, "arxiv-oai", SourceOptions(until="2024-05-03"))
    assert server.log[-1].params["from"] == "2024-05-02"  # picks up where the last harvest ended
    assert (report.added, report.updated) == (0, 0)


def test_new_version_updates_record_without_making_it_new(server, settings, store):
    _two_pages(server)
    ingest(store, settings, "arxiv-oai", SourceOptions(since="2024-05-01", until="2024-05-02"))
    v1 = store.get_paper("2405.00001")
    server.add_file("/oai", "oai_arxivraw_v2.xml", when={"metadataPrefix": "arXivRaw"})
    report = ingest(store, settings, "arxiv-oai", SourceOptions(prefix="arXivRaw", since="2024-05-09", until="2024-05-10"))
    assert (report.added, report.updated) == (0, 1)
    v2 = store.get_paper("2405.00001")
    assert [v.version for v in v2.versions] == ["v1", "v2"]
    assert v2.title.endswith("(extended)") and v2.updated == "2024-05-09T08:00:00Z"
    assert v2.first_seen == v1.first_seen and v2.published == "2024-04-30T00:00:00Z"
    # affiliations known from the arXiv format survive a byline that lacks them
    assert v2.authors[0].affiliations == ("Analytical Engine Lab",)
    assert store.stats()["papers"] == 4


def test_entity_expansion_is_refused(server, settings, store):
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>&b;</ListRecords></OAI-PMH>')
    server.add("/oai", bomb)
    with pytest.raises(SourceError, match="entities"):
        ingest(store, settings, "arxiv-oai", SourceOptions(since="2024-05-01"))
