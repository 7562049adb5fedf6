"""Point 6: security headers on every kind of response, and private file modes for the data directory."""

from __future__ import annotations

import stat

import requests

from serving import serving


def _check(r: requests.Response) -> None:
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_every_response_carries_the_headers(home):
    with serving(home) as url:
        for path, status in (("/", 200), ("/search?q=retrieval", 200), ("/api/search?q=retrieval", 200),
                             ("/static/style.css", 200), ("/paper/arxiv:0000.00000", 404), ("/api/nothing", 404),
                             ("/login", 200), ("/library", 401), ("/docs", 200), ("/openapi.json", 200),
                             ("/search?mode=bogus", 400)):
            r = requests.get(url + path, timeout=30)
            assert r.status_code == status, (path, r.status_code)
            _check(r)
        home_page = requests.get(url + "/", timeout=10).text
        assert "<script>" not in home_page and " onclick=" not in home_page  # nothing the CSP would block


def test_data_directory_and_database_are_private(home, tmp_path):
    from realserver import cli

    fresh = tmp_path / "fresh"
    assert cli(fresh, "stats").returncode == 3 and not fresh.exists()  # a read-only command creates nothing
    assert cli(fresh, "index").returncode == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    db = fresh / "paperscope.sqlite3"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    for wal in fresh.glob("paperscope.sqlite3-*"):
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0
    # the CLI's umask keeps the index files it builds private too
    built = [p for p in fresh.rglob("*") if p.is_file()]
    assert len(built) > 2 and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in built), built
