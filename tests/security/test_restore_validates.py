"""A restore checks the whole backup before it replaces anything: a tampered one leaves the live data dir as it was."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperscope.cli import main
from paperscope.store import Store


def _checksums(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file()}


def _schema_99(backup: Path) -> None:
    with sqlite3.connect(backup / "paperscope.sqlite3") as conn:  # the manifest still says the real version
        conn.execute("INSERT INTO schema_migrations VALUES (99, '2030-01-01T00:00:00Z')")


def _corrupt_pages(backup: Path) -> None:
    db = backup / "paperscope.sqlite3"
    data = bytearray(db.read_bytes())
    for page in range(2, len(data) // 4096, 3):  # scribble over every third page past the header
        data[page * 4096 + 8: page * 4096 + 400] = b"\xa5" * 392
    db.write_bytes(bytes(data))


def _truncate_vectors(backup: Path) -> None:
    (f,) = backup.glob("index/g*/vectors-*/vectors.f16")
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _truncate_keyword(backup: Path) -> None:
    biggest = max((p for p in backup.glob("index/g*/keyword/*") if p.suffix in {".idx", ".store", ".term"}),
                  key=lambda p: p.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[:10])


@pytest.mark.parametrize("tamper", [_schema_99, _corrupt_pages, _truncate_vectors, _truncate_keyword])
def test_a_tampered_backup_is_refused_and_the_live_directory_is_unchanged(snapshot_store, settings, tmp_path, tamper):
    store = snapshot_store
    store.close()
    runner = CliRunner()
    backup = tmp_path / "backup"
    made = runner.invoke(main, ["--data-dir", str(settings.home), "backup", str(backup)])
    assert made.exit_code == 0, made.output
    tamper(backup)
    before = _checksums(settings.home)
    done = runner.invoke(main, ["--data-dir", str(settings.home), "restore", str(backup), "--force"])
    assert done.exit_code != 0
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "nothing was changed" in lines[0], done.output
    assert "Traceback" not in done.output
    assert _checksums(settings.home) == before
    assert Store(settings.db_path).paper_count() == 200


def test_a_good_backup_still_restores_over_a_live_directory(snapshot_store, settings, tmp_path):
    snapshot_store.close()
    runner = CliRunner()
    backup = tmp_path / "backup"
    assert runner.invoke(main, ["--data-dir", str(settings.home), "backup", str(backup)]).exit_code == 0
    other = tmp_path / "other"
    shutil.copytree(settings.home, other)
    with sqlite3.connect(other / "paperscope.sqlite3") as conn:
        conn.execute("DELETE FROM ingest_problems")
        conn.execute("DELETE FROM ingest_runs")
        assert conn.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] == 0
    done = runner.invoke(main, ["--data-dir", str(other), "restore", str(backup), "--force"])
    assert done.exit_code == 0, done.output
    assert not list(other.glob(".restore-*"))
    with sqlite3.connect(other / "paperscope.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] > 0  # the backup's rows are back
