"""Study: RM3 keyword pseudo-relevance feedback (and the title boost) on a BEIR split, offline.

Usage: nice python bench/rm3_study.py --data-dir DIR --beir BEIR_DIR --emb PREFIX [--split train]
Re-runs BM25 with the query expanded by the best terms of the top `fb_docs` papers (RM3: term weight =
Σ_doc normalised BM25 × tf/len, top `fb_terms`, interpolated with the query's own terms by `alpha`), then
fuses with the semantic list as bench/quality_study.py does.
"""

from __future__ import annotations

import sqlite3
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from quality_study import collect, doc_scores, lists, score, study_parser, zfuse  # noqa: E402

from paperscope.evaluate import ndcg  # noqa: E402
from paperscope.index import FIELD_BOOSTS, KeywordIndex  # noqa: E402
from paperscope.text import paper_text, words  # noqa: E402


def main() -> None:
    ap = study_parser(__doc__)
    ap.add_argument("--rep", default="full")
    ap.add_argument("--grid", default="10:10:0.5,10:10:0.7,5:10:0.5,5:20:0.7,10:20:0.8,3:10:0.7")
    args = ap.parse_args()
    data = collect(args.data_dir, args.beir, args.split, args.depth, Path(args.emb).parent)
    ids = Path(args.emb + "-ids.txt").read_text().split()
    import json
    qtext = {str(json.loads(x)["_id"]): json.loads(x)["text"]
             for x in (args.beir / "queries.jsonl").read_text(encoding="utf-8").splitlines()}
    for q in data:
        q["words"] = words(qtext[str(q["qid"])])
    kw_path = sorted((args.data_dir / "index").glob("g*/keyword"))[-1]
    k = KeywordIndex(kw_path)
    searcher = k.index.searcher()
    db = sqlite3.connect(args.data_dir / "paperscope.sqlite3")
    text = {i: paper_text(t, a or "") for i, t, a in db.execute("select id, title, abstract from papers")}
    stems: dict[str, str] = {}
    surface: dict[str, str] = {}

    def stem(w: str) -> str:
        s = stems.get(w)
        if s is None:
            s = stems[w] = k.stem(w)
            if s and s not in surface:
                surface[s] = w
        return s

    bags: dict[str, Counter[str]] = {}

    def bag(d: str) -> Counter[str]:
        if d not in bags:
            bags[d] = Counter(s for s in (stem(w) for w in words(text[d])) if s)
        return bags[d]

    qv = np.stack([q["qvec"] for q in data])
    cos = doc_scores(args.emb, args.rep, qv)
    base = lists(data, ids, cos, args.depth)
    print(len(data), "queries; base keyword",
          round(float(np.mean([ndcg([d for d, _ in q["kw"][:10]], q["rels"]) for q in data])), 4),
          "hybrid z0.5", round(score(base, zfuse(0.5)), 4), flush=True)
    for spec in args.grid.split(","):
        fb_docs, fb_terms, alpha = int(spec.split(":")[0]), int(spec.split(":")[1]), float(spec.split(":")[2])
        new = []
        for q in data:
            top = q["kw"][:fb_docs]
            qterms = Counter(s for s in (stem(w) for w in q["words"]) if s)
            if not top or not qterms:
                new.append(q)
                continue
            sc = np.array([s for _, s in top])
            wd = sc / sc.sum()
            fb: Counter[str] = Counter()
            for (d, _), w in zip(top, wd, strict=True):
                b = bag(d)
                n = sum(b.values()) or 1
                for t, c in b.items():
                    fb[t] += w * c / n
            best = fb.most_common(fb_terms)
            tot = sum(v for _, v in best) or 1.0
            qt = sum(qterms.values())
            weights: Counter[str] = Counter()
            for t, c in qterms.items():
                weights[t] += alpha * c / qt
            for t, v in best:
                weights[t] += (1 - alpha) * v / tot
            expanded = " ".join(f"{surface[t]}^{v:.4f}" for t, v in weights.items())
            hits = searcher.search(k.index.parse_query(expanded, list(FIELD_BOOSTS), field_boosts=FIELD_BOOSTS),
                                   args.depth).hits
            new.append({**q, "kw": [(searcher.doc(a)["id"][0], float(s)) for s, a in hits]})
        ls = lists(new, ids, cos, args.depth)
        kwn = float(np.mean([ndcg([d for d, _ in q["kw"][:10]], q["rels"]) for q in new]))
        print(f"rm3 {spec}: keyword {kwn:.4f} " + " ".join(f"z{w}:{score(ls, zfuse(w)):.4f}" for w in (0.4, 0.5, 0.6)),
              flush=True)


if __name__ == "__main__":
    main()
