"""The three arXiv sources against responses arXiv really sent (../shared/data/real-arxiv, see its PROVENANCE.md).

Each body is served by the loopback RecordedServer to the real source code through the
`arxiv_oai_url` / `arxiv_api_url` settings. Cases no recording exists for (a repeated resumption token, a deleted
record, a file still growing) are stubs,
written inline below and marked as such.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperscope.cli import main
from paperscope.errors import SourceError
from paperscope.pipeline import SourceOptions, ingest
from paperscope.sources._authors import parse_byline
from recorded import shared

WINDOW = SourceOptions(prefix="arXivRaw", since="2014-10-01", until="2015-01-06")


def _real(name: str) -> bytes:
    return shared("real-arxiv", name).read_bytes()


def _serve_real_harvest(server) -> None:
    """Page 1: a real arXivRaw ListRecords page with arXiv's token; page 2: a real arXivRaw record, no token."""
    server.add("/oai", _real("oai_arxivraw_listrecords_page1.xml"), when={"metadataPrefix": "arXivRaw"})
    server.add("/oai", _real("oai_arxivraw_getrecord_1302.2146.xml"), when={"resumptionToken": "726959|1001"})


def _cli(home: Path, server, *args: str):
    env = {"PAPERSCOPE_ARXIV_OAI_URL": server.url + "/oai", "PAPERSCOPE_ARXIV_API_URL": server.url + "/api/query",
           "PAPERSCOPE_ARXIV_OAI_DELAY": "0", "PAPERSCOPE_ARXIV_API_DELAY": "0", "PAPERSCOPE_HTTP_RETRIES": "1"}
    return CliRunner().invoke(main, ["--data-dir", str(home), *args], env=env, catch_exceptions=False)


def _one_error_line(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- OAI-PMH arXivRaw: a real harvest --------------------------------------------------------------

def test_real_arxivraw_pages_follow_the_token_and_keep_every_field(server, settings, store):
    _serve_real_harvest(server)
    report = ingest(store, settings, "arxiv-oai", WINDOW)
    assert (report.added, report.problems) == (7, ())
    assert [r.params.get("resumptionToken") for r in server.log] == [None, "726959|1001"]
    p = store.get_paper("0704.0471")
    assert [a.name for a in p.authors] == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    # arXiv lists the erratum's DOI after the paper's: both are kept
    assert p.doi == "10.1103/physrevc.76.024606"
    assert p.links["doi2"] == "https://doi.org/10.1103/physrevc.76.039902"
    q = store.get_paper("0704.0716")
    assert [v.version for v in q.versions] == ["v1", "v2", "v3", "v4"]
    assert (q.published, q.updated) == ("2007-04-05T12:45:03Z", "2008-11-14T09:07:25Z")
    assert store.get_paper("1302.2146").updated == "2013-04-02T01:50:08Z"


def test_identical_restart_of_a_real_harvest_changes_nothing(server, settings, store):
    _serve_real_harvest(server)
    ingest(store, settings, "arxiv-oai", WINDOW)
    again = ingest(store, settings, "arxiv-oai", WINDOW, restart=True)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 7)


def _serve_real_2016_harvest(server) -> None:
    """Page 1: arXiv's 2016-10-20 arXivRaw answer (387 records, token 1403493|1001); page 2: a real record."""
    server.add("/oai", _real("oai_arxivraw_listrecords_2016-10-20.xml"), when={"metadataPrefix": "arXivRaw"})
    server.add("/oai", _real("oai_arxivraw_getrecord_0804.2273.xml"), when={"resumptionToken": "1403493|1001"})


WINDOW_2016 = SourceOptions(prefix="arXivRaw", since="2016-10-20", until="2016-10-21")
# what an affiliation looks like when it leaks into a name
_FRAGMENT = re.compile(r"[()]|^\d|^and\b|Univ|Institut|Department|Laborator|College|Observator|Fermilab", re.I)


def test_real_2016_harvest_versions_in_number_order_and_clean_names(server, settings, store):
    _serve_real_2016_harvest(server)
    report = ingest(store, settings, "arxiv-oai", WINDOW_2016)
    assert (report.added, report.problems) == (388, ())
    p = store.get_paper("1204.6689")  # arXivRaw lists its 13 versions as v1, v10, v11, v12, v13, v2 … v9
    assert [v.version for v in p.versions] == [f"v{n}" for n in range(1, 14)]
    assert (p.published, p.updated) == ("2012-04-30T16:26:38Z", "2016-10-20T07:58:56Z")
    names = [a.name for paper in store.iter_papers() for a in paper.authors]
    assert len(names) > 1000 and [n for n in names if _FRAGMENT.search(n)] == []
    bilicki = store.get_paper("1408.0799").authors
    assert [(a.name, a.affiliations) for a in bilicki[:2]] == [
        ("Maciej Bilicki", ("University of Cape Town", "University of Zielona Góra")),
        ("John A. Peacock", ("University of Edinburgh",))]
    assert [(a.name, a.affiliations) for a in store.get_paper("1203.0193").authors] == [("Servane Gey", ("MAP5",))]
    edelen = {a.name: a.affiliations for a in store.get_paper("1511.01883").authors}
    assert edelen["S.V. Milton"] == ("Colorado State U., Fort Collins",) and edelen["D. Edstrom Jr."] == ()


def test_real_2016_harvest_restart_reports_nothing_updated(server, settings, store, tmp_path):
    _serve_real_2016_harvest(server)
    home = tmp_path / "home"
    first = _cli(home, server, "ingest", "arxiv-oai", "--prefix", "arXivRaw", "--from", "2016-10-20",
                 "--until", "2016-10-21", "--json")
    assert first.exit_code == 0, first.output
    again = _cli(home, server, "ingest", "arxiv-oai", "--prefix", "arXivRaw", "--from", "2016-10-20",
                 "--until", "2016-10-21", "--restart", "--json")
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 388)
    shown = _cli(home, server, "show", "1204.6689").stdout
    assert "updated: 2016-10-20" in shown and "v13 (2016-10-20)" in shown


# --- OAI-PMH errors as arXiv sent them ---------------------------------------------------------------

@pytest.mark.parametrize("name, said", [
    ("oai_error_badargument.xml", "badArgument: Verb 'ListRecords', illegal argument 'identifier'."),
    ("oai_error_badverb.xml", "badVerb: Bad verb. Verb 'wah' not implemented."),
    ("oai_error_iddoesnotexist.xml", "idDoesNotExist: Identifier 'oai:arXiv.org:0813.2274' has correct form"),
])
@pytest.mark.parametrize("status", [200, 400])
def test_real_oai_errors_are_source_errors_with_the_servers_message(server, settings, store, name, said, status):
    server.add("/oai", _real(name), status=status)
    with pytest.raises(SourceError) as caught:
        ingest(store, settings, "arxiv-oai", WINDOW)
    assert said in str(caught.value)
    assert len(server.log) == 1  # an OAI error is an answer, not a reason to retry


def test_real_no_records_match_is_a_clean_zero(server, settings, store):
    server.add("/oai", _real("oai_error_norecordsmatch.xml"))
    report = ingest(store, settings, "arxiv-oai", WINDOW)
    assert (report.added, report.problems) == (0, ())
    assert store.get_checkpoint("arxiv_oai:all:arXivRaw") == {"next_from": "2015-01-06"}


def test_real_bad_resumption_token_restarts_the_window(server, settings, store):
    server.add("/oai", _real("oai_error_badresumptiontoken.xml"), when={"resumptionToken": "3"})
    _serve_real_harvest(server)
    base = {"metadataPrefix": "arXivRaw", "until": "2015-01-06", "from": "2014-10-01"}
    store._set_checkpoint("arxiv_oai:all:arXivRaw", {"params": base, "token": "3", "next_from": "2014-10-01"})
    report = ingest(store, settings, "arxiv-oai", SourceOptions(prefix="arXivRaw", until="2015-01-06"))
    assert report.added == 7
    assert [r.params.get("resumptionToken") for r in server.log] == ["3", None, "726959|1001"]


def test_cli_bad_argument_prints_one_error_line_and_no_traceback(server, tmp_path):
    server.add("/oai", _real("oai_error_badargument.xml"), status=400)
    result = _cli(tmp_path / "home", server, "ingest", "arxiv-oai", "--prefix", "arXivRaw")
    line = _one_error_line(result)
    assert "illegal argument 'identifier'" in line and "badArgument" in line




def test_stub_repeated_resumption_token_stops_with_an_error(server, settings, store):
    # answers every request, including the token's, with itself (a bounded number of times, so a loop fails)
    server.add("/oai", _real("oai_arxivraw_listrecords_page1.xml"), times=5)  # a real page whose token we serve forever
    with pytest.raises(SourceError, match="resumption token '726959|1001' a second time"):
        ingest(store, settings, "arxiv-oai", WINDOW)
    assert len(server.log) == 2
    assert store.paper_count() == 6  # the page's records are kept
    assert store.get_checkpoint("arxiv_oai:all:arXivRaw")["token"] == "726959|1001"


STUB_DELETED = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2015-02-01T00:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="arXivRaw">http://export.arxiv.org/oai2</request><ListRecords>
<record><header status="deleted"><identifier>oai:arXiv.org:0704.0716</identifier><datestamp>2015-01-30</datestamp>
</header></record></ListRecords></OAI-PMH>"""


def test_stub_deleted_record_marks_the_paper_withdrawn_not_gone(server, settings, store):
    _serve_real_harvest(server)
    ingest(store, settings, "arxiv-oai", WINDOW)
    user = store.users.create("reader@example.org", None)
    store.users.save(user.id, "arxiv:0704.0716", ["lattice"])
    server.rules.clear()
    server.add("/oai", STUB_DELETED.encode())
    report = ingest(store, settings, "arxiv-oai", SourceOptions(prefix="arXivRaw", until="2015-02-01"))
    assert report.updated == 1
    p = store.get_paper("0704.0716")
    assert p.withdrawn and p.title == "Limit distributions and scaling functions"
    assert store.users.paper_ids(user.id) == ["arxiv:0704.0716"]  # still in the reader's library
    day = p.published[:10]
    assert store.papers_on_day(day) == [] and store.count_on_day(day) == 0
    assert store.papers_by_author("Christoph Richard") == []
    new_for_digests = store.ids_first_seen_since("2000-01-01")
    assert "arxiv:0704.0716" not in new_for_digests and len(new_for_digests) == 6
    again = ingest(store, settings, "arxiv-oai", SourceOptions(prefix="arXivRaw", until="2015-02-01"), restart=True)
    assert again.updated == 0


def test_withdrawn_paper_page_says_so(server, settings, store, fake_embedder):
    from fastapi.testclient import TestClient

    from paperscope.search import open_engine
    from paperscope.web.app import create_app

    _serve_real_harvest(server)
    ingest(store, settings, "arxiv-oai", WINDOW)
    server.rules.clear()
    server.add("/oai", STUB_DELETED.encode())
    ingest(store, settings, "arxiv-oai", SourceOptions(prefix="arXivRaw", until="2015-02-01"))
    client = TestClient(create_app(settings, open_engine(store, settings, fake_embedder)))
    page = client.get("/paper/arxiv:0704.0716")
    assert page.status_code == 200 and "Withdrawn" in page.text
    assert client.get("/api/papers/0704.0716").json()["withdrawnAt"]
    assert client.get("/api/papers/0704.0471").json()["withdrawnAt"] is None


# --- arXiv API (Atom) as arXiv sent it ---------------------------------------------------------------

def _serve_testing_pages(server, starts: tuple[int, ...]) -> None:
    for start in starts:
        server.add("/api/query", _real(f"api_q_testing_s{start}_m10.xml"), when={"start": str(start)})


def test_real_empty_api_page_mid_query_fails_keeps_start_and_the_rerun_resumes(server, settings, store):
    _serve_testing_pages(server, (0,))
    server.add("/api/query", _real("api_empty_id_0000.0000.xml"), when={"start": "10"})
    opts = SourceOptions(query="testing", max_results=60)
    with pytest.raises(SourceError, match="empty page at start=10 .*re-run"):
        ingest(store, settings, "arxiv-api", opts)
    assert store.paper_count() == 10
    assert store.get_checkpoint("arxiv_api")["start"] == 10
    assert not store.get_checkpoint("arxiv_api")["complete"]
    server.rules.clear()
    server.log.clear()
    _serve_testing_pages(server, (10, 20, 30, 40, 50))
    report = ingest(store, settings, "arxiv-api", opts)
    assert report.resumed and report.added == 50 and store.paper_count() == 60
    assert server.log[0].params["start"] == "10"


def test_real_error_feed_with_http_400_shows_arxivs_message(server, settings, store):
    server.add("/api/query", _real("api_error_id_abc_http400.xml"), status=400)
    with pytest.raises(SourceError, match="incorrect id format for abc"):
        ingest(store, settings, "arxiv-api", SourceOptions(ids=("abc",)))
    assert len(server.log) == 1


def test_cli_api_error_and_empty_page_are_one_error_line_exit_nonzero(server, tmp_path):
    server.add("/api/query", _real("api_error_id_abc_http400.xml"), status=400, when={"id_list": "abc"})
    line = _one_error_line(_cli(tmp_path / "a", server, "ingest", "arxiv-api", "--id", "abc"))
    assert "incorrect id format for abc" in line and "<?xml" not in line
    _serve_testing_pages(server, (0,))
    server.add("/api/query", _real("api_empty_id_0000.0000.xml"), when={"start": "10"})
    line = _one_error_line(_cli(tmp_path / "b", server, "ingest", "arxiv-api", "--query", "testing",
                                "--max-results", "60"))
    assert "re-run" in line


def test_real_api_entries_keep_doi_and_latest_version(server, settings, store):
    server.add("/api/query", _real("api_id_1707.08567.xml"))
    ingest(store, settings, "arxiv-api", SourceOptions(ids=("1707.08567",)))
    p = store.get_paper("1707.08567")
    assert p.versions[0].version == "v1" and p.published and p.title


# --- the snapshot: a file still being written, bad bytes -------------------------------------------

def test_snapshot_cut_mid_line_then_completed_ends_with_all_200(settings, store, tmp_path):
    full = shared("arxiv-snapshot-sample.jsonl").read_bytes()
    last_line = full.rstrip(b"\n").rfind(b"\n") + 1
    growing = tmp_path / "snap.jsonl"
    growing.write_bytes(full[: last_line + 150])  # the download has not finished the 200th record yet
    first = ingest(store, settings, "snapshot", SourceOptions(path=growing))
    assert first.added == 199
    assert [p.reason for p in first.problems] == ["incomplete last line, will be read when complete"]
    assert store.get_checkpoint(f"arxiv_snapshot:{growing.resolve()}")["offset"] == last_line
    growing.write_bytes(full)
    second = ingest(store, settings, "snapshot", SourceOptions(path=growing))
    assert (second.added, second.problems) == (1, ()) and store.paper_count() == 200


def test_snapshot_last_line_without_newline_but_whole_is_read(settings, store, tmp_path):
    f = tmp_path / "snap.jsonl"
    f.write_bytes(shared("arxiv-snapshot-sample.jsonl").read_bytes().rstrip(b"\n"))
    assert ingest(store, settings, "snapshot", SourceOptions(path=f)).added == 200


def test_snapshot_names_invalid_utf8_and_never_says_at_at(settings, store, tmp_path):
    lines = shared("arxiv-snapshot-sample.jsonl").read_bytes().splitlines(keepends=True)
    f = tmp_path / "snap.jsonl"
    f.write_bytes(lines[0] + b'\xff\xfe{"id": "0704.9998"}\n' + lines[1] + b'{"id": "0704.9997", "title": "a\x01b"}\n')
    report = ingest(store, settings, "snapshot", SourceOptions(path=f))
    reasons = [p.reason for p in report.problems]
    assert reasons[0].startswith("not valid UTF-8") and "JSON" not in reasons[0]
    assert reasons[1].startswith("not valid JSON (Invalid control character at column")
    assert not any("at at" in r for r in reasons)


# --- arXiv bylines (real strings from the snapshot sample) -----------------------------------------

def test_real_bylines_match_kaggles_names_and_keep_affiliations_apart():
    for line in shared("arxiv-snapshot-sample.jsonl").read_text().splitlines():
        rec = json.loads(line)
        parsed = parse_byline(rec["authors"])
        assert len(parsed) == len(rec["authors_parsed"]), rec["id"]
        for name, affiliations in parsed:
            assert "(" not in name and ")" not in name and not name[0].isdigit(), (rec["id"], name)
            assert all(a and not a[0].isdigit() for a in affiliations), (rec["id"], affiliations)


def test_real_numbered_and_bare_legends():
    recs = {json.loads(x)["id"]: json.loads(x) for x in shared("arxiv-snapshot-sample.jsonl").read_text().splitlines()}
    assert parse_byline(recs["0704.0025"]["authors"]) == [
        ("A. S. Mishchenko",
         ("CREST, Japan Science and Technology Agency", "Russian Research Centre ``Kurchatov Institute''")),
        ("N. Nagaosa", ("CREST, Japan Science and Technology Agency", "The University of Tokyo"))]
    lanzoni = dict(parse_byline(recs["0704.0139"]["authors"]))
    assert lanzoni["M. Mapelli"] == ("S.I.S.S.A., Via Beirut 2 - 4, Trieste",)
    assert lanzoni["B. Lanzoni"] == ("Dip. Astro., Bologna", "INAF--Oss. Astro., Bologna")
    assert parse_byline("Servane Gey (MAP5), Tristan Mary-Huard (MIA)") == [
        ("Servane Gey", ("MAP5",)), ("Tristan Mary-Huard", ("MIA",))]


def test_snapshot_keeps_byline_affiliations(settings, store):
    ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    p = store.get_paper("0704.0025")
    assert p.authors[1].affiliations == ("CREST, Japan Science and Technology Agency", "The University of Tokyo")
    assert store.get_paper("0704.0033").links["doi2"] == "https://doi.org/10.1364/josaa.32.002407"


def test_withdrawn_paper_leaves_search_similar_and_recommendations(settings, store, fake_embedder):
    from paperscope.models import Batch
    from paperscope.pipeline import embed_papers, update_indexes
    from paperscope.recommend import recommend
    from paperscope.search import open_engine, search, similar

    ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    engine = open_engine(store, settings, fake_embedder)
    user = store.users.create("reader@example.org", None)
    for pid in ("arxiv:0704.0001", "arxiv:0704.0002", "arxiv:0704.0003"):
        store.users.save(user.id, pid, ["mine"])
    title = store.get_paper("0704.0004").title
    top = recommend(engine, user.id, k=5)[0].paper.id
    near = similar(engine, ["arxiv:0704.0001"], k=5)[0].paper.id
    assert "arxiv:0704.0004" in [h.paper.id for h in search(engine, title, k=5, mode="keyword").hits]

    run = store.start_run("test")
    gone = [store.get_paper(x).arxiv_id for x in ("arxiv:0704.0004", top, near)]
    store.commit_batch("test", run, Batch((), withdrawn=tuple(gone)))
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    engine = open_engine(store, settings, fake_embedder)
    assert "arxiv:0704.0004" not in [h.paper.id for h in search(engine, title, k=5, mode="keyword").hits]
    assert top not in [r.paper.id for r in recommend(engine, user.id, k=5)]
    assert near not in [h.paper.id for h in similar(engine, ["arxiv:0704.0001"], k=5)]
