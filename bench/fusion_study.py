"""Study: which fusion of the keyword and semantic lists generalises (choose on SciFact train, report on test).

Usage: python bench/fusion_study.py --data-dir DIR --beir BEIR_DIR --split train [--depth 300]
Collects, per judged query, the keyword (BM25) and semantic (cosine) lists at `depth` plus each candidate's
complete scores (BM25 of papers only the semantic list found, cosine of papers only the keyword list found),
caches them beside the data dir, then scores fusion variants offline with the same nDCG@10 as `eval`.
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from paperscope.config import load_settings
from paperscope.evaluate import ndcg, read_qrels
from paperscope.models import ParsedQuery
from paperscope.search import open_engine
from paperscope.store import Store
from paperscope.text import canonical_id, words


def judged_queries(beir: Path, split: str) -> Iterator[tuple[str, dict[str, int], ParsedQuery]]:
    """The split's judged queries: id, judgments keyed like stored papers, and the query as search reads it."""
    qrels = {q: {canonical_id(None, None, d, d): r for d, r in rels.items()}
             for q, rels in read_qrels(beir / "qrels" / f"{split}.tsv").items()}
    for line in (beir / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if str(q["_id"]) in qrels:
            yield q["_id"], qrels[str(q["_id"])], ParsedQuery(terms=tuple(words(q["text"])))


def collect(data_dir: Path, beir: Path, split: str, depth: int) -> list[dict[str, Any]]:
    """Per query: both lists with complete scores over their union, the judgments and the word count."""
    cache = data_dir / f"study-{beir.name}-{split}-{depth}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    settings = load_settings(data_dir, environ={})
    engine = open_engine(Store(settings.db_path), settings)
    out = []
    for qid, rels, pq in judged_queries(beir, split):
        kw, _ = engine.keyword.search(pq, depth)
        qvec = engine.embed_query(pq.text)
        sem = engine.vectors.search(qvec, depth)
        union = list(dict.fromkeys([i for i, _ in kw] + [i for i, _ in sem]))
        out.append({"qid": qid, "rels": rels, "kw": kw, "sem": sem,
                    "bm25": engine.keyword.scores_of(pq, union), "cos": engine.vectors.cosines(qvec, union),
                    "n_words": len([w for w in pq.terms if engine.keyword.stem(w)])})
    cache.write_bytes(pickle.dumps(out))
    return out


def mean_ndcg(data: list[dict[str, Any]], fuse: Callable[[dict[str, Any]], dict[str, float]]) -> float:
    return float(np.mean([ndcg([d for d, _ in sorted(fuse(q).items(), key=lambda kv: (-kv[1], kv[0]))[:10]], q["rels"])
                          for q in data]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--beir", type=Path, required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--depth", type=int, default=300)
    ap.add_argument("--only", default="", help="regular expression: score only the variants it finds")
    args = ap.parse_args()
    data = collect(args.data_dir, args.beir, args.split, args.depth)
    print(len(data), "queries")
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    import re

    from fusion_variants import variants  # noqa: E402

    for name, fn in variants().items():
        if args.only and not re.search(args.only, name):
            continue
        print(f"{name:<48} {mean_ndcg(data, fn):.4f}", flush=True)


if __name__ == "__main__":
    main()
