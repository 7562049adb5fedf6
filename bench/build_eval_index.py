"""Build a data directory for a BEIR collection with the default model's int8 ONNX twin (no torch), once.

Usage: nice python bench/build_eval_index.py BEIR_DIR DATA_DIR
Ingests corpus.jsonl, embeds every paper with `OnnxMiniLMEmbedder` (the same all-MiniLM-L6-v2 the index is
queried with) and builds both indexes; a second run finds nothing to do. `paperscope eval BEIR_DIR` with
`PAPERSCOPE_HOME=DATA_DIR` then only scores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from paperscope.config import load_settings
from paperscope.embed import OnnxMiniLMEmbedder
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.store import Store


def build(beir: Path, data_dir: Path, threads: int = 1) -> dict[str, float]:
    """Ingest, embed (ONNX) and index one BEIR corpus into `data_dir`; returns counts and timings."""
    settings = load_settings(data_dir, environ={})
    store = Store(settings.db_path)
    ingest(store, settings, "file", SourceOptions(path=beir / "corpus.jsonl"))
    embedder = OnnxMiniLMEmbedder(threads)
    t0 = time.perf_counter()
    n = embed_papers(store, embedder, 32)
    seconds = time.perf_counter() - t0
    update_indexes(store, settings, embedder.name, embedder.dim)
    return {"embedded": n, "seconds": round(seconds, 1)}


if __name__ == "__main__":
    print(build(Path(sys.argv[1]), Path(sys.argv[2])))
