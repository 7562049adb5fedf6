"""Benchmark: bulk embedding throughput of the default embedder (int8 ONNX all-MiniLM-L6-v2) on real abstracts.

Usage: python bench/embed_speed.py [--texts 200]
Embeds the title and abstract of arXiv snapshot records (../shared/data/arxiv-snapshot-sample.jsonl, as the store
holds them: LaTeX converted) with 1 and 2 threads, and reports abstracts/s and mean wordpieces.
Writes bench/results/embed_speed.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--texts", type=int, default=200)
    args = ap.parse_args()
    from paperscope.config import load_settings
    from paperscope.embed import OnnxMiniLMEmbedder
    from paperscope.pipeline import SourceOptions, ingest
    from paperscope.store import Store
    from paperscope.text import paper_text

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp), environ={})
        store = Store(settings.db_path)
        ingest(store, settings, "snapshot", SourceOptions(path=ROOT.parent / "shared" / "data" / "arxiv-snapshot-sample.jsonl"))
        texts = [paper_text(p.title, p.abstract) for p in store.iter_papers()][:args.texts]
        store.close()
    out: dict[str, object] = {"texts": len(texts)}
    for threads in (1, 2):
        embedder = OnnxMiniLMEmbedder(threads)
        embedder.embed(texts[:5])  # warm up
        t0 = time.perf_counter()
        embedder.embed(texts)
        rate = len(texts) / (time.perf_counter() - t0)
        out[f"abstracts_per_s_{threads}_threads"] = round(rate, 1)
        print(f"{threads} thread(s): {rate:.1f} abstracts/s", flush=True)
    out["mean_wordpieces"] = round(sum(len(e.ids) for e in embedder.tokenizer.encode_batch(texts)) / len(texts), 1)
    (ROOT / "bench" / "results" / "embed_speed.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
