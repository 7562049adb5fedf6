"""Benchmark: retrieval quality on BEIR SciFact through the real pipeline (nDCG@10, recall@100, MRR@10).

Usage: python bench/quality_scifact.py [--beir ../shared/data/beir/scifact] [--data-dir bench/out/scifact]
                                      [--split test|train] [--out ...json]
The data dir is kept, so a second run skips ingest and embedding (done with the default model's int8 ONNX
twin, `OnnxMiniLMEmbedder`, the same vectors queries are compared with). Also works for any BEIR directory
(e.g. the HF Daily Papers collections of bench/make_hf_beir.py). Reports the default configuration (all
modes plus the plain RRF k=60 baseline `rrf`) and the fusion alternatives measured against it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from paperscope.config import load_settings
from paperscope.embed import OnnxMiniLMEmbedder
from paperscope.evaluate import evaluate
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine
from paperscope.store import Store

ROOT = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--beir", type=Path, default=ROOT.parent.parent / "shared" / "data" / "beir" / "scifact")
    ap.add_argument("--data-dir", type=Path, default=ROOT / "out" / "scifact")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "quality_scifact.json")
    ap.add_argument("--split", default="test")
    args = ap.parse_args()
    settings = load_settings(args.data_dir, environ={})
    store = Store(settings.db_path)
    ingest(store, settings, "file", SourceOptions(path=args.beir / "corpus.jsonl"))
    embedder = OnnxMiniLMEmbedder(settings.embed_threads)
    t0 = time.perf_counter()
    n = embed_papers(store, embedder, settings.embed_batch)
    embed_s = time.perf_counter() - t0
    update_indexes(store, settings, embedder.name, embedder.dim)
    engine = open_engine(store, settings, embedder)
    report = {"dataset": args.beir.name, "split": args.split, "embedded_now": n,
              "embed_abstracts_per_s": round(n / embed_s, 1) if n else None, "configs": {}}
    variants = {
        f"default ({settings.fusion} {settings.keyword_weight}/{settings.semantic_weight}, depth {settings.candidates})": {},
        "minmax, same weights": {"fusion": "minmax"},
        "zscore 0.5/0.5": {"fusion": "zscore", "keyword_weight": 0.5, "semantic_weight": 0.5},
        "default, depth 100": {"candidates": 100},
    }
    for name, change in variants.items():
        engine.settings = dataclasses.replace(settings, **change)
        modes = ("hybrid", "keyword", "semantic", "rrf") if not change else ("hybrid",)
        result = evaluate(engine, args.beir, args.split, modes)
        report["configs"][name] = result["modes"]
        for mode, m in result["modes"].items():
            print(f"{name:<44} {mode:<9} nDCG@10 {m['ndcg@10']:.4f}  R@100 {m['recall@100']:.4f}  MRR@10 {m['mrr@10']:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
