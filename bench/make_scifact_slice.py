"""Cut the fixed SciFact slice the CI quality test runs (tests/data/scifact-slice/), with hard negatives.

Usage: python bench/make_scifact_slice.py [--beir /work/shared/data/beir/scifact] [--out tests/data/scifact-slice]
Queries: every 6th judged test query (file order), 50 in all. Corpus: their relevant abstracts, the top 4 BM25
(paperscope's keyword index over the whole corpus) of each query, and 40 more abstracts drawn with seed 12,
so the slice embeds in well under a minute yet still needs ranking, not just recall.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from paperscope.config import load_settings
from paperscope.evaluate import read_qrels
from paperscope.index import KeywordIndex
from paperscope.models import ParsedQuery
from paperscope.pipeline import SourceOptions, index_paths, ingest
from paperscope.store import Store
from paperscope.text import words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--beir", type=Path, default=Path("/work/shared/data/beir/scifact"))
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "tests" / "data" / "scifact-slice")
    args = ap.parse_args()
    qrels = read_qrels(args.beir / "qrels" / "test.tsv")
    queries = [json.loads(line) for line in (args.beir / "queries.jsonl").read_text().splitlines()]
    queries = [q for q in queries if str(q["_id"]) in qrels][::6][:50]
    corpus = {str(d["_id"]): d for d in map(json.loads, (args.beir / "corpus.jsonl").read_text().splitlines())}
    keep: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(tmp, environ={})
        store = Store(settings.db_path)
        ingest(store, settings, "file", SourceOptions(path=args.beir / "corpus.jsonl"))
        keyword = KeywordIndex(index_paths(settings, "none")[0])
        keyword.upsert([p for _, p in store.papers_changed_since(0, 10**6)], store.max_seq())
        for q in queries:
            keep |= set(qrels[str(q["_id"])])
            hits, _ = keyword.search(ParsedQuery(terms=tuple(words(q["text"]))), 4)
            keep |= {pid.removeprefix("local:") for pid, _ in hits}
        store.close()
    rest = sorted(set(corpus) - keep)
    keep |= set(random.Random(12).sample(rest, 40))
    (args.out / "qrels").mkdir(parents=True, exist_ok=True)
    (args.out / "corpus.jsonl").write_text("".join(json.dumps(corpus[d]) + "\n" for d in sorted(keep, key=int)))
    (args.out / "queries.jsonl").write_text("".join(json.dumps({"_id": q["_id"], "text": q["text"]}) + "\n"
                                                    for q in queries))
    (args.out / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q['_id']}\t{d}\t{r}\n" for q in queries for d, r in qrels[str(q["_id"])].items()))
    print(f"{args.out}: {len(keep)} abstracts, {len(queries)} queries")


if __name__ == "__main__":
    main()
