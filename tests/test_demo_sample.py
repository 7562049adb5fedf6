"""The bundled sample as a new user meets it: real days, authors, signals, trending, self-contained pages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperscope.config import load_settings
from paperscope.web.app import create_app

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def home(new_sample_home) -> Path:
    """`ingest sample` then `update` by the real CLI; the undated listing papers are added too."""
    home = new_sample_home()
    run = [sys.executable, "-m", "paperscope", "--data-dir", str(home)]
    undated = home / "undated.jsonl"  # the first listing papers: no ids, no dates
    undated.write_text("".join((DATA / "listing-papers.jsonl").read_text().splitlines(keepends=True)[:8]))
    subprocess.run(run + ["ingest", "file", str(undated)], check=True, capture_output=True)
    done = subprocess.run(run + ["update"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture(scope="module")
def client(home):
    with TestClient(create_app(load_settings(home, environ={}))) as c:
        yield c


def test_daily_papers_have_authors_and_the_latest_real_day(client):
    items = client.get("/api/daily_papers", params={"limit": 100}).json()
    assert items and sum(bool(i["paper"]["authors"]) for i in items) >= 0.8 * len(items)
    assert {i["paper"]["submittedOnDailyAt"][:10] for i in items} == {"2026-08-21"}
    assert all(i["paper"]["upvotes"] >= 0 and "numComments" in i for i in items)
    assert any(i["numComments"] > 0 for i in items)


def test_trending_scores_differ_over_many_days_and_undated_papers_are_left_out(client):
    rows = client.get("/api/trending", params={"limit": 100}).json()
    assert len({r["trendingScore"] for r in rows}) >= 10
    assert sum(r["paper"]["upvotes"] > 0 for r in rows) >= 5
    assert len({r["paper"]["submittedOnDailyAt"][:10] for r in rows}) >= 5
    assert not any(r["paper"]["paperscopeId"].startswith("local:lp-") for r in rows)
    scores = [r["trendingScore"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    page = client.get("/trending").text
    assert "(upvotes + 3·saves + 3·lab submissions + ln(1 + GitHub stars) + 1) / (age in hours + 2)^1.5" in page


def test_daily_page_walks_real_days_and_shows_authors_and_signals(client):
    html = client.get("/").text
    assert "Friday 21 August 2026" in html and 'id="prev-day" href="/?date=2026-08-20"' in html
    assert 'id="next-day"' not in html  # undated papers do not make a newer "day"
    monday = client.get("/?date=2026-08-17").text
    assert 'href="/?date=2026-08-14"' in monday and 'href="/?date=2026-08-18"' in monday  # over the weekend
    cards = re.findall(r'<article class="card">(.*?)</article>', monday, re.S)
    assert len(cards) == 20
    assert all('class="authors"' in c and "▲" in c and re.search(r"\d+ comments?<", c) for c in cards)
    assert sum("★" in c for c in cards) >= 5
    assert "lp-" not in client.get("/feeds/daily.json").text


def test_demo_search_finds_papers(client):
    hits = client.get("/api/search", params={"q": "binary embeddings"}).json()["hits"]
    assert hits and all(h["paper"]["authors"] for h in hits if h["paper"]["id"].startswith("26"))


def test_api_docs_are_served_from_the_package_without_inline_scripts(client):
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', html), "a resource on another host"
        assert re.findall(r"<script>", html) == []  # every script is a file: a CSP can forbid inline ones
        for ref in re.findall(r'(?:src|href)="(/[^"]+)"', html):
            assert client.get(ref).status_code == 200, ref
    assert "SwaggerUIBundle" in client.get("/static/apidocs-init.js").text


def test_not_found_page_offers_a_search_not_a_command(client):
    r = client.get("/paper/arxiv:2601.99999")
    assert r.status_code == 404
    assert 'action="/search"' in r.text and 'value="2601.99999"' in r.text
    assert "paperscope " not in r.text.replace("paperscope {", "").split("<main>")[1].split("</main>")[0]
    assert client.get("/no/such/page").status_code == 404
    api = client.get("/api/papers/arxiv:2601.99999")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
