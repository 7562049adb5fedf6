"""Topics and the map, measured (issue 28).

    python bench/topics_map.py quality DATA_DIR      # NPMI and diversity of the chosen settings and alternatives
    python bench/topics_map.py layout N [--epochs E] # clustering + layout time, peak RSS, neighbourhood preservation
                                                     # and /api/map bytes on N synthetic clustered 384-d vectors

Results are appended to bench/results/topics_map.json. Synthetic vectors: 30 broad directions, 12 sub-directions
each, papers scattered around them (so there is structure to find); real MiniLM vectors are used by `quality`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "results" / "topics_map.json"


def _save(key: str, value: dict) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data[key] = value
    OUT.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps({key: value}, indent=2))


def quality(home: str) -> None:
    from paperscope.backends import open_store
    from paperscope.config import load_settings
    from paperscope.embed import model_identity
    from paperscope.topics.build import _members, load_vectors
    from paperscope.topics.cluster import choose_k, two_levels
    from paperscope.topics.label import Corpus, Tokeniser, class_tfidf, diversity, npmi, top_terms

    settings = load_settings(Path(home), environ={})
    store = open_store(settings)
    name, dim = model_identity(settings)
    ids, x = load_vectors(store, store.model_id(name, dim), dim)
    papers = store.papers_by_ids(ids)
    texts = [f"{papers[i].title}. {papers[i].abstract}" for i in ids]
    tok = Tokeniser()
    corpus = Corpus.build(texts, tok)
    k_broad, k_fine = choose_k(len(ids))
    rows = {}
    for label, fine, dampen in (("chosen: fine=sqrt(n), raw tf", k_fine, False),
                                ("fine=sqrt(n), sqrt(tf) (BERTopic reduce_frequent_words)", k_fine, True),
                                ("fine=sqrt(n)/2", max(2, k_fine // 2), False),
                                ("fine=2*sqrt(n)", 2 * k_fine, False)):
        scores = []
        for seed in (0, 1, 2):
            lv = two_levels(x, k_broad, fine, seed)
            k = len(lv.fine_centres)
            terms = top_terms(class_tfidf(corpus, lv.fine, k, dampen), corpus.vocab, 10)
            words = [[t for t, _ in ts] for ts in terms]
            sizes = [len(m) for m in _members(lv.fine, k)]
            scores.append((npmi(corpus, words), diversity(words), k, min(sizes), max(sizes)))
        a = np.array(scores)
        rows[label] = {"fine_topics": int(a[0, 2]), "npmi": round(float(a[:, 0].mean()), 4),
                       "npmi_sd": round(float(a[:, 0].std()), 4), "diversity": round(float(a[:, 1].mean()), 4),
                       "smallest": int(a[:, 3].min()), "largest": int(a[:, 4].max())}
    _save(f"quality:{len(ids)} papers ({Path(home).name})", {"papers": len(ids), "broad": k_broad, "settings": rows,
                                                             "note": "NPMI over the same titles+abstracts (top 10 "
                                                                     "terms a topic, mean of 3 seeds)"})


def synthetic(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    broad = rng.normal(size=(30, dim)).astype(np.float32)
    sub = (np.repeat(broad, 12, axis=0) + 0.7 * rng.normal(size=(360, dim))).astype(np.float32)
    out = np.empty((n, dim), np.float16)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        which = rng.integers(0, 360, m)
        v = sub[which] + 1.1 * rng.normal(size=(m, dim)).astype(np.float32)
        out[s:s + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def layout_bench(n: int, epochs: int | None) -> None:
    from paperscope.topics import layout as L
    from paperscope.topics.cluster import choose_k, two_levels

    x = synthetic(n)
    seconds = {}
    t = time.perf_counter()
    k_broad, k_fine = choose_k(n)
    lv = two_levels(x, k_broad, k_fine)
    seconds["cluster"] = time.perf_counter() - t
    steps = {}
    last = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        steps[name] = round(now - last[0], 1)
        last[0] = now

    t = time.perf_counter()
    xy, _ = L.layout(x, lv.fine_centres, epochs=epochs, on_step=step)
    seconds["layout"] = time.perf_counter() - t
    t = time.perf_counter()
    kept = L.preservation(x, xy, sample=500)
    seconds["preservation_check"] = time.perf_counter() - t
    pca_only = L.project(x, *L.pca(x, 2))
    kept_pca = L.preservation(x, pca_only, sample=500)
    # what /api/map sends for n points (ids like arXiv's), pages of 50,000
    ids = [f"arxiv:{2300 + i // 100000:04d}.{i % 100000:05d}" for i in range(min(n, 100_000))]
    page = {"total": n, "offset": 0, "bounds": [0, 0, 1, 1], "version": [1, 0],
            "points": {"id": ids, "x": np.round(xy[:len(ids), 0].astype(np.float64), 3).tolist(),
                       "y": np.round(xy[:len(ids), 1].astype(np.float64), 3).tolist(),
                       "topic": lv.fine[:len(ids)].tolist(), "broad": lv.parent[lv.fine[:len(ids)]].tolist()}}
    body = json.dumps(page).encode()
    import gzip

    _save(f"layout:{n}", {
        "papers": n, "fine": k_fine, "broad": k_broad, "epochs": epochs or ("auto"),
        "seconds": {k: round(v, 1) for k, v in seconds.items()}, "layout_steps_s": steps,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "preservation_at_10": round(kept, 3), "preservation_pca_only": round(kept_pca, 3),
        "api_map_bytes_first_100k": len(body), "api_map_gzip_bytes_first_100k": len(gzip.compress(body, 6)),
        "note": "synthetic clustered vectors (30 x 12 directions), 2 shared cores, loaded machine"})


if __name__ == "__main__":
    if sys.argv[1] == "quality":
        quality(sys.argv[2])
    else:
        ep = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else None
        layout_bench(int(sys.argv[2]), ep)
