"""The `paperscope` command: JSON output, messages that say what to do, exit codes, settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperscope.cli import main
from paperscope.config import load_settings
from paperscope.errors import ConfigError
from recorded import shared

DATA = Path(__file__).parent / "data"


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--data-dir", str(home), *args], catch_exceptions=False)


def test_ingest_show_and_stats_as_json(tmp_path):
    r = run(tmp_path, "ingest", "snapshot", str(shared("arxiv-snapshot-sample.jsonl")), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["added"] == 200
    shown = json.loads(run(tmp_path, "show", "https://arxiv.org/abs/0704.0002v2", "--json").stdout)
    assert shown["id"] == "arxiv:0704.0002" and shown["versions"]
    stats = json.loads(run(tmp_path, "stats", "--json").stdout)
    assert stats["papers"] == 200 and stats["papers_by_source"] == {"arxiv_snapshot": 200}
    assert "arxiv_snapshot:" in next(iter(stats["last_successful_ingest"]))


def test_show_text_lists_versions_and_links(tmp_path):
    run(tmp_path, "ingest", "snapshot", str(shared("arxiv-snapshot-sample.jsonl")))
    out = run(tmp_path, "show", "0704.0001").stdout
    assert "versions: v1 (2007-04-02), v2 (2007-07-24)" in out and "pdf: https://arxiv.org/pdf/0704.0001" in out


def test_unknown_paper_is_a_message_and_exit_code_not_a_traceback(tmp_path):
    run(tmp_path, "ingest", "file", str(DATA / "links.jsonl"))
    r = run(tmp_path, "show", "2401.99999")
    assert r.exit_code == 3
    assert "error: no paper '2401.99999'" in r.stderr and "Traceback" not in r.output


def test_ingest_problems_are_listed_on_stderr(tmp_path):
    r = run(tmp_path, "ingest", "file", str(DATA / "papers.csv"))
    assert r.exit_code == 0
    assert "2 added" in r.stdout and "papers.csv:row 3: no title" in r.stderr


def test_demo_without_hugging_face_says_so_in_one_line_and_serves_the_offline_sample(tmp_path):
    r = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "demo", "--no-serve"], catch_exceptions=False,
                           env={"PAPERSCOPE_HF_API_URL": "http://127.0.0.1:9"})  # port 9 refuses connections
    assert r.exit_code == 0, r.output
    said = [line for line in r.output.splitlines() if "Hugging Face" in line and "offline sample" in line]
    assert len(said) == 1 and "could not be reached ([Errno 111] Connection refused)" in said[0]
    assert "sample: 564 added" in r.stdout and "564 papers" in r.stdout
    assert "embedded 0 paper(s)" in r.stdout  # the sample's vectors ship with it
    assert "KVQuant" in r.stdout  # the first search answers from the sample


def test_demo_gives_up_on_a_hugging_face_that_does_not_answer_within_the_wait(tmp_path):
    import socket
    import time

    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        r = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "demo", "--no-serve", "--wait", "1"],
                               catch_exceptions=False,
                               env={"PAPERSCOPE_HF_API_URL": f"http://127.0.0.1:{silent.getsockname()[1]}"})
    assert r.exit_code == 0, r.output
    assert "Hugging Face did not answer within 1 s; serving the bundled offline sample" in r.stdout and "sample: 564 added" in r.stdout
    assert time.monotonic() - started < 30


def test_settings_file_env_and_bad_values(tmp_path):
    (tmp_path / "paperscope.toml").write_text('batch_size = 7\narxiv_api_delay = 5\n')
    s = load_settings(tmp_path, environ={"PAPERSCOPE_ARXIV_API_DELAY": "4"})
    assert (s.batch_size, s.arxiv_api_delay) == (7, 4.0)
    with pytest.raises(ConfigError, match="batch_size='many' is not a valid int"):
        load_settings(tmp_path, environ={"PAPERSCOPE_BATCH_SIZE": "many"})
    (tmp_path / "paperscope.toml").write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(tmp_path, environ={})


def test_search_before_indexing_says_what_to_run(tmp_path):
    run(tmp_path, "ingest", "file", str(DATA / "papers.csv"))
    r = run(tmp_path, "search", "fusion")
    assert r.exit_code == 2 and "run `paperscope update`" in r.stderr


def test_settings_are_listed_by_their_own_command_not_in_the_top_level_help(tmp_path):
    from paperscope.config import SETTINGS, settings_markdown

    top = run(tmp_path / "home", "--help")
    assert top.exit_code == 0 and "paperscope settings" in top.output and "database_url" not in top.output
    assert len(top.output.splitlines()) < 60
    listed = run(tmp_path / "home", "settings")
    assert listed.exit_code == 0 and all(f"PAPERSCOPE_{s.name.upper()}" in listed.output for s in SETTINGS)
    assert run(tmp_path / "home", "settings", "--markdown").output == settings_markdown()


def test_similar_names_the_filter_that_leaves_nothing(tmp_path):
    home = tmp_path / "home"
    assert run(home, "ingest", "snapshot", str(shared("arxiv-snapshot-sample.jsonl"))).exit_code == 0
    from fakes import HashingEmbedder
    from paperscope.pipeline import embed_papers, update_indexes
    from paperscope.store import Store

    settings = load_settings(home, environ={})
    store, embedder = Store(settings.db_path), HashingEmbedder()
    try:
        embed_papers(store, embedder)
        update_indexes(store, settings, embedder.name, embedder.dim)
    finally:
        store.close()
    import dataclasses

    from paperscope.search import filter_notes, open_engine
    from paperscope.text import parse_query

    engine = open_engine(Store(settings.db_path), dataclasses.replace(settings), embedder)
    assert filter_notes(engine, parse_query("cat:zz.ZZ").filters) == ["the category filter cat:zz.ZZ matches no paper"]
    assert filter_notes(engine, parse_query("").filters) == []


def test_the_test_harness_variables_are_not_mistaken_for_settings(tmp_path):
    import warnings

    from paperscope.config import load_settings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an "unknown setting" warning would fail here
        load_settings(tmp_path, environ={"PAPERSCOPE_TESTS_SHARED_DATA": "/x", "PAPERSCOPE_TESTS_CACHE": "/y"})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        load_settings(tmp_path, environ={"PAPERSCOPE_SHARED_DATA": "/x"})
    assert any("unknown setting PAPERSCOPE_SHARED_DATA" in str(w.message) for w in seen)
