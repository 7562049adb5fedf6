"""Embedding on a real local Ray runtime (one start: Ray costs seconds); a missing wheel fails, never skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperscope.errors import MissingExtraError
from paperscope.pipeline import SourceOptions, embed_papers, ingest
from paperscope.store import Store

SRC = str(Path(__file__).resolve().parents[1] / "src")
# plain records with no shipped vectors (the bundled sample brings its own, so nothing would be left to embed)
PAPERS = Path(__file__).parent / "data" / "listing-papers.jsonl"


def test_ray_is_installed():
    import ray  # noqa: F401


def test_missing_ray_names_the_extra(monkeypatch):
    from paperscope import fanout

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError, match=r"install paperscope\[ray\]"):
        fanout.start("local")


def test_update_with_ray_local_embeds_only_what_is_missing_and_gives_the_same_vectors(settings, tmp_path):
    """The issue's check: PAPERSCOPE_RAY_ADDRESS=local `update` starts a Ray session, same vectors as in-process."""
    from paperscope.embed import load_embedder

    lines = PAPERS.read_text(encoding="utf-8").splitlines()
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("\n".join(lines[:6]) + "\n")
    second.write_text("\n".join(lines[6:16]) + "\n")
    store = Store(settings.db_path)
    embedder = load_embedder("default", 2)
    ingest(store, settings, "file", SourceOptions(path=first))
    assert embed_papers(store, embedder) == 6  # embedded here already: the Ray run must not redo them
    ingest(store, settings, "file", SourceOptions(path=second))
    before = {r[0]: r[2] for r in store.embeddings_since(store.model_id(embedder.name, embedder.dim), 0, 100)}
    store.close()

    sessions = Path("/tmp/ray")  # Ray's default temporary directory, kept as it is
    known = set(sessions.glob("session_2*")) if sessions.exists() else set()
    env = {**os.environ, "PYTHONPATH": SRC, "PAPERSCOPE_RAY_ADDRESS": "local", "PAPERSCOPE_RAY_WORKERS": "2",
           "PAPERSCOPE_EMBED_BATCH": "4"}
    done = subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(settings.home), "update"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "embedding on Ray (local, 2 worker(s)" in done.stderr
    assert "embedded 10, indexed 16 paper(s) and 16 vector(s)" in done.stdout
    assert set(sessions.glob("session_2*")) - known, "no new Ray session directory under /tmp/ray"

    store = Store(settings.db_path)
    try:
        model_id = store.model_id(embedder.name, embedder.dim)
        rows = {r[0]: r[2] for r in store.embeddings_since(model_id, 0, 100)}
        assert len(rows) == 16 and all(rows[pid] == blob for pid, blob in before.items())
        papers = store.papers_by_ids(sorted(set(rows) - set(before)))
        from paperscope.text import paper_text

        ids = sorted(papers)
        here = embedder.embed([paper_text(papers[i].title, papers[i].abstract) for i in ids]).astype(np.float16)
        on_ray = np.stack([np.frombuffer(rows[i], np.float16) for i in ids])
        np.testing.assert_allclose(on_ray.astype(np.float32), here.astype(np.float32), atol=2e-3)
    finally:
        store.close()
