"""Assemble BEIR-layout collections from Hugging Face Daily Papers (public data) for checking that fusion generalises.

Source: ../shared/data/hf-daily-papers.jsonl — 2,002 real HF Daily Papers entries (2026-05-01..2026-08-21) exactly as
`https://huggingface.co/api/daily_papers` returned them, via the public repository
`2404589803/hf-daily-paper-newsletter-chinese` (Apache-2.0). Corpus: every paper, `title` + `text` = its abstract.
Two query sets over that one corpus, each query judging exactly one paper relevant (grade 1):
- `hf-summary`: the paper's `ai_summary` (a one-sentence LLM summary shown on HF; a long natural-language query);
- `hf-keywords`: the first three of the paper's `ai_keywords` joined by spaces (a short keyword query).
And `hf-titles`: query = the paper's title; corpus = the abstracts alone (no title anywhere: the abstract's first
sentence fills the record's required `title` field, the rest is `text`, so title + text is the abstract verbatim).
Ids are `hf<YYMM>_<NNNNN>` so the file source keeps them as local ids (an arXiv-shaped id would become `arxiv:`).

Usage: python bench/make_hf_beir.py [--src ...jsonl] [--out bench/out/beir]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "hf-daily-papers.jsonl")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "beir")
    args = ap.parse_args()
    corpus, summary_q, keyword_q, abstracts, title_q = [], [], [], [], []
    seen: set[str] = set()
    for line in args.src.read_text(encoding="utf-8").splitlines():
        p = json.loads(line)["paper"]
        pid = "hf" + p["id"].replace(".", "_")
        if pid in seen or not p.get("summary") or not p.get("title"):
            continue
        seen.add(pid)
        corpus.append({"_id": pid, "title": " ".join(p["title"].split()), "text": " ".join(p["summary"].split())})
        abstract = " ".join(p["summary"].split())
        cut = abstract.find(". ") + 1 or len(abstract)
        abstracts.append({"_id": pid, "title": abstract[:cut], "text": abstract[cut:].strip()})
        title_q.append({"_id": f"t-{pid}", "text": " ".join(p["title"].split()), "doc": pid})
        if p.get("ai_summary"):
            summary_q.append({"_id": f"s-{pid}", "text": " ".join(p["ai_summary"].split()), "doc": pid})
        kws = [k for k in p.get("ai_keywords") or [] if isinstance(k, str) and k.strip()]
        if len(kws) >= 3:
            keyword_q.append({"_id": f"k-{pid}", "text": " ".join(kws[:3]), "doc": pid})
    for name, queries, docs in (("hf-summary", summary_q, corpus), ("hf-keywords", keyword_q, corpus),
                                ("hf-titles", title_q, abstracts)):
        d = args.out / name
        (d / "qrels").mkdir(parents=True, exist_ok=True)
        (d / "corpus.jsonl").write_text("".join(json.dumps(c) + "\n" for c in docs), encoding="utf-8")
        (d / "queries.jsonl").write_text("".join(json.dumps({"_id": q["_id"], "text": q["text"]}) + "\n"
                                                 for q in queries), encoding="utf-8")
        (d / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
            f"{q['_id']}\t{q['doc']}\t1\n" for q in queries), encoding="utf-8")
        print(f"{d}: {len(corpus)} docs, {len(queries)} queries")


if __name__ == "__main__":
    main()
