"""Search results a user can trust: stable pages and totals, query syntax in every mode, and saying what happened.

A real store, real tantivy and vector index files over the bundled 564-paper sample plus a small dated,
categorised corpus; a hashing embedder stands in for the model (the real model is in test_search_e2e.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from fakes import HashingEmbedder
from paperscope.config import load_settings
from paperscope.errors import BadQueryError, NotFoundError, UsageError
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import MODES, open_engine, search, similar
from paperscope.store import Store

QUERIES = ["language model retrieval", "reasoning", "diffusion image generation", "agents tools benchmark"]
DEPTH = 120  # small, so pages run past the candidate depth


def _dated_corpus(path: Path) -> Path:
    """40 papers with known dates, categories and authors (some with many authors and categories)."""
    rows = []
    for i in range(40):
        rows.append({
            "id": f"dated-{i:02d}", "title": f"Paper {i} on {'binary embeddings' if i % 4 == 0 else 'embedding binary codes'}",
            "abstract": ("We study dense retrieval with binary embeddings." if i % 4 == 0 else
                         "Binary codes for sparse retrieval; embeddings are binary." if i % 4 == 1 else
                         "A dense embedding model for retrieval." if i % 4 == 2 else "Retrieval with quantised vectors."),
            "authors": "; ".join(f"Author {chr(65 + j)}{i}" for j in range(1 + i % 9)),
            "categories": " ".join(["cs.IR", "cs.CL", "cs.LG", "stat.ML", "cs.AI"][: 1 + i % 5]),
            "date": f"2024-{1 + i % 12:02d}-{1 + i:02d}" if i < 28 else f"2023-06-{i - 27:02d}",
        })
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    home = tmp_path_factory.mktemp("trust")
    settings = load_settings(home, overrides={"candidates": DEPTH}, environ={})
    store = Store(settings.db_path)
    embedder = HashingEmbedder()
    ingest(store, settings, "sample", SourceOptions())
    ingest(store, settings, "file", SourceOptions(path=_dated_corpus(home / "dated.jsonl")))
    embed_papers(store, embedder)
    update_indexes(store, settings, embedder.name, embedder.dim)
    yield open_engine(store, settings, embedder)
    store.close()


def _text(hit) -> str:
    return (hit.paper.title + " " + hit.paper.abstract).lower()


def _pages(engine, query: str, mode: str, size: int) -> tuple[list[str], set[int]]:
    ids, totals, offset = [], set(), 0
    while True:
        result = search(engine, query, size, mode, offset)
        totals.add(result.total)
        if not result.hits:
            return ids, totals
        ids += [h.paper.id for h in result.hits]
        offset += size


@pytest.mark.parametrize("mode", MODES)
def test_pages_of_10_and_50_give_one_ranking_and_one_total(engine, mode):
    tens, t10 = _pages(engine, "language model retrieval", mode, 10)
    fifties, t50 = _pages(engine, "language model retrieval", mode, 50)
    assert len(tens) >= 100 and tens == fifties and len(set(tens)) == len(tens)
    assert len(t10 | t50) == 1
    total = t10.pop()
    if mode == "keyword":  # exact: every matching paper can be paged to
        assert len(tens) == total
    else:  # the ranked candidates within the fixed depth of each list
        assert len(tens) == total <= 2 * DEPTH


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.sampled_from(QUERIES), mode=st.sampled_from(MODES),
       limit=st.integers(1, 200), offset=st.integers(0, 400), limit2=st.integers(1, 200))
def test_any_page_is_a_slice_of_one_ranking(engine, query, mode, limit, offset, limit2):
    ref_ids: list[str] = []
    while len(ref_ids) < offset + limit:
        got = search(engine, query, 200, mode, len(ref_ids)).hits
        if not got:
            break
        ref_ids += [h.paper.id for h in got]
    page = search(engine, query, limit, mode, offset)
    other = search(engine, query, limit2, mode, offset)
    assert [h.paper.id for h in page.hits] == ref_ids[offset:offset + limit]
    assert page.total == other.total == search(engine, query, 1, mode, 0).total
    assert [h.paper.id for h in other.hits][:limit] == [h.paper.id for h in page.hits][:limit2]


@pytest.mark.parametrize("mode", MODES)
def test_quoted_phrase_is_required_in_every_mode(engine, mode):
    hits = search(engine, '"binary embeddings" retrieval', 50, mode).hits
    assert hits and all("binary embeddings" in _text(h) for h in hits)
    loose = search(engine, "binary embeddings retrieval", 50, mode).hits
    assert any("binary embeddings" not in _text(h) for h in loose)  # the phrase did filter something


@pytest.mark.parametrize("mode", MODES)
def test_excluded_word_and_phrase_never_appear(engine, mode):
    hits = search(engine, "retrieval -dense", 100, mode).hits
    assert hits and not any(re.search(r"\bdense\b", _text(h)) for h in hits)
    assert any(re.search(r"\bdense\b", _text(h)) for h in search(engine, "retrieval", 100, mode).hits)
    no_phrase = search(engine, 'retrieval binary -"binary embeddings"', 100, mode).hits
    assert no_phrase and not any("binary embeddings" in _text(h) for h in no_phrase)
    assert any("binary" in _text(h) for h in no_phrase)  # the words alone are still allowed


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_semantic_exclusions_act_inside_the_search(engine, mode):
    # the depth is filled with admitted papers, not a top-k with rows dropped afterwards
    with_dense = search(engine, "retrieval embedding", 200, mode)
    without = search(engine, "retrieval embedding -dense", 200, mode)
    if mode == "semantic":
        assert with_dense.total == DEPTH and without.total == DEPTH


@pytest.mark.parametrize("mode", MODES)
def test_filter_only_query_lists_newest_first_without_score(engine, mode):
    result = search(engine, "cat:cs.CL since:2024-01-01", 50, mode)
    days = [h.paper.published for h in result.hits]
    assert days and days == sorted(days, reverse=True)
    assert all("cs.CL" in h.paper.categories and h.paper.published >= "2024-01-01" for h in result.hits)
    assert all(h.reason == "filter" for h in result.hits)
    assert result.total == sum(1 for i in range(28) if i % 5 >= 1)  # cs.CL is the 2nd category; 2024 rows
    paged = search(engine, "cat:cs.CL since:2024-01-01", 7, mode, 7).hits
    assert [h.paper.id for h in paged] == [h.paper.id for h in result.hits][7:14]


def test_each_hit_says_why_and_highlights_what_matched(engine):
    result = search(engine, "retrieval embeddings", 60, "hybrid")
    reasons = {h.reason for h in result.hits}
    assert reasons <= {"keyword", "semantic", "both"} and "both" in reasons
    for h in result.hits:
        assert (h.reason in ("keyword", "both")) == (h.keyword_rank is not None)
        assert (h.reason in ("semantic", "both")) == (h.semantic_rank is not None)
        marked = [t.lower() for t, m in h.snippet if m]
        if h.reason != "semantic" and h.paper.abstract:
            assert marked and all(t.startswith(("retriev", "embed")) for t in marked)
    # stopwords in the query are never highlighted
    hit = search(engine, "the retrieval", 1, "keyword").hits[0]
    assert "the" not in [t.lower() for t, m in hit.snippet if m]


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "\x00 \x1b"])
def test_empty_query_is_a_bad_query_error_with_a_hint(engine, query):
    with pytest.raises(BadQueryError, match="cat:cs.CL") as info:
        search(engine, query)
    assert isinstance(info.value, UsageError) and info.value.code == "bad_query"


@pytest.mark.parametrize("query,says", [("the of and", "too common"), ("-dense", "besides exclusions"),
                                        ("*?~^ --", "no words")])
def test_query_with_every_word_dropped_says_so(engine, query, says):
    result = search(engine, query)
    assert result.total == 0 and not result.hits and any(says in n for n in result.notes)


def test_filter_matching_nothing_names_the_filter(engine):
    for query, named in (("retrieval cat:q-bio.XX", "cat:q-bio.XX"), ("retrieval year:1999", "until:1999-12-31"),
                         ('retrieval author:"Nobody Atall"', 'author:"Nobody Atall"'),
                         ('"purple elephants" retrieval', '"purple elephants"')):
        result = search(engine, query)
        assert result.total == 0 and any(named in n and "matches no paper" in n for n in result.notes), result.notes
    both = search(engine, 'retrieval author:"Author A0" year:2023')  # each matches something, together nothing
    assert both.total == 0 and any("together" in n for n in both.notes)


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_broad_exclusions_draw_candidates_until_the_depth_is_filled(engine, mode, monkeypatch):
    import paperscope.search as search_module

    masked = search(engine, "retrieval embedding -dense -model", 200, mode)
    monkeypatch.setattr(search_module, "SYNTAX_MASK_MAX", 0)  # force the checked-candidates path
    drawn = search(engine, "retrieval embedding -dense -model", 200, mode)
    assert [h.paper.id for h in drawn.hits] == [h.paper.id for h in masked.hits]
    assert drawn.total == masked.total and not any(re.search(r"\b(dense|model)\b", _text(h)) for h in drawn.hits)


def test_similar_without_a_vector_says_to_update(engine):
    store = engine.store
    ingest(store, engine.settings, "file", SourceOptions(path=_write(engine.settings.home / "late.jsonl",
                                                                     {"id": "late-1", "title": "A late paper"})))
    with pytest.raises(NotFoundError, match="paperscope update"):
        similar(engine, ["local:late-1"])


def _write(path: Path, row: dict) -> Path:
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path
