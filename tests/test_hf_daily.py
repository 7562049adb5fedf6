"""Hugging Face daily papers against a real HTTP server: signals, links, merges, broken bodies."""

from __future__ import annotations

import pytest

from paperscope.errors import SourceError
from paperscope.pipeline import SourceOptions, ingest

DAY = {"date": "2024-05-01"}


def test_daily_papers_bring_upvotes_stars_and_code_links(server, settings, store):
    server.add_file("/api/daily_papers", "hf_daily_2024-05-01.json", when=DAY)
    report = ingest(store, settings, "hf-daily", SourceOptions(since="2024-05-01", until="2024-05-01"))
    assert report.added == 2
    assert [(p.record, p.reason) for p in report.problems] == [("2024-05-01 item 3", "no arXiv id (paper.id=None)")]
    p = store.get_paper("2405.00001")
    assert p.signals["upvotes"].value == 42 and p.signals["upvotes"].source == "hf_daily"
    assert p.signals["github_stars"].value == 310
    assert p.links["code"] == "https://github.com/example/binary-retrieval"
    vd = store.get_paper("2405.00020")
    assert vd.title == "Video Diffusion at Scale" and vd.links["project"] == "https://example.org/vd"


def test_hf_and_oai_records_of_one_paper_are_one_record(server, settings, store):
    server.add_file("/oai", "oai_arxiv_page1.xml", when={"metadataPrefix": "arXiv"})
    server.add_file("/oai", "oai_arxiv_page2.xml", when={"resumptionToken": "token-page-2"})
    ingest(store, settings, "arxiv-oai", SourceOptions(since="2024-05-01", until="2024-05-02"))
    server.add_file("/api/daily_papers", "hf_daily_2024-05-01.json", when=DAY)
    report = ingest(store, settings, "hf-daily", SourceOptions(since="2024-05-01", until="2024-05-01"))
    assert (report.added, report.updated) == (1, 1)
    p = store.get_paper("2405.00001")
    assert p.sources == ("arxiv_oai", "hf_daily")
    assert p.authors[0].affiliations == ("Analytical Engine Lab",) and p.signals["upvotes"].value == 42
    again = ingest(store, settings, "hf-daily", SourceOptions(since="2024-05-01", until="2024-05-01"))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_body_that_is_not_json_fails_after_retries_keeping_earlier_days(server, settings, store):
    server.add_file("/api/daily_papers", "hf_daily_2024-05-01.json", when=DAY)
    server.add("/api/daily_papers", '[{"paper": {"id": "2405.0', when={"date": "2024-05-02"})
    with pytest.raises(SourceError, match="not JSON"):
        ingest(store, settings, "hf-daily", SourceOptions(since="2024-05-01", until="2024-05-02"))
    assert store.stats()["papers"] == 2
    assert store.get_checkpoint("hf_daily") == {"last_date": "2024-05-01"}
