"""Reads never wait for writes: search p50/p99 alone, during a 5 MB BibTeX import and during `index --rebuild`.

In one process, like `paperscope serve`: one thread searches in a loop through the LiveEngine (per-thread SQLite,
index generations) while another thread imports a 5 MB BibTeX file into a user's library; then a separate
`paperscope index --rebuild` process runs. `--locked` also measures the old behaviour (one process-wide lock).
Vectors come from a hashing stand-in embedder, so the figures leave out query embedding (~3 ms with ONNX).

    PYTHONPATH=src nice python bench/shared_reads.py [--papers 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from synth import write_snapshot  # noqa: E402

from paperscope.config import load_settings  # noqa: E402
from paperscope.library import import_bibtex  # noqa: E402
from paperscope.live import LiveEngine  # noqa: E402
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes  # noqa: E402
from paperscope.search import search  # noqa: E402
from paperscope.store import Store  # noqa: E402

QUERIES = ["language model attention", "galaxy dark matter halo", "graph coloring bound", "retrieval ranking index",
           "quark collider decay", "neuron plasticity memory", "image segmentation diffusion", "gradient training loss"]


class Hashing:
    """Hashed bag of words under the default model's name and size (no model load, deterministic)."""

    name, dim = "all-MiniLM-L6-v2", 384

    def embed(self, texts, batch_size=32):  # type: ignore[no-untyped-def]
        import hashlib

        from paperscope.text import words

        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for w in set(words(text)):
                h = int(hashlib.md5(w.encode()).hexdigest()[:8], 16)
                out[i, h % self.dim] += 1.0 if h & 256 else -1.0
            out[i] /= np.linalg.norm(out[i]) or 1.0
        return out


def write_bibtex(path: Path, megabytes: float, seed: int = 3) -> int:
    rng = random.Random(seed)
    words = " ".join(QUERIES).split() + ["novel", "method", "results", "robust", "analysis", "study", "learning", "data"]
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        while fh.tell() < megabytes * 2**20:
            title = " ".join(rng.choice(words) for _ in range(rng.randint(5, 10))).capitalize()
            abstract = " ".join(rng.choice(words) for _ in range(60))
            fh.write(f"@article{{ref{n},\n  title = {{{title} {n}}},\n  author = {{Smith, Ann and Doe, J{{\\\"o}}rg}},\n"
                     f"  journal = {{Journal of Things}},\n  year = {{{2000 + n % 24}}},\n  abstract = {{{abstract}}},\n}}\n\n")
            n += 1
    return n


def measure(engine: LiveEngine, stop: threading.Event, lock: threading.Lock | None, out: list[float]) -> None:
    i = 0
    while not stop.is_set():
        q = QUERIES[i % len(QUERIES)]
        i += 1
        t = time.perf_counter()
        token = engine.begin_request()
        try:
            if lock:
                with lock:
                    search(engine, q, 10, "hybrid")
            else:
                search(engine, q, 10, "hybrid")
        finally:
            engine.end_request(token)
        out.append((time.perf_counter() - t) * 1000)
        time.sleep(0.005)  # a steady stream of requests, not a busy loop


def figures(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "max_ms": round(max(ms), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=20000)
    ap.add_argument("--bib-mb", type=float, default=5.0)
    ap.add_argument("--locked", action="store_true", help="also measure with the old process-wide lock")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="paperscope-shared-"))
    settings = load_settings(tmp / "home", environ={})
    emb = Hashing()
    store = Store(settings.db_path)
    ingest(store, settings, "snapshot", SourceOptions(path=write_snapshot(tmp / "snap.jsonl", args.papers)))
    embed_papers(store, emb, batch_size=512)
    update_indexes(store, settings, emb.name, emb.dim)
    bib = tmp / "library.bib"
    entries = write_bibtex(bib, args.bib_mb)
    engine = LiveEngine(settings, emb)
    user = store.users.create("bench@example.org", None)
    results: dict[str, object] = {"papers": args.papers, "bibtex_bytes": bib.stat().st_size, "bibtex_entries": entries}

    def phase(name: str, work, lock: threading.Lock | None = None, warm: float = 0.0) -> None:  # type: ignore[no-untyped-def]
        ms: list[float] = []
        stop = threading.Event()
        t = threading.Thread(target=measure, args=(engine, stop, lock, ms))
        t.start()
        time.sleep(warm)
        started = time.perf_counter()
        work()
        took = time.perf_counter() - started
        stop.set()
        t.join()
        results[name] = {**figures(ms), "work_s": round(took, 1)}
        print(f"{name:28s} {results[name]}", flush=True)

    phase("alone", lambda: time.sleep(10), warm=1.0)

    def do_import(lock: threading.Lock | None = None) -> None:
        if lock:
            with lock:
                import_bibtex(engine.store, user.id, bib, "imported")
        else:
            import_bibtex(engine.store, user.id, bib, "imported")

    phase("during_5mb_bibtex_import", do_import)
    if args.locked:
        lock = threading.Lock()
        phase("during_import_old_global_lock", lambda: do_import(lock), lock=lock)

    def rebuild() -> None:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
        subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(settings.home), "index", "--rebuild"],
                       check=True, capture_output=True, env=env)

    phase("during_index_rebuild", rebuild)
    out = Path(__file__).parent / "results" / "shared_reads.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
