"""Hostile records are cleaned or refused one by one; the good records in the same file are always kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from paperscope.cli import main
from paperscope.pipeline import SourceOptions, ingest

DATA = Path(__file__).parent / "data"


def run(settings, store, name: str):
    return ingest(store, settings, "file", SourceOptions(path=DATA / name))


def test_links_keep_only_http_and_https(settings, store):
    report = run(settings, store, "links.jsonl")
    assert report.valid == 3 and not report.problems
    assert store.get_paper("local:links-1").links == {}
    assert store.get_paper("local:links-2").links == {"code": "https://github.com/example/ok"}
    assert store.get_paper("local:good-1").links == {"abs": "https://example.org/good"}
    dropped = [n.reason for n in report.cleaned if n.record == "local:links-1"]
    assert len(dropped) == 4 and all("only http/https" in r for r in dropped)
    assert any("'javascript'" in r.lower() for r in dropped) and any("'data'" in r for r in dropped)


def test_impossible_and_future_dates_are_dropped_and_named(settings, store):
    report = run(settings, store, "dates.jsonl")
    assert report.valid == 5 and not report.problems
    assert store.get_paper("local:dates-zero").published is None
    assert store.get_paper("local:dates-overflow").published is None
    assert store.get_paper("local:dates-future").published is None
    assert store.get_paper("local:dates-classic").published == "1950-10-01T00:00:00Z"  # old papers stay valid
    notes = {n.record: " | ".join(x.reason for x in report.cleaned if x.record == n.record) for n in report.cleaned}
    assert notes["local:dates-future"].startswith("published '2099-01-01")
    assert "after tomorrow" in notes["local:dates-future"]
    assert notes["local:dates-zero"].startswith("published '0000")
    assert "published '9999-12-31T23:59:59-23:59' dropped: " in notes["local:dates-overflow"]
    assert "updated 'Mon, 01 Jan 99999999999 00:00:00 +0000' dropped" in notes["local:dates-overflow"]
    assert "local:dates-classic" not in notes
    assert store.latest_day() != "2099-01-01"


def test_control_characters_removed_and_lengths_capped(settings, store):
    report = run(settings, store, "controls.jsonl")
    p = store.get_paper("local:ctl-1")
    assert p.title == "Controlcharacters[31m in a title"
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in p.title + p.abstract + p.authors[0].name)
    assert len(p.comments or "") <= 2000
    assert [(x.record, x.reason) for x in report.problems] == [("local:ctl-2", "no title left after removing control characters")]
    assert store.get_paper("local:good-1")


def test_category_flood_is_capped_and_indexes(settings, store, fake_embedder):
    from paperscope.pipeline import embed_papers, update_indexes
    from paperscope.search import open_engine, search

    report = run(settings, store, "categories.jsonl")
    assert report.valid == 161
    assert len(store.get_paper("local:cats-0").categories) == 16
    assert any("kept the first 16 of 250" in n.reason for n in report.cleaned)
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    engine = open_engine(store, settings, fake_embedder)
    assert search(engine, "robust ingestion scholarly").hits[0].paper.id == "local:good-1"
    assert [h.paper.id for h in search(engine, "flood cat:flood.c7x3", mode="semantic").hits] == ["local:cats-7"]


def test_deep_nesting_skips_the_line_with_its_number(settings, store):
    report = run(settings, store, "nesting.jsonl")
    assert [(p.record, p.reason) for p in report.problems] == [
        ("nesting.jsonl:1", "nested too deeply to be a record"), ("nesting.jsonl:2", "nested too deeply to be a record")]
    assert report.valid == 1 and store.get_paper("local:good-1")


@pytest.mark.parametrize(("name", "title", "author"), [
    ("latin1.csv", "Économie des données", "Zoë Müller"), ("cp1252.csv", "Smart “quotes” — and €uros", "Ann Ó Brien")])
def test_latin1_and_windows1252_csv_decoded_with_a_note(settings, store, name, title, author):
    report = run(settings, store, name)
    assert not report.problems and report.valid >= 1
    assert any("not UTF-8: read as" in n.reason for n in report.cleaned)
    found = store.ids_by_title(title)
    assert found and store.get_paper(found[0]).authors[0].name == author


def test_oversize_csv_field_skips_that_row_only(settings, store):
    report = run(settings, store, "oversize.csv")
    assert report.valid == 2 and len(report.problems) == 1
    assert "unreadable CSV row" in report.problems[0].reason
    assert report.problems[0].record.startswith("oversize.csv:line ")
    assert store.ids_by_title("Before the big one") and store.ids_by_title("After the big one")


def test_bibtex_classic_kept_future_year_and_script_link_dropped(settings, store):
    report = run(settings, store, "classic.bib")
    turing = store.get_paper(store.ids_by_title("Computing Machinery and Intelligence")[0])
    assert turing.published == "1950-10-01T00:00:00Z" and "abs" not in turing.links
    future = store.get_paper(store.ids_by_title("A Paper From 2099")[0])
    assert future.published is None
    assert any(p.record.startswith("classic.bib:line") for p in report.problems)


def test_cli_exit_codes_and_one_line_summary(tmp_path):
    home = str(tmp_path / "home")
    runner = CliRunner()
    garbage = runner.invoke(main, ["--data-dir", home, "ingest", "file", str(DATA / "garbage.jsonl")])
    assert garbage.exit_code == 5, garbage.output
    assert "error: none of the 4 record(s) read could be ingested" in garbage.output
    assert "Traceback" not in garbage.output
    hostile = runner.invoke(main, ["--data-dir", home, "ingest", "file", str(DATA / "hostile.jsonl")])
    assert hostile.exit_code == 0, hostile.output
    assert "1 record(s) skipped (1 nested too deeply to be a record)" in hostile.output
    again = runner.invoke(main, ["--data-dir", home, "ingest", "file", str(DATA / "hostile.jsonl")])
    assert again.exit_code == 0 and "0 added, 0 updated, 0 unchanged (resumed)" in again.output
    assert "exits 1" in runner.invoke(main, ["update", "--help"]).output.lower().replace("\n", " ") or \
        "1 when nothing changed" in runner.invoke(main, ["update", "--help"]).output
