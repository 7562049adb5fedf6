"""Rebuild the bundled offline sample (src/paperscope/sample/) from the seed listing pages' papers.

    python tools/build_sample.py [../shared/data/listing-papers.jsonl]

Copies the 564 listing papers (title + abstract, as the seed listing pages showed them; no ids, authors or dates,
none invented) beside the package as `listing-papers.jsonl`, then ingests them through the real pipeline into a
scratch data directory, embeds them with the default model and writes vectors.npy + vectors.json beside them:
the project's own computed data, so `paperscope ingest sample` (and `paperscope demo` offline) is searchable
without embedding. Re-run whenever the default embedder or the way papers are embedded changes
(tests/test_embed_onnx.py checks a spread of rows against the live model).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperscope.config import load_settings  # noqa: E402
from paperscope.embed import load_embedder  # noqa: E402
from paperscope.pipeline import SAMPLE, SourceOptions, embed_papers, ingest  # noqa: E402
from paperscope.sample_vectors import MANIFEST, VECTORS, write_vectors  # noqa: E402
from paperscope.store import Store  # noqa: E402

EMBEDDER = "fused int8 ONNX (model/minilm-int8.onnx), mean-pooled, L2-normalised, 256 tokens"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, nargs="?", default=ROOT.parent / "shared" / "data" / "listing-papers.jsonl")
    args = ap.parse_args()
    if args.source.resolve() != SAMPLE.resolve():
        shutil.copyfile(args.source, SAMPLE)
    print(f"{SAMPLE} ({SAMPLE.stat().st_size / 1024:.0f} KiB)")
    MANIFEST.unlink(missing_ok=True)  # embed for real, not from the old vectors
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp), environ={})
        store = Store(settings.db_path)
        report = ingest(store, settings, "sample", SourceOptions())
        assert not report.problems, report.problems
        embedder = load_embedder("default", 2)
        embed_papers(store, embedder)
        count = write_vectors(store, embedder.name, embedder.dim, EMBEDDER)
        store.close()
    print(f"{count} vectors → {VECTORS} ({VECTORS.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
