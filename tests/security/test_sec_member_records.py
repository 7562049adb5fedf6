"""Issue 25, point 4: a member's private import goes through the catalogue's cleaning (http(s) links only, dates in
range, bounded lengths and lists, no control characters), and arXiv ids are NFKC-normalised, then matched strictly."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time

import pytest
import requests
from realserver import csrf, signup

from paperscope.clean import MAX_AUTHORS, MAX_TEXT
from paperscope.community import parse_ref
from paperscope.errors import UsageError
from paperscope.store.private import clean_stored_records
from paperscope.text import parse_arxiv_id
from serving import serving


def _hostile_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["title", "authors", "published", "updated", "url", "pdf", "code", "abstract"])
    writer.writerow(["Script Link Paper\x07\x1b", "Jo Smith", "0000-01-01", "2099-05-01",
                     "javascript:alert(document.domain)", "data:text/html,<script>alert(1)</script>",
                     "https://example.org/code", "An abstract\x00 with a NUL"])
    writer.writerow(["Long " + "T" * 5013, "; ".join(f"Author {i}" for i in range(3000)), "2021-03-04", "",
                     " JaVaScRiPt:alert(2)", "", "", ""])
    return out.getvalue()


def _library(s: requests.Session, url: str, tag: str, until: str) -> str:
    """The tag's library page once the import shows (an import may be queued: wait for it)."""
    deadline = time.monotonic() + 30
    while True:
        page = s.get(url + "/library", params={"tag": tag}, timeout=30).text
        if until in page or time.monotonic() > deadline:
            return page
        time.sleep(0.3)


def test_web_import_is_cleaned_like_the_catalogue(home):
    with serving(home) as url:
        ada = signup(url, "clean.import@example.org")
        r = ada.post(url + "/library/import", data={"tag": "hostile", "csrf": csrf(ada, url + "/library")},
                     files={"file": ("list.csv", _hostile_csv().encode())}, timeout=60)
        assert r.status_code == 200, r.text[:300]
        page = _library(ada, url, "hostile", "Script Link Paper")
        assert "Script Link Paper" in page and "Long TTT" in page
        ris = ada.get(url + "/library/export.ris", params={"tag": "hostile"}, timeout=30).text
        bib = ada.get(url + "/library/export.bib", params={"tag": "hostile"}, timeout=30).text
        everything = ada.get(url + "/account/export.json", timeout=30).json()["private_records"]
        for text in (page, ris, bib, json.dumps(everything)):
            assert "javascript:" not in text.lower() and "data:text" not in text
            assert "\x07" not in text and "\x1b" not in text and "\x00" not in text
        records = {p["title"][:4]: p for p in everything.values()}
        script, long = records["Scri"], records["Long"]
        assert script["published"] is None and script["updated"] is None  # year 0000 and 2099: dropped
        assert script["links"] == {"code": "https://example.org/code"}
        assert long["published"].startswith("2021-03-04")
        assert len(long["title"]) <= MAX_TEXT["title"] and len(long["authors"]) == MAX_AUTHORS
        assert "TI  - Long" in ris and "T" * 1001 not in ris


def test_records_stored_before_cleaning_are_cleaned_by_the_migration(tmp_path):
    db = sqlite3.connect(tmp_path / "old.sqlite3")
    db.execute("CREATE TABLE private_papers (user_id INTEGER, id TEXT, record TEXT, created_at TEXT,"
               " PRIMARY KEY (user_id, id))")
    dirty = {"id": "private:x", "title": "Old\x07 Import", "abstract": "", "authors": "[]", "categories": "[]",
             "published": "0000-01-01T00:00:00Z", "first_seen": "2024-01-01T00:00:00Z", "versions": "[]",
             "links": json.dumps({"abs": "javascript:alert(1)", "code": "https://example.org/c"}),
             "signals": "{}", "sources": "[]"}
    clean = {**dirty, "id": "private:y", "title": "Fine", "published": None, "links": "{}"}
    for uid, rec in ((1, dirty), (2, clean)):
        db.execute("INSERT INTO private_papers VALUES (?, ?, ?, '')", (uid, rec["id"], json.dumps(rec)))
    before = db.execute("SELECT record FROM private_papers WHERE user_id = 2").fetchone()[0]
    clean_stored_records(db)
    fixed = json.loads(db.execute("SELECT record FROM private_papers WHERE user_id = 1").fetchone()[0])
    assert fixed["title"] == "Old Import" and fixed["published"] is None
    assert json.loads(fixed["links"]) == {"code": "https://example.org/c"}
    assert db.execute("SELECT record FROM private_papers WHERE user_id = 2").fetchone()[0] is not None
    assert before  # a clean record is rewritten at most into its own cleaned form


@pytest.mark.parametrize(("typed", "expected"), [
    ("２４０１.１２３４５", "2401.12345"),  # full-width digits: normalised, then matched in ASCII
    ("arXiv:２４０１.１２３４５ｖ２", "2401.12345"),
    ("2401.12345", "2401.12345"),
    ("https://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"),
])
def test_arxiv_ids_are_normalised_then_matched_strictly(typed, expected):
    assert parse_ref(typed) == expected
    parsed = parse_arxiv_id(typed)
    assert parsed is not None and parsed[0].isascii()


@pytest.mark.parametrize("typed", ["٢٤٠١.١٢٣٤٥", "२४०१.१२३४५", "2401.1234５x", "𝟐𝟒𝟎𝟏.𝟏𝟐𝟑𝟒𝟓𝟔𝟕"])
def test_other_digits_are_no_arxiv_id(typed):
    assert parse_arxiv_id(typed) is None
    with pytest.raises(UsageError):
        parse_ref(typed)
