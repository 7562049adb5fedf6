"""The arXiv metadata snapshot: real Kaggle records, broken lines, and a SIGKILL mid-ingest."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from paperscope.pipeline import SourceOptions, ingest
from paperscope.store import Store
from recorded import shared

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from synth import write_snapshot  # noqa: E402


def test_real_snapshot_records_keep_their_fields(settings, store):
    report = ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    assert (report.added, len(report.problems)) == (200, 0)
    p = store.get_paper("0704.0001")
    assert p.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert p.authors[0].name == "C. Balázs" and len(p.authors) == 4
    assert p.doi == "10.1103/physrevd.76.013009" and p.journal_ref == "Phys.Rev.D76:013009,2007"
    assert [v.version for v in p.versions] == ["v1", "v2"] and p.published == "2007-04-02T19:18:42Z"
    assert p.categories == ("hep-ph",) and p.license is None
    assert not p.abstract.startswith(" ") and "\n" not in p.abstract


def test_broken_lines_name_line_and_reason_and_keep_the_rest(tmp_path, settings, store):
    lines = (shared("arxiv-snapshot-sample.jsonl")).read_text().splitlines()
    bad = lines[:3] + ['{"id": "0704.9999", "title": "cut off'] + lines[3:5] + ['{"id": null, "title": "x"}'] + lines[5:6]
    f = tmp_path / "snap.jsonl"
    f.write_text("\n".join(bad) + "\n")
    report = ingest(store, settings, "snapshot", SourceOptions(path=f))
    assert report.added == 6
    assert [(p.record, p.reason.split(" (")[0]) for p in report.problems] == [
        ("snap.jsonl:4", "not valid JSON"), ("snap.jsonl:7", "no usable arXiv id")]


def _dump(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    papers = conn.execute("SELECT * FROM papers ORDER BY id").fetchall()
    cols = [d[0] for d in conn.execute("SELECT * FROM papers LIMIT 0").description]
    seen = cols.index("first_seen")
    authors = conn.execute("SELECT * FROM paper_authors ORDER BY paper_id, position").fetchall()
    conn.close()
    return [r[:seen] + r[seen + 1:] for r in papers] + authors


def _cli(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PAPERSCOPE_HOME": str(home), "PAPERSCOPE_BATCH_SIZE": "100"}
    return subprocess.Popen([sys.executable, "-m", "paperscope", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_midway_then_rerun_equals_uninterrupted_run(tmp_path):
    snap = write_snapshot(tmp_path / "snap.jsonl", 2000)
    reference = tmp_path / "reference"
    assert _cli(reference, "ingest", "snapshot", str(snap)).wait() == 0

    killed = tmp_path / "killed"
    child = _cli(killed, "ingest", "snapshot", str(snap))
    db = killed / "paperscope.sqlite3"
    deadline = time.monotonic() + 60
    offset = 0
    while time.monotonic() < deadline and offset == 0:
        time.sleep(0.05)
        if db.exists():
            try:
                row = sqlite3.connect(db).execute("SELECT state FROM checkpoints").fetchone()
            except sqlite3.OperationalError:
                row = None
            offset = json.loads(row[0])["offset"] if row else 0
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    store = Store(db)
    partial = store.stats()["papers"]
    store.close()
    assert 0 < partial < 2000, "the kill must land midway"

    rerun = _cli(killed, "ingest", "snapshot", str(snap), "--json")
    out, err = rerun.communicate()
    assert rerun.returncode == 0, err
    report = json.loads(out)
    assert report["resumed"] and report["added"] + report["unchanged"] + report["updated"] <= 2000
    assert _dump(db) == _dump(reference / "paperscope.sqlite3")
