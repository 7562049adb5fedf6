"""Operations: /healthz, /readyz, Prometheus /metrics and JSON logs (in-process, and one real server)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient

from paperscope.logs import JsonFormatter
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine
from paperscope.web.app import create_app
from recorded import shared

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def client(settings, store, fake_embedder):
    ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    with TestClient(create_app(settings, open_engine(store, settings, fake_embedder))) as c:
        yield c


def _samples(text: str) -> dict[str, float]:
    """Sample lines of a Prometheus exposition document (`name{labels}` → value); comments checked."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP ", "# TYPE ")), line
            continue
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


def test_healthz_and_readyz_answer_when_everything_is_reachable(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    checks = r.json()["checks"]
    assert checks["database"]["detail"]["changes"] > 0
    assert checks["keyword_index"]["detail"]["documents"] == checks["vector_index"]["detail"]["vectors"] > 0


@pytest.mark.parametrize("backend", ["postgres"])
def test_readyz_and_metrics_on_postgres(backend, backend_settings, backend_store, fake_embedder):
    """The same probes and gauges when the store, keyword mirror and pgvector live in PostgreSQL."""
    store = backend_store
    ingest(store, backend_settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    embed_papers(store, fake_embedder)
    update_indexes(store, backend_settings, fake_embedder.name, fake_embedder.dim)
    user = store.users.create("ops@example.org", None)
    store.users.queue_digest(user.id, b"Subject: x\r\n\r\nbody", ["arxiv:0704.0001"], "2024-05-01T00:00:00Z")
    with TestClient(create_app(backend_settings, open_engine(store, backend_settings, fake_embedder))) as c:
        r = c.get("/readyz")
        assert r.status_code == 200, r.json()
        checks = r.json()["checks"]
        assert checks["vector_index"]["detail"]["backend"] == "PgVectorIndex"
        assert checks["keyword_index"]["detail"]["documents"] == checks["vector_index"]["detail"]["vectors"] > 0
        assert c.get("/api/search", params={"q": "quark"}).status_code == 200
        m = _samples(c.get("/metrics").text)
    assert m["paperscope_store_changes"] == store.max_seq() > 0
    assert m['paperscope_index_lag_changes{index="keyword"}'] == 0
    assert m["paperscope_outbox_backlog"] == 1
    assert m["paperscope_search_seconds_count"] == 1
    lag = [v for k, v in m.items() if k.startswith("paperscope_ingest_lag_seconds{source=")]
    assert len(lag) == 1 and 0 <= lag[0] < 3600


def test_readyz_is_503_and_names_the_part_when_the_database_is_gone(client):
    client.app.state.engine.store.close()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "not ready"
    assert not r.json()["checks"]["database"]["ok"] and "error" in r.json()["checks"]["database"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_metrics_count_requests_by_status_and_time_searches(client, store):
    for q in ("quark", "diphoton production", "gluon"):
        assert client.get("/api/search", params={"q": q}).status_code == 200
    assert client.get("/search", params={"q": "quark"}).status_code == 200
    assert client.get("/api/papers/nope-not-a-paper").status_code == 404
    user = store.users.create("ops@example.org", None)
    store.users.queue_digest(user.id, b"Subject: x\r\n\r\nbody", ["arxiv:0704.0001"], "2024-05-01T00:00:00Z")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = _samples(r.text)
    assert m["paperscope_search_seconds_count"] == 4
    assert m['paperscope_search_seconds_bucket{le="+Inf"}'] == 4
    assert m['paperscope_search_seconds_bucket{le="0.005"}'] <= m['paperscope_search_seconds_bucket{le="10"}'] <= 4
    assert m['paperscope_http_requests_total{kind="/api/search",status="200"}'] == 3
    assert m['paperscope_http_requests_total{kind="/api/papers/{paper_id:path}",status="404"}'] == 1
    assert m["paperscope_store_changes"] == store.max_seq()
    assert m['paperscope_index_generation{index="keyword"}'] == store.max_seq()
    assert m['paperscope_index_lag_changes{index="vectors"}'] == 0
    assert m["paperscope_outbox_backlog"] == 1
    lag = [v for k, v in m.items() if k.startswith("paperscope_ingest_lag_seconds{source=")]
    assert len(lag) == 1 and 0 <= lag[0] < 3600


def test_json_formatter_keeps_extra_fields_and_exceptions():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("paperscope.test").makeRecord(
            "paperscope.test", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info(),
            extra={"route": "/api/search", "status": 500})
    doc = json.loads(JsonFormatter().format(record))
    assert doc["message"] == "failed x" and doc["level"] == "error" and doc["route"] == "/api/search"
    assert doc["status"] == 500 and "ValueError: boom" in doc["exception"] and doc["time"].endswith("+00:00")


def test_served_with_json_logs_every_stderr_line_is_json(served_home, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": SRC, "PAPERSCOPE_LOG_FORMAT": "json"}
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(served_home), "serve",
                                 "--port", str(port)], stdout=subprocess.DEVNULL, stderr=fh, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if requests.get(url + "/healthz", timeout=2).ok:
                        break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.3)
            assert requests.get(url + "/readyz", timeout=30).status_code == 200
            assert requests.get(url + "/api/search", params={"q": "quark"}, timeout=60).status_code == 200
            assert requests.get(url + "/api/papers/nope", timeout=30).status_code == 404
            assert _samples(requests.get(url + "/metrics", timeout=30).text)["paperscope_search_seconds_count"] == 1
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines()[1:] if line.strip()]  # 1st: the CLI banner
    access = [d for d in lines if d["logger"] == "paperscope.access"]
    assert {(d["route"], d["status"]) for d in access} >= {("/api/search", 200), ("/api/papers/{paper_id:path}", 404)}
    assert all(d["ms"] >= 0 and d["method"] == "GET" for d in access)
