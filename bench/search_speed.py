"""Benchmark: hybrid search speed, vector recall and serving memory at 1,000,000 papers on this machine.

Usage: python bench/search_speed.py [--papers 1000000|100000] [--data-dir DIR] [--queries 300] [--serve-only] [--no-extras]
The 1M point writes bench/results/search_speed.json, any other size search_speed_<n>.json (e.g. the 100k
point, search_speed_100k.json); `--no-extras` skips serving memory and the recall studies (before/after runs).
Stages: generate a realistic synthetic snapshot → ingest → store clustered synthetic 384-d vectors (no
embedding run needed) → build both indexes (timed) → in a fresh process: open the engine, run queries
with the real query embedder (p50/p99 with and without filters), vector recall@10 against exact float
search, peak RSS. Also measures recall on real MiniLM vectors of SciFact if bench/out/scifact exists.
Writes bench/results/search_speed.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

DIM = 384


def clustered_vectors(n: int, seed: int, intrinsic: int = 48, topics: int = 300, sub: int = 30) -> np.ndarray:
    """Unit vectors clustered like sentence embeddings: topics → subtopics → papers in a 48-d subspace
    mapped into 384-d, plus isotropic noise. Their neighbour profile (cosine ≈ .89 top-1, .85 top-10,
    .76 top-100, .45 top-1000) resembles real MiniLM abstracts; the geometry is fixed, `seed` draws papers."""
    geometry = np.random.default_rng(1234)
    topic = geometry.normal(size=(topics, intrinsic))
    subtopic = topic[:, None, :] + 0.6 * geometry.normal(size=(topics, sub, intrinsic))
    lift = geometry.normal(size=(intrinsic, DIM)) / np.sqrt(intrinsic)
    rng = np.random.default_rng(seed)
    z = subtopic[rng.integers(0, topics, n), rng.integers(0, sub, n)] + 0.5 * rng.normal(size=(n, intrinsic))
    x = (z @ lift + 0.15 * rng.normal(size=(n, DIM))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def isotropic_recall(n: int = 200_000, queries: int = 100) -> float:
    """Stress case: tight Gaussian blobs in full 384-d, where all cluster-mates tie at cosine ≈ .6 and
    nearest neighbours are noise; reported to show where 1-bit candidates stop working."""
    import tempfile

    from paperscope.index import VectorIndex
    from paperscope.models import Paper

    rng = np.random.default_rng(3)
    c = rng.normal(size=(2000, DIM)).astype(np.float32)
    x = c[rng.integers(0, 2000, n)] + 0.8 * rng.normal(size=(n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory() as tmp:
        idx = VectorIndex.open(Path(tmp), "stress", DIM)
        idx.upsert([str(i) for i in range(n)], x, [Paper(id=str(i), title="") for i in range(n)], 1)
        rec = []
        for i in rng.integers(0, n, queries):
            q = x[i] + (0.3 / np.sqrt(DIM)) * rng.normal(size=DIM).astype(np.float32)
            q /= np.linalg.norm(q)
            exact = set(np.argpartition(-(x @ q), 10)[:10].tolist())
            rec.append(len(exact & {int(p) for p, _ in idx.search(q, 10)}) / 10)
    return round(float(np.mean(rec)), 4)


def build(n: int, data_dir: Path) -> dict[str, float]:
    from synth import write_snapshot

    from paperscope.config import load_settings
    from paperscope.pipeline import SourceOptions, ingest, update_indexes
    from paperscope.store import Store

    settings = load_settings(data_dir, environ={})
    store = Store(settings.db_path)
    figures: dict[str, float] = {}
    if store.stats()["papers"] < n:
        snap = data_dir / "snapshot.jsonl"
        if not snap.exists():
            print(f"generating {n} synthetic records …", flush=True)
            write_snapshot(snap, n)
        t0 = time.perf_counter()
        report = ingest(store, settings, "snapshot", SourceOptions(path=snap))
        figures["ingest_records_per_s"] = round((report.added + report.unchanged) / (time.perf_counter() - t0))
        print(f"ingested at {figures['ingest_records_per_s']} records/s", flush=True)
    model_id = store.model_id("all-MiniLM-L6-v2", DIM)
    if store.count_to_embed(model_id):
        t0 = time.perf_counter()
        cursor, chunk, seed = 0, 20000, 0
        while True:
            rows = store.papers_to_embed(model_id, cursor, chunk)
            if not rows:
                break
            cursor = rows[-1][1]
            vecs = clustered_vectors(len(rows), seed).astype(np.float16)
            seed += 1
            store.save_embeddings(model_id, [(r[0], r[1], "synthetic", vecs[i].tobytes()) for i, r in enumerate(rows)])
        figures["store_vectors_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    counts = update_indexes(store, settings, "all-MiniLM-L6-v2", DIM, rebuild=True)
    figures["index_build_s"] = round(time.perf_counter() - t0, 1)
    print(f"built indexes for {counts} in {figures['index_build_s']} s", flush=True)
    return figures


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def serve(data_dir: Path, n_queries: int) -> dict[str, object]:
    from synth import TOPICS

    from paperscope.config import load_settings
    from paperscope.search import open_engine, search
    from paperscope.store import Store

    settings = load_settings(data_dir, environ={})
    t0 = time.perf_counter()
    engine = open_engine(Store(settings.db_path), settings)
    engine.embedder.embed(["warm up"])
    open_s = time.perf_counter() - t0
    rng = random.Random(1)
    vocab = " ".join(TOPICS.values()).split()
    queries = [" ".join(rng.sample(vocab, rng.randint(2, 3))) for _ in range(n_queries)]
    out: dict[str, object] = {"papers": len(engine.vectors), "open_s": round(open_s, 2)}
    for label, suffix in (("no filter", ""), ("year filter", " year:2015..2016"), ("category filter", " cat:cs.CL"),
                          ("year+category", " year:2020 cat:hep-ph")):
        for q in queries[:10]:
            search(engine, q + suffix)
        times = []
        for q in queries:
            t = time.perf_counter()
            search(engine, q + suffix)
            times.append((time.perf_counter() - t) * 1000)
        out[f"hybrid {label}"] = {"p50_ms": _pct(times, 50), "p99_ms": _pct(times, 99)}
        print(f"hybrid {label:<16} p50 {_pct(times, 50):6.2f} ms  p99 {_pct(times, 99):6.2f} ms", flush=True)
    times = []
    for q in queries:
        t = time.perf_counter()
        search(engine, q, mode="keyword")
        times.append((time.perf_counter() - t) * 1000)
    out["keyword no filter"] = {"p50_ms": _pct(times, 50), "p99_ms": _pct(times, 99)}
    print(f"keyword no filter       p50 {_pct(times, 50):6.2f} ms  p99 {_pct(times, 99):6.2f} ms", flush=True)
    times = []
    for q in queries:
        t = time.perf_counter()
        engine.embedder.embed([q])
        times.append((time.perf_counter() - t) * 1000)
    out["query embedding"] = {"p50_ms": _pct(times, 50), "p99_ms": _pct(times, 99)}
    # recall of binary candidates + float16 rescoring against exact float search over all vectors
    vecs = np.asarray(engine.vectors.vectors, np.float32)
    qv = clustered_vectors(200, seed=10_000)  # unseen papers from the same distribution as queries
    recalls, vtimes = [], []
    for q in qv:
        exact = set(np.argpartition(-(vecs @ q), 10)[:10].tolist())
        t = time.perf_counter()
        got = engine.vectors.search(q, 10)
        vtimes.append((time.perf_counter() - t) * 1000)
        recalls.append(len(exact & {engine.vectors.rows[i] for i, _ in got}) / 10)
    del vecs
    out["vector recall@10 (synthetic, embedding-like)"] = round(float(np.mean(recalls)), 4)
    out["vector search"] = {"p50_ms": _pct(vtimes, 50), "p99_ms": _pct(vtimes, 99)}
    print(f"vector recall@10 {np.mean(recalls):.4f}, vector search p50 {_pct(vtimes, 50)} ms", flush=True)
    return out


SERVING = """
import random, sys
sys.path.insert(0, sys.argv[2])
from synth import TOPICS
from paperscope.config import load_settings
from paperscope.store import Store
from paperscope.search import open_engine, search
s = load_settings(sys.argv[1], environ={})
e = open_engine(Store(s.db_path), s)
rng = random.Random(2)
vocab = " ".join(TOPICS.values()).split()
for i in range(300):
    search(e, " ".join(rng.sample(vocab, 3)) + ["", " year:2015..2016", " cat:cs.CL"][i % 3])
status = dict(l.split(":", 1) for l in open("/proc/self/status") if l.startswith(("VmHWM", "RssAnon", "RssFile")))
print({k: round(int(v.split()[0]) / 1024, 1) for k, v in status.items()})
"""


def serving_memory(data_dir: Path) -> dict[str, float]:
    """Memory of a fresh process that opens the engine and answers 300 queries (no recall check).
    VmHWM is the peak resident set; RssFile is memory-mapped index pages the kernel can drop."""
    out = subprocess.run([sys.executable, "-c", SERVING, str(data_dir), str(ROOT)], check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return {f"{k}_mib": v for k, v in eval(out).items()}  # noqa: S307 - our own child's dict literal


def real_vector_recall(scifact_dir: Path) -> dict[str, float] | None:
    """Recall@10 of the binary path on real MiniLM vectors (SciFact abstracts as corpus and queries)."""
    from paperscope.index import VectorIndex

    path = next((scifact_dir / "index").glob("vectors-*"), None) if (scifact_dir / "index").exists() else None
    if path is None:
        return None
    idx = VectorIndex.open(path, "all-MiniLM-L6-v2", DIM)
    idx.exact_below = 0
    vecs = np.asarray(idx.vectors, np.float32)
    out = {}
    for oversample in (10, 40):
        idx.oversample = oversample
        rec = []
        for i in range(0, len(vecs), max(1, len(vecs) // 300)):
            q = vecs[i]
            exact = set(np.argsort(-(vecs @ q))[1:11].tolist())
            got = {idx.rows[p] for p, _ in idx.search(q, 11)} - {i}
            rec.append(len(exact & got) / 10)
        out[f"x{oversample}"] = round(float(np.mean(rec)), 4)
    return out


def _label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--papers", type=int, default=1_000_000)
    ap.add_argument("--data-dir", type=Path, default=None, help="default bench/out/speed (1M) or speed-<n>")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--serve-only", action="store_true", help="reuse the built data dir; measure serving only")
    ap.add_argument("--no-extras", action="store_true", help="skip serving memory and the recall studies")
    args = ap.parse_args()
    suffix = "" if args.papers == 1_000_000 else f"_{_label(args.papers)}"
    args.data_dir = args.data_dir or ROOT / "out" / ("speed" + suffix.replace("_", "-"))
    args.out = args.out or ROOT / "results" / f"search_speed{suffix}.json"
    args.data_dir.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    build_figures = build(args.papers, args.data_dir) if not args.serve_only else previous.get("build", {})
    result: dict[str, object] = {"papers": args.papers, "build": build_figures}
    result["serve"] = serve(args.data_dir, args.queries)
    if args.no_extras:
        print(json.dumps(result, indent=2))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
        return
    result["serving_memory"] = serving_memory(args.data_dir)
    print(f"serving memory {result['serving_memory']}", flush=True)
    result["real_vectors_recall@10 (scifact, 5183 docs)"] = real_vector_recall(ROOT / "out" / "scifact")
    result["stress_isotropic_recall@10 (200k, x40)"] = isotropic_recall()
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
