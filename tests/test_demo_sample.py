"""`paperscope demo` as a new user meets it: the latest week of real Hugging Face daily papers (from a loopback
stand-in of /api/daily_papers serving ../shared/data/hf-daily-papers.jsonl), with real days, authors, signals,
trending and self-contained pages, served within a minute; and the offline sample when Hugging Face is down."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient

from demoing import running_demo
from paperscope.config import load_settings
from paperscope.web.app import create_app
from recorded import RecordedServer, hf_daily_stand_in

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`paperscope demo` against the stand-in; then the first undated listing papers are added by `ingest file`."""
    hf = RecordedServer()
    hf_daily_stand_in(hf)
    home = tmp_path_factory.mktemp("demo") / "home"
    try:
        with running_demo(home, hf.url) as running:
            run = [sys.executable, "-m", "paperscope", "--data-dir", str(home)]
            undated = home.parent / "undated.jsonl"  # the first listing papers: no ids, no dates
            undated.write_text("".join((DATA / "listing-papers.jsonl").read_text().splitlines(keepends=True)[:8]))
            subprocess.run(run + ["ingest", "file", str(undated)], check=True, capture_output=True)
            done = subprocess.run(run + ["update"], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            yield running, home, hf
    finally:
        hf.close()


@pytest.fixture(scope="module")
def client(demo):
    with TestClient(create_app(load_settings(demo[1], environ={}))) as c:
        yield c


def test_demo_fetches_the_latest_week_and_answers_from_it(demo):
    running, _, hf = demo
    out = running.output()  # how long it took is a figure .ci/run prints, never an assertion (a loaded box is slow)
    asked = [(r.path, r.params.get("date")) for r in hf.log]
    assert asked[0] == ("/api/daily_papers", None)  # which day is the latest
    assert [d for _, d in asked[1:8]] == [f"2026-08-{d}" for d in range(15, 22)]  # then that week, day by day
    assert "ingesting the Hugging Face daily papers of 2026-08-15 to 2026-08-21" in out
    assert "hf_daily: 108 added" in out and "embedded 108 paper(s)" in out and "offline" not in out
    assert re.search(r"first answer \d+\.\d s after the start", out)
    home = requests.get(running.url + "/", timeout=10).text
    assert "Friday 21 August 2026" in home and home.count('<article class="card">') == 17


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
    assert 'id="prev-day"' not in monday and 'href="/?date=2026-08-18"' in monday  # the week's first listing day
    cards = re.findall(r'<article class="card">(.*?)</article>', monday, re.S)
    assert len(cards) == 20
    assert all('class="authors"' in c for c in cards) and sum("▲" in c for c in cards) >= 15  # no "▲ 0"
    assert sum(bool(re.search(r"[1-9]\d* on Hugging Face<", c)) for c in cards) >= 10 and " 0 comments" not in monday
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


def test_demo_with_hugging_face_down_says_so_once_and_serves_the_offline_sample(tmp_path):
    hf = RecordedServer()
    hf_daily_stand_in(hf)
    hf.close()  # the stand-in now refuses connections
    with running_demo(tmp_path / "home", hf.url, "--query", "binary embeddings") as running:
        out = running.output()
        notes = [line for line in out.splitlines() if "Hugging Face" in line and "offline sample" in line]
        assert len(notes) == 1 and "Connection refused" in notes[0], out
        assert "sample: 564 added" in out and "embedded 0 paper(s)" in out
        assert "the offline sample is on no day: start at " + running.url + "/search?q=binary+embeddings" in out
        stats = requests.get(running.url + "/api/stats", timeout=10).json()
        assert stats["papers"] == 564
        page = requests.get(running.url + "/search", params={"q": "binary embeddings"}, timeout=30).text
        cards = re.findall(r'<article class="card">(.*?)</article>', page, re.S)
        assert len(cards) >= 5 and 'class="authors"' not in page  # real listing papers, no invented authors


def test_topics_on_a_real_week_of_hugging_face_papers(demo):
    """Issue 28's checks on real text: labelled topics over the week, and `topic:` gives exactly a topic's papers
    (the topics are rebuilt by another process beside the running demo server)."""
    import json

    running, home, _ = demo
    run = [sys.executable, "-m", "paperscope", "--data-dir", str(home)]
    built = subprocess.run(run + ["topics", "--rebuild", "--json"], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    topics = json.loads(subprocess.run(run + ["topics", "--json"], capture_output=True, text=True).stdout)["topics"]
    fine = [t for t in topics if t["level"] == 1]
    assert len(fine) >= 5 and all(t["label"] and t["terms"] for t in fine)
    assert sum(t["size"] for t in fine) == 116  # the week's 108 papers and the 8 undated ones
    biggest = max(fine, key=lambda t: t["size"])
    deadline = time.monotonic() + 30  # the server loads the index generation the fixture's `update` wrote
    while True:
        found = requests.get(running.url + "/api/search", params={"q": f"topic:{biggest['id']}", "limit": 100},
                             timeout=30).json()
        if found["total"] == biggest["size"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found["total"] == biggest["size"] and len(found["hits"]) == biggest["size"]
    page = requests.get(running.url + f"/paper/{found['hits'][0]['paper']['paperscopeId']}", timeout=30).text
    assert 'id="neighbourhood"' in page
