"""The lab's daily list: how long a submission takes to become searchable, and what public counts cost a page.

    python bench/lab.py [--members 200] [--upvotes 20000] [--comments 5000]

Builds bench/out/lab (the arXiv snapshot sample, embedded with the ONNX query model, indexed), serves
recorded arXiv API Atom on loopback, then measures: submit of an unknown id end to end (fetch, store,
embed, index update, engine reopen) and of a known id; the per-card count lookup and trending with many
upvotes and comments. Prints the figures and writes bench/results/lab.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parent.parent
ATOM = (ROOT / "tests" / "data" / "atom_id_2406.01234.xml").read_text(encoding="utf-8")


def _arxiv_server() -> tuple[ThreadingHTTPServer, str]:
    """Answer any id_list=<new-style id> with the recorded entry renamed to that id."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            arxiv_id = dict(parse_qsl(urlsplit(self.path).query)).get("id_list", "")
            body = ATOM.replace("2406.01234", arxiv_id).replace("Tardigrade", f"Tardigrade {arxiv_id}").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/api/query"


def _ms(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {"p50_ms": round(statistics.median(samples) * 1000, 2),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 2),
            "n": len(samples)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=200)
    ap.add_argument("--upvotes", type=int, default=20000)
    ap.add_argument("--comments", type=int, default=5000)
    ap.add_argument("--submits", type=int, default=10)
    args = ap.parse_args()

    from paperscope import community
    from paperscope.config import load_settings
    from paperscope.embed import load_query_embedder
    from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
    from paperscope.search import open_engine, search
    from paperscope.store import Store
    from paperscope.trending import trending

    home = ROOT / "bench" / "out" / "lab"
    shutil.rmtree(home, ignore_errors=True)
    httpd, api_url = _arxiv_server()
    settings = load_settings(home, overrides={"arxiv_api_url": api_url, "arxiv_api_delay": 0,
                                              "lab_submissions_per_day": 10_000}, environ={})
    store = Store(settings.db_path)
    embedder = load_query_embedder("default", 1)
    ingest(store, settings, "snapshot", SourceOptions(path=ROOT.parent / "shared" / "data" / "arxiv-snapshot-sample.jsonl"))
    embed_papers(store, embedder)
    update_indexes(store, settings, embedder.name, embedder.dim)
    engine = open_engine(store, settings, embedder)
    users = [store.users.create(f"m{i}@bench.example", None) for i in range(args.members)]

    unknown, known, found = [], [], 0
    for i in range(args.submits):
        arxiv_id = f"2406.{10000 + i}"
        started = time.perf_counter()
        community.submit(engine, users[i % len(users)], arxiv_id)
        fresh = open_engine(store, settings, embedder)  # what the server does after an update
        engine.keyword, engine.vectors, engine.generation = fresh.keyword, fresh.vectors, fresh.generation
        unknown.append(time.perf_counter() - started)
        hits = search(engine, f"tardigrade {arxiv_id} sponges", 3, "keyword").hits
        found += bool(hits) and hits[0].paper.arxiv_id == arxiv_id
    ids = store.random_paper_ids(args.submits, seed=3)
    for i, pid in enumerate(ids):
        started = time.perf_counter()
        community.submit(engine, users[(i + 1) % len(users)], pid)
        known.append(time.perf_counter() - started)

    rng = random.Random(0)
    all_ids = store.random_paper_ids(store.paper_count(), seed=1)
    pairs = {(rng.randrange(len(users)), rng.randrange(len(all_ids))) for _ in range(args.upvotes)}
    with store.transaction():
        store.conn.executemany("INSERT OR IGNORE INTO lab_upvotes VALUES (?, ?, '2026-01-01T00:00:00Z')",
                               [(users[u].id, all_ids[p]) for u, p in pairs])
        store.conn.executemany(
            "INSERT INTO lab_comments (paper_id, user_id, body, created_at) VALUES (?, ?, 'a comment', ?)",
            [(rng.choice(all_ids), rng.choice(users).id, "2026-01-01T00:00:00Z") for _ in range(args.comments)])
    card, page = [], []
    for _ in range(300):
        pid = rng.choice(all_ids)
        started = time.perf_counter()
        store.community.activity([pid])
        card.append(time.perf_counter() - started)
    for _ in range(100):
        chunk = rng.sample(all_ids, 20)
        started = time.perf_counter()
        for pid in chunk:  # the card template asks once per card
            store.community.activity([pid])
        page.append(time.perf_counter() - started)
    trend = []
    for _ in range(20):
        started = time.perf_counter()
        trending(store, 50)
        trend.append(time.perf_counter() - started)

    result = {
        "papers": store.paper_count(), "members": len(users), "upvotes": len(pairs), "comments": args.comments,
        "submit_unknown_to_searchable": _ms(unknown), "found_by_search_after_submit": f"{found}/{args.submits}",
        "submit_known": _ms(known), "card_counts_one_paper": _ms(card), "card_counts_20_cards": _ms(page),
        "trending_50": _ms(trend),
        "note": "2-core shared machine; arXiv API on loopback (no network latency); ONNX int8 embedder, 1 thread",
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "lab.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    httpd.shutdown()
    store.close()


if __name__ == "__main__":
    main()
