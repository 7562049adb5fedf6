"""One member cannot slow the lab: each attack of issue 25 against a real `paperscope serve`, with a bystander's
search latency during it next to the same bystander alone.

Usage: python bench/abuse.py [--seconds 15] [--out bench/results/abuse.json]
Data: the bundled sample (`paperscope ingest sample` + `update`, real model). The bystander is one client that
searches in a loop (a fresh query each time from a fixed list); every attacker runs on the same 2 cores as the
server. Per attack it prints and records: how long the attacker's own requests took (p50/max), and the
bystander's search p50/p99/max alone and during the attack. A floor is the bystander alone in the same run.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from serving import serving  # noqa: E402 - the tests' one way to start a real server

QUERIES = ["language models", "diffusion", "retrieval augmented", "agents", "reasoning", "vision transformer",
           "quantization", "speech", "reinforcement learning", "graph neural"]


def pct(values: list[float], q: float) -> float:
    return round(sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000, 1) if values else float("nan")


class Bystander:
    """A member searching in a loop; records each search's seconds."""

    def __init__(self, url: str) -> None:
        self.url, self.stop, self.times = url, threading.Event(), []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self.stop.is_set():
            t = time.perf_counter()
            requests.get(self.url + "/api/search", params={"q": QUERIES[i % len(QUERIES)] + f" {i % 7}"}, timeout=60)
            self.times.append(time.perf_counter() - t)
            i += 1

    def during(self, seconds: float, attack: Callable[[], list[float]] | None = None) -> tuple[dict, list[float]]:
        self.times, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        own: list[float] = []
        if attack is None:
            time.sleep(seconds)
        else:
            own = attack()
            time.sleep(max(0.0, seconds - 1))
        self.stop.set()
        self.thread.join()
        return {"searches": len(self.times), "p50_ms": pct(self.times, 0.5), "p99_ms": pct(self.times, 0.99),
                "max_ms": pct(self.times, 1.0)}, own


def csrf(s: requests.Session, url: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', s.get(url, timeout=60).text).group(1)


def member(url: str, i: int) -> requests.Session:
    s = requests.Session()
    s.post(url + "/signup", data={"email": f"abuse{i}@lab.example", "password": "correct horse battery",
                                  "csrf": csrf(s, url + "/signup")}, timeout=60).raise_for_status()
    return s


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def attack_submissions(url: str) -> list[float]:
    """15 members submit 45 unknown ids at once while arXiv accepts connections and never answers."""
    members = [member(url, 100 + i) for i in range(15)]
    tokens = [csrf(m, url + "/settings") for m in members]

    def one(i: int) -> float:
        return timed(lambda: members[i % 15].post(url + "/submit", data={"paper": f"2406.{30001 + i}",
                                                                          "csrf": tokens[i % 15]}, timeout=60))
    with ThreadPoolExecutor(45) as pool:
        return list(pool.map(one, range(45)))


def attack_comments(url: str, home: Path, paper: str) -> Callable[[], list[float]]:
    """20 stored comments of 9,990 '[' on one paper (as an older version accepted them), 4 viewers of the page."""
    conn = sqlite3.connect(home / "paperscope.sqlite3", timeout=30)
    uid = conn.execute("SELECT min(id) FROM users").fetchone()[0]
    with conn:
        conn.executemany("INSERT INTO lab_comments (paper_id, user_id, body, created_at) VALUES (?, ?, ?, ?)",
                         [(paper, uid, "[" * 9990, "2026-01-01T00:00:00Z")] * 20)
    conn.close()

    def run() -> list[float]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda _: timed(lambda: requests.get(url + f"/paper/{paper}", timeout=120)),
                                 range(40)))
    return run


def attack_library(url: str, home: Path) -> Callable[[], list[float]]:
    """A member with 12,733 private records opens /library and exports it three times at once."""
    owner = member(url, 300)
    from paperscope.models import Paper
    from paperscope.store import Store

    store = Store(home / "paperscope.sqlite3")
    uid = store.users.by_email("abuse300@lab.example").id
    for i in range(12_733):
        store.users.save_private(uid, Paper(id=f"big-{i}", title=f"Private Note {i}", abstract="A private record.",
                                            published="2021-01-01"), ["big"])
    store.close()

    def run() -> list[float]:
        def one(i: int) -> float:
            path = "/library/export.bib" if i % 2 else "/library"
            return timed(lambda: owner.get(url + path, timeout=120).content)
        with ThreadPoolExecutor(3) as pool:
            return list(pool.map(one, range(12)))
    return run


def attack_recommendations(url: str) -> Callable[[], list[float]]:
    """4 clients fetch one member's recommendations over and over (cached per member, limited per member)."""
    fan = member(url, 400)
    token = csrf(fan, url + "/library")
    for q in QUERIES[:5]:
        hit = requests.get(url + "/api/search", params={"q": q, "limit": 1}, timeout=60).json()["hits"][0]
        fan.post(url + "/library/save", data={"paper_id": hit["paper"]["paperscopeId"], "tags": "mine",
                                              "csrf": token}, timeout=60)

    def run() -> list[float]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda _: timed(lambda: fan.get(url + "/recommendations", timeout=60)), range(80)))
    return run


def attack_import(url: str) -> Callable[[], list[float]]:
    """A 5 MB BibTeX upload (answered at once; the server's importer reads it in the background)."""
    s = member(url, 500)
    entry = "@misc{{k{0}, title = {{An Imported Paper Number {0}}}, author = {{Doe, Jane}}, year = {{2021}}}}\n"
    body = "".join(entry.format(i) for i in range(60_000)).encode()[:5_000_000]

    def run() -> list[float]:
        return [timed(lambda: s.post(url + "/library/import", data={"tag": "bulk", "csrf": csrf(s, url + "/library")},
                                     files={"file": ("big.bib", body)}, timeout=120))]
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "abuse.json")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="abuse-")) / "home"
    run = [sys.executable, "-m", "paperscope", "--data-dir", str(home)]
    subprocess.run(run + ["ingest", "sample"], check=True, capture_output=True)
    subprocess.run(run + ["update"], check=True, capture_output=True)
    silent = socket.socket()  # arXiv that accepts and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(500)
    results: dict[str, object] = {"seconds": args.seconds}
    with serving(home, log_to=home.parent / "server.log", arxiv_api_url=f"http://127.0.0.1:{silent.getsockname()[1]}/api/query",
                 arxiv_api_delay="3", lab_submissions_per_day="10", api_anon_rate="0") as url:
        by = Bystander(url)
        paper = requests.get(url + "/api/search", params={"q": "language", "mode": "keyword"},
                             timeout=60).json()["hits"][0]["paper"]["paperscopeId"]
        member(url, 1)  # the comment author of the stored comments
        attacks: dict[str, Callable[[], list[float]]] = {
            "submissions_arxiv_silent": lambda: attack_submissions(url),
            "hostile_comments": attack_comments(url, home, paper),
            "large_library_pages_and_exports": attack_library(url, home),
            "recommendations_4_fetchers": attack_recommendations(url),
            "import_5mb": attack_import(url),
        }
        for name, attack in attacks.items():
            alone, _ = by.during(args.seconds)
            during, own = by.during(args.seconds, attack)
            results[name] = {"bystander_alone": alone, "bystander_during": during,
                             "attacker_requests": len(own), "attacker_p50_ms": pct(own, 0.5),
                             "attacker_max_ms": pct(own, 1.0),
                             "p50_ratio": round(during["p50_ms"] / alone["p50_ms"], 2)}
            print(f"{name:34s} attacker p50 {pct(own, 0.5):8.1f} ms max {pct(own, 1.0):8.1f} ms | bystander p50 "
                  f"{alone['p50_ms']:.1f} → {during['p50_ms']:.1f} ms, p99 {alone['p99_ms']:.1f} → "
                  f"{during['p99_ms']:.1f} ms, max {during['max_ms']:.1f} ms", flush=True)
        page = [timed(lambda: requests.get(url + f"/paper/{paper}", timeout=60)) for _ in range(10)]
        results["hostile_comments"]["page_p50_ms_after"] = pct(page, 0.5)  # type: ignore[index]
    silent.close()
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"server log: {home.parent / 'server.log'}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
