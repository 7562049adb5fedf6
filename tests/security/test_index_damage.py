"""Indexes are never half-written: a full disk mid-append, a truncated vector file or a corrupt manifest."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import paperscope.index as index_module
from paperscope import generations
from paperscope.cli import main
from paperscope.errors import IndexDamagedError, StoreError
from paperscope.live import LiveEngine
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine, search
from paperscope.web.app import create_app
from recorded import shared

DATA = Path(__file__).parent / "data"


@pytest.fixture
def emb(fake_embedder):
    """The hashing stand-in under the default model's name and size, so the CLI opens the same index."""
    fake_embedder.name, fake_embedder.dim = "all-MiniLM-L6-v2", 384
    return fake_embedder


def build(settings, store, emb):
    ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    embed_papers(store, emb)
    return update_indexes(store, settings, emb.name, emb.dim)


def live_dir(settings, emb) -> Path:
    root = settings.home / "index"
    return root / generations.current_name(root) / settings.index_paths(emb.name)[1].name


def test_enospc_mid_append_keeps_the_previous_index_serving_and_next_update_repairs(settings, store, emb, monkeypatch):
    build(settings, store, emb)
    before = live_dir(settings, emb)
    ingest(store, settings, "file", SourceOptions(path=DATA / "links.jsonl"))
    embed_papers(store, emb)
    real = index_module.append_file
    calls = {"n": 0}

    def full_disk(path, data):
        calls["n"] += 1
        if calls["n"] == 2:  # vectors written, codes half-written: then the disk is full
            with open(path, "ab") as fh:
                fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(index_module, "append_file", full_disk)
    with pytest.raises(StoreError, match="previous index still serves"):
        update_indexes(store, settings, emb.name, emb.dim)
    assert live_dir(settings, emb) == before  # the pointer did not move
    old = open_engine(store, settings, emb)
    assert len(old.vectors) == 200
    assert "local:good-1" not in {h.paper.id for h in search(old, "robust ingestion scholarly", mode="keyword").hits}
    assert search(old, "quantum", mode="semantic").hits
    monkeypatch.setattr(index_module, "append_file", real)
    counts = update_indexes(store, settings, emb.name, emb.dim)
    assert counts["vectors"] == 3
    fresh = open_engine(store, settings, emb)
    assert len(fresh.vectors) == 203
    assert search(fresh, "robust ingestion scholarly").hits[0].paper.id == "local:good-1"
    del old
    generations.collect(settings.home / "index")
    gens = [p.name for p in (settings.home / "index").glob("g*")]
    assert gens == [generations.current_name(settings.home / "index")]  # only the live generation is left


@pytest.mark.parametrize("damage", ["truncate", "corrupt-meta"])
def test_damaged_index_names_rebuild_in_cli_and_503_on_web(settings, store, emb, damage):
    build(settings, store, emb)
    vec = live_dir(settings, emb)
    if damage == "truncate":
        size = (vec / "vectors.f16").stat().st_size
        with open(vec / "vectors.f16", "r+b") as fh:
            fh.truncate(size - 1000)
    else:
        (vec / "meta.json").write_text('{"model": "all-MiniLM-L6-v2", "dim": 38')
    result = CliRunner().invoke(main, ["--data-dir", str(settings.home), "search", "quantum"])
    assert result.exit_code == 4 and "Traceback" not in result.output
    assert result.output.startswith("error: ") and "run `paperscope index --rebuild`" in result.output
    with TestClient(create_app(settings, LiveEngine(settings, emb))) as client:
        r = client.get("/api/search", params={"q": "quantum"})
        assert r.status_code == 503 and r.json()["code"] == "index_damaged" and "index --rebuild" in r.json()["error"]
        assert client.get("/api/papers/0704.0001").status_code == 200  # the catalogue still answers
        rebuilt = CliRunner().invoke(main, ["--data-dir", str(settings.home), "index", "--rebuild"])
        assert rebuilt.exit_code == 0, rebuilt.output
        for _ in range(50):  # the server notices the new generation without a restart
            r = client.get("/api/search", params={"q": "quantum", "mode": "keyword"})
            if r.status_code == 200:
                break
        assert r.status_code == 200 and r.json()["hits"]


def test_legacy_layout_is_refused_until_rebuilt(settings, store, emb):
    legacy = settings.home / "index" / "vectors-all-MiniLM-L6-v2"
    legacy.mkdir(parents=True)
    (legacy / "manifest.json").write_text(json.dumps({"model": emb.name}))
    with pytest.raises(IndexDamagedError, match="index --rebuild"):
        open_engine(store, settings, emb)
    build(settings, store, emb)
    assert not legacy.exists() and len(open_engine(store, settings, emb).vectors) == 200


def test_vector_file_truncated_under_a_running_server_answers_503_not_a_crash(settings, store, emb):
    build(settings, store, emb)
    engine = LiveEngine(settings, emb)
    with TestClient(create_app(settings, engine)) as client:
        assert client.get("/api/search", params={"q": "quantum"}).status_code == 200
        vec = live_dir(settings, emb) / "vectors.f16"
        with open(vec, "r+b") as fh:
            fh.truncate(vec.stat().st_size // 2)
        r = client.get("/api/search", params={"q": "quantum"})
        assert r.status_code == 503 and r.json()["code"] == "index_damaged"
        assert CliRunner().invoke(main, ["--data-dir", str(settings.home), "index", "--rebuild"]).exit_code == 0
        for _ in range(50):
            r = client.get("/api/search", params={"q": "quantum"})
            if r.status_code == 200:
                break
        assert r.status_code == 200
