"""Benchmark: do citations improve "similar papers" and library recommendations over the embedding alone?

Usage: python bench/citation_blend.py [--data-dir DIR] [--per-judge 30]
Without --data-dir the citation graph is the recorded real responses in ../shared/data/citations (OpenAlex works
and snapshot part, Semantic Scholar reference pages and the legacy paper with its references and citations); with
--data-dir it is a paperscope store's own `citations` table (after `ingest openalex` / `ingest semantic-scholar`)
and its papers' titles and abstracts. Writes bench/results/citation_blend.json.

Judged set (built like BEIR's SCIDOCS co-citation task, without leaking the judgments into the blend):
- corpus: every work with a title (embedded as title + abstract by the default model);
- a judge is a citing work with at least 3 references in the corpus; its references are co-cited;
- "similar": each of a judge's references (up to --per-judge) is a query, the judge's other references are
  relevant; "library": a seed of 3 of a judge's references is a member's library, the rest are relevant;
- every edge out of the judge is hidden while its queries are scored: co-citation (papers citing both) and
  bibliographic coupling (references in common) are counted on the remaining graph only;
- judges are split by a hash of their id into train and test: the blend weight is chosen on train (grid), and
  nDCG@10 is reported on test for the embedding alone and the blend.
score(c) = cosine(q, c) + w * graph(q, c), graph = co-citation + coupling, each / sqrt(deg q * deg c) (Salton);
the library blend counts the references c shares with the library ("cites what my library cites") and the
citers it shares with it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parent.parent / "shared" / "data" / "citations"
WEIGHTS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
MIN_REFS = 3


class Graph:
    """Works (key → text) and citation edges (citing key, cited key)."""

    def __init__(self) -> None:
        self.text: dict[str, str] = {}
        self.edges: set[tuple[str, str]] = set()
        self.alias: dict[str, str] = {}

    def key(self, *ids: str | None) -> str:
        """One key for a work named by several ids (arXiv id, DOI, source ids): the first id already known."""
        names = [i.lower() for i in ids if i]
        for n in names:
            if n in self.alias:
                k = self.alias[n]
                break
        else:
            k = names[0]
        for n in names:
            self.alias.setdefault(n, k)
        return k

    def work(self, key: str, title: str | None, abstract: str | None = None) -> None:
        if title and len(title + " " + (abstract or "")) > len(self.text.get(key, "")):
            self.text[key] = (title + " " + (abstract or "")).strip()

    def cite(self, citing: str, cited: str) -> None:
        if citing != cited:
            self.edges.add((citing, cited))


def _openalex_abstract(inv: Any) -> str:
    if isinstance(inv, dict) and isinstance(inv.get("InvertedIndex"), dict):  # the snapshot's older shape
        inv = inv["InvertedIndex"]
    if not isinstance(inv, dict):
        return ""
    pos = sorted((p, w) for w, ps in inv.items() if isinstance(ps, list) for p in ps)
    return " ".join(w for _, w in pos)


def _oa_ids(w: dict[str, Any]) -> list[str | None]:
    ids = w.get("ids") or {}
    doi = (w.get("doi") or ids.get("doi") or "").lower().replace("https://doi.org/", "") or None
    arxiv = doi[len("10.48550/arxiv."):] if doi and doi.startswith("10.48550/arxiv.") else None
    return [f"arxiv:{arxiv}" if arxiv else None, f"doi:{doi}" if doi else None, "openalex:" + w["id"].rsplit("/", 1)[-1]]


def _s2_ids(p: dict[str, Any]) -> list[str | None]:
    ext = p.get("externalIds") or {}
    arxiv = ext.get("ArXiv") or p.get("arxivId")
    doi = (ext.get("DOI") or p.get("doi") or "").lower() or None
    return [f"arxiv:{arxiv}" if arxiv else None, f"doi:{doi}" if doi else None,
            f"s2:{p['paperId']}" if p.get("paperId") else None,
            f"s2corpus:{ext.get('CorpusId') or p.get('corpusId')}" if (ext.get("CorpusId") or p.get("corpusId")) else None]


def recorded_graph(root: Path = SHARED) -> tuple[Graph, dict[str, Any]]:
    """Every work and edge the recorded responses hold (bodies named in index.json, the snapshot parts)."""
    g = Graph()
    works: list[dict[str, Any]] = []
    for f in sorted((root / "openalex").rglob("*.json")):
        body = json.loads(f.read_text(encoding="utf-8"))
        works += body.get("results", []) if "results" in body else ([body] if "id" in body else [])
    for f in sorted((root / "openalex" / "snapshot").glob("*.jsonl")):
        works += [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    for w in works:
        k = g.key(*_oa_ids(w))
        g.work(k, w.get("title") or w.get("display_name"), _openalex_abstract(w.get("abstract_inverted_index")))
        for ref in w.get("referenced_works") or []:
            g.cite(k, g.key("openalex:" + ref.rsplit("/", 1)[-1]))
    for f in sorted((root / "s2").rglob("*.json")):
        body = json.loads(f.read_text(encoding="utf-8"))
        if "references_CorpusID_" in f.name:  # a reference page of one citing paper
            citing = g.key("s2corpus:" + f.name.split("CorpusID_")[1].split("_")[0])
            for row in body.get("data", []):
                p = row.get("citedPaper") or {}
                if p.get("paperId") or p.get("externalIds"):
                    k = g.key(*_s2_ids(p))
                    g.work(k, p.get("title"), p.get("abstract"))
                    g.cite(citing, k)
        elif isinstance(body, dict) and body.get("paperId"):
            k = g.key(*_s2_ids(body))
            g.work(k, body.get("title"), body.get("abstract"))
            for p in body.get("references") or []:
                r = g.key(*_s2_ids(p))
                g.work(r, p.get("title"), p.get("abstract"))
                g.cite(k, r)
            for p in body.get("citations") or []:
                c = g.key(*_s2_ids(p))
                g.work(c, p.get("title"), p.get("abstract"))
                g.cite(c, k)
    return g, {"graph": "recorded real OpenAlex and Semantic Scholar responses", "path": str(root)}


def store_graph(home: Path) -> tuple[Graph, dict[str, Any]]:
    """A paperscope store's citation edges and its papers' texts (works outside the store have no text)."""
    from paperscope.config import load_settings
    from paperscope.store import Store

    settings = load_settings(home, environ={})
    store = Store(settings.db_path)
    g = Graph()
    for citing, cited in store.conn.execute("SELECT citing, cited FROM citations"):
        g.cite(citing, cited)
    ends = {e for pair in g.edges for e in pair}
    for pid, title, abstract in store.conn.execute("SELECT id, title, abstract FROM papers WHERE withdrawn IS NULL"):
        if pid in ends:
            g.work(pid, title, abstract)
    return g, {"graph": "store", "path": str(home)}


def ndcg10(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(ranked[:10]) if i in relevant)
    ideal = sum(1 / math.log2(r + 2) for r in range(min(10, len(relevant))))
    return dcg / ideal if ideal else 0.0


def _split(judge: str) -> str:
    return "test" if int(hashlib.sha1(judge.encode()).hexdigest(), 16) % 2 else "train"


def _graph_scores(seeds: Iterable[str], cands: list[str], refs: dict[str, set[str]], citers: dict[str, set[str]],
                  hidden: str) -> np.ndarray:
    """Co-citation + coupling of each candidate with the seeds, Salton-normalised, on the graph without the
    judge's edges (`hidden` cites nothing and is nobody's citer here)."""
    out = np.zeros(len(cands))
    for s in seeds:
        s_refs = refs.get(s, set()) if s != hidden else set()
        s_cit = citers.get(s, set()) - {hidden}
        if not s_refs and not s_cit:
            continue
        for n, c in enumerate(cands):
            c_refs = refs.get(c, set()) if c != hidden else set()
            c_cit = citers.get(c, set()) - {hidden}
            co = len(s_cit & c_cit)
            cp = len(s_refs & c_refs)
            if co:
                out[n] += co / math.sqrt(len(s_cit) * len(c_cit))
            if cp:
                out[n] += cp / math.sqrt(len(s_refs) * len(c_refs))
    return out


def run(g: Graph, per_judge: int) -> dict[str, Any]:
    from paperscope.embed import load_embedder

    corpus = sorted(g.text)
    index = {k: n for n, k in enumerate(corpus)}
    refs: dict[str, set[str]] = defaultdict(set)
    citers: dict[str, set[str]] = defaultdict(set)
    for a, b in g.edges:
        refs[a].add(b)
        citers[b].add(a)
    judges = {j: sorted(r & set(index)) for j, r in refs.items() if len(r & set(index)) >= MIN_REFS}
    stats: dict[str, Any] = {
        "works": len({e for pair in g.edges for e in pair} | set(g.text)), "works_with_text": len(corpus),
        "edges": len(g.edges), "edges_between_works_with_text": sum(1 for a, b in g.edges if a in index and b in index),
        "citing_works": len(refs), "works_cited_by_2_or_more": sum(1 for c in citers.values() if len(c) >= 2),
        "works_citing_2_or_more_known": sum(1 for r in refs.values() if len(r) >= 2),
        "judges": len(judges), "judges_by_split": {s: sum(1 for j in judges if _split(j) == s) for s in ("train", "test")}}
    if not judges:
        return {"stats": stats}
    t0 = time.perf_counter()
    emb = load_embedder("default", 1)
    vecs = np.asarray(emb.embed([g.text[k] for k in corpus]), np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
    stats["embedding"] = {"model": emb.name, "seconds": round(time.perf_counter() - t0, 1)}
    rows: dict[str, list[dict[str, Any]]] = {"similar": [], "library": []}
    for j, members in sorted(judges.items()):
        hidden_refs = {j: refs[j]}
        visible_refs = {k: v for k, v in refs.items() if k not in hidden_refs}
        visible_citers = {k: v - {j} for k, v in citers.items()}
        tasks: list[tuple[str, list[str], set[str]]] = [
            ("similar", [q], set(members) - {q}) for q in members[:per_judge]]
        if len(members) >= 6:
            tasks += [("library", members[i:i + 3], set(members) - set(members[i:i + 3]))
                      for i in range(0, min(len(members), per_judge) - 2, 3)]
        for task, seeds, relevant in tasks:
            cands = [c for c in corpus if c not in seeds and c != j]
            qv = vecs[[index[s] for s in seeds]].mean(axis=0)
            cos = vecs[[index[c] for c in cands]] @ qv
            graph = _graph_scores(seeds, cands, visible_refs, visible_citers, j)
            rows[task].append({"judge": j, "split": _split(j), "cos": cos, "graph": graph, "cands": cands,
                               "relevant": relevant})
    out: dict[str, Any] = {"stats": stats}
    for task, qs in rows.items():
        if not qs:
            continue

        def mean_ndcg(split: str, w: float, qs: list[dict[str, Any]] = qs) -> float | None:
            vals = [ndcg10([r["cands"][n] for n in np.argsort(-(r["cos"] + w * r["graph"]), kind="stable")],
                           r["relevant"]) for r in qs if r["split"] == split]
            return round(float(np.mean(vals)), 4) if vals else None

        train = {w: mean_ndcg("train", w) for w in WEIGHTS}
        best = max(WEIGHTS, key=lambda w: (train[w] or 0.0, -w))  # ties: the smaller weight (0 = embedding alone)
        out[task] = {
            "queries": {s: sum(1 for r in qs if r["split"] == s) for s in ("train", "test")},
            "queries_with_any_graph_signal": {s: sum(1 for r in qs if r["split"] == s and r["graph"].any())
                                              for s in ("train", "test")},
            "train_ndcg10_by_weight": {str(w): v for w, v in train.items()}, "chosen_weight": best,
            "test_ndcg10": {"embedding": mean_ndcg("test", 0.0), "blend": mean_ndcg("test", best)}}
    return out


def verdict(res: dict[str, Any]) -> str:
    s = res["stats"]
    parts = []
    for task in ("similar", "library"):
        r = res.get(task)
        if not r:
            parts.append(f"{task}: no judged queries")
            continue
        sig, q = r["queries_with_any_graph_signal"], r["queries"]
        t = r["test_ndcg10"]
        if not sig["test"] or not sig["train"] or q["test"] < 30:
            parts.append(f"{task}: not measurable ({q['train']}/{q['test']} train/test queries, {sig['train']}/"
                         f"{sig['test']} with any co-citation or coupling signal once the judge's edges are hidden); "
                         f"test nDCG@10 embedding {t['embedding']} vs blend {t['blend']} (w={r['chosen_weight']}): not "
                         "adopted")
        else:
            better = (t["blend"] or 0) > (t["embedding"] or 0)
            parts.append(f"{task}: test nDCG@10 embedding {t['embedding']} vs blend {t['blend']} "
                         f"(w={r['chosen_weight']}): {'blend better' if better else 'embedding alone as good or better'}")
    return f"{s['works_with_text']} works with text, {s['edges']} edges, {s['judges']} judges; " + "; ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, help="a paperscope data directory (default: the recorded responses)")
    ap.add_argument("--per-judge", type=int, default=30)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "citation_blend.json")
    args = ap.parse_args()
    g, source = store_graph(args.data_dir) if args.data_dir else recorded_graph()
    res = run(g, args.per_judge)
    res = {"source": source, **res, "verdict": verdict(res)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
