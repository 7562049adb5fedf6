"""Backup of a live data directory, restore, and refusal of a data directory from a newer version."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperscope import generations
from paperscope.cli import main
from paperscope.errors import StoreError
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine, search
from paperscope.store import Store
from paperscope.store.schema import MIGRATIONS
from recorded import shared

DATA = Path(__file__).parent / "data"


def test_backup_then_restore_brings_back_papers_and_index(settings, store, fake_embedder, tmp_path):
    ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    reader = open_engine(store, settings, fake_embedder)  # a live reader holds the generation meanwhile
    runner = CliRunner()
    dest = tmp_path / "backup"
    made = runner.invoke(main, ["--data-dir", str(settings.home), "backup", str(dest), "--json"])
    assert made.exit_code == 0, made.output
    manifest = json.loads(made.output)
    assert manifest["papers"] == 200 and manifest["schema_version"] == len(MIGRATIONS)
    assert (dest / "index" / manifest["index_generation"] / "keyword").is_dir()
    assert runner.invoke(main, ["--data-dir", str(settings.home), "backup", str(dest)]).exit_code == 2  # not empty

    ingest(store, settings, "file", SourceOptions(path=DATA / "links.jsonl"))  # changes after the backup
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    assert store.paper_count() == 203
    refused = runner.invoke(main, ["--data-dir", str(settings.home), "restore", str(dest)])
    assert refused.exit_code == 2 and "--force" in refused.output
    done = runner.invoke(main, ["--data-dir", str(settings.home), "restore", str(dest), "--force"])
    assert done.exit_code == 0, done.output
    fresh = Store(settings.db_path)
    assert fresh.paper_count() == 200
    engine = open_engine(fresh, settings, fake_embedder)
    assert len(engine.vectors) == 200 and search(engine, "quantum").hits
    del reader
    # the restored index is a new generation; the next update catches it up with the database, never the reverse
    assert update_indexes(fresh, settings, fake_embedder.name, fake_embedder.dim) == {"keyword": 0, "vectors": 0}

    other = tmp_path / "elsewhere"
    into_new = runner.invoke(main, ["--data-dir", str(other), "restore", str(dest)])
    assert into_new.exit_code == 0, into_new.output
    assert Store(other / "paperscope.sqlite3").paper_count() == 200
    assert generations.current_name(other / "index")


def test_data_directory_from_a_newer_version_is_refused(settings, store, tmp_path):
    store.conn.execute("INSERT INTO schema_migrations VALUES (?, '2030-01-01T00:00:00Z')", (len(MIGRATIONS) + 5,))
    store.close()
    with pytest.raises(StoreError, match="newer paperscope"):
        Store(settings.db_path)
    result = CliRunner().invoke(main, ["--data-dir", str(settings.home), "stats"])
    assert result.exit_code == 4 and "upgrade paperscope" in result.output and "Traceback" not in result.output


def test_schema_version_is_stored_and_readable_without_paperscope(settings, store):
    assert store.schema_version() == len(MIGRATIONS)
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
