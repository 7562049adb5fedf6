"""Realistic synthetic arXiv snapshot records (Kaggle JSON Lines format) for benchmarks and kill tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

TOPICS = {
    "cs.CL": "language model transformer token attention translation summarization prompt instruction corpus dialogue",
    "cs.CV": "image segmentation detection diffusion video pixel convolutional vision camera depth",
    "cs.LG": "gradient optimization training generalization loss neural network regularization benchmark",
    "cs.IR": "retrieval ranking query document embedding index search relevance recommendation",
    "hep-ph": "quark gluon collider boson cross section decay luminosity perturbative QCD",
    "astro-ph.GA": "galaxy stellar halo redshift dark matter star formation cluster survey",
    "math.CO": "graph combinatorial permutation polynomial bound vertex coloring partition",
    "q-bio.NC": "neuron cortex spiking synaptic plasticity memory brain circuit",
}
COMMON = ["we", "propose", "a", "novel", "method", "for", "the", "problem", "of", "and", "show", "that", "our", "approach", "outperforms", "existing", "baselines", "on", "several", "datasets", "results", "demonstrate", "improvements", "in", "the", "analysis"]
FIRST = ["Ada", "Alan", "Grace", "Emmy", "Kurt", "Sophie", "Csaba", "Maria", "Wei", "Yuki", "Ahmed", "Priya", "Lars", "Ines", "Omar", "Chen"]
LAST = ["Lovelace", "Turing", "Hopper", "Noether", "G\\\"odel", "Germain", "Bal\\'azs", "Curie", "Zhang",
        "Tanaka", "Hassan", "Patel", "Larsen", "Garcia", "Farouk", "Li"]


def record(i: int, rng: random.Random) -> dict[str, object]:
    """One snapshot record with the published field names and formats."""
    cat = rng.choice(list(TOPICS))
    words = TOPICS[cat].split()
    year, month = 2007 + (i * 19 // 1_000_000) % 19, 1 + i % 12
    arxiv_id = f"{year % 100:02d}{month:02d}.{i % 100000:05d}"
    n_authors = rng.randint(1, 6)
    authors = [(rng.choice(LAST), rng.choice(FIRST)) for _ in range(n_authors)]
    abstract = " ".join(rng.choice(words if rng.random() < 0.4 else COMMON) for _ in range(rng.randint(80, 200)))
    n_versions = 1 + (rng.random() < 0.3)
    return {
        "id": arxiv_id, "submitter": authors[0][1] + " " + authors[0][0],
        "authors": ", ".join(f"{first} {last}" for last, first in authors),
        "title": " ".join(rng.choice(words) for _ in range(rng.randint(4, 11))).capitalize(),
        "comments": f"{rng.randint(4, 40)} pages", "journal-ref": None,
        "doi": f"10.1000/synth.{i}" if rng.random() < 0.2 else None, "report-no": None,
        "categories": " ".join([cat] + rng.sample(list(TOPICS), rng.randint(0, 2))),
        "license": None, "abstract": "  " + abstract + "\n",
        "versions": [{"version": f"v{v + 1}", "created": f"Mon, {1 + v} {['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'][month - 1]} {year} 10:00:00 GMT"} for v in range(n_versions)],
        "update_date": f"{year}-{month:02d}-28",
        "authors_parsed": [[last, first, ""] for last, first in authors],
    }


def write_snapshot(path: Path, n: int, seed: int = 7) -> Path:
    """Write `n` unique records to `path` (ids unique up to 1M per run) and return it."""
    rng = random.Random(seed)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8") as fh:
        i = 0
        while len(seen) < n:
            rec = record(i, rng)
            i += 1
            if rec["id"] in seen:
                continue
            seen.add(str(rec["id"]))
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path
