"""BEIR-style evaluation of the real ranking: nDCG@10, recall@100 and MRR@10 for each mode."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from .errors import SourceError
from .models import ParsedQuery
from .search import MODES, Engine, run_query
from .text import canonical_id, words


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id → {corpus id: relevance} from a BEIR qrels TSV (header line skipped)."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def ndcg(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain at k (graded relevance, log2 discount)."""
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sum(r / math.log2(i + 2) for i, r in enumerate(sorted(rels.values(), reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def recall(ranked: list[str], rels: dict[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the top k."""
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document in the top k."""
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


BASELINES = {"rrf": "rrf-plain"}  # plain reciprocal-rank fusion (k=60, equal weights) of the same two lists


def evaluate(engine: Engine, beir_dir: Path, split: str = "test",
             modes: tuple[str, ...] = MODES + tuple(BASELINES)) -> dict[str, Any]:
    """Score every judged query of a BEIR dataset in each mode (and baseline) through `search.run_query`."""
    qrels_path = beir_dir / "qrels" / f"{split}.tsv"
    if not qrels_path.exists():
        raise SourceError(f"{qrels_path} not found; a BEIR directory holds corpus.jsonl, queries.jsonl, qrels/")
    qrels = {q: {canonical_id(None, None, d, d): r for d, r in rels.items()} for q, rels in read_qrels(qrels_path).items()}
    queries = {}
    with (beir_dir / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            if str(q["_id"]) in qrels:
                queries[str(q["_id"])] = q["text"]
    out: dict[str, Any] = {"dataset": beir_dir.name, "split": split, "queries": len(queries), "modes": {}}
    for mode in modes:
        totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
        for qid, text in queries.items():
            pq = ParsedQuery(terms=tuple(words(text)))
            ranking = (run_query(engine, pq, "hybrid", 100, BASELINES[mode]) if mode in BASELINES
                       else run_query(engine, pq, mode, 100))
            ranked = [d for d, _ in ranking.ranked[:100]]
            totals["ndcg@10"] += ndcg(ranked, qrels[qid])
            totals["recall@100"] += recall(ranked, qrels[qid])
            totals["mrr@10"] += mrr(ranked, qrels[qid])
        out["modes"][mode] = {k: round(v / max(len(queries), 1), 4) for k, v in totals.items()}
    return out
