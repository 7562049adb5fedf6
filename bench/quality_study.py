"""Study: passage pooling, adaptive and learned fusion, chosen on a BEIR collection's train split.

Usage: nice python bench/quality_study.py --data-dir DIR --beir BEIR_DIR --emb PREFIX [--split train]
Collects per judged query the BM25 list at `depth` (the engine's keyword index) and the query vector (int8
ONNX), then ranks the semantic list offline by exact cosine over the paper representations written by
bench/passage_embed.py (whole text, mean of window vectors, max over windows) and scores fusions with the
same nDCG@10 as `eval`.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

from paperscope.config import load_settings
from paperscope.embed import OnnxMiniLMEmbedder
from paperscope.evaluate import ndcg
from paperscope.search import open_engine
from paperscope.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from fusion_study import judged_queries  # noqa: E402


def collect(data_dir: Path, beir: Path, split: str, depth: int, cache_dir: Path) -> list[dict[str, Any]]:
    """Per query: BM25 list at `depth`, query vector, judgments, word count (cached)."""
    cache = cache_dir / f"collect-{beir.name}-{split}-{depth}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    settings = load_settings(data_dir, environ={})
    emb = OnnxMiniLMEmbedder(1)
    engine = open_engine(Store(settings.db_path), settings, emb)
    out = []
    for qid, rels, pq in judged_queries(beir, split):
        kw, _ = engine.keyword.search(pq, depth)
        out.append({"qid": qid, "rels": rels, "kw": kw, "qvec": emb.embed([pq.text])[0],
                    "n_words": len([w for w in pq.terms if engine.keyword.stem(w)])})
    cache.write_bytes(pickle.dumps(out))
    return out


def doc_scores(prefix: str, rep: str, qv: np.ndarray) -> np.ndarray:
    """(queries × papers) cosine for one paper representation."""
    full = np.load(prefix + "-full.npy")
    if rep.startswith("title+"):  # mix the title's cosine into another representation's
        lam, inner = rep[6:].split(":", 1)
        return (1 - float(lam)) * doc_scores(prefix, inner, qv) + float(lam) * (qv @ np.load(prefix + "-title.npy").T)
    if rep == "title":
        return qv @ np.load(prefix + "-title.npy").T
    if rep == "full":
        return qv @ full.T
    kind, spec = rep.split("-", 1)
    z = np.load(f"{prefix}-{spec}.npz")
    vecs, owner = z["vecs"], z["owner"]
    n = len(full)
    if kind == "mean":
        m = np.zeros_like(full)
        np.add.at(m, owner, vecs)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        return qv @ m.T
    if kind == "meanfull":  # the whole-text vector and the windows' mean, averaged
        m = np.zeros_like(full)
        np.add.at(m, owner, vecs)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        m = m + full
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        return qv @ m.T
    s = qv @ vecs.T
    out = np.full((len(qv), n), -1.0, np.float32)
    for j in range(len(qv)):
        np.maximum.at(out[j], owner, s[j])
    if kind == "maxfull":
        out = np.maximum(out, qv @ full.T)
    return out


def z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() or 1.0)


def lists(data: list[dict[str, Any]], ids: list[str], cos: np.ndarray, depth: int) -> list[dict[str, Any]]:
    """Per query: union of BM25 and cosine top-`depth`, with both scores over it."""
    row = {d: i for i, d in enumerate(ids)}
    out = []
    for j, q in enumerate(data):
        c = cos[j]
        sem = np.argpartition(-c, depth)[:depth]
        sem = sem[np.argsort(-c[sem], kind="stable")]
        kw_ids = [d for d, _ in q["kw"]]
        union = list(dict.fromkeys(kw_ids + [ids[i] for i in sem]))
        bm = dict(q["kw"])
        out.append({"ids": union, "bm25": np.array([bm.get(d, 0.0) for d in union]),
                    "cos": np.array([c[row[d]] for d in union]), "in_kw": np.array([d in bm for d in union]),
                    "sem_ids": [ids[i] for i in sem], "rels": q["rels"], "n_words": q["n_words"]})
    return out


def score(ls: list[dict[str, Any]], fuse) -> float:
    vals = []
    for q in ls:
        f = fuse(q)
        order = sorted(range(len(f)), key=lambda i: (-f[i], q["ids"][i]))[:10]
        vals.append(ndcg([q["ids"][i] for i in order], q["rels"]))
    return float(np.mean(vals))


def zfuse(w: float):
    return lambda q: (1 - w) * z(q["bm25"]) + w * z(q["cos"])


def rrf60(q: dict[str, Any]) -> np.ndarray:
    kw_rank = {d: r for r, d in enumerate([d for d, f in zip(q["ids"], q["in_kw"], strict=True) if f], 1)}
    sem_rank = {d: r for r, d in enumerate(q["sem_ids"], 1)}
    return np.array([(1 / (60 + kw_rank[d]) if d in kw_rank else 0) + (1 / (60 + sem_rank[d]) if d in sem_rank else 0)
                     for d in q["ids"]])


def gaps(q: dict[str, Any]) -> tuple[float, float]:
    """Each list's confidence: the z-score gap between its best and its 2nd best candidate over the union."""
    out = []
    for x in (z(q["bm25"]), z(q["cos"])):
        top2 = np.sort(x)[-2:] if len(x) > 1 else np.array([0.0, 0.0])
        out.append(float(top2[1] - top2[0]))
    return out[0], out[1]


def adaptive(w0: float, a: float, lo: float = 0.2, hi: float = 0.8):
    """Semantic weight moves with the difference of the two lists' top gaps."""
    def fuse(q: dict[str, Any]) -> np.ndarray:
        gk, gs = gaps(q)
        w = float(np.clip(w0 + a * (gs - gk), lo, hi))
        return (1 - w) * z(q["bm25"]) + w * z(q["cos"])
    return fuse


def adaptive_ratio(p: float):
    """Semantic weight = gs^p / (gk^p + gs^p)."""
    def fuse(q: dict[str, Any]) -> np.ndarray:
        gk, gs = gaps(q)
        w = gs ** p / ((gk ** p + gs ** p) or 1.0)
        return (1 - w) * z(q["bm25"]) + w * z(q["cos"])
    return fuse


def features(q: dict[str, Any], kind: str) -> np.ndarray:
    zb, zc = z(q["bm25"]), z(q["cos"])
    gk, gs = gaps(q)
    cols = [zb, zc]
    if "g" in kind:
        cols += [zb * gk, zc * gk, zb * gs, zc * gs]
    if "n" in kind:
        ln = np.log2(max(q["n_words"], 1))
        cols += [zb * ln, zc * ln]
    if "i" in kind:
        cols += [q["in_kw"].astype(float)]
    if "p" in kind:
        cols += [zb * zc]
    return np.stack(cols, 1)


def fit_lr(train: list[dict[str, Any]], kind: str, c: float) -> np.ndarray:
    from paperscope.logreg import fit
    xs, ys, ws = [], [], []
    for q in train:
        y = np.array([1.0 if q["rels"].get(d, 0) > 0 else 0.0 for d in q["ids"]])
        if y.sum() == 0:
            continue
        xs.append(features(q, kind))
        ys.append(y)
        ws.append(np.full(len(y), 1.0 / len(y)))  # every query counts the same
    w, _ = fit(np.concatenate(xs), np.concatenate(ys), np.concatenate(ws), c=c)
    return w


def lr_cv(ls: list[dict[str, Any]], kind: str, c: float, folds: int = 5) -> float:
    """Mean nDCG@10 of the learned fusion, each fold scored by a model fitted on the other folds."""
    vals = []
    idx = np.arange(len(ls))
    for f in range(folds):
        test = [ls[i] for i in idx if i % folds == f]
        w = fit_lr([ls[i] for i in idx if i % folds != f], kind, c)
        vals.append(score(test, lambda q, w=w: features(q, kind) @ w) * len(test))
    return float(np.sum(vals) / len(ls))


def study_parser(description: str | None) -> argparse.ArgumentParser:
    """The options every quality study takes: the data dir, the BEIR collection, cached embeddings, split, depth."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--beir", type=Path, required=True)
    ap.add_argument("--emb", required=True)
    ap.add_argument("--split", default="train")
    ap.add_argument("--depth", type=int, default=150)
    return ap


def main() -> None:
    ap = study_parser(__doc__)
    ap.add_argument("--reps", default="full")
    ap.add_argument("--variants", action="store_true")
    args = ap.parse_args()
    cache_dir = Path(args.emb).parent
    data = collect(args.data_dir, args.beir, args.split, args.depth, cache_dir)
    ids = Path(args.emb + "-ids.txt").read_text().split()
    qv = np.stack([q["qvec"] for q in data])
    print(len(data), "queries", flush=True)
    kwn = score(lists(data, ids, qv[:, :1] @ np.zeros((1, len(ids))) , args.depth), lambda q: np.where(q["in_kw"], q["bm25"], -1e9))
    print(f"keyword {kwn:.4f}")
    for rep in args.reps.split(","):
        cos = doc_scores(args.emb, rep, qv)
        ls = lists(data, ids, cos, args.depth)
        sem = np.mean([ndcg(q["sem_ids"][:10], q["rels"]) for q in ls])
        res = {w: score(ls, zfuse(w)) for w in (0.4, 0.45, 0.5, 0.55, 0.6)}
        print(f"{rep:<16} semantic {sem:.4f} rrf {score(ls, rrf60):.4f} " +
              " ".join(f"z{w}:{v:.4f}" for w, v in res.items()), flush=True)
        if args.variants:
            for w0 in (0.45, 0.5, 0.55):
                print(rep, "adaptive", w0, " ".join(f"a{a}:{score(ls, adaptive(w0, a)):.4f}"
                                                    for a in (0.05, 0.1, 0.2, 0.3)), flush=True)
            print(rep, "ratio", " ".join(f"p{p}:{score(ls, adaptive_ratio(p)):.4f}" for p in (0.25, 0.5, 1.0)), flush=True)
            for kind in ("", "g", "gi", "gn", "gp", "gnip"):
                print(rep, "lr", kind or "z", " ".join(f"C{c}:{lr_cv(ls, kind, c):.4f}" for c in (0.1, 1.0, 10.0)), flush=True)


if __name__ == "__main__":
    main()
