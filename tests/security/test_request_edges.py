"""Request edges against a real `paperscope serve`: huge ids, oversized bodies, anonymous page views, paths of the
server's disk; and the CLI's edges (a missing data directory, a closed output pipe), as real processes."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from serving import serving

HUGE = "99999999999999999999999"


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), *args],
                          capture_output=True, text=True, timeout=300)


def _csrf(s: requests.Session, url: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', s.get(url, timeout=30).text).group(1)


def _sessions(home: Path) -> int:
    conn = sqlite3.connect(f"file:{home / 'paperscope.sqlite3'}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture(scope="module")
def lab(new_sample_home, tmp_path_factory) -> Iterator[tuple[str, Path, str]]:
    """A served sample with an admin account and a file ingested from an absolute path; yields (url, home, paper)."""
    home = new_sample_home()
    extra = tmp_path_factory.mktemp("secret-dir") / "lab-notes.jsonl"
    extra.write_text(json.dumps({"id": "edge-1", "title": "Edges of Serving", "abstract": "Huge ids and bodies.",
                                 "published": "2026-01-02"}) + "\n")
    assert _cli(home, "ingest", "file", str(extra)).returncode == 0
    assert _cli(home, "user", "add", "root@lab.example", "--admin", "--password", "correct horse battery"
                ).returncode == 0
    with serving(home, max_import_bytes="1000000") as url:
        yield url, home, str(extra.parent)


def _admin(url: str) -> requests.Session:
    s = requests.Session()
    r = s.post(url + "/login", data={"email": "root@lab.example", "password": "correct horse battery",
                                     "csrf": _csrf(s, url + "/login")}, timeout=30)
    assert r.status_code == 200
    return s


def test_ids_outside_the_database_range_answer_404_not_500(lab):
    url, _home, _secret = lab
    admin = _admin(url)
    token = _csrf(admin, url + "/settings")
    for path, data in [(f"/comments/{HUGE}/delete", {}), (f"/comments/{HUGE}/edit", {"body": "x"}),
                       (f"/comments/{HUGE}/hide", {}), ("/paper/local:edge-1/comments", {"body": "x", "parent": HUGE}),
                       ("/admin/user", {"user_id": HUGE, "action": "disable"}),
                       (f"/comments/-{HUGE}/delete", {})]:
        r = admin.post(url + path, data={**data, "csrf": token}, timeout=30, allow_redirects=False)
        assert r.status_code in (400, 404), (path, r.status_code, r.text[:200])


def test_bodies_past_the_limit_are_refused_with_413_before_they_are_read(lab):
    url, _home, _secret = lab
    big = json.dumps({"positive": ["local:edge-1"] * 200_000})  # ~3 MB, past the 1 MB default
    r = requests.post(url + "/api/similar", data=big, headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    chunks = (b"x" * 65536 for _ in range(40))  # no Content-Length: counted as it streams
    r = requests.post(url + "/api/similar", data=chunks, headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    admin = _admin(url)
    token = _csrf(admin, url + "/library")
    r = admin.post(url + "/library/import", data={"tag": "big", "csrf": token},
                   files={"file": ("big.bib", b"@misc{a,title={x}}\n" * 80_000)}, timeout=60)  # 1.5 MB > 1 MB
    assert r.status_code == 413 and "larger than this server accepts" in r.text
    small = admin.post(url + "/library/import", data={"tag": "small", "csrf": token},
                       files={"file": ("ok.bib", b"@misc{a, title={Edges of Serving}}\n")}, timeout=60)
    assert small.status_code == 200


def test_anonymous_pages_write_no_session_row_and_their_forms_still_work(lab):
    url, home, _secret = lab
    before = _sessions(home)
    for _ in range(10):
        for path in ("/login", "/signup", "/password/forgot", "/"):
            assert requests.get(url + path, timeout=30).status_code == 200
    assert _sessions(home) == before
    visitor = requests.Session()
    token = _csrf(visitor, url + "/signup")
    forged = requests.post(url + "/signup", data={"email": "eve@lab.example", "password": "correct horse battery",
                                                  "csrf": token}, timeout=30)  # the token without its cookie
    assert forged.status_code == 403
    r = visitor.post(url + "/signup", data={"email": "new@lab.example", "password": "correct horse battery",
                                            "csrf": token}, timeout=30)
    assert r.status_code == 200 and r.url.endswith("/library")
    assert _sessions(home) == before + 1  # the sign-in is the one row


def test_anonymous_answers_show_no_path_of_the_servers_disk(lab):
    url, home, secret = lab
    for path in ("/api/stats", "/api/status", "/status", "/about", "/readyz", "/metrics"):
        text = requests.get(url + path, timeout=30).text
        assert secret not in text and str(home) not in text, path
    stats = requests.get(url + "/api/stats", timeout=30).json()
    assert "files:lab-notes.jsonl" in stats["last_successful_ingest"]


@pytest.mark.parametrize("command", [["stats"], ["user", "list"], ["search", "x"], ["show", "2405.00001"],
                                     ["similar", "2405.00001"], ["digest", "send"], ["backup", "elsewhere"]])
def test_read_only_commands_on_a_missing_data_directory_say_so_and_create_nothing(tmp_path, command):
    home = tmp_path / "no" / "such" / "dir"
    done = subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), *command],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode != 0 and done.stderr.startswith("error: ") and str(home) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "no").exists()


def test_a_closed_output_pipe_ends_the_cli_quietly(new_sample_home):
    home = new_sample_home()
    for _ in range(5):  # the race was intermittent: about half the runs failed
        proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(home), "search", "language",
                                 "--mode", "keyword", "-k", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # `| head -1`
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
        assert err == "" and proc.returncode in (0, 141), (proc.returncode, err)
