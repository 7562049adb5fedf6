"""Benchmark: the vector backends side by side at 200k papers, and Ray embedding throughput.

Usage: nice python bench/scale_side_by_side.py [--papers 200000] [--queries 200] [--ray-papers 96] [--skip-ray]
Vector part: clustered synthetic 384-d vectors (bench/search_speed.clustered_vectors) with dates and
categories; each backend gets the same rows through its own `upsert` (timed), then the same queries
without a filter and with a year + category filter: p50/p99 of `search` (top 10) and recall@10 against
exact float32 search over the admitted rows. Backends: embedded (faiss files), Milvus Lite (a file
under bench/out), and PostgreSQL/pgvector when `paperscope.backends` provides it (else marked as
pending). Ray part: the bundled model on the first N papers of the bundled sample, in-process vs
`ray_address=local` with 1 and 2 workers (papers/s after the workers have loaded the model, and
wall time including the Ray start). Writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "src"))

from search_speed import DIM, clustered_vectors  # noqa: E402

from paperscope.models import Filters, Paper  # noqa: E402

CATS = ["cs.CL", "cs.CV", "cs.LG", "cs.IR", "hep-ph", "astro-ph.GA", "math.CO", "q-bio.NC"]
FILTER = Filters(since="2019-01-01", until="2019-12-31", categories=("cs.IR",))


def papers(n: int, seed: int = 5) -> list[Paper]:
    """Synthetic papers spread over 2007-2025 with one to three categories (the filter columns)."""
    rng = np.random.default_rng(seed)
    years = rng.integers(2007, 2026, n)
    months = rng.integers(1, 13, n)
    out = []
    for i in range(n):
        k = int(rng.integers(1, 4))
        cats = tuple(CATS[j] for j in rng.choice(len(CATS), k, replace=False))
        out.append(Paper(id=f"p{i}", title="", published=f"{years[i]}-{months[i]:02d}-15", categories=cats))
    return out


def admitted_rows(ps: list[Paper], f: Filters) -> np.ndarray:
    """Rows the filter admits, computed independently of any backend (the recall reference)."""
    keep = [i for i, p in enumerate(ps) if p.published and f.since <= p.published <= f.until  # type: ignore[operator]
            and set(p.categories) & set(f.categories)]
    return np.array(keep)


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def measure(index: Any, x: np.ndarray, ps: list[Paper], queries: np.ndarray) -> dict[str, Any]:
    """Latency and recall@10 of `index.search` without and with the filter."""
    out: dict[str, Any] = {}
    filtered_rows = admitted_rows(ps, FILTER)
    for label, f, rows in (("unfiltered", None, np.arange(len(x))),
                           ("year+category filter", FILTER, filtered_rows)):
        mask = index.mask(f) if f is not None else None
        for q in queries[:5]:  # warm up caches and lazy structures
            index.search(q, 10, mask)
        times, recalls = [], []
        for q in queries:
            started = time.perf_counter()
            got = index.search(q, 10, mask)
            times.append((time.perf_counter() - started) * 1000)
            exact = {f"p{i}" for i in rows[np.argsort(-(x[rows] @ q))[:10]]}
            recalls.append(len(exact & {pid for pid, _ in got}) / len(exact))
        out[label] = {"p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
                      "recall@10": round(float(np.mean(recalls)), 4), "admitted_rows": int(len(rows))}
        print(f"    {label}: p50 {out[label]['p50_ms']} ms, p99 {out[label]['p99_ms']} ms, "
              f"recall@10 {out[label]['recall@10']} ({len(rows)} rows admitted)", flush=True)
    return out


def load(index: Any, x: np.ndarray, ps: list[Paper], chunk: int = 5000) -> float:
    """Upsert every row in the pipeline's chunk size; returns rows per second."""
    started = time.perf_counter()
    for s in range(0, len(x), chunk):
        index.upsert([p.id for p in ps[s:s + chunk]], x[s:s + chunk], ps[s:s + chunk], s + chunk)
    return len(x) / (time.perf_counter() - started)


def vector_backends(n: int, n_queries: int, out_dir: Path, milvus_queries: int, milvus_papers: int) -> dict[str, Any]:
    from paperscope.index import VectorIndex
    from paperscope.milvus_index import MilvusVectorIndex

    print(f"vectors: {n} clustered synthetic {DIM}-d", flush=True)
    x = clustered_vectors(n, seed=11)
    ps = papers(n)
    queries = clustered_vectors(n_queries, seed=10_000)
    results: dict[str, Any] = {}

    def run_subset(name: str, m: int, opener: Callable[[], Any], n_q: int) -> dict[str, Any]:
        nonlocal x, ps
        whole = x, ps
        x, ps = x[:m], ps[:m]
        try:
            run(name, opener, lambda i: i.size_bytes(), n_q)
        finally:
            x, ps = whole
        return {"papers": m, **results.pop(name)}

    def run(name: str, opener: Callable[[], Any], size: Callable[[Any], int], n_q: int = n_queries) -> None:
        print(f"  {name}", flush=True)
        index = opener()
        rate = load(index, x, ps)
        started = time.perf_counter()
        first = index.search(queries[0], 10)  # the first query pays for any index still building
        entry = {"load_rows_per_s": round(rate), "first_query_s": round(time.perf_counter() - started, 2),
                 "rows": len(index), "queries": n_q, **measure(index, x, ps, queries[:n_q]),
                 "size_mib": round(size(index) / 2**20, 1)}
        assert first, f"{name} returned nothing"
        print(f"    load {entry['load_rows_per_s']} rows/s, first query {entry['first_query_s']} s, "
              f"{entry['size_mib']} MiB", flush=True)
        getattr(index, "close", lambda: None)()
        results[name] = entry

    faiss_dir = out_dir / "faiss"
    shutil.rmtree(faiss_dir, ignore_errors=True)
    run("embedded (faiss binary + float16 rescoring)", lambda: VectorIndex.open(faiss_dir, "bench", DIM),
        lambda i: i.size_bytes())
    milvus_uri = out_dir / "milvus.db"
    shutil.rmtree(milvus_uri, ignore_errors=True)
    # Milvus Lite 3 is a Python engine: loads ~400 rows/s and scans every row per query in Python (its
    # faiss HNSW search itself takes ~1 ms), so on a shared 2-core box it is measured on the first rows only
    m = min(n, milvus_papers)
    results["Milvus Lite (HNSW M=16, ef=256)"] = run_subset(
        "Milvus Lite (HNSW M=16, ef=256)", m, lambda: MilvusVectorIndex.open(str(milvus_uri), "bench", DIM),
        min(n_queries, milvus_queries))
    pending = pgvector_hook(run, out_dir)
    if pending:
        results["PostgreSQL/pgvector"] = pending
    return results


def pgvector_hook(run: Callable[..., None], out_dir: Path) -> dict[str, Any] | None:
    """HOOK: measured once the Postgres backend (branch scale-postgres, `paperscope.backends`) is on main."""
    try:
        from paperscope import backends  # type: ignore[attr-defined]
    except ImportError:
        return {"status": "pending: paperscope.backends (PostgreSQL + pgvector) is not on main yet; "
                          "this hook opens its pgvector VectorIndex and runs the same measure()"}
    opener = getattr(backends, "open_pgvector_for_bench", None)
    if opener is None:
        return {"status": "pending: paperscope.backends has no open_pgvector_for_bench(out_dir, model, dim) yet"}
    run("PostgreSQL/pgvector", lambda: opener(out_dir, "bench", DIM), lambda i: i.size_bytes())
    return None


def ray_throughput(n: int, out_dir: Path) -> dict[str, Any]:
    """Papers/s embedding the bundled sample: in-process vs Ray local with 1 and 2 workers."""
    from paperscope.config import load_settings
    from paperscope.embed import load_embedder
    from paperscope.fanout import embed_papers_ray
    from paperscope.pipeline import SAMPLE, SourceOptions, embed_papers, ingest
    from paperscope.store import Store

    sample = out_dir / "ray-sample.jsonl"
    sample.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:n]) + "\n", encoding="utf-8")
    results: dict[str, Any] = {"papers": n, "model": "all-MiniLM-L6-v2 (torch, CPU)", "batch": 16,
                               "cores_on_machine": os.cpu_count(), "load_average_at_start": os.getloadavg()[0]}

    def fresh_store(tag: str) -> tuple[Any, Any]:
        home = out_dir / f"ray-{tag}"
        shutil.rmtree(home, ignore_errors=True)
        settings = load_settings(home, environ={})
        store = Store(settings.db_path)
        ingest(store, settings, "file", SourceOptions(path=sample))
        return settings, store

    for threads in (1, 2):
        settings, store = fresh_store(f"inproc{threads}")
        embedder = load_embedder("default", threads)
        embedder.embed(["warm up"])
        started = time.perf_counter()
        embed_papers(store, embedder, 16)
        secs = time.perf_counter() - started
        results[f"in-process, {threads} thread(s)"] = {"papers_per_s": round(n / secs, 1)}
        print(f"  in-process {threads} thread(s): {n / secs:.1f} papers/s", flush=True)
        store.close()

    for workers in (1, 2):
        settings, store = fresh_store(f"ray{workers}")
        settings = dataclasses.replace(settings, ray_address="local", ray_workers=workers)
        marks: dict[str, float] = {}
        done = [0]

        def progress(k: int, total: int, marks: dict[str, float] = marks, done: list[int] = done) -> None:
            done[0] += k
            if "first" not in marks:
                marks["first"], marks["first_n"] = time.perf_counter(), done[0]

        began = time.perf_counter()
        embed_papers_ray(store, settings, "all-MiniLM-L6-v2", DIM, 16, progress,
                         lambda s, marks=marks: marks.setdefault("started", time.perf_counter()))
        ended = time.perf_counter()
        steady = (n - marks["first_n"]) / (ended - marks["first"]) if ended > marks["first"] else float("nan")
        results[f"Ray local, {workers} worker(s)"] = {
            "papers_per_s_after_model_load": round(steady, 1), "wall_s_including_start": round(ended - began, 1),
            "ray_start_s": round(marks["started"] - began, 1)}
        print(f"  Ray {workers} worker(s): {steady:.1f} papers/s after load, wall {ended - began:.1f} s "
              f"(start {marks['started'] - began:.1f} s)", flush=True)
        store.close()
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--milvus-queries", type=int, default=40,
                    help="Milvus Lite answers in seconds at 200k (a Python engine): fewer queries there")
    ap.add_argument("--milvus-papers", type=int, default=20_000,
                    help="rows loaded into Milvus Lite (the first N of the same vectors)")
    ap.add_argument("--ray-papers", type=int, default=96)
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--skip-vectors", action="store_true")
    args = ap.parse_args()
    out_dir = ROOT / "out" / "scale"
    out_dir.mkdir(parents=True, exist_ok=True)
    result_path = ROOT / "results" / "scale.json"
    previous = json.loads(result_path.read_text()) if result_path.exists() else {}
    result: dict[str, Any] = {**previous, "machine": f"{os.cpu_count()} cores, shared (load average "
                                                     f"{os.getloadavg()[0]:.1f} at start)"}
    if not args.skip_vectors:
        result["vectors"] = {"papers": args.papers, "dim": DIM, "queries": args.queries,
                             "filter": dataclasses.asdict(FILTER),
                             **vector_backends(args.papers, args.queries, out_dir, args.milvus_queries,
                                               args.milvus_papers)}
        result_path.write_text(json.dumps(result, indent=2) + "\n")  # kept even if the Ray part fails
    if not args.skip_ray:
        result["ray_embedding"] = ray_throughput(args.ray_papers, out_dir)
    result_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {result_path}")


if __name__ == "__main__":
    main()
