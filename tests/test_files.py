"""Local files (JSONL, CSV, BibTeX) and the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperscope.errors import SourceError, UsageError
from paperscope.pipeline import SAMPLE, SourceOptions, ingest

DATA = Path(__file__).parent / "data"


def test_listing_papers_without_ids_or_dates_ingest_cleanly(settings, store):
    report = ingest(store, settings, "file", SourceOptions(path=DATA / "listing-papers.jsonl"))
    assert (report.added, len(report.problems)) == (564, 0)
    p = store.get_paper("lp-7775122b52")
    assert p.id == "local:lp-7775122b52" and p.title == "On Neural Differential Equations"
    assert p.authors == () and p.published is None
    rerun = ingest(store, settings, "file", SourceOptions(path=DATA / "listing-papers.jsonl"), restart=True)
    assert (rerun.added, rerun.updated, rerun.unchanged) == (0, 0, 564)


def test_bundled_sample_is_the_listing_papers_with_their_vectors_and_nothing_invented(settings, store):
    assert SAMPLE.read_bytes() == (DATA / "listing-papers.jsonl").read_bytes()  # the seed listing pages, as listed
    report = ingest(store, settings, "sample", SourceOptions())
    assert (report.added, len(report.problems)) == (564, 0)
    papers = list(store.iter_papers())
    assert len(papers) == 564 and all(p.id.startswith("local:lp-") and p.title and p.abstract for p in papers)
    assert not any(p.arxiv_id or p.authors or p.published or p.featured or p.categories or p.signals for p in papers)
    model_id = store.model_id("all-MiniLM-L6-v2", 384)
    assert store.count_to_embed(model_id) == 0  # every paper came with its shipped vector
    rerun = ingest(store, settings, "sample", SourceOptions(), restart=True)
    assert (rerun.added, rerun.updated, rerun.unchanged) == (0, 0, 564)


def test_csv_maps_fields_and_reports_row_without_title(settings, store):
    report = ingest(store, settings, "file", SourceOptions(path=DATA / "papers.csv"))
    assert report.added == 2
    assert [(p.record, p.reason) for p in report.problems] == [("papers.csv:row 3", "no title")]
    rrf = store.get_paper("arxiv:2405.00002")
    assert rrf.links["code"] == "https://github.com/example/rrf" and rrf.signals["upvotes"].value == 5
    note = store.get_paper("local:my-note-1")
    assert note.title == 'Notes on "quoted" titles, commas and <tags>'
    assert [a.name for a in note.authors] == ["Grace Hopper", "Ada Lovelace"]
    assert note.published == "2023-01-01T00:00:00Z" and note.categories == ("cs.LG", "cs.AI")


def test_bibtex_entries_decode_latex_and_skip_broken_blocks(settings, store):
    report = ingest(store, settings, "file", SourceOptions(path=DATA / "library.bib"))
    assert report.added == 2
    reasons = " | ".join(f"{p.record}: {p.reason}" for p in report.problems)
    assert "library.bib" in reasons and len(report.problems) >= 1
    p = store.get_paper("2405.00001")
    assert [a.name for a in p.authors] == ["Ada Lovelace", "Csaba Balázs"]
    assert p.categories == ("cs.IR",) and p.published == "2024-04-01T00:00:00Z"
    q = store.get_paper("doi:10.5555/9999.0001")
    assert q.title == "Sparse Retrieval for Schrödinger Equations" and q.authors[1].name == "Kurt Gödel"
    assert q.abstract == "We retrieve sparse things."


def test_jsonl_broken_line_is_reported_and_neighbours_kept(tmp_path, settings, store):
    f = tmp_path / "mixed.jsonl"
    f.write_text('{"id": "a1", "title": "First <b>bold</b> paper", "abstract": "<p>Has HTML</p> inside"}\n'
                 '{"id": "a2", "title": "Broken line\n'
                 '["a list, not an object"]\n'
                 '{"id": "a3", "title": "Third paper", "authors": [{"name": "X Y", "affiliations": ["Lab"]}]}\n')
    report = ingest(store, settings, "file", SourceOptions(path=f))
    assert report.added == 2
    assert [p.record for p in report.problems] == ["mixed.jsonl:2", "mixed.jsonl:3"]
    assert "not valid JSON" in report.problems[0].reason
    assert store.get_paper("local:a1").title == "First bold paper"
    assert store.get_paper("local:a1").abstract == "Has HTML inside"
    assert store.get_paper("local:a3").authors[0].affiliations == ("Lab",)


def test_appended_lines_are_picked_up_by_the_next_run(tmp_path, settings, store):
    f = tmp_path / "grow.jsonl"
    f.write_text('{"title": "One"}\n')
    assert ingest(store, settings, "file", SourceOptions(path=f)).added == 1
    with f.open("a") as fh:
        fh.write('{"title": "Two"}\n')
    report = ingest(store, settings, "file", SourceOptions(path=f))
    assert (report.added, report.unchanged, report.resumed) == (1, 0, True)


def test_unknown_format_and_missing_file_say_what_to_do(tmp_path, settings, store):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(UsageError, match="--format"):
        ingest(store, settings, "file", SourceOptions(path=tmp_path / "x.txt"))
    with pytest.raises(SourceError, match="no such file"):
        ingest(store, settings, "file", SourceOptions(path=tmp_path / "nope.jsonl"))
    assert SAMPLE.exists()
