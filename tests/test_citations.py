"""Citations from OpenAlex and Semantic Scholar, against a real loopback server replaying responses those APIs
really sent (../shared/data/citations, recorded by other projects). Where a case has no recording, the test says
so and writes the response by hand from the published format: OpenAlex's list envelope (`meta.next_cursor`,
`results`) around recorded work objects, the Graph API's batch answer (a JSON list aligned with the ids asked,
null for an unknown id) around recorded paper objects, a 429, a 5xx, a malformed page."""

from __future__ import annotations

import gzip
import json
from urllib.parse import unquote

import pytest

from paperscope.backup import backup
from paperscope.citations import enrich
from paperscope.citations.records import Found, Work
from paperscope.errors import SourceError
from paperscope.models import Paper
from paperscope.store import Store
from recorded import RecordedServer, shared

CIT = ("citations",)


def _json(*parts: str):
    return json.loads(shared(*CIT, *parts).read_text(encoding="utf-8"))


def _paper(arxiv_id: str, title: str, doi: str | None = None, published: str = "2023-01-01T00:00:00Z") -> Paper:
    return Paper(id=f"arxiv:{arxiv_id}", arxiv_id=arxiv_id, title=title, doi=doi, published=published)


PAPERQA = _paper("2312.07559", "PaperQA: Retrieval-Augmented Generative Agent for Scientific Research",
                 published="2023-12-08T00:00:00Z")
CHEMCROW = _paper("2304.05376", "Augmenting large language models with chemistry tools", "10.1038/s42256-024-00832-8",
                  published="2023-04-11T00:00:00Z")
NOWHERE = _paper("0704.0001", "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies")


# --- OpenAlex stand-in ----------------------------------------------------------------------------

def openalex_pool() -> list[dict]:
    """Recorded OpenAlex work objects: the arXiv records of PaperQA and ChemCrow (cut from recorded list pages),
    ChemCrow's journal version (57 references, from the recorded title-search page), two single works."""
    chemcrow_page = _json("openalex", "openalex_works_filter_title_search_chemcrow.json")
    return [_json("openalex", "derived", "openalex_work_W4389761608.from_list.json"),
            _json("openalex", "derived", "openalex_work_W4365597205.from_list.json"),
            chemcrow_page["results"][0], _json("openalex", "openalex_work_W2741809807.json"),
            _json("openalex", "openalex_work_doi_10.1073_pnas.1414271111.json")]


def openalex_stand_in(server: RecordedServer, pool: list[dict]) -> None:
    """`GET /works?filter=doi:a|b` or `filter=openalex:W1|W2` with `per-page` and `cursor`, answered from `pool`.
    The envelope is hand-written from OpenAlex's documented list format (`meta.count`, `meta.next_cursor`, null on
    the last page; `results`); the cursor token is this stand-in's own."""
    def works(params: dict[str, str]) -> tuple[int, bytes]:
        field, _, values = params["filter"].partition(":")
        wanted = {v.lower() for v in unquote(values).split("|")}
        if field == "doi":
            hits = [w for w in pool if (w.get("doi") or "").lower().removeprefix("https://doi.org/") in wanted]
        elif field == "openalex":
            hits = [w for w in pool if w["id"].rsplit("/", 1)[-1].lower() in wanted]
        else:
            return 400, json.dumps({"error": "Invalid query parameters error.", "message": f"{field} is not a valid "
                                    "field"}).encode()
        size = int(params.get("per-page", 25))
        start = 0 if params.get("cursor") == "*" else int(params["cursor"].removeprefix("c"))
        page = hits[start:start + size]
        nxt = f"c{start + size}" if start + size < len(hits) else None
        return 200, json.dumps({"meta": {"count": len(hits), "per_page": size, "next_cursor": nxt},
                                "results": page}).encode()

    server.answer("/works", works)


def test_openalex_matches_by_arxiv_doi_and_doi_stores_counts_and_edges_and_reruns_fetch_nothing(
        server, settings, store, monkeypatch):
    from paperscope.sources import openalex

    monkeypatch.setattr(openalex, "PAGE", 1)  # one work a page: every batch walks OpenAlex's cursor
    store.upsert_papers([PAPERQA, CHEMCROW, NOWHERE])
    openalex_stand_in(server, openalex_pool())
    report = enrich.ingest_openalex(store, settings)
    assert (report.looked_up, report.matched, report.no_match) == (3, 2, ["arxiv:0704.0001"])
    asked = [r.params for r in server.log if r.path == "/works"]
    assert asked[0]["cursor"] == "*" and {"c1", "c2"} <= {a["cursor"] for a in asked}
    assert "10.48550/arxiv.2312.07559" in asked[0]["filter"]
    chem = store.get_paper("arxiv:2304.05376")
    # the arXiv record says 106 and has no references; the journal version (its DOI is in the store) says 236
    # and has 57: the higher count is shown, the references of both kept
    assert chem.signals["citations"].value == 236 and chem.signals["citations"].source == "openalex"
    assert len(store.citations.references_of("arxiv:2304.05376")) == 57
    assert store.get_paper("arxiv:2312.07559").signals["citations_openalex"].value == 27
    fetches = {f.source: f for f in store.citations.last_fetches("arxiv:0704.0001")}
    assert fetches["openalex"].external_id is None  # a no-match is recorded, so a re-run does not ask again
    edges, requests = store.citations.edge_count(), len(server.log)
    again = enrich.ingest_openalex(store, settings)
    assert (again.looked_up, again.edges_added, again.changed) == (0, 0, False)
    assert len(server.log) == requests and store.citations.edge_count() == edges


def test_an_openalex_snapshot_is_streamed_matched_by_arxiv_link_and_resumed(settings, store, tmp_path):
    source = shared(*CIT, "openalex", "snapshot", "works_updated_date=2021-11-03_part_000.jsonl").read_bytes()
    part = tmp_path / "part_000.gz"
    part.write_bytes(gzip.compress(source)[:2000])  # cut short: a download that stopped
    store.upsert_papers([_paper("1008.5205", "On the operator-valued analogues of the semicircle, arcsine and "
                                "Bernoulli laws"), _paper("1106.1393", "Ground states of semi-relativistic "
                                "Pauli-Fierz and no-pair Hamiltonians in QED at critical Coulomb coupling")])
    cut = enrich.ingest_openalex_snapshot(store, settings, part)
    assert cut.problems and "cannot be read past line" in cut.problems[-1]
    done = store.get_checkpoint(f"openalex_snapshot:{part.resolve()}")["line"]
    part.write_bytes(gzip.compress(source))
    full = enrich.ingest_openalex_snapshot(store, settings, part)
    assert full.lines == 50 - done and not full.problems  # resumed after the lines already read
    a, b = store.get_paper("arxiv:1008.5205"), store.get_paper("arxiv:1106.1393")
    assert (a.signals["citations"].value, b.signals["citations"].value) == (20, 1)
    refs = store.citations.references_of("arxiv:1106.1393")
    assert len(refs) == 19 and all(r.id.startswith("openalex:W") and not r.in_store for r in refs)
    assert len(store.citations.references_of("arxiv:1008.5205")) == 10


def test_works_a_snapshot_names_by_id_are_named_by_the_api_and_their_edges_move_to_store_ids(
        server, settings, store):
    store.upsert_papers([PAPERQA])
    store.citations.save_citations("openalex", [Found("arxiv:2312.07559", "openalex:W4389761608", 27, None,
                                                      (Work("openalex:W4365597205"), Work("openalex:W2741809807")))])
    store.upsert_papers([CHEMCROW])
    openalex_stand_in(server, openalex_pool())
    report = enrich.ingest_openalex(store, settings, batch_size=10)
    assert report.named >= 2
    refs = {r.id: r for r in store.citations.references_of("arxiv:2312.07559")}
    assert refs["arxiv:2304.05376"].in_store  # W4365597205 is ChemCrow's arXiv record: now linked to the paper
    other = next(r for r in refs.values() if not r.in_store)
    assert other.id == "doi:10.1038/nature23474" or other.title  # W2741809807, shown with its title and DOI
    assert store.citations.citing_ids("arxiv:2304.05376") == ["arxiv:2312.07559"]


def test_openalex_429_is_waited_out_and_a_malformed_page_ends_in_a_clear_message_then_resumes(
        server, settings, store):
    store.upsert_papers([PAPERQA, CHEMCROW])
    pool = openalex_pool()
    # hand-written (no recording): a 429 with Retry-After, then the real answer
    server.add("/works", b'{"error": "Too many requests"}', status=429, headers={"Retry-After": "1"}, times=1)
    # hand-written (no recording): a page cut mid-body, every time PaperQA's DOI is asked (the second batch)
    server.add("/works", b'{"meta": {"count": 1}, "results": [{"id": "https://openalex.org/W43',
               when={"filter": "doi:10.48550/arxiv.2312.07559"})
    openalex_stand_in(server, pool)
    with pytest.raises(SourceError, match="cannot be read .*run the ingest again to resume"):
        enrich.ingest_openalex(store, settings, batch_size=1)
    first, second = [r for r in server.log if r.path == "/works"][:2]
    assert second.at - first.at >= 0.9  # Retry-After: 1 was honoured
    assert {f.source for f in store.citations.last_fetches("arxiv:2304.05376")} == {"openalex"}  # kept
    assert store.citations.last_fetches("arxiv:2312.07559") == []
    server.rules = [r for r in server.rules if not r.when]
    again = enrich.ingest_openalex(store, settings, batch_size=1)
    assert again.looked_up == 1 and again.matched == 1  # only what the failed run had not stored


# --- Semantic Scholar -----------------------------------------------------------------------------

def s2_pool() -> dict[str, dict]:
    """Recorded Graph API paper objects by arXiv id, each carrying externalIds.ArXiv."""
    objects = [_json("s2", "s2_paper_DOI_10.48550_arxiv.2312.07559.json"),
               _json("s2", "s2_paper_DOI_10.1038_s42256-024-00832-8.json"),
               _json("s2", "s2_paper_search_match_attention.json")["data"][0]]
    return {o["externalIds"]["ArXiv"]: o for o in objects}


def s2_stand_in(server: RecordedServer, pool: dict[str, dict], fail_after: int | None = None) -> None:
    """`POST /graph/v1/paper/batch` answered as the Graph API does (hand-written envelope: a list aligned with the
    ids asked, null where it has no paper) with recorded paper objects. `fail_after`: later requests get a 503."""
    calls = [0]

    def batch(params: dict[str, str], body: bytes) -> tuple:
        calls[0] += 1
        if fail_after is not None and calls[0] > fail_after:
            return 503, b'{"message": "Internal server error"}', {"Retry-After": "0"}
        assert "citationCount" in params["fields"] and "references.externalIds" in params["fields"]
        ids = json.loads(body)["ids"]
        return 200, json.dumps([pool.get(i.removeprefix("ARXIV:")) for i in ids]).encode()

    server.post_answers["/graph/v1/paper/batch"] = batch


def _with_links(pool: dict[str, dict]) -> dict[str, dict]:
    """Nested references and citations, assembled by hand in the batch answer's documented shape: ChemCrow is
    cited by PaperQA (a paper the store holds); Attention's references are the 156 cited-paper objects recorded
    for CorpusID:1033682's /references pages (real objects, attached here to a paper of the test's choosing)."""
    refs = [r["citedPaper"] for name in ("offset0", "offset100")
            for r in _json("s2", f"s2_paper_references_CorpusID_1033682_{name}.json")["data"]]
    paperqa = {k: pool["2312.07559"][k] for k in ("paperId", "externalIds", "title", "year")}
    return {**pool, "2304.05376": {**pool["2304.05376"], "citations": [paperqa], "references": []},
            "1706.03762": {**pool["1706.03762"], "references": refs, "citations": []}}


def test_semantic_scholar_batch_brings_counts_references_and_citations_matched_by_arxiv_id(
        server, settings, store):
    attention = _paper("1706.03762", "Attention Is All You Need", published="2017-06-12T00:00:00Z")
    sparsity = _paper("2208.04425", "Controlled Sparsity via Constrained Optimization", published="2022-08-08T00:00:00Z")
    store.upsert_papers([PAPERQA, CHEMCROW, NOWHERE, attention, sparsity])
    s2_stand_in(server, _with_links(s2_pool()))
    report = enrich.ingest_semantic_scholar(store, settings)
    assert (report.looked_up, report.matched) == (5, 3)
    assert sorted(report.no_match) == ["arxiv:0704.0001", "arxiv:2208.04425"]
    sent = json.loads(server.posts[0][1])["ids"]
    assert "ARXIV:2312.07559" in sent and all(i.startswith("ARXIV:") for i in sent)
    p = store.get_paper("arxiv:2312.07559")
    assert (p.signals["citations_s2"].value, p.signals["influential_citations_s2"].value) == (111, 2)
    assert store.get_paper("arxiv:2304.05376").signals["citations"].value == 500
    assert store.citations.citing_ids("arxiv:2304.05376") == ["arxiv:2312.07559"]
    assert store.citations.cited_ids("arxiv:2312.07559") == ["arxiv:2304.05376"]
    refs = store.citations.references_of("arxiv:1706.03762")
    assert len(refs) == 156 - 9  # nine recorded references have no paperId: S2 has no record of them
    assert refs[0].id == "arxiv:2208.04425" and refs[0].in_store
    outside = [r for r in refs if not r.in_store]
    assert all(r.title for r in outside) and any(r.doi for r in outside)
    edges = store.citations.edge_count()
    again = enrich.ingest_semantic_scholar(store, settings)
    assert (again.looked_up, again.changed, store.citations.edge_count(), len(server.posts)) == (0, False, edges, 1)


def test_semantic_scholar_5xx_mid_run_is_a_clear_message_and_the_rerun_asks_only_for_the_rest(
        server, settings, store):
    store.upsert_papers([PAPERQA, CHEMCROW])
    s2_stand_in(server, s2_pool(), fail_after=1)  # hand-written: the second request keeps failing with 503
    with pytest.raises(SourceError, match="HTTP 503.*run the ingest again to resume"):
        enrich.ingest_semantic_scholar(store, settings, batch_size=1)
    assert store.get_paper("arxiv:2304.05376").signals["citations_s2"].value == 500  # the first batch is kept
    s2_stand_in(server, s2_pool())
    server.posts.clear()
    again = enrich.ingest_semantic_scholar(store, settings, batch_size=1)
    assert again.looked_up == 1 and json.loads(server.posts[0][1])["ids"] == ["ARXIV:2312.07559"]


def test_semantic_scholars_own_error_message_is_shown(server, settings, store):
    store.upsert_papers([PAPERQA])
    body = shared(*CIT, "s2", "s2_error_404_paper_not_found.json").read_bytes()  # a real error body
    server.post_answers["/graph/v1/paper/batch"] = lambda params, _: (400, body)
    with pytest.raises(SourceError, match="Semantic Scholar says: Paper with id DOI:10.1101"):
        enrich.ingest_semantic_scholar(store, settings)


# --- storage --------------------------------------------------------------------------------------

def test_edges_go_through_backup_and_stay_unchanged_when_saved_again(settings, store, tmp_path):
    store.upsert_papers([PAPERQA, CHEMCROW])
    found = [Found("arxiv:2312.07559", "s2:x", 111, 2, (Work("s2:y", "ChemCrow", None, "2304.05376"),
                                                        Work("s2:z", "Elsewhere", "10.1/abc")))]
    first = store.citations.save_citations("s2", found, "2025-01-01T00:00:00Z")
    again = store.citations.save_citations("s2", found, "2025-01-02T00:00:00Z")
    assert (first["edges_added"], again["edges_added"]) == (2, 0)
    backup(settings, tmp_path / "bk")
    copy = Store(tmp_path / "bk" / settings.db_path.name)
    try:
        assert copy.citations.references_of("arxiv:2312.07559") == store.citations.references_of("arxiv:2312.07559")
        assert [r.id for r in copy.citations.references_of("arxiv:2312.07559")] == ["arxiv:2304.05376",
                                                                                   "doi:10.1/abc"]
    finally:
        copy.close()


def test_citations_read_alike_on_both_backends(backend_store):
    s = backend_store
    s.upsert_papers([PAPERQA, CHEMCROW, NOWHERE])
    s.citations.save_citations("openalex", [
        Found("arxiv:2312.07559", "openalex:W4389761608", 27, None,
              (Work("openalex:W4365597205", "ChemCrow", "10.48550/arxiv.2304.05376", "2304.05376"),
               Work("openalex:W1", "Outside", "10.5/x", None, 2020))),
        Found("arxiv:0704.0001", None)])
    assert s.citations.citing_ids("arxiv:2304.05376") == ["arxiv:2312.07559"]
    assert [(r.id, r.in_store, r.title) for r in s.citations.references_of("arxiv:2312.07559")] == [
        ("arxiv:2304.05376", True, CHEMCROW.title), ("doi:10.5/x", False, "Outside")]
    assert s.get_paper("arxiv:2312.07559").signals["citations"].value == 27
    assert s.citations.citations_due("openalex", "2000-01-01T00:00:00Z") == [
        w for w in s.citations.citations_due("openalex", "2000-01-01T00:00:00Z")]
    assert [w.paper_id for w in s.citations.citations_due("openalex", "9999")] == [
        "arxiv:0704.0001", "arxiv:2304.05376", "arxiv:2312.07559"]
    assert [w.paper_id for w in s.citations.citations_due("openalex", "2000")] == ["arxiv:2304.05376"]


def test_migrate_copies_the_citation_tables(settings, store, pg_url):
    from paperscope.store_pg import PgStore
    from paperscope.store_pg.migrate import migrate

    store.upsert_papers([PAPERQA, CHEMCROW])
    store.citations.save_citations("s2", [Found("arxiv:2312.07559", "s2:x", 111, 2,
                                                (Work("s2:y", "ChemCrow", None, "2304.05376"),))])
    pg = PgStore(pg_url)
    try:
        tables = migrate(store, pg)["tables"]
        assert (tables["citations"], tables["citation_fetches"], tables["citation_works"]) == (1, 1, 1)
        assert pg.citations.cited_ids("arxiv:2312.07559") == ["arxiv:2304.05376"]
    finally:
        pg.close()


def test_cli_ingest_openalex_reports_no_match_and_exits_1_when_nothing_is_due(server, settings, store):
    from click.testing import CliRunner

    from paperscope.cli import main

    store.upsert_papers([PAPERQA, NOWHERE])
    openalex_stand_in(server, openalex_pool())
    env = {"PAPERSCOPE_OPENALEX_API_URL": server.url, "PAPERSCOPE_OPENALEX_DELAY": "0"}
    args = ["--data-dir", str(settings.home), "ingest", "openalex"]
    first = CliRunner().invoke(main, args, env=env)
    assert first.exit_code == 0, first.output
    assert "no match in OpenAlex" in first.output and "arxiv:0704.0001" in first.output
    second = CliRunner().invoke(main, args, env=env)
    assert second.exit_code == 1 and "nothing to fetch" in second.output


# --- shown: pages, API, CLI -----------------------------------------------------------------------

@pytest.fixture
def cited_store(server, settings, store):
    """PaperQA, ChemCrow, Attention and a paper Attention cites, enriched from the Semantic Scholar stand-in."""
    attention = _paper("1706.03762", "Attention Is All You Need", published="2017-06-12T00:00:00Z")
    sparsity = _paper("2208.04425", "Controlled Sparsity via Constrained Optimization",
                      published="2022-08-08T00:00:00Z")
    store.upsert_papers([PAPERQA, CHEMCROW, attention, sparsity])
    s2_stand_in(server, _with_links(s2_pool()))
    enrich.ingest_semantic_scholar(store, settings)
    return store


def test_the_paper_page_cards_and_api_show_counts_and_lists(settings, cited_store, fake_embedder):
    import dataclasses

    from fastapi.testclient import TestClient

    from paperscope.pipeline import embed_papers, update_indexes
    from paperscope.search import open_engine
    from paperscope.web.app import create_app

    embed_papers(cited_store, fake_embedder)
    update_indexes(cited_store, settings, fake_embedder.name, fake_embedder.dim)
    s = dataclasses.replace(settings, signup="open")
    with TestClient(create_app(s, open_engine(cited_store, s, fake_embedder))) as c:
        page = c.get("/paper/arxiv:2304.05376").text
        assert 'id="citations"' in page and "Semantic Scholar: cited by 500 (20 influential)" in page
        assert '<a href="/paper/arxiv:2312.07559">PaperQA' in page  # cited by a paper here, linked
        refs = c.get("/paper/arxiv:1706.03762").text
        assert '<a href="/paper/arxiv:2208.04425">Controlled Sparsity' in refs and "doi.org/10." in refs
        card = c.get("/search", params={"q": "PaperQA", "mode": "keyword"}).text
        assert "cited by 111" in card and 'title="citations counted by Semantic Scholar on' in card
        api = c.get("/api/papers/arxiv:2304.05376/citations").json()
        assert api["citationCount"] == 500 and api["total"] == 1
        assert api["citations"][0]["inStore"] and api["citations"][0]["paper"]["paperscopeId"] == "arxiv:2312.07559"
        refs_api = c.get("/api/papers/arxiv:1706.03762/references", params={"limit": 5}).json()
        assert refs_api["total"] == 147 and refs_api["references"][0]["paper"]["id"] == "2208.04425"
        assert not refs_api["references"][1]["inStore"] and refs_api["references"][1]["title"]
        assert c.get("/api/papers/arxiv:2312.07559").json()["citationCount"] == 111
        assert c.get("/api/papers/arxiv:9999.99999/citations").status_code == 404
        # a member whose library holds PaperQA sees it under "Cited by papers in your library" on ChemCrow's page
        from paperscope.auth import hash_password

        ada = cited_store.users.create("ada@example.org", hash_password("correct horse"))
        cited_store.users.save(ada.id, "arxiv:2312.07559", ["reading"])
        r = c.post("/login", data={"email": "ada@example.org", "password": "correct horse", "csrf": _csrf(c)},
                   follow_redirects=False)
        assert r.status_code == 303
        mine = c.get("/paper/arxiv:2304.05376").text
        assert 'id="cited-by-library"' in mine


def _csrf(client) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)


def test_cli_show_citations(settings, cited_store):
    from click.testing import CliRunner

    from paperscope.cli import main

    out = CliRunner().invoke(main, ["--data-dir", str(settings.home), "show", "2304.05376", "--citations"])
    assert out.exit_code == 0, out.output
    assert "Semantic Scholar: cited by 500 (20 influential)" in out.output
    assert "cited by 1 paper(s) here:" in out.output and "arxiv:2312.07559  PaperQA" in out.output
    data = json.loads(CliRunner().invoke(main, ["--data-dir", str(settings.home), "show", "1706.03762",
                                                "--citations", "--json"]).output)
    assert len(data["citations"]["references"]) == 147 and data["citations"]["references"][0]["inStore"]


def test_cites_and_citedby_filters_return_exactly_the_stored_edges(settings, cited_store, fake_embedder):
    from paperscope.pipeline import embed_papers, update_indexes
    from paperscope.search import open_engine, search

    embed_papers(cited_store, fake_embedder)
    update_indexes(cited_store, settings, fake_embedder.name, fake_embedder.dim)
    engine = open_engine(cited_store, settings, fake_embedder)

    def ids(q: str, mode: str = "hybrid") -> list[str]:
        return [h.paper.id for h in search(engine, q, 50, mode).hits]

    assert ids("cites:arxiv:2304.05376") == cited_store.citations.citing_ids("arxiv:2304.05376") == ["arxiv:2312.07559"]
    assert ids("citedby:1706.03762") == cited_store.citations.cited_ids("arxiv:1706.03762") == ["arxiv:2208.04425"]
    assert ids("citedby:1706.03762 sparsity", "keyword") == ["arxiv:2208.04425"]
    assert ids("citedby:1706.03762 language models", "semantic") == ["arxiv:2208.04425"]
    assert ids("cites:arxiv:2208.04425 cites:arxiv:2304.05376") == []  # both at once: no paper cites the two
