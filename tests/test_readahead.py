"""A big file read in other processes: the same store as one process, and nothing left behind when either side dies."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperscope import readahead
from paperscope.models import Batch, Paper, Share, Version
from paperscope.pipeline import SourceOptions, ingest
from paperscope.sources._lines import INCOMPLETE, read_jsonl
from paperscope.sources.arxiv_snapshot import record_to_paper
from paperscope.store import Store
from paperscope.store.papers import prepare
from paperscope.store.runs import recorded_run
from recorded import shared


def _real_file(path: Path, n: int) -> Path:
    """`n` records from the real snapshot lines (new ids; the lines' DOIs repeat, so some merge by DOI), one id given
    twice with a new abstract, and the broken lines a real download has."""
    lines = [json.loads(x) for x in shared("arxiv-snapshot-sample.jsonl").read_text(encoding="utf-8").splitlines()]
    out: list[bytes] = []
    for i in range(n):
        rec = dict(lines[i % len(lines)], id=f"2001.{i:05d}")
        rec["title"] = f"{rec['title']} ({i})"
        out.append(json.dumps(rec).encode())
        if i == n // 2:  # a paper met again later in the file, in another batch, with a newer abstract
            again = dict(json.loads(out[3]), abstract="A revised abstract, with 50% more words \\(x^2\\).")
            out += [json.dumps(again).encode(), b"", b'{"id": "2001.99999", "title": "cut off',
                    b"[1, 2]", b'{"id": null, "title": "no id"}', b'{"id": "2001.99998", "title": "caf\xe9"}']
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


def _dump(db: Path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Every paper (without its first-seen time and change number), author row and checkpoint."""
    conn = sqlite3.connect(db)
    cols = [d[0] for d in conn.execute("SELECT * FROM papers LIMIT 0").description]
    keep = [i for i, c in enumerate(cols) if c not in ("first_seen", "seq")]
    papers = [tuple(r[i] for i in keep) for r in conn.execute("SELECT * FROM papers ORDER BY id")]
    authors = conn.execute("SELECT * FROM paper_authors ORDER BY paper_id, position").fetchall()
    checkpoints = conn.execute("SELECT source, state FROM checkpoints").fetchall()
    conn.close()
    return papers, authors, checkpoints


def _shape(batches) -> list[tuple]:
    return [(tuple(p.id for p in b.papers), b.problems, b.checkpoint, b.done) for b in batches]


def _interleaved(f: Path, n: int, end: int) -> list:
    shares = [list(read_jsonl(f, None, 17, record_to_paper, Share(k, n, end))) for k in range(n)]
    return [shares[i % n][i // n] for i in range(sum(map(len, shares)))]


def test_shared_batches_interleave_into_exactly_the_one_reader_sequence(tmp_path):
    f = _real_file(tmp_path / "snap.jsonl", 230)
    whole = _shape(read_jsonl(f, None, 17, record_to_paper))
    assert _shape(_interleaved(f, 3, f.stat().st_size)) == whole
    assert len(whole) > 6 and any(b[1] for b in whole)  # several rounds, and the broken lines among them


def test_a_file_that_grows_while_it_is_read_is_cut_at_the_same_byte_by_every_reader(tmp_path):
    f = _real_file(tmp_path / "snap.jsonl", 200)
    data = f.read_bytes()
    cut = data.index(b"\n", len(data) // 2) - 40  # mid-line: the download had got this far when the ingest began
    f.write_bytes(data[:cut])
    then = _shape(read_jsonl(f, None, 17, record_to_paper))  # what one reader makes of the file at that moment
    f.write_bytes(data)  # the rest arrives while the readers are still reading
    assert _shape(_interleaved(f, 2, cut)) == then
    assert then[-1][1][-1].reason == INCOMPLETE  # the cut-off line is left for the next run, by every reader


def _paper(arxiv_id: str, doi: str, version: str, day: str) -> Paper:
    return Paper(id=f"arxiv:{arxiv_id}", arxiv_id=arxiv_id, doi=doi, title=f"Paper {arxiv_id}",
                 versions=(Version(version, day),), updated=day)


def _stored(batches_per_commit: list[list[Batch]], tmp_path: Path, name: str) -> list[tuple]:
    store = Store(tmp_path / f"{name}.sqlite3")
    with recorded_run(store, "t") as run:
        for parts in batches_per_commit:
            store.commit_batches("t", run.id, parts)
    rows = store.conn.execute("SELECT id, doi, versions FROM papers ORDER BY id").fetchall()
    store.close()
    return rows


def test_what_is_stored_does_not_depend_on_how_batches_are_joined_or_cut(tmp_path):
    first = _paper("2001.00001", "10.1/d1", "v1", "2020-01-01T00:00:00Z")
    corrected = _paper("2001.00001", "10.1/d2", "v2", "2021-01-01T00:00:00Z")  # the same paper, its DOI corrected
    other = _paper("2001.00003", "10.1/d1", "v1", "2019-01-01T00:00:00Z")  # another paper with the old DOI

    def batch(*papers: Paper, prepared: bool) -> Batch:
        if prepared:
            return Batch((), (), {"at": papers[-1].id}, prepared=tuple(map(prepare, papers)), cleaned=True)
        return Batch(papers, (), {"at": papers[-1].id}, cleaned=True)

    for prepared in (False, True):
        separate = _stored([[batch(first, corrected, prepared=prepared)], [batch(other, prepared=prepared)]],
                           tmp_path, f"separate-{prepared}")
        joined = _stored([[batch(first, corrected, prepared=prepared), batch(other, prepared=prepared)]],
                         tmp_path, f"joined-{prepared}")
        one = _stored([[batch(first, corrected, other, prepared=prepared)]], tmp_path, f"one-{prepared}")
        assert separate == joined == one
        assert [(pid, doi) for pid, doi, _ in one] == [("arxiv:2001.00001", "10.1/d2"), ("arxiv:2001.00003", "10.1/d1")]


@pytest.fixture
def through_readers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The records (papers and problems) of each hand-over that came through `readahead` in this test."""
    seen: list[int] = []
    real = readahead.cleaned_batches

    def spy(*args, **kw):
        for parts, notes in real(*args, **kw):
            seen.append(sum(len(b.prepared) + len(b.problems) for b in parts))
            yield parts, notes

    monkeypatch.setattr(readahead, "cleaned_batches", spy)
    return seen


def test_a_file_read_by_other_processes_is_stored_exactly_as_one_process_stores_it(tmp_path, settings,
                                                                                    through_readers):
    f = _real_file(tmp_path / "snap.jsonl", 700)
    runs = {}
    for name, mib in (("one", -1.0), ("readers", 0.0)):
        (tmp_path / name).mkdir()
        s = dataclasses.replace(settings, home=tmp_path / name, read_process_mib=mib, batch_size=40)
        store = Store(s.db_path)
        runs[name] = (ingest(store, s, "snapshot", SourceOptions(path=f)), s.db_path)
        store.close()
        if name == "one":
            assert through_readers == []
    assert sum(through_readers) == 705 and len(through_readers) > 4  # 701 papers and 4 broken lines
    one, readers = runs["one"][0], runs["readers"][0]
    assert (one.added, one.updated, one.unchanged) == (readers.added, readers.updated, readers.unchanged)
    assert one.updated > 0 and one.added > 300  # merges by id and DOI happened, in both
    assert [(p.record, p.reason) for p in one.problems] == [(p.record, p.reason) for p in readers.problems]
    assert len(one.problems) == 4
    assert _dump(runs["one"][1]) == _dump(runs["readers"][1])


def _cli(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PAPERSCOPE_HOME": str(home), "PAPERSCOPE_BATCH_SIZE": "100",
           "PAPERSCOPE_READ_PROCESS_MIB": "0"}
    return subprocess.Popen([sys.executable, "-m", "paperscope", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # a group of its own


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _papers(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def _wait_for_readers(child: subprocess.Popen, db: Path) -> list[int]:
    """The ingest's child processes (its readers and multiprocessing's resource tracker), once it has committed some
    papers."""
    deadline = time.monotonic() + 120
    readers: list[int] = []
    while time.monotonic() < deadline and not (readers and _papers(db) > 0):
        time.sleep(0.05)
        readers = _children(child.pid)
    assert readers and _papers(db) > 0, "the ingest must be under way, with its readers, when it is killed"
    return readers


@pytest.mark.parametrize("kill", ["writer", "reader", "ctrl-c"])
def test_a_killed_ingest_leaves_no_process_behind_and_a_rerun_completes_it(tmp_path, kill):
    f = _real_file(tmp_path / "snap.jsonl", 6000)
    reference = tmp_path / "reference"
    ref = _cli(reference, "ingest", "snapshot", str(f))
    assert ref.wait() == 0, ref.stderr.read()

    home = tmp_path / "killed"
    child = _cli(home, "ingest", "snapshot", str(f))
    db = home / "paperscope.sqlite3"
    readers = _wait_for_readers(child, db)
    if kill == "writer":
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    elif kill == "ctrl-c":  # the terminal interrupts the whole group: the writer stops and says so, the readers go
        os.killpg(child.pid, signal.SIGINT)
        assert child.wait(60) == 130
        assert child.stderr.read().splitlines()[-1] == "interrupted; what was committed is kept and the next run resumes"
    else:  # a reader dies: the writer says so in one line, keeps what it committed, and exits
        reader = next(pid for pid in readers if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text())
        os.kill(reader, signal.SIGKILL)
        assert child.wait(60) == 5, child.stderr.read()
        err = child.stderr.read()
        assert err.startswith("error: a process reading the snapshot file stopped without a word (exit code -9)")
        assert "run the ingest again to resume" in err and "Traceback" not in err
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(map(_alive, readers)):
        time.sleep(0.05)
    assert not any(map(_alive, readers)), "every reader (and the resource tracker) ends when the ingest does"
    assert 0 < _papers(db) < _papers(reference / "paperscope.sqlite3")

    rerun = _cli(home, "ingest", "snapshot", str(f), "--json")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert json.loads(out)["resumed"]
    assert _dump(db)[:2] == _dump(reference / "paperscope.sqlite3")[:2]


def test_a_source_error_in_a_reader_is_the_same_one_line_error_as_without_readers(tmp_path):
    os.mkfifo(tmp_path / "pipe.jsonl")  # exists, but is no file: the reader's source refuses it
    errors = []
    for mib in ("0", "-1"):
        run = subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(tmp_path / f"h{mib}"), "ingest",
                              "file", str(tmp_path / "pipe.jsonl")], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PAPERSCOPE_READ_PROCESS_MIB": mib})
        errors.append((run.returncode, run.stderr))
    assert errors[0] == errors[1]
    assert errors[0][0] == 5 and errors[0][1].startswith("error: no such file: ") and "Traceback" not in errors[0][1]


def test_readers_write_postgres_as_one_process_writes_sqlite(tmp_path, settings, pg_url):
    from paperscope.backends import open_store

    f = _real_file(tmp_path / "snap.jsonl", 300)
    runs = {}
    for name, url, mib in (("sqlite", "", -1.0), ("postgres", pg_url, 0.0)):
        s = dataclasses.replace(settings, database_url=url, read_process_mib=mib, batch_size=40)
        store = open_store(s)
        report = ingest(store, s, "snapshot", SourceOptions(path=f))
        papers = store.papers_by_ids([f"arxiv:2001.{i:05d}" for i in range(300)])
        runs[name] = ((report.added, report.updated, report.unchanged, len(report.problems)),
                      {pid: dataclasses.replace(p, first_seen=None) for pid, p in papers.items()})
        store.close()
    assert runs["sqlite"][0] == runs["postgres"][0] and runs["sqlite"][0][1] > 0
    assert runs["sqlite"][1] == runs["postgres"][1] and len(runs["sqlite"][1]) > 100


@pytest.mark.parametrize("name", ["papers.csv", "library.bib"])
def test_csv_and_bibtex_files_read_by_one_other_process_store_what_one_process_stores(tmp_path, settings, name,
                                                                                     through_readers):
    path = Path(__file__).parent / "data" / name
    runs = []
    for mib in (-1.0, 0.0):
        s = dataclasses.replace(settings, home=tmp_path / str(mib), read_process_mib=mib, batch_size=2)
        s.home.mkdir()
        store = Store(s.db_path)
        report = ingest(store, s, "file", SourceOptions(path=path))
        store.close()
        runs.append(((report.added, report.updated, report.unchanged, report.problems), _dump(s.db_path)[:2]))
    assert runs[0] == runs[1] and runs[0][0][0] > 0
    assert sum(through_readers) == sum(runs[1][0][:3]) + len(runs[1][0][3])  # the second run came through a reader
