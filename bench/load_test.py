"""Load test: 20 concurrent clients searching for 60 s against the real server on loopback.

Usage: python bench/load_test.py [--papers 100000] [--clients 20] [--seconds 60] [--workers 2]
Data: the bundled sample (real model embeddings) grown with synthetic papers (synthetic embedding-like
vectors, so no hour-long embedding run). Every request is a fresh random query (no cache help), a quarter
with a filter, across the three modes. Prints and writes requests/s, p50/p99 latency and errors to
bench/results/load_test.json. The clients run on the same 2 cores as the server.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))


def build(data_dir: Path, n: int) -> None:
    from search_speed import clustered_vectors
    from synth import write_snapshot

    from paperscope.config import load_settings
    from paperscope.embed import load_embedder
    from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
    from paperscope.store import Store

    settings = load_settings(data_dir, environ={})
    store = Store(settings.db_path)
    if store.stats()["papers"] >= n + 564:
        return
    snap = write_snapshot(data_dir / "synthetic.jsonl", n, seed=11)
    ingest(store, settings, "snapshot", SourceOptions(path=snap))
    model_id = store.model_id("all-MiniLM-L6-v2", 384)
    cursor, seed = 0, 100
    while rows := store.papers_to_embed(model_id, cursor, 20000):
        cursor = rows[-1][1]
        vecs = clustered_vectors(len(rows), seed).astype(np.float16)
        seed += 1
        store.save_embeddings(model_id, [(r[0], r[1], "synthetic", vecs[i].tobytes()) for i, r in enumerate(rows)])
    ingest(store, settings, "sample", SourceOptions())
    embed_papers(store, load_embedder(settings.model, 2))  # only the real sample papers are left
    update_indexes(store, settings, "all-MiniLM-L6-v2", 384)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    from synth import TOPICS

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data-dir", type=Path, default=ROOT / "out" / "load")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "load_test.json")
    args = ap.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    build(args.data_dir, args.papers)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(args.data_dir), "serve",
                               "--port", str(port), "--workers", str(args.workers)])
    url = f"http://127.0.0.1:{port}/api/search"
    try:
        for _ in range(600):
            try:
                if requests.get(url, params={"q": "warm up"}, timeout=60).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        for _ in range(20):  # every worker loads its model and maps its index
            requests.get(url, params={"q": "warm up again"}, timeout=60)
        sample_words = " ".join(json.loads(line)["title"] for line in
                                (ROOT.parent / "src/paperscope/sample/listing-papers.jsonl").open()).lower().split()
        vocab = [w for w in sample_words + " ".join(TOPICS.values()).split() if w.isalpha() and len(w) > 3]
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            session = requests.Session()
            while time.monotonic() < stop:
                q = " ".join(rng.sample(vocab, rng.randint(2, 4)))
                if rng.random() < 0.25:
                    q += rng.choice([" year:2015..2018", " cat:cs.CL", " cat:hep-ph", " since:2020"])
                params = {"q": q, "mode": rng.choice(["hybrid", "hybrid", "keyword", "semantic"]), "limit": 10}
                t = time.perf_counter()
                try:
                    r = session.get(url, params=params, timeout=30)
                    ok = r.status_code == 200
                    err = None if ok else f"HTTP {r.status_code}: {r.text[:100]}"
                except requests.RequestException as exc:
                    err = f"{type(exc).__name__}: {exc}"
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    latencies.append(ms)
                    if err:
                        errors.append(err)

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "papers": args.papers + 564, "clients": args.clients, "seconds": round(elapsed, 1), "workers": args.workers,
        "requests": len(latencies), "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1), "p99_ms": round(float(np.percentile(latencies, 99)), 1),
        "max_ms": round(max(latencies), 1), "errors": len(errors), "first_errors": errors[:5],
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
