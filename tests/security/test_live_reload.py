"""A running `paperscope serve` follows updates made by other processes: no restart, no failed request."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from serving import serving

NEW = {"arxiv_id": "2411.99999", "title": "Zeolite Catalysts for Ammonia Cracking at Low Temperature",
       "abstract": "We report zeolite catalysts that crack ammonia into hydrogen at low temperature.",
       "published": "2024-11-20", "categories": "physics.chem-ph", "authors": ["Marie Curie"]}


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def served(served_home: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A private copy of the served data dir behind its own `paperscope serve` process."""
    home = tmp_path / "home"
    shutil.copytree(served_home, home, ignore=shutil.ignore_patterns("*.lock", ".hold"))
    for gen in (home / "index").glob("g*"):
        (gen / ".hold").touch()
    with serving(home) as url:
        requests.get(url + "/api/search", params={"q": "warm up"}, timeout=60)
        yield home, url


def test_update_in_another_process_is_served_without_restart(served, tmp_path):
    home, url = served
    assert requests.get(url + "/api/similar/2411.99999").status_code == 404
    extra = tmp_path / "new.jsonl"
    extra.write_text(json.dumps(NEW) + "\n")
    assert cli(home, "ingest", "file", str(extra)).returncode == 0
    done = cli(home, "update")
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 20
    found = similar = None
    while time.monotonic() < deadline:
        hits = requests.get(url + "/api/search", params={"q": "zeolite ammonia cracking"}, timeout=10).json()["hits"]
        found = hits and hits[0]["paper"]["paperscopeId"] == "arxiv:2411.99999"
        similar = requests.get(url + "/api/similar/2411.99999", timeout=10).status_code
        if found and similar == 200:
            break
        time.sleep(0.25)
    assert found and similar == 200
    noop = subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), "update"],
                          capture_output=True, text=True, timeout=120)
    assert noop.returncode == 1  # nothing changed: the documented no-op exit, not an error
    time.sleep(2.5)  # the server lets go of the old generation; the next look deletes it
    requests.get(url + "/api/search", params={"q": "zeolite"}, timeout=10)
    time.sleep(1.0)
    assert len(list((home / "index").glob("g*"))) == 1


def test_rebuild_under_four_searching_clients_fails_no_request(served):
    home, url = served
    stop = threading.Event()
    results: list[int] = []
    queries = ["quantum spin", "retrieval binary embeddings", "galaxy cluster", "cat:cs.IR fusion"]

    def client(q: str) -> None:
        with requests.Session() as s:
            while not stop.is_set():
                results.append(s.get(url + "/api/search", params={"q": q}, timeout=30).status_code)

    threads = [threading.Thread(target=client, args=(q,)) for q in queries]
    for t in threads:
        t.start()
    try:
        rebuilt = cli(home, "index", "--rebuild")
    finally:
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert len(results) > 8 and set(results) == {200}
