"""Point 7: a user's import never edits the shared catalogue, and records without a public id stay private."""

from __future__ import annotations

import re

import requests
from realserver import csrf, signup

from serving import imports_done, serving

HIJACK = """@article{hijack,
  title = {Totally Different Title Written By An Importer},
  author = {Mallory, Eve},
  eprint = {2405.00001},
  archivePrefix = {arXiv},
  year = {2024}
}
"""


def _import(s: requests.Session, url: str, tag: str, name: str, body: str) -> str:
    """Upload a file and return the library page once the server's importer has read it (with its report)."""
    r = s.post(url + "/library/import", data={"tag": tag, "csrf": csrf(s, url + "/library")},
               files={"file": (name, body.encode())}, timeout=60)
    assert r.status_code == 200 and "Importing into" in r.text
    return imports_done(s, url)


def _private(title: str) -> str:
    return f"@misc{{smith2020,\n  title = {{{title}}},\n  author = {{Smith, Jo}},\n  year = {{2020}}\n}}\n"


def test_import_links_to_catalogue_without_editing_it_and_private_records_stay_private(home):
    with serving(home) as url:
        before = requests.get(url + "/api/papers/2405.00001", timeout=10).json()["title"]
        ada, bob = signup(url, "ada.import@example.org"), signup(url, "bob.import@example.org")
        report = _import(ada, url, "mine", "lib.bib", HIJACK + _private("Ada's Own Unpublished Notes"))
        assert "1 matched in the catalogue, 1 kept as your private records" in report
        assert requests.get(url + "/api/papers/2405.00001", timeout=10).json()["title"] == before
        assert before in requests.get(url + "/paper/arxiv:2405.00001", timeout=10).text
        assert "Totally Different" not in requests.get(url + "/paper/arxiv:2405.00001", timeout=10).text
        page = ada.get(url + "/library", params={"tag": "mine"}, timeout=10).text
        assert before in page and "Ada&#39;s Own Unpublished Notes" in page
        # bob imports the same citekey: his own record; ada's stays as it was
        _import(bob, url, "his", "lib.bib", _private("Bob's Replacement Title"))
        assert "Ada&#39;s Own Unpublished Notes" in ada.get(url + "/library", params={"tag": "mine"}, timeout=10).text
        assert "Bob&#39;s Replacement Title" in bob.get(url + "/library", params={"tag": "his"}, timeout=10).text
        assert "Ada&#39;s" not in bob.get(url + "/library", timeout=10).text
        # private records are in no shared view: search, API, daily list
        for path in ("/api/search?q=Unpublished", "/search?q=Unpublished", "/"):
            assert "Unpublished Notes" not in requests.get(url + path, timeout=30).text, path
        assert "Ada's Own Unpublished Notes" in ada.get(url + "/library/export.bib", params={"tag": "mine"},
                                                         timeout=10).text


def test_csv_import_is_private_too(home):
    with serving(home) as url:
        ada = signup(url, "csv.import@example.org")
        report = _import(ada, url, "csv", "list.csv", "title,authors,year\nA Spreadsheet Paper,Jo Smith,2021\n")
        assert "1 kept as your private records" in report
        assert re.search("A Spreadsheet Paper", ada.get(url + "/library", params={"tag": "csv"}, timeout=10).text)
        assert "Spreadsheet Paper" not in requests.get(url + "/api/search?q=Spreadsheet", timeout=30).text
