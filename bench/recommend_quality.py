"""Benchmark: recommendation precision@10 for simulated users, against a tf-idf + linear SVM baseline,
and training+scoring time for a user with 500 saved papers over the 1M-paper store.

Usage: python bench/recommend_quality.py [--scifact bench/out/scifact] [--speed bench/out/speed] [--users 60]
Users: each is interested in 1-2 topic clusters of the SciFact corpus (k-means with 40 clusters, once on
tf-idf vectors and once on the embeddings, so neither method gets to define the topics alone), saves 20
papers from them; 30% of saves are held out. Reported per method: precision@10 against the held-out saves
and against topic membership (a recommendation is right if it lies in one of the user's clusters).
Writes bench/results/recommend.json. Run quality_scifact.py first (it builds bench/out/scifact).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent


def quality(scifact: Path, n_users: int) -> dict[str, object]:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from paperscope.config import load_settings
    from paperscope.recommend import recommend
    from paperscope.search import open_engine
    from paperscope.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(scifact, home)
        settings = load_settings(home, environ={})
        store = Store(settings.db_path)
        engine = open_engine(store, settings)
        ids = list(engine.vectors.ids)
        papers = store.papers_by_ids(ids)
        texts = [papers[i].title + " " + papers[i].abstract for i in ids]
        tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2, max_features=50000)
        x_tfidf = tfidf.fit_transform(texts)
        x_emb = np.asarray(engine.vectors.vectors, np.float32)
        results: dict[str, object] = {"papers": len(ids), "users_per_clustering": n_users}
        for clustering, features in (("tfidf topics", x_tfidf), ("embedding topics", x_emb)):
            labels = KMeans(40, n_init=3, random_state=0).fit_predict(features)
            rng = random.Random(1)
            scores = {"paperscope (logreg on embeddings)": [[], []], "baseline (tf-idf + LinearSVC)": [[], []]}
            for u in range(n_users):
                clusters = rng.sample(range(40), rng.choice([1, 2]))
                pool = [i for i, lab in enumerate(labels) if lab in clusters]
                if len(pool) < 30:
                    continue
                saved = rng.sample(pool, 20)
                train, held = saved[:14], set(saved[14:])
                in_topic = set(pool) - set(train)
                user = store.users.create(f"{clustering.split()[0]}-{u}@bench.test", None)
                for row in train:
                    store.users.save(user.id, ids[row], ["t"])
                recs = [engine.vectors.rows[r.paper.id] for r in recommend(engine, user.id, "t", k=10)]
                y = np.zeros(len(ids))
                y[train] = 1
                svm = LinearSVC(C=0.1, class_weight="balanced").fit(x_tfidf, y)
                s = svm.decision_function(x_tfidf)
                s[train] = -np.inf
                base = list(np.argsort(-s)[:10])
                for name, got in (("paperscope (logreg on embeddings)", recs), ("baseline (tf-idf + LinearSVC)", base)):
                    scores[name][0].append(len(held & set(got)) / 10)
                    scores[name][1].append(len(in_topic & set(got)) / 10)
            results[clustering] = {name: {"p@10 held-out saves": round(float(np.mean(a)), 4),
                                          "p@10 in-topic": round(float(np.mean(b)), 4), "users": len(a)}
                                   for name, (a, b) in scores.items()}
            print(clustering, json.dumps(results[clustering]), flush=True)
        store.close()
        return results


def speed(data_dir: Path) -> dict[str, object] | None:
    from paperscope.config import load_settings
    from paperscope.recommend import recommend
    from paperscope.search import open_engine
    from paperscope.store import Store

    if not (data_dir / "paperscope.sqlite3").exists():
        return None
    settings = load_settings(data_dir, environ={})
    store = Store(settings.db_path)
    engine = open_engine(store, settings)
    email = "speed@bench.test"
    user = store.users.by_email(email) or store.users.create(email, None)
    if len(store.users.paper_ids(user.id)) < 500:
        for pid in store.random_paper_ids(500, seed=42):
            store.users.save(user.id, pid, ["bench"])
    recommend(engine, user.id, "bench", k=10)  # warm the memory map
    times = []
    for _ in range(5):
        t = time.perf_counter()
        recs = recommend(engine, user.id, "bench", k=10)
        times.append((time.perf_counter() - t) * 1000)
    out = {"papers": len(engine.vectors), "saved": len(store.users.paper_ids(user.id)),
           "recommend_p50_ms": round(float(np.median(times)), 1), "recommend_max_ms": round(max(times), 1),
           "returned": len(recs)}
    print("speed", json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scifact", type=Path, default=ROOT / "out" / "scifact")
    ap.add_argument("--speed", type=Path, default=ROOT / "out" / "speed")
    ap.add_argument("--users", type=int, default=60)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "recommend.json")
    args = ap.parse_args()
    result = {"quality": quality(args.scifact, args.users), "speed_1m": speed(args.speed)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
