"""`paperscope update SOURCE` takes `ingest`'s options, and --category narrows every arXiv source."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from paperscope.cli import main
from paperscope.store import Store
from recorded import shared


def run(home: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["--data-dir", str(home), *args], env=env, catch_exceptions=False)


def test_update_harvests_exactly_the_categories_asked_for_then_is_a_no_op(tmp_path, server):
    server.add_file("/oai", "oai_arxiv_page1.xml", when={"metadataPrefix": "arXiv"})
    server.add_file("/oai", "oai_arxiv_page2.xml", when={"resumptionToken": "token-page-2"})
    env = {"PAPERSCOPE_ARXIV_OAI_URL": server.url + "/oai", "PAPERSCOPE_ARXIV_OAI_DELAY": "0"}
    args = ["update", "arxiv-oai", "--set", "cs", "--category", "cs.CL,cs.IR", "--from", "2024-05-01",
            "--until", "2024-05-02", "--json"]
    first = run(tmp_path, *args, env=env)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["ingest"]["added"] == 2 and report["embedded"] == 2 and report["indexed"]["vectors"] == 2
    assert report["ingest"]["source"] == "arxiv_oai:cs:arXiv:cs.CL,cs.IR"
    assert server.log[0].params["set"] == "cs" and server.log[0].params["from"] == "2024-05-01"
    store = Store(tmp_path / "paperscope.sqlite3")
    assert sorted(p.id for p in store.iter_papers()) == ["arxiv:2405.00001", "arxiv:2405.00002"]
    store.close()
    hits = json.loads(run(tmp_path, "search", "binary embeddings", "--json").stdout)["hits"]
    assert hits[0]["id"] == "arxiv:2405.00001"
    again = run(tmp_path, *args, env=env)
    assert again.exit_code == 1 and json.loads(again.stdout)["changed"] is False
    assert run(tmp_path, "update").exit_code == 1  # nothing to embed or index: the model is not even loaded


def test_category_filter_on_the_snapshot_matches_whole_archives(tmp_path):
    r = run(tmp_path, "ingest", "snapshot", str(shared("arxiv-snapshot-sample.jsonl")), "--category", "hep-th,physics",
            "--json")
    assert r.exit_code == 0, r.output
    store = Store(tmp_path / "paperscope.sqlite3")
    papers = list(store.iter_papers())
    assert papers and len(papers) == json.loads(r.stdout)["added"] < 200
    assert all(any(c == "hep-th" or c.startswith("physics.") for c in p.categories) for p in papers)
    store.close()


def test_bad_category_and_category_on_a_source_without_them_say_what_to_do(tmp_path):
    r = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "ingest", "arxiv-oai", "--category", "cs.CL;DROP"])
    assert r.exit_code != 0 and "use names such as cs.CL,cs.IR" in r.stderr
    r = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "update", "hf-daily", "--category", "cs.CL"])
    assert r.exit_code != 0 and "has no categories" in r.stderr
