"""Search latency beside a sign-in storm: 2 clients searching alone, then beside 8 and 20 clients signing in
correctly in a loop, against the real `paperscope serve` (one worker) on loopback.

Usage: python bench/login_storm.py [--seconds 12] [--data-dir bench/out/storm]
Data: the bundled test sample ingested and indexed by the real CLI (real model) on first use.
Prints and writes search p50/p99, searches/s, failed searches and sign-ins/s per phase to
bench/results/login_storm.json. The clients run on the same 2 cores as the server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parent.parent / "shared" / "data"  # third-party data, beside the project
PASSWORD = "correct horse battery"
WORDS = ["retrieval", "binary", "embeddings", "quark", "gluon", "collider", "neural", "network", "graph", "sparse", "attention", "transformer", "quantum", "field", "lattice", "spectra", "galaxy", "dark", "matter", "protein", "diffusion", "optimisation", "gradient", "bayesian"]


def cli(home: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), *args], check=True,
                   capture_output=True, text=True)


def build(home: Path, accounts: int) -> None:
    if not (home / "paperscope.sqlite3").exists():
        cli(home, "ingest", "snapshot", str(SHARED / "arxiv-snapshot-sample.jsonl"))
        cli(home, "update")
    for i in range(accounts):
        try:
            cli(home, "user", "add", f"storm{i}@example.org", "--password", PASSWORD)
        except subprocess.CalledProcessError as exc:
            if "already exists" not in exc.stderr:
                raise


def start(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PAPERSCOPE_LOGIN_LIMIT": "1000000", "PAPERSCOPE_LOGIN_ADDRESS_LIMIT": "1000000"}
    proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(home), "serve", "--port",
                             str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(url + "/about", timeout=2).ok:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def searcher(url: str, stop: threading.Event, out: list[float], failures: list[str], seed: int) -> None:
    rng = random.Random(seed)
    s = requests.Session()
    while not stop.is_set():
        q = " ".join(rng.sample(WORDS, 2))
        t = time.perf_counter()
        try:
            r = s.get(url + "/api/search", params={"q": q}, timeout=30)
            ok = r.status_code == 200 and "hits" in r.json()
        except (requests.RequestException, ValueError) as exc:
            ok, r = False, exc
        if ok:
            out.append((time.perf_counter() - t) * 1000)
        else:
            failures.append(str(getattr(r, "status_code", r)))


def signer(url: str, email: str, stop: threading.Event, done: list[int], failures: list[str]) -> None:
    while not stop.is_set():
        s = requests.Session()
        try:
            token = re.search(r'name="csrf" value="([^"]+)"', s.get(url + "/login", timeout=30).text).group(1)
            r = s.post(url + "/login", data={"email": email, "password": PASSWORD, "csrf": token},
                       allow_redirects=False, timeout=60)
            (done if r.status_code == 303 else failures).append(r.status_code)
        except (requests.RequestException, AttributeError) as exc:
            failures.append(str(exc)[:80])


def phase(url: str, seconds: float, signers: int) -> dict[str, float]:
    stop = threading.Event()
    times: list[float] = []
    failed: list[str] = []
    logins: list[int] = []
    login_failed: list[str] = []
    threads = [threading.Thread(target=searcher, args=(url, stop, times, failed, i)) for i in range(2)]
    threads += [threading.Thread(target=signer, args=(url, f"storm{i}@example.org", stop, logins, login_failed))
                for i in range(signers)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    arr = np.array(times) if times else np.array([float("nan")])
    return {"signers": signers, "searches": len(times), "searches_per_s": round(len(times) / seconds, 1),
            "p50_ms": round(float(np.percentile(arr, 50)), 1), "p99_ms": round(float(np.percentile(arr, 99)), 1),
            "failed_searches": len(failed), "logins_per_s": round(len(logins) / seconds, 2),
            "failed_logins": len(login_failed)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--data-dir", type=Path, default=ROOT / "out" / "storm")
    args = ap.parse_args()
    build(args.data_dir, 20)
    proc, url = start(args.data_dir)
    try:
        phase(url, 2, 0)  # warm the model and caches
        results = [phase(url, args.seconds, n) for n in (0, 8, 20)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    base = results[0]["p50_ms"]
    for r in results:
        r["p50_vs_alone"] = round(r["p50_ms"] / base, 2) if base else None
        print(f"{r['signers']:>2} signing in: search p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
              f"{r['searches_per_s']} searches/s, {r['failed_searches']} failed; {r['logins_per_s']} sign-ins/s "
              f"({r['failed_logins']} failed); p50 x{r['p50_vs_alone']}")
    out = ROOT / "results" / "login_storm.json"
    out.write_text(json.dumps({"seconds": args.seconds, "phases": results}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
