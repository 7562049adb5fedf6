"""The bundled sample's precomputed vectors: loaded after `ingest sample`, so the demo is searchable in seconds.

`sample/vectors.npy` holds float16 rows; `sample/vectors.json` names the model, dimension, row count, the
paper id and text hash of each row, and the file's sha256. A row is used only when the configured model is
the one named and the stored paper's text still has that hash; everything else is embedded as usual.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import Settings
from .errors import StoreError

if TYPE_CHECKING:
    from .backends import AnyStore

HERE = Path(__file__).parent / "sample"
VECTORS, MANIFEST = HERE / "vectors.npy", HERE / "vectors.json"


def _damaged(why: str) -> StoreError:
    return StoreError(f"the bundled sample vectors are damaged ({why}); reinstall paperscope, or delete "
                      f"{MANIFEST.name} and let `paperscope update` embed the sample")


def read_vectors(vectors: Path = VECTORS, manifest: Path = MANIFEST) -> tuple[dict[str, Any], np.ndarray]:
    """The manifest and the matrix, checked against each other; StoreError when they disagree."""
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        blob = vectors.read_bytes()
    except (OSError, ValueError) as exc:
        raise _damaged(str(exc)) from None
    if not isinstance(meta, dict) or not {"model", "dim", "count", "ids", "text_hashes", "sha256"} <= meta.keys():
        raise _damaged("the manifest lacks model, dim, count, ids, text_hashes or sha256")
    if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
        raise _damaged("sha256 differs from the manifest")
    matrix = np.load(vectors, allow_pickle=False)
    count, dim = int(meta["count"]), int(meta["dim"])
    if matrix.dtype != np.float16 or matrix.shape != (count, dim) or len(meta["ids"]) != count \
            or len(meta["text_hashes"]) != count or not np.isfinite(matrix).all():
        raise _damaged(f"expected {count}×{dim} float16 rows, found {matrix.shape} {matrix.dtype}")
    return meta, matrix


def load_sample_vectors(store: AnyStore, settings: Settings, vectors: Path = VECTORS, manifest: Path = MANIFEST) -> int:
    """Store the shipped vectors of papers that lack one; returns how many (0 for another model).

    The bundled sample's by default; tests load a fixed collection's the same way."""
    from .embed import model_identity
    from .text import paper_text, text_hash

    if not manifest.exists() or settings.model not in ("default", "default-torch", "all-MiniLM-L6-v2"):
        return 0
    meta, matrix = read_vectors(vectors, manifest)
    name, dim = model_identity(settings)
    if (meta["model"], int(meta["dim"])) != (name, dim):
        return 0
    rows = {pid: (h, i) for i, (pid, h) in enumerate(zip(meta["ids"], meta["text_hashes"], strict=True))}
    model_id = store.model_id(name, dim)
    loaded = cursor = 0
    while True:
        todo = store.papers_to_embed(model_id, cursor, 1000)
        if not todo:
            return loaded
        cursor = todo[-1][1]
        save = []
        for pid, seq, title, abstract, _ in todo:
            known = rows.get(pid)
            if known and known[0] == text_hash(paper_text(title, abstract)):
                save.append((pid, seq, known[0], matrix[known[1]].tobytes()))
        store.save_embeddings(model_id, save)
        loaded += len(save)


def write_vectors(store: AnyStore, name: str, dim: int, embedder: str, vectors: Path = VECTORS,
                  manifest: Path = MANIFEST) -> int:
    """Write every stored vector of one model with its manifest (the format `read_vectors` checks); returns rows."""
    from .text import paper_text, text_hash

    model_id = store.model_id(name, dim)
    stored = {pid: vec for pid, _, vec in store.embeddings_since(model_id, 0, 10**7)}
    papers = store.papers_by_ids(sorted(stored))
    ids = sorted(papers)
    np.save(vectors, np.stack([np.frombuffer(stored[i], np.float16) for i in ids]), allow_pickle=False)
    manifest.write_text(json.dumps({
        "model": name, "dim": dim, "count": len(ids), "dtype": "float16", "embedder": embedder,
        "sha256": hashlib.sha256(vectors.read_bytes()).hexdigest(), "ids": ids,
        "text_hashes": [text_hash(paper_text(papers[i].title, papers[i].abstract)) for i in ids],
    }, indent=1) + "\n", encoding="utf-8")
    return len(ids)
