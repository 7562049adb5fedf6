"""Data derived from the shared third-party files, built at test time into a cache outside git.

The vectors of a collection's texts (by the default model) and the SciFact slice are not committed: they are
computed from ../shared/data on first use and kept under `PAPERSCOPE_TESTS_CACHE` (default
`$XDG_CACHE_HOME/paperscope-tests`, i.e. ~/.cache/paperscope-tests), each entry keyed by a hash of everything it
is made from (the texts as the store holds them, or the shared files, and the model file), so a change to any of
them builds a new entry instead of reusing a stale one. A file lock makes the first pytest-xdist worker build an
entry while the others wait for it. A cold cache costs about half a minute of one core (443 abstracts embedded);
a warm one nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np

from recorded import shared

CACHE = Path(os.environ.get("PAPERSCOPE_TESTS_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paperscope-tests")
EMBEDDER = "fused int8 ONNX (model/minilm-int8.onnx), mean-pooled, L2-normalised, 256 tokens"


@cache
def model_digest() -> str:
    """sha256 of the default model's ONNX file and tokenizer: vectors made by another model are another entry."""
    from paperscope.embed import MODEL, TOKENIZER

    digest = hashlib.sha256()
    for part in (Path(MODEL), Path(TOKENIZER)):
        digest.update(part.read_bytes())
    return digest.hexdigest()


def _entry(kind: str, key: str, build: Callable[[Path], None]) -> Path:
    """The cache directory for (kind, key), built by `build(dir)` once; concurrent askers wait on a file lock."""
    from filelock import FileLock

    CACHE.mkdir(parents=True, exist_ok=True)
    done = CACHE / f"{kind}-{key[:24]}"
    with FileLock(str(CACHE / f"{kind}-{key[:24]}.lock")):
        if not (done / "complete").exists():
            work = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=CACHE))
            try:
                build(work)
                (work / "complete").touch()
                shutil.rmtree(done, ignore_errors=True)
                work.rename(done)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return done


def stored_texts(store) -> dict[str, str]:
    """Every paper's embedding text as the store holds it (abstracts converted), by paper id."""
    from paperscope.text import paper_text

    return {p.id: paper_text(p.title, p.abstract) for p in store.iter_papers()}


def cached_vectors(name: str, texts: dict[str, str]) -> tuple[Path, Path]:
    """(matrix, manifest) of `texts` by the default model, in the bundled sample's format (load them with
    `load_sample_vectors`); built once per distinct set of texts and model."""
    ids = sorted(texts)
    digest = hashlib.sha256(model_digest().encode())
    for pid in ids:
        digest.update(f"{pid}\0{texts[pid]}\0".encode())

    def build(out: Path) -> None:
        from paperscope.embed import OnnxMiniLMEmbedder
        from paperscope.text import text_hash

        threads = int(os.environ.get("PAPERSCOPE_EMBED_THREADS", "1"))
        matrix = OnnxMiniLMEmbedder(threads).embed([texts[i] for i in ids]).astype(np.float16)
        np.save(out / "vectors.npy", matrix, allow_pickle=False)
        (out / "vectors.json").write_text(json.dumps({
            "model": "all-MiniLM-L6-v2", "dim": 384, "count": len(ids), "dtype": "float16", "embedder": EMBEDDER,
            "sha256": hashlib.sha256((out / "vectors.npy").read_bytes()).hexdigest(), "ids": ids,
            "text_hashes": [text_hash(texts[i]) for i in ids], "collection": name,
        }), encoding="utf-8")

    entry = _entry(f"vectors-{name}", digest.hexdigest(), build)
    return entry / "vectors.npy", entry / "vectors.json"


def scifact_slice() -> Path:
    """The SciFact slice the quality test runs, in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv).

    Cut from ../shared/data/beir/scifact: every 6th judged test query (file order), 50 in all; their relevant
    abstracts, the top 4 BM25 hits (paperscope's keyword index over the whole corpus) of each, and 40 more drawn
    with seed 12: 243 abstracts that embed in well under a minute yet still need ranking, not just recall."""
    beir = shared("beir", "scifact")
    digest = hashlib.sha256(b"scifact-slice v1")
    for part in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        digest.update(hashlib.sha256((beir / part).read_bytes()).digest())
    return _entry("scifact-slice", digest.hexdigest(), lambda out: _cut_scifact_slice(beir, out))


def _cut_scifact_slice(beir: Path, out: Path) -> None:
    from paperscope.config import load_settings
    from paperscope.evaluate import read_qrels
    from paperscope.index import KeywordIndex
    from paperscope.models import ParsedQuery
    from paperscope.pipeline import SourceOptions, ingest
    from paperscope.store import Store
    from paperscope.text import words

    qrels = read_qrels(beir / "qrels" / "test.tsv")
    queries = [json.loads(line) for line in (beir / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = [q for q in queries if str(q["_id"]) in qrels][::6][:50]
    corpus = {str(d["_id"]): d for d in map(json.loads, (beir / "corpus.jsonl").read_text(encoding="utf-8").splitlines())}
    keep: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp), environ={})
        store = Store(settings.db_path)
        try:
            ingest(store, settings, "file", SourceOptions(path=beir / "corpus.jsonl"))
            keyword = KeywordIndex(Path(tmp) / "keyword")
            keyword.upsert(list(store.iter_papers()), store.max_seq())
            for q in queries:
                keep |= set(qrels[str(q["_id"])])
                hits, _ = keyword.search(ParsedQuery(terms=tuple(words(q["text"]))), 4)
                keep |= {pid.removeprefix("local:") for pid, _ in hits}
        finally:
            store.close()
    keep |= set(random.Random(12).sample(sorted(set(corpus) - keep), 40))
    (out / "qrels").mkdir()
    (out / "corpus.jsonl").write_text("".join(json.dumps(corpus[d]) + "\n" for d in sorted(keep, key=int)))
    (out / "queries.jsonl").write_text("".join(json.dumps({"_id": q["_id"], "text": q["text"]}) + "\n"
                                               for q in queries))
    (out / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q['_id']}\t{d}\t{r}\n" for q in queries for d, r in qrels[str(q["_id"])].items()))
