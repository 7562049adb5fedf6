"""Processes sharing one data directory lose nothing: a busy `serve` beside CLI commands, real processes only.

Reproduces issue 22's sequence: a server answering concurrent searches, then `stats`, `user list` and `backup` from
other processes. Before the fix each of them closed its connection as if it were the last one (the server had
dropped its own POSIX locks), deleted the WAL under the server, and every later web write was lost.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from serving import deleted_db_files, serving_process


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), *args],
                          capture_output=True, text=True, timeout=300)


def _csrf(s: requests.Session, url: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', s.get(url, timeout=30).text).group(1)


class Searchers:
    """Threads that keep searching and count every status the server gives."""

    def __init__(self, url: str, n: int) -> None:
        self.url, self.stop, self.statuses = url, threading.Event(), []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(n)]
        for t in self.threads:
            t.start()

    def _run(self, i: int) -> None:
        words = ["retrieval", "language model", "diffusion", "agents", "reasoning", "vision"]
        while not self.stop.is_set():
            r = requests.get(self.url + "/api/search", params={"q": words[i % len(words)], "limit": 5}, timeout=60)
            self.statuses.append(r.status_code)

    def finish(self) -> list[int]:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
        return self.statuses


def test_cli_commands_beside_a_busy_server_keep_its_wal_and_its_writes(new_sample_home, tmp_path):
    home = new_sample_home()
    with serving_process(home) as (url, proc):
        searchers = Searchers(url, 12)
        time.sleep(2)  # every worker thread of the server has opened its own connection
        for args in (["stats"], ["user", "list"], ["backup", str(tmp_path / "bak")]):
            done = _cli(home, *args)
            assert done.returncode == 0, done.stderr
        assert deleted_db_files(proc.pid) == []
        assert (home / "paperscope.sqlite3-wal").exists()

        ada = requests.Session()
        r = ada.post(url + "/signup", data={"email": "ada@lab.example", "password": "correct horse battery",
                                            "csrf": _csrf(ada, url + "/signup")}, timeout=30)
        assert r.status_code == 200 and r.url.endswith("/library"), r.text[:300]
        hit = requests.get(url + "/api/search", params={"q": "retrieval", "limit": 1}, timeout=30).json()["hits"][0]
        paper_id = hit["paper"]["paperscopeId"]
        r = ada.post(url + "/library/save", data={"paper_id": paper_id, "tags": "kept",
                                                  "csrf": _csrf(ada, url + "/library")}, timeout=30)
        assert r.status_code == 200

        new = tmp_path / "new.jsonl"
        new.write_text(json.dumps({"id": "wal-kept", "title": "Zymurgical Lattices for Quokka Retrieval",
                                   "abstract": "A paper only the other process ingested.",
                                   "published": "2026-01-05"}) + "\n")
        assert _cli(home, "ingest", "file", str(new)).returncode == 0
        assert _cli(home, "update").returncode == 0
        deadline, found = time.monotonic() + 30, False
        while time.monotonic() < deadline and not found:
            hits = requests.get(url + "/api/search", params={"q": "zymurgical quokka", "mode": "keyword"},
                                timeout=30).json()
            found = "local:wal-kept" in [h["paper"]["paperscopeId"] for h in hits["hits"]]
            time.sleep(0.5)
        assert found, "the server never saw the paper another process added"
        statuses = searchers.finish()
        assert deleted_db_files(proc.pid) == []
        assert statuses and not [s for s in statuses if s >= 500]

    users = _cli(home, "user", "list", "--json")
    assert "ada@lab.example" in [u["email"] for u in json.loads(users.stdout)]
    with serving_process(home) as (url, proc):
        ada = requests.Session()
        r = ada.post(url + "/login", data={"email": "ada@lab.example", "password": "correct horse battery",
                                           "csrf": _csrf(ada, url + "/login")}, timeout=30)
        assert r.status_code == 200
        assert paper_id in ada.get(url + "/library", timeout=30).text
