"""The store on each backend (embedded SQLite, PostgreSQL): migrations, merging records of one paper,
transactional batches."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from paperscope.backends import open_store
from paperscope.models import Author, Batch, Paper, Signal, Version
from paperscope.store.schema import MIGRATIONS
from paperscope.store_pg.schema import MIGRATIONS as PG_MIGRATIONS


@pytest.fixture
def settings(backend_settings):
    return backend_settings


@pytest.fixture
def store(backend_store):
    return backend_store


def test_migrations_are_recorded_once(store, settings, backend):
    expected = len(PG_MIGRATIONS if backend == "postgres" else MIGRATIONS)
    versions = [v for (v,) in store.conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, expected + 1))
    if backend == "embedded":
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = open_store(settings)  # re-opening applies nothing twice
    assert again.conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == expected
    again.close()


def test_doi_record_and_arxiv_record_merge_into_one(store):
    store.upsert_papers([Paper(id="doi:10.1/x", doi="10.1/x", title="T", sources=("files",))])
    counts = store.upsert_papers([Paper(id="arxiv:2401.00001", arxiv_id="2401.00001", doi="10.1/x", title="T",
                                        abstract="A", versions=(Version("v1", "2024-01-01T00:00:00Z"),),
                                        sources=("arxiv_api",))])
    assert counts == {"added": 0, "updated": 1, "unchanged": 0}
    p = store.get_paper("2401.00001")
    assert p.id == "doi:10.1/x" and p.abstract == "A" and p.sources == ("files", "arxiv_api")
    assert store.stats()["papers"] == 1


def test_older_record_fills_gaps_but_does_not_overwrite_newer_metadata(store):
    new = Paper(id="arxiv:1", arxiv_id="1", title="New title", updated="2024-02-01T00:00:00Z",
                versions=(Version("v1", "2024-01-01T00:00:00Z"), Version("v2", "2024-02-01T00:00:00Z")))
    old = Paper(id="arxiv:1", arxiv_id="1", title="Old title", comments="5 pages",
                versions=(Version("v1", "2024-01-01T00:00:00Z"),),
                signals={"upvotes": Signal(3, "hf_daily", "2024-02-02")})
    store.upsert_papers([new])
    store.upsert_papers([old])
    p = store.get_paper("arxiv:1")
    assert p.title == "New title" and p.comments == "5 pages" and len(p.versions) == 2
    assert p.signals["upvotes"].value == 3


def test_failed_batch_leaves_no_partial_write(store):
    run = store.start_run("t")
    good = Paper(id="local:a", title="A", authors=(Author("X"),))
    broken = Paper(id="local:b", title=None)  # type: ignore[arg-type]  # refused by cleaning mid-batch
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.IntegrityError, ValueError)):
        store.commit_batch("t", run, Batch((good, broken), (), {"offset": 2}))
    assert store.stats()["papers"] == 0 and store.get_checkpoint("t") is None
    assert store.conn.execute("SELECT count(*) FROM paper_authors").fetchone()[0] == 0


def test_author_lookup_ignores_case_and_dots(store):
    store.upsert_papers([Paper(id="local:a", title="A", authors=(Author("C. Balázs"), Author("Y. Z")))])
    assert [p.id for p in store.papers_by_author("c balázs")] == ["local:a"]


def test_a_record_naming_only_its_new_version_appends_to_the_history(store):
    store.upsert_papers([Paper(id="arxiv:1", arxiv_id="1", title="T", versions=(Version("v1", "2024-01-01T00:00:00Z"),))])
    store.upsert_papers([Paper(id="arxiv:1", arxiv_id="1", title="T", versions=(Version("v2", "2024-03-01T00:00:00Z"),))])
    assert [(v.version, v.created) for v in store.get_paper("arxiv:1").versions] == [
        ("v1", "2024-01-01T00:00:00Z"), ("v2", "2024-03-01T00:00:00Z")]


def test_the_same_paper_twice_in_one_batch_is_added_then_merged(store):
    counts = store.upsert_papers([Paper(id="arxiv:1", arxiv_id="1", title="T", authors=(Author("A. B"),)),
                                  Paper(id="doi:10.1/y", arxiv_id="1", doi="10.1/y", title="T", abstract="A")])
    assert counts == {"added": 1, "updated": 1, "unchanged": 0}
    p = store.get_paper("arxiv:1")
    assert p.id == "arxiv:1" and p.abstract == "A" and store.paper_count() == 1
    assert [x.id for x in store.papers_by_author("a b")] == ["arxiv:1"]
