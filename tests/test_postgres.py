"""The PostgreSQL backend end to end: same rankings as the embedded default, migration, the CLI and
`serve --workers 2` with nothing shared on local disk, and the messages for a missing extra or a bad URL."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperscope.backends import open_store
from paperscope.config import load_settings
from paperscope.errors import ConfigError, MissingExtraError, StoreError
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine, search
from paperscope.store import Store
from paperscope.store_pg import PgStore
from paperscope.store_pg.migrate import migrate
from recorded import shared
from serving import free_port

DATA = Path(__file__).parent / "data"
QUERIES = ["quark gluon", "diphoton production cross sections", "graph colouring", "neutrino mass",
           "black hole entropy"]


def _fill(store, settings, embedder) -> None:
    ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    embed_papers(store, embedder)
    update_indexes(store, settings, embedder.name, embedder.dim)


def _public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


# Methods that landed on main after the PostgreSQL twin was written; each needs its twin in store_pg/
# (and the tables in store_pg/schema.py). Remove a name here when it is ported.
NOT_YET_PORTED: set[str] = set()


def test_the_postgres_store_has_every_method_of_the_embedded_store():
    """A method added to the SQLite store must get its twin in store_pg (see store_pg/__init__.py)."""
    from paperscope.store.community import CommunityRows
    from paperscope.store.users import UserStore
    from paperscope.store_pg.community import PgCommunityRows
    from paperscope.store_pg.users import PgUserStore

    assert _public(Store) - _public(PgStore) == set()
    assert _public(UserStore) - _public(PgUserStore) == NOT_YET_PORTED
    assert _public(CommunityRows) - _public(PgCommunityRows) == set()


def test_postgres_ranks_like_the_embedded_default(settings, store, pg_url, fake_embedder):
    pg_settings = dataclasses.replace(settings, database_url=pg_url)
    pg = open_store(pg_settings)
    assert isinstance(pg, PgStore)
    _fill(store, settings, fake_embedder)
    _fill(pg, pg_settings, fake_embedder)
    embedded, server = open_engine(store, settings, fake_embedder), open_engine(pg, pg_settings, fake_embedder)
    for query in QUERIES:
        for mode in ("hybrid", "semantic", "keyword"):
            a = [h.paper.id for h in search(embedded, query, 10, mode).hits]
            b = [h.paper.id for h in search(server, query, 10, mode).hits]
            assert a and len(b) == len(a) and len(set(a) & set(b)) >= min(8, len(a)), (query, mode, a, b)
    pg.close()


def test_migrate_copies_an_embedded_install_and_resumes_after_an_interruption(settings, store, pg_url, fake_embedder):
    _fill(store, settings, fake_embedder)
    users = store.users
    ada = users.create("ada@example.org", "hash")
    users.save(ada.id, "arxiv:0704.0001", ["qcd", "to read"])
    users.vote(ada.id, "arxiv:0704.0002", 1)
    users.save_search(ada.id, "quarks", "quark year:2007")
    users.queue_digest(ada.id, b"Subject: x\r\n\r\nbody", ["arxiv:0704.0003"], "2024-01-01T00:00:00Z")
    pg = PgStore(pg_url)

    def crash_after_first_batch(table: str, n: int) -> None:
        if table == "papers":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        migrate(store, pg, batch=50, on_step=crash_after_first_batch)
    assert pg.paper_count() == 50  # the first batch landed with its checkpoint, nothing half-written
    result = migrate(store, pg, batch=50)
    assert result["tables"]["papers"] == 200 and result["tables"]["embeddings"] == 200
    assert result["tables"]["users"] == 1 and result["tables"]["library"] == 2
    assert migrate(store, pg, batch=50)["tables"] == result["tables"]  # running again changes nothing
    moved = pg.users.by_email("ADA@example.org")
    assert moved and moved.id == ada.id and pg.users.tags(ada.id) == [("qcd", 1), ("to read", 1)]
    assert pg.users.upvoted(ada.id) == ["arxiv:0704.0002"] and len(pg.users.pending_digests()) == 1
    assert pg.users.create("bob@example.org", None).id == ada.id + 1  # ids continue after the copied ones
    assert pg.get_paper("0704.0001") == store.get_paper("0704.0001")
    pg_settings = dataclasses.replace(settings, database_url=pg_url)
    update_indexes(pg, pg_settings, fake_embedder.name, fake_embedder.dim)
    a = search(open_engine(store, settings, fake_embedder), "quark gluon").hits
    b = search(open_engine(pg, pg_settings, fake_embedder), "quark gluon").hits
    assert [h.paper.id for h in a] == [h.paper.id for h in b]
    pg.close()


def test_migrate_refuses_a_database_that_already_holds_other_papers(settings, store, pg_url, fake_embedder):
    _fill(store, settings, fake_embedder)
    pg = PgStore(pg_url)
    ingest(pg, settings, "file", SourceOptions(path=DATA / "papers.csv"))
    with pytest.raises(StoreError, match="empty database"):
        migrate(store, pg)
    pg.close()


def test_a_missing_extra_names_the_install(monkeypatch, pg_url):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtraError, match=r"paperscope\[postgres\]"):
        PgStore(pg_url)


def test_bad_backend_settings_are_clear_errors(tmp_path, pg_server):
    with pytest.raises(ConfigError, match="postgresql://"):
        load_settings(tmp_path, environ={"PAPERSCOPE_DATABASE_URL": "mysql://x/y"})
    with pytest.raises(ConfigError, match="database_url"):
        load_settings(tmp_path, environ={"PAPERSCOPE_VECTOR_BACKEND": "pgvector"})
    unreachable = pg_server.replace("/postgres?", "/no_such_db?")
    with pytest.raises(StoreError, match="check database_url"):
        PgStore(unreachable)



def test_cli_on_postgres_writes_no_local_files_and_two_workers_serve_search(tmp_path, pg_url):
    import requests

    from paperscope.embed import load_query_embedder

    home = tmp_path / "home"
    env = {**os.environ, "PAPERSCOPE_DATABASE_URL": pg_url, "PAPERSCOPE_HOME": str(home)}
    cli = [sys.executable, "-m", "paperscope"]
    done = subprocess.run(cli + ["ingest", "file", str(DATA / "papers.csv")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # the real model's vectors (its ONNX twin: same model, no torch start-up), then the CLI's own index step
    settings = load_settings(home, environ={"PAPERSCOPE_DATABASE_URL": pg_url})
    pg = open_store(settings)
    embed_papers(pg, load_query_embedder())
    pg.close()
    done = subprocess.run(cli + ["index"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    found = subprocess.run(cli + ["search", "rank fusion", "--json", "-k", "3"], env=env, capture_output=True,
                           text=True)
    assert found.returncode == 0 and found.stderr == "", found.stderr
    hits = json.loads(found.stdout)["hits"]  # stdout is exactly one JSON document
    assert hits
    assert not home.exists()  # no SQLite file, no index files, no secret: everything is in PostgreSQL

    port = free_port()
    proc = subprocess.Popen(cli + ["serve", "--workers", "2", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/api/search"
        deadline, answers = time.monotonic() + 120, []
        while time.monotonic() < deadline and len(answers) < 4:
            try:
                r = requests.get(url, params={"q": "rank fusion"}, timeout=30)
                answers.append(r.json())
            except requests.ConnectionError:
                time.sleep(0.5)
        assert len(answers) == 4, proc.stderr.read().decode() if proc.poll() is not None else "no answer"
        assert all(a["hits"] and a["hits"][0]["paper"]["id"] == answers[0]["hits"][0]["paper"]["id"] for a in answers)
        assert not home.exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_pgvector_hnsw_keeps_recall_under_a_selective_filter(pg_url):
    """With sequential scans off the HNSW index must answer; iterative scanning keeps a 2% filter full."""
    import numpy as np

    from paperscope.models import Filters, Paper
    from paperscope.store_pg.vectors import PgVectorIndex

    store = PgStore(pg_url + "%20-cenable_seqscan%3Doff%20-cenable_bitmapscan%3Doff")
    rng = np.random.default_rng(7)
    n, dim = 1500, 32
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    papers = [Paper(id=f"local:{i}", title=f"p{i}", categories=("rare",) if i % 50 == 0 else ("common",),
                    published=f"20{10 + i % 10}-01-01") for i in range(n)]
    store.upsert_papers(papers)
    seqs = dict((p.id, s) for s, p in store.papers_changed_since(0, n))
    model = store.model_id("rand", dim)
    store.save_embeddings(model, [(p.id, seqs[p.id], "h", vecs[i].astype(np.float16).tobytes())
                                  for i, p in enumerate(papers)])
    index = PgVectorIndex(store, "rand", dim)
    assert index.catch_up() == n and index.catch_up() == 0
    plan = store.conn.execute(
        f"EXPLAIN SELECT paper_id FROM embeddings WHERE model_id = {model} ORDER BY vector::halfvec({dim}) <=>"
        f" '[{','.join(['0.1'] * dim)}]'::halfvec({dim}) LIMIT 10").fetchall()
    assert "embeddings_hnsw" in " ".join(r[0] for r in plan)
    exact16 = vecs.astype(np.float16).astype(np.float32)
    rare = [i for i in range(n) if i % 50 == 0]
    found_all = 0
    for q in vecs[:10]:
        hits = index.search(q, 10, index.mask(Filters(categories=("rare",))))
        assert len(hits) == 10 and all(int(pid.split(":")[1]) % 50 == 0 for pid, _ in hits)
        truth = {f"local:{rare[j]}" for j in np.argsort(-(exact16[rare] @ q))[:10]}
        found_all += len(truth & {pid for pid, _ in hits})
        dated = index.search(q, 5, index.mask(Filters(since="2019-01-01")), exclude=["local:9"])
        assert len(dated) == 5 and all(int(pid.split(":")[1]) % 10 == 9 for pid, _ in dated)
        assert "local:9" not in {pid for pid, _ in dated}
    assert found_all / 100 >= 0.9
    store.close()


def test_recommendations_on_postgres_match_the_embedded_default(settings, store, pg_url, fake_embedder):
    from paperscope.recommend import recommend

    pg_settings = dataclasses.replace(settings, database_url=pg_url)
    pg = open_store(pg_settings)
    found = []
    for s, conf in ((store, settings), (pg, pg_settings)):
        _fill(s, conf, fake_embedder)
        saved = [p.id for p in s.iter_papers() if p.categories and p.categories[0] == "hep-ph"][:6]
        ada = s.users.create("ada@example.org", None)
        s.users.save(ada.id, saved[0], ["pheno"])
        for pid in saved[1:]:
            s.users.save(ada.id, pid, ["pheno"])
        s.users.set_hidden(ada.id, saved[-1])
        recs = recommend(open_engine(s, conf, fake_embedder), ada.id, "pheno", k=5)
        assert len(recs) == 5 and not {r.paper.id for r in recs} & set(saved)
        assert all(r.because and r.because[0].id in saved for r in recs)
        found.append([r.paper.id for r in recs])
    assert len(set(found[0]) & set(found[1])) >= 4, found
    pg.close()


def test_a_killed_workers_keyword_mirror_is_swept_and_a_live_ones_kept():
    import tempfile

    from paperscope.backends import _sweep_orphans

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = Path(tempfile.gettempdir()) / f"paperscope-keyword-{gone.pid}-test"
    alive = Path(tempfile.gettempdir()) / f"paperscope-keyword-{os.getppid()}-test"
    for d in (dead, alive):
        (d / "index").mkdir(parents=True, exist_ok=True)
    _sweep_orphans()
    assert not dead.exists() and alive.exists()
    import shutil

    shutil.rmtree(alive)


def test_sessions_tokens_and_admin_switches_on_postgres(pg_url):
    pg = PgStore(pg_url)
    users = pg.users
    ada = users.create("ada@example.org", None)
    assert ada.role == "admin" and users.create("bob@example.org", None).role == "user"  # the first is the admin
    users.session_create("h1", ada.id, {"csrf": "x"}, 1.0)
    users.session_touch("h1", 2.0)
    assert users.session_get("h1") == (ada.id, {"csrf": "x"}, 1.0, 2.0) and users.session_count(ada.id) == 1
    users.add_token(ada.id, "feed", "secret-feed", "secr")
    assert users.by_feed_token("secret-feed").id == ada.id and users.by_feed_token("other") is None
    users.add_token(ada.id, "reset", "once", "once")
    assert users.use_token("reset", "once").id == ada.id and users.use_token("reset", "once") is None
    users.set_instance_setting("signup", "open")
    assert users.instance_setting("signup") == "open"
    users.set_disabled(ada.id, True)
    assert users.session_get("h1") is None and users.by_feed_token("secret-feed") is None
    pg.close()


def test_private_imports_and_the_export_of_everything_on_postgres(settings, pg_url, fake_embedder):
    """The web BibTeX import keeps unmatched entries private to the importer, and both exports carry them."""
    import re

    from fastapi.testclient import TestClient

    from paperscope.web.app import create_app
    from test_accounts_web import imports_settled

    pg_settings = dataclasses.replace(settings, database_url=pg_url, signup="open", base_url="http://ps.test")
    pg = open_store(pg_settings)
    _fill(pg, pg_settings, fake_embedder)
    app = create_app(pg_settings, open_engine(pg, pg_settings, fake_embedder))
    before = pg.get_paper("0704.0001")

    def csrf(client: TestClient, path: str) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)

    def join(client: TestClient, email: str) -> str:
        r = client.post("/signup", data={"email": email, "password": "correct horse", "csrf": csrf(client, "/signup")},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        return csrf(client, "/library")

    hijack = ("@article{hijack, title = {A Title Written By An Importer}, author = {Mallory, Eve},"
              " eprint = {0704.0001}, archivePrefix = {arXiv}, year = {2007}}\n")
    with TestClient(app) as ada, TestClient(app) as bob:
        token, bob_token = join(ada, "ada@example.org"), join(bob, "bob@example.org")
        ada.post("/library/mark", data={"paper_id": "0704.0002", "action": "note", "value": "see fig. 2",
                                        "csrf": token})
        body = hijack.encode() + (DATA / "library.bib").read_bytes()
        r = ada.post("/library/import", data={"tag": "zotero", "csrf": token}, files={"file": ("lib.bib", body)})
        assert r.status_code == 200 and "Importing into zotero" in r.text
        assert "1 matched in the catalogue, 2 kept as your private records" in imports_settled(ada)  # queued in PG
        assert "zotero (3)" in ada.get("/library").text
        page = ada.get("/library", params={"tag": "zotero"}).text
        assert "Dense Retrieval with Binary Embeddings" in page and before.title in page
        # the import linked to the catalogue paper without editing it, and bob sees nothing of ada's
        assert pg.get_paper("0704.0001") == before
        bob.post("/library/import", data={"tag": "his", "csrf": bob_token},
                 files={"file": ("lib.bib", b"@misc{x, title = {Bob's Own Draft}, author = {Bob, B}, year = {2020}}")})
        imports_settled(bob)
        assert "Dense Retrieval" not in bob.get("/library").text and "zotero" not in bob.get("/library").text
        assert "Bob&#39;s Own Draft" not in ada.get("/library").text
        assert "Dense Retrieval" not in ada.get("/api/search", params={"q": "dense retrieval binary"}).text

        bib = ada.get("/library/export.bib", params={"tag": "zotero"})
        assert bib.status_code == 200 and "Sparse Retrieval for Schr" in bib.text and "10.5555/9999.0001" in bib.text
        assert "eprint = {0704.0001}" in bib.text and "Bob's" not in bib.text
        everything = ada.get("/account/export.json").json()
        private = everything["private_records"]
        assert sorted(p["title"] for p in private.values()) == ["Dense Retrieval with Binary Embeddings",
                                                                 "Sparse Retrieval for Schrödinger Equations"]
        assert all(pid.startswith("private:") for pid in private)
        assert sorted(everything["library"]["zotero"]) == sorted(["arxiv:0704.0001", *private])
        assert everything["marks"] == {"arxiv:0704.0002": {"note": "see fig. 2", "read_at": None, "hidden": False,
                                                            "vote": 0}}

        # renaming and deleting a tag carry the private records along, like the embedded store
        ada.post("/library/tag", data={"tag": "zotero", "new": "reading", "action": "rename", "csrf": token})
        users, ada_id = pg.users, pg.users.by_email("ada@example.org").id
        assert users.tags(ada_id) == [("reading", 3)] and users.private_tags(ada_id) == [("reading", 2)]
        assert set(users.private_ids(ada_id, "reading")) == set(private) and users.private_ids(ada_id, "zotero") == []
        one = sorted(private)[0]
        assert set(users.private_papers(ada_id, [one])) == {one}
        assert users.remove_private(ada_id, one) == 1 and users.private_tags(ada_id) == [("reading", 1)]
        ada.post("/library/tag", data={"tag": "reading", "action": "delete", "csrf": token})
        assert users.tags(ada_id) == [] and users.private_papers(ada_id)  # untagged, the record itself is kept
    pg.close()


def _lab_scenario(s) -> list:
    """The lab's writes and reads in one order; returns what every read said (timestamps left out)."""
    from paperscope.errors import ForbiddenError, LimitError, NotFoundError, UsageError

    lab, said = s.community, []
    ada, bob = s.users.create("ada@example.org", None).id, s.users.create("bob@example.org", None).id
    assert lab.display_name(ada) == f"member-{ada}"
    assert lab.set_display_name(ada, "  Ada   L ") == "Ada L"
    with pytest.raises(UsageError, match="taken"):
        lab.set_display_name(bob, "ada l")  # unique ignoring case
    with pytest.raises(UsageError, match="reserved"):
        lab.set_display_name(bob, f"member-{ada}")
    day, other = "2024-05-02", "2024-05-01"
    first, added = lab.submit("arxiv:0704.0001", ada, day, 2)
    again, added_again = lab.submit("arxiv:0704.0001", bob, day, 2)  # already on the list: bob's is no new one
    said += [(first.paper_id, first.day, first.submitted_by, first.upvotes, added), (again.user_id, added_again)]
    lab.submit("arxiv:0704.0002", ada, day, 2)
    with pytest.raises(LimitError, match="lab_submissions_per_day"):
        lab.submit("arxiv:0704.0003", ada, day, 2)
    lab.submit("arxiv:0704.0003", bob, day, 2)
    lab.submit("arxiv:0704.0004", bob, other, 2)
    with pytest.raises(ForbiddenError):
        lab.withdraw("arxiv:0704.0003", ada, day)
    with pytest.raises(NotFoundError):
        lab.withdraw("arxiv:0704.0009", ada, day)
    for voter in (ada, bob, bob):  # upvoting twice counts once
        lab.upvote(voter, "arxiv:0704.0003")
    lab.upvote(ada, "arxiv:0704.0002")
    lab.unupvote(ada, "arxiv:0704.0002")
    lab.unupvote(ada, "arxiv:0704.0002")
    said += [[(x.paper_id, x.submitted_by, x.upvotes) for x in lab.submissions_on_day(day)],
             [x.paper_id for x in lab.submissions_on_day(day, limit=1, offset=1)],
             lab.count_submissions_on_day(day), lab.submission_days(day), lab.submission_days(other),
             lab.latest_submission_day(), sorted((k, v[0]) for k, v in lab.submitted_since(other).items()),
             lab.submissions_today(ada, day), lab.has_upvoted(bob, "arxiv:0704.0003"),
             lab.has_upvoted(ada, "arxiv:0704.0002"), lab.upvoted_by(bob), lab.upvote_counts(
                 ["arxiv:0704.0003", "arxiv:0704.0002"])]
    lab.withdraw("arxiv:0704.0004", bob, other)
    said.append(lab.submission_days(day))
    top = lab.add_comment("arxiv:0704.0003", ada, "first **words**", None, 3)
    reply = lab.add_comment("arxiv:0704.0003", bob, "a reply", top, 3)
    nested = lab.add_comment("arxiv:0704.0003", ada, "a reply to the reply", reply, 3)
    with pytest.raises(UsageError, match="same paper"):
        lab.add_comment("arxiv:0704.0001", ada, "elsewhere", top, 3)
    with pytest.raises(LimitError, match="lab_comments_per_day"):
        lab.add_comment("arxiv:0704.0001", ada, "one too many", None, 2)
    with pytest.raises(ForbiddenError):
        lab.edit_comment(top, bob, "not mine")
    assert lab.edit_comment(top, ada, "edited").edited_at
    lab.follow(ada, "arxiv:0704.0003", True)
    lab.follow(ada, "arxiv:0704.0003", True)
    later = lab.add_comment("arxiv:0704.0003", bob, "for the follower", None, 3)
    lab.set_comment_hidden(later, True)
    gone = lab.delete_comment(reply, bob)
    with pytest.raises(UsageError, match="deleted"):
        lab.edit_comment(reply, bob, "back")
    with pytest.raises(NotFoundError):
        lab.comment(10_000)
    thread = lab.comments_of("arxiv:0704.0003")
    ids = {c.id: i for i, c in enumerate(thread)}  # ids may differ between databases: compare positions
    said += [lab.comment(nested).parent_id == top, (gone.deleted, gone.body),
             [(c.author, ids.get(c.parent_id), c.body, c.deleted, c.hidden) for c in thread],
             [c.body for c in lab.new_replies(ada, "2000-01-01")], lab.is_following(ada, "arxiv:0704.0003"),
             {k: (v.upvotes, v.comments, v.submitted_by) for k, v in lab.activity(
                 ["arxiv:0704.0003", "arxiv:0704.0001", "arxiv:0704.0005", "arxiv:0704.0003"]).items()}]
    lab.set_comment_hidden(later, False)
    lab.follow(ada, "arxiv:0704.0003", False)
    said += [[c.body for c in lab.new_replies(ada, "2000-01-01")], lab.is_following(ada, "arxiv:0704.0003")]
    return said


def test_the_labs_daily_list_on_postgres_answers_like_the_embedded_store(settings, store, pg_url):
    """Submissions, upvotes, comments, follows and names: the same calls give the same answers on both."""
    pg = PgStore(pg_url)
    for s in (store, pg):
        ingest(s, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    embedded, server = _lab_scenario(store), _lab_scenario(pg)
    assert server == embedded
    pg.close()


def test_lab_limits_hold_under_concurrent_writes_on_postgres(settings, pg_url):
    """Eight threads of one member submitting at once (as two workers would) get exactly the limit."""
    from concurrent.futures import ThreadPoolExecutor

    from paperscope.errors import LimitError

    pg = PgStore(pg_url)
    ingest(pg, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    ada = pg.users.create("ada@example.org", None).id
    ids = [p.id for p in pg.iter_papers()][:8]

    def submit(pid: str) -> str:
        try:
            return "added" if pg.community.submit(pid, ada, "2024-05-02", 3)[1] else "there"
        except LimitError:
            return "limit"

    def comment(i: int) -> str:
        try:
            pg.community.add_comment(ids[0], ada, f"c{i}", None, 3)
            return "added"
        except LimitError:
            return "limit"

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(submit, ids)) == ["added"] * 3 + ["limit"] * 5
        assert sorted(pool.map(comment, range(8))) == ["added"] * 3 + ["limit"] * 5
    assert pg.community.submissions_today(ada, "2024-05-02") == 3 and len(pg.community.comments_of(ids[0])) == 3
    pg.close()


def test_migrate_copies_the_labs_tables(settings, store, pg_url):
    ingest(store, settings, "snapshot", SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")))
    lab = store.community
    ada = store.users.create("ada@example.org", None).id
    lab.set_display_name(ada, "Ada")
    lab.submit("arxiv:0704.0001", ada, "2024-05-02", 5)
    lab.upvote(ada, "arxiv:0704.0001")
    top = lab.add_comment("arxiv:0704.0001", ada, "top", None, 5)
    lab.add_comment("arxiv:0704.0001", ada, "reply", top, 5)
    lab.follow(ada, "arxiv:0704.0001", True)
    pg = PgStore(pg_url)
    tables = migrate(store, pg)["tables"]
    assert [tables[t] for t in ("lab_members", "lab_submissions", "lab_upvotes", "lab_comments", "lab_follows")] == \
        [1, 1, 1, 2, 1]
    assert pg.community.comments_of("arxiv:0704.0001") == lab.comments_of("arxiv:0704.0001")
    assert pg.community.submissions_on_day("2024-05-02") == lab.submissions_on_day("2024-05-02")
    assert pg.community.add_comment("arxiv:0704.0001", ada, "new on PostgreSQL", None, 5) == top + 2  # ids go on
    pg.close()


def test_the_labs_web_flow_on_postgres(settings, pg_url, fake_embedder, server):
    """Submit (a new arXiv paper fetched, embedded and indexed into PostgreSQL), upvote, discuss, over the web."""
    from paperscope import community
    from paperscope.web.app import create_app
    from test_lab import NEW, _record, fetched, member, post

    _record(server)
    pg_settings = dataclasses.replace(settings, database_url=pg_url, signup="open", base_url="http://ps.test",
                                      lab_submissions_per_day=2)
    pg = open_store(pg_settings)
    _fill(pg, pg_settings, fake_embedder)
    app = create_app(pg_settings, open_engine(pg, pg_settings, fake_embedder))
    ada, bob = member(app, "ada@example.org", "Ada L"), member(app, "bob@example.org", "Bob")
    r = post(ada, "/submit", paper=f"https://arxiv.org/abs/{NEW}v2")
    assert r.status_code == 200 and f"Fetching arXiv {NEW}" in r.text
    assert fetched(app)["fetched"] == 1  # the queue lives in PostgreSQL too
    assert post(bob, "/submit", paper=NEW).status_code == 200  # the same paper: still once
    post(bob, "/submit", paper="0704.0002")
    post(ada, "/submit", paper="0704.0003")
    over = post(ada, "/submit", paper="0704.0004")
    assert over.status_code == 429 and "lab_submissions_per_day" in over.text
    post(bob, "/paper/arxiv:0704.0002/upvote")
    post(ada, "/paper/arxiv:0704.0002/upvote")
    day = community.today()
    items = ada.get("/api/daily_papers", params={"date": day, "submitted": 1}).json()
    assert [i["paper"]["id"] for i in items] == ["0704.0002", NEW, "0704.0003"]
    assert items[0]["paper"]["upvotes"] == 2 and items[1]["submittedBy"] == "Ada L" and "@" not in json.dumps(items)
    hits = bob.get("/api/search", params={"q": "tardigrade sponges", "mode": "keyword"}).json()["hits"]
    assert hits[0]["paper"]["id"] == NEW
    assert post(ada, "/paper/arxiv:0704.0001/comments", body="**bold** words").status_code == 200
    cid = pg.community.comments_of("arxiv:0704.0001")[0].id
    assert post(bob, "/paper/arxiv:0704.0001/comments", body="a reply", parent=str(cid)).status_code == 200
    assert post(bob, f"/comments/{cid}/delete").status_code == 403
    page = bob.get("/paper/arxiv:0704.0001").text
    assert "<strong>bold</strong>" in page and "2 comments in this lab" in page
    assert post(bob, "/settings/display-name", name="ada l").status_code == 400  # names are unique
    assert "submitted by Bob" in bob.get(f"/lab?date={day}").text
    pg.close()


def test_migrate_copies_every_table_of_the_embedded_schema(settings):
    """A table added to the schema and forgotten by `migrate` would be lost when an install moves to PostgreSQL."""
    from paperscope.store import Store
    from paperscope.store_pg.migrate import CHECKED

    store = Store(settings.db_path)
    tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    store.close()
    assert tables - set(CHECKED) - {"schema_migrations"} == set()
