"""Citations in ranking: `sort=citations` in search (page, API, CLI through one `search`), over every match in
keyword mode and filter-only queries and over the ranked candidates in semantic and hybrid mode. Counts are
stored as the citation sources store them (`save_citations`), so the order follows what the cards show."""

from __future__ import annotations

import dataclasses
import json

import pytest

from paperscope.citations.records import Found
from paperscope.models import Paper

# twelve papers that all hold "graph"; BM25 prefers the short titles, the counts prefer others
COUNTS = {0: 3, 3: 40, 5: None, 7: 900, 9: 12, 11: 40}


def _papers() -> list[Paper]:
    out = []
    for n in range(12):
        filler = " ".join(["networks"] * n)  # longer texts: lower BM25 for "graph"
        out.append(Paper(id=f"arxiv:2401.{n:05d}", arxiv_id=f"2401.{n:05d}", title=f"Graph study {n} {filler}",
                         abstract=f"We study graph methods {filler}.", categories=("cs.LG",),
                         published=f"2024-01-{n + 1:02d}T00:00:00Z"))
    return out


@pytest.fixture
def engine(settings, store, fake_embedder):
    from paperscope.pipeline import embed_papers, update_indexes
    from paperscope.search import open_engine

    store.upsert_papers(_papers())
    store.citations.save_citations("s2", [Found(f"arxiv:2401.{n:05d}", f"s2:{n}", cited_by=c)
                                          for n, c in COUNTS.items()], fetched_at="2026-01-01T00:00:00Z")
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    return open_engine(store, dataclasses.replace(settings, candidates=4), fake_embedder)


def _ids(result) -> list[int]:
    return [int(h.paper.id[-5:]) for h in result.hits]


def test_keyword_mode_sorts_every_match_past_the_candidate_depth_and_pages_are_slices(engine):
    from paperscope.search import search

    relevance = search(engine, "graph", 12, "keyword")
    assert relevance.total == 12 and _ids(relevance)[:4] == [0, 1, 2, 3]  # BM25: the shortest first
    cited = search(engine, "graph", 12, "keyword", sort="citations")
    # most cited first; 3 and 11 tie at 40 and keep BM25's order; the uncounted (and 5, counted as none) follow
    # in BM25's order
    assert _ids(cited) == [7, 3, 11, 9, 0, 1, 2, 4, 5, 6, 8, 10]
    assert cited.total == 12 and cited.sort == "citations"
    pages = [h for off in range(0, 12, 5) for h in search(engine, "graph", 5, "keyword", off, "citations").hits]
    assert [h.paper.id for h in pages] == [h.paper.id for h in cited.hits]
    assert cited.hits[0].reason == "keyword" and cited.hits[0].keyword_rank == 8  # its BM25 rank, as before


def test_filter_only_queries_sort_every_match(engine):
    from paperscope.search import search

    newest = search(engine, "cat:cs.LG", 12, "hybrid")
    assert _ids(newest)[:2] == [11, 10]
    cited = search(engine, "cat:cs.LG", 12, "hybrid", sort="citations")
    assert _ids(cited) == [7, 11, 3, 9, 0, 10, 8, 6, 5, 4, 2, 1]  # ties: newest first, as the listing
    assert {h.reason for h in cited.hits} == {"filter"}


def test_semantic_and_hybrid_sort_only_their_ranked_candidates(engine):
    from paperscope.search import search

    for mode in ("semantic", "hybrid"):
        ranked = search(engine, "graph study", 12, mode)
        cited = search(engine, "graph study", 12, mode, sort="citations")
        assert sorted(_ids(cited)) == sorted(_ids(ranked))  # the same candidates, reordered
        counts = [COUNTS.get(n) or 0 for n in _ids(cited)]
        assert counts == sorted(counts, reverse=True)
        assert [n for n in _ids(cited) if not COUNTS.get(n)] == [n for n in _ids(ranked) if not COUNTS.get(n)]


def test_an_unknown_sort_is_refused(engine):
    from paperscope.errors import UsageError
    from paperscope.search import search

    with pytest.raises(UsageError, match="unknown sort"):
        search(engine, "graph", sort="stars")


def test_the_page_the_api_and_the_cli_sort_by_citations(settings, engine):
    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from paperscope.cli import main
    from paperscope.web.app import create_app

    with TestClient(create_app(engine.settings, engine)) as c:
        page = c.get("/search", params={"q": "graph", "mode": "keyword", "sort": "citations"}).text
        assert 'id="sort-note"' in page and "Every match is sorted." in page
        assert '<option value="citations" selected>most cited</option>' in page
        assert page.index("2401.00007") < page.index("2401.00003") < page.index("2401.00000")
        hybrid = c.get("/search", params={"q": "graph", "sort": "citations"}).text
        assert "candidates are sorted" in hybrid
        api = c.get("/api/search", params={"q": "graph", "mode": "keyword", "sort": "citations", "limit": 3}).json()
        assert api["sort"] == "citations" and [h["paper"]["citationCount"] for h in api["hits"]] == [900, 40, 40]
        assert c.get("/api/search", params={"q": "graph", "sort": "stars"}).status_code == 422
        assert c.get("/search", params={"q": "graph", "sort": "stars"}).status_code == 400
    out = CliRunner().invoke(main, ["--data-dir", str(settings.home), "search", "graph", "--mode", "keyword",
                                    "--sort", "citations", "-k", "2", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["sort"] == "citations" and [h["citations"] for h in data["hits"]] == [900, 40]


# --- most cited lately (trending by citations gained, from the counts' history) -------------------------------

def _history_store(store, now):
    """Counts fetched on several days before `now`, as repeated `ingest` runs keep them (citation_fetches)."""
    from datetime import timedelta

    store.upsert_papers(_papers()[:4])
    runs = [  # (paper n, source, days before now, count)
        (0, "s2", 60, 10), (0, "s2", 10, 25),  # 15 gained (from the last count before the 30-day window)
        (0, "openalex", 25, 8), (0, "openalex", 5, 12),  # 4: the smaller source's gain
        (1, "s2", 20, 100),  # counted once: no gain yet
        (2, "openalex", 60, 50), (2, "openalex", 41, 52),  # gained before the window only
        (3, "s2", 28, 5), (3, "s2", 2, 9)]  # 4, from the first count inside the window
    for n, source, ago, count in runs:
        at = (now - timedelta(days=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        store.citations.save_citations(source, [Found(f"arxiv:2401.{n:05d}", f"{source}:{n}", cited_by=count)],
                                       fetched_at=at)
    return store


def test_most_cited_lately_ranks_by_citations_gained_in_the_window(store):
    from datetime import UTC, datetime

    from paperscope.rank import citation_gain
    from paperscope.trending import most_cited_lately

    now = datetime(2026, 6, 30, tzinfo=UTC)
    rows = most_cited_lately(_history_store(store, now), 30, 10, now)
    assert [(c.paper.id[-1], c.gain, c.source, c.count) for c in rows] == [("0", 15, "s2", 25), ("3", 4, "s2", 9)]
    assert [c.paper.id[-1] for c in most_cited_lately(store, 60, 10, now)] == ["0", "3", "2"]  # 60 days reach May
    assert citation_gain([("2026-06-01T00:00:00Z", 9), ("2026-06-02T00:00:00Z", 7)], "2026-05-01") == 0  # never < 0


def test_the_trending_page_and_api_explain_most_cited_lately(settings, store, fake_embedder):
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    from paperscope.search import open_engine
    from paperscope.web.app import create_app

    _history_store(store, datetime.now(UTC))  # the page's window ends now
    with TestClient(create_app(settings, open_engine(store, settings, fake_embedder))) as c:
        page = c.get("/trending", params={"by": "citations"}).text
        assert "<h1>Most cited lately</h1>" in page and 'id="formula"' in page and "gain = newest count" in page
        assert "a paper counted once shows no gain yet" in page and "+15 citations in 30 days · 25 now" in page
        assert page.index("2401.00000") < page.index("2401.00003") and "2401.00001" not in page
        assert 'href="/trending?by=citations"' in c.get("/trending").text
        api = c.get("/api/trending", params={"by": "citations"}).json()
        assert [(i["paper"]["id"], i["citationGain"]) for i in api] == [("2401.00000", 15), ("2401.00003", 4)]
        assert c.get("/trending", params={"by": "stars"}).status_code in (400, 422)
