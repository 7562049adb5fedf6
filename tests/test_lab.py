"""The lab's daily list through the in-process client: submit, upvote, discuss, follow, limits and privacy.

Real SQLite, real index files, the arXiv API answered by a real loopback server with recorded Atom;
a hashing embedder stands in for the model (tests/test_lab_server.py runs the real one).
"""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperscope import community
from paperscope.errors import ForbiddenError, LimitError, UsageError
from paperscope.pipeline import embed_papers, update_indexes
from paperscope.search import open_engine, search
from paperscope.web.app import create_app

DATA = Path(__file__).parent / "data"
NEW = "2406.01234"
HOSTILE = ('Look <script>alert("s")</script> and <img src=x onerror=alert(1)> and [click](javascript:alert(2)) '
           'and <a href="javascript:alert(3)" onclick="alert(4)">raw</a> <style>body{display:none}</style> '
           '[ok](https://example.org/paper) **bold**')


def assert_inert(html: str) -> None:
    """Parse the HTML as a browser would: no script/style/img/iframe element, no handler, no javascript: link."""
    import lxml.html

    root = lxml.html.fromstring(f"<div>{html}</div>")
    assert not root.xpath("//script | //style | //img | //iframe | //object | //embed")
    for el in root.iter():
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), (el.tag, name)
            if name.lower() in ("href", "src", "action", "formaction"):
                assert value.strip().lower().startswith(("http://", "https://", "mailto:", "/", "#")), (el.tag, value)


def _record(server) -> None:
    server.add_file("/api/query", "atom_id_2406.01234.xml", when={"id_list": NEW})
    server.add_file("/api/query", "atom_id_missing.xml", when={"id_list": "2406.99999"})


@pytest.fixture
def store(snapshot_store):  # every test here starts from the snapshot sample, embedded and indexed
    return snapshot_store


@pytest.fixture
def engine(settings, store, fake_embedder, server):
    _record(server)
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    s = dataclasses.replace(settings, signup="open", base_url="http://ps.test", lab_submissions_per_day=3,
                            lab_comments_per_day=5)
    return open_engine(store, s, fake_embedder)


@pytest.fixture
def app(engine):
    return create_app(engine.settings, engine)


def fetched(app) -> dict[str, int]:
    """One round of the lab's fetcher, as the server's thread runs it, and the engine following the new index."""
    from paperscope.web.app import follow_new_generation

    done = community.fetch_pending(app.state.engine)
    follow_new_generation(app)
    return done


def csrf_of(client: TestClient, path: str = "/") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, f"no form with a CSRF token on {path}"
    return match.group(1)


def member(app, email: str, name: str | None = None) -> TestClient:
    c = TestClient(app)
    r = c.post("/signup", data={"email": email, "password": "correct horse", "csrf": csrf_of(c, "/signup")},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    if name:
        assert c.post("/settings/display-name", data={"name": name, "csrf": csrf_of(c, "/settings")}).status_code == 200
    return c


def post(c: TestClient, path: str, **data: str):
    return c.post(path, data={**data, "csrf": csrf_of(c, "/settings")})


# --- services and store ---------------------------------------------------------------------------

def test_refs_accept_ids_and_arxiv_links_only():
    assert community.parse_ref("2401.12345") == "2401.12345"
    assert community.parse_ref(" arxiv.org/abs/2401.12345v2 ") == "2401.12345"
    assert community.parse_ref("https://arxiv.org/pdf/2401.12345v3") == "2401.12345"
    assert community.parse_ref("arXiv:hep-th/9901001") == "hep-th/9901001"
    for bad in ("", "hello", "https://evil.example/abs/2401.12345", "javascript:alert(1)", "2401.12345\x00", "9" * 400):
        with pytest.raises(UsageError):
            community.parse_ref(bad)


def test_markdown_is_rendered_and_nothing_executable_survives():
    html = community.render_markdown(HOSTILE)
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.org/paper" rel="nofollow ugc">ok</a>' in html
    assert "<script" not in html and "<img" not in html and "<style" not in html
    assert_inert(html)
    assert "&lt;script&gt;" in html  # raw HTML is shown as text, not dropped silently


def test_submission_once_per_day_withdraw_by_submitter_only_and_limit(engine, store):
    users = store.users
    ada, bob = users.create("ada@example.org", None), users.create("bob@example.org", None)
    first = community.submit(engine, ada, "0704.0001", day="2024-06-03")
    assert first.created and not first.fetched and first.submission.submitted_by == "member-1"
    again = community.submit(engine, bob, "https://arxiv.org/abs/0704.0001v2", day="2024-06-03")
    assert not again.created and again.submission.user_id == ada.id
    assert store.community.count_submissions_on_day("2024-06-03") == 1
    with pytest.raises(ForbiddenError):
        community.withdraw(engine, bob, "0704.0001", day="2024-06-03")
    community.withdraw(engine, ada, "0704.0001", day="2024-06-03")
    assert store.community.count_submissions_on_day("2024-06-03") == 0
    for pid in ("0704.0001", "0704.0002", "0704.0003"):
        community.submit(engine, bob, pid, day="2024-06-04")
    with pytest.raises(LimitError, match="lab_submissions_per_day"):
        community.submit(engine, bob, "0704.0004", day="2024-06-04")
    with pytest.raises(LimitError):  # unknown papers are refused before any fetch
        community.submit(engine, bob, NEW, day="2024-06-04")
    assert store.community.count_submissions_on_day("2024-06-04") == 3
    assert store.resolve_id(f"arxiv:{NEW}") is None


def test_unknown_id_is_queued_then_fetched_embedded_indexed_and_searchable(engine, store, server):
    ada = store.users.create("ada@example.org", None)
    assert not search(engine, "tardigrade sponges", 5, "keyword").hits
    queued = community.submit(engine, ada, f"arxiv.org/abs/{NEW}v2")
    assert isinstance(queued, community.Queued) and queued.arxiv_id == NEW and queued.created
    assert server.log == []  # the submission answered without going to arXiv
    assert store.community.submissions_today(ada.id, queued.day) == 1  # counted while it waits
    assert community.fetch_pending(engine) == {"asked": 1, "fetched": 1, "missing": 0}
    assert [r.params.get("id_list") for r in server.log] == [NEW]
    sub = store.community.submission(f"arxiv:{NEW}", queued.day)
    assert sub is not None and sub.user_id == ada.id and store.community.pending_of(ada.id, queued.day) == []
    paper = store.get_paper(f"arxiv:{NEW}")
    assert paper.title.startswith("Tardigrade Sponges") and paper.authors[0].name == "Grace Hopper"
    fresh = open_engine(store, engine.settings, engine._embedder)
    assert [h.paper.id for h in search(fresh, "tardigrade sponges", 5, "keyword").hits] == [f"arxiv:{NEW}"]
    semantic = search(fresh, "cryptobiotic caches long context", 5, "semantic").hits
    assert semantic[0].paper.id == f"arxiv:{NEW}"
    missing = community.submit(engine, ada, "2406.99999")
    assert isinstance(missing, community.Queued)
    assert community.fetch_pending(engine) == {"asked": 1, "fetched": 0, "missing": 1}
    (failed,) = store.community.pending_of(ada.id, missing.day)
    assert failed.state == "failed" and "arXiv has no paper" in failed.reason
    assert store.community.submissions_today(ada.id, missing.day) == 2  # a failed fetch is not free


def test_one_fetch_batches_the_queue_and_merges_members_submissions_of_one_id(engine, store):
    ada, bob = store.users.create("ada@example.org", None), store.users.create("bob@example.org", None)
    for who, ref in ((ada, NEW), (bob, NEW), (bob, "2406.99999"), (ada, NEW)):
        assert isinstance(community.submit(engine, who, ref), community.Queued)
    asked: list[list[str]] = []

    def fetch(settings, ids):  # stands in for arXiv: answers the one real id of the batch
        asked.append(list(ids))
        return [p for p in _atom_papers() if p.arxiv_id in ids]

    assert community.fetch_pending(engine, fetch) == {"asked": 2, "fetched": 1, "missing": 1}
    assert asked == [[NEW, "2406.99999"]]  # one request for everyone's ids, each id once
    day = community.today()
    assert store.community.submission(f"arxiv:{NEW}", day).user_id == ada.id  # the first submitter is shown
    assert store.community.submissions_today(ada.id, day) == 1
    assert [p.state for p in store.community.pending_of(bob.id, day)] == ["failed"]
    assert community.fetch_pending(engine, fetch)["asked"] == 0 and len(asked) == 1


def _atom_papers():
    from lxml import etree

    from paperscope.sources.arxiv_api import ATOM, entry_to_paper

    feed = etree.fromstring((DATA / "atom_id_2406.01234.xml").read_bytes())
    return [entry_to_paper(e) for e in feed.findall(f"{ATOM}entry")]


def test_unreachable_arxiv_is_retried_a_few_times_then_fails_with_a_plain_reason(engine, store):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/api/query"
    engine.settings = dataclasses.replace(engine.settings, arxiv_api_url=dead, http_retries=0)
    ada = store.users.create("ada@example.org", None)
    queued = community.submit(engine, ada, NEW)
    assert isinstance(queued, community.Queued)
    for _ in range(3):
        assert community.fetch_pending(engine) == {"asked": 1, "fetched": 0, "missing": 0}
        (row,) = store.community.pending_of(ada.id, queued.day)
        store.conn.execute("UPDATE lab_pending SET not_before = ''")  # skip the back-off wait
    assert row.state == "failed" and row.reason == "arXiv did not answer; submit it again later"
    assert "127.0.0.1" not in row.reason
    assert store.community.count_submissions_on_day(community.today()) == 0


def test_comment_permissions_replies_one_level_and_admin_hide(engine, store):
    ada, bob = store.users.create("ada@example.org", None), store.users.create("bob@example.org", None)
    root = store.users.create("root@example.org", None, "admin")
    cid = community.comment(engine, ada, "0704.0001", "first!")
    reply = community.comment(engine, bob, "0704.0001", "a reply", cid)
    deeper = community.comment(engine, ada, "0704.0001", "a reply to the reply", reply)
    assert store.community.comment(deeper).parent_id == cid  # one level: joins the thread of the top comment
    with pytest.raises(UsageError):
        community.comment(engine, ada, "0704.0002", "wrong paper", cid)
    with pytest.raises(ForbiddenError):
        store.community.edit_comment(cid, bob.id, "vandalised")
    with pytest.raises(ForbiddenError):
        store.community.delete_comment(cid, bob.id)
    with pytest.raises(ForbiddenError):
        community.hide(engine, bob, cid, True)
    assert community.hide(engine, root, reply, True).hidden
    threads = community.threads(store.community.comments_of("arxiv:0704.0001"))
    assert [t.comment.id for t in threads] == [cid] and [r.id for r in threads[0].replies] == [reply, deeper]
    assert store.community.activity(["arxiv:0704.0001"])["arxiv:0704.0001"].comments == 2
    for i in range(3):  # ada wrote 2 so far; the limit is 5 a day
        community.comment(engine, ada, "0704.0002", f"comment {i}")
    with pytest.raises(LimitError, match="lab_comments_per_day"):
        community.comment(engine, ada, "0704.0002", "one too many")
    with pytest.raises(UsageError):
        community.comment(engine, bob, "0704.0002", "   \x00  ")


# --- the web, in process --------------------------------------------------------------------------

def test_submit_form_lab_tab_api_and_feed(app, store):
    ada = member(app, "ada@example.org", "Ada L")
    bob = member(app, "bob@example.org", "Bob")
    r = post(ada, "/submit", paper=f"https://arxiv.org/abs/{NEW}v2")
    assert r.status_code == 200 and f"Fetching arXiv {NEW}" in r.text and "fetching" in r.text
    assert fetched(app)["fetched"] == 1  # the server's fetcher thread does this outside the request
    assert "Tardigrade Sponges" in ada.get("/lab").text
    assert post(bob, "/submit", paper=NEW).status_code == 200  # the same paper: still once
    post(bob, "/submit", paper="0704.0002")
    day = community.today()
    items = ada.get("/api/daily_papers", params={"date": day, "submitted": 1}).json()
    assert [i["paper"]["id"] for i in items] == [NEW, "0704.0002"]
    assert items[0]["submittedBy"] == "Ada L" and items[1]["submittedBy"] == "Bob"
    assert items[0]["submittedOnDailyAt"].startswith(day)
    assert "@" not in json.dumps(items)
    lab = bob.get(f"/lab?date={day}").text
    assert lab.index("Tardigrade Sponges") < lab.index("submitted by Bob") and "submitted by Ada L" in lab
    assert "ada@example.org" not in lab
    # the daily page of the submission day shows it with its submitter; search finds it at once
    daily = bob.get(f"/?date={day}").text
    assert 'id="lab-today"' in daily and "submitted by Ada L" in daily
    hits = bob.get("/api/search", params={"q": "tardigrade sponges", "mode": "keyword"}).json()["hits"]
    assert hits[0]["paper"]["id"] == NEW
    # bob upvotes: the order of the lab list follows
    post(bob, "/paper/arxiv:0704.0002/upvote")
    items = ada.get("/api/daily_papers", params={"date": day, "submitted": 1}).json()
    assert [i["paper"]["id"] for i in items] == ["0704.0002", NEW] and items[0]["paper"]["upvotes"] == 1
    feed = ET.fromstring(ada.get(f"/feeds/lab.atom?date={day}").content)
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in feed.iter("{http://www.w3.org/2005/Atom}entry")]
    assert len(titles) == 2 and titles[1].startswith("Tardigrade")
    jf = ada.get(f"/feeds/lab.json?date={day}").json()
    assert jf["items"][0]["_paperscope"]["upvotes"] == 1 and jf["items"][1]["_paperscope"]["submittedBy"] == "Ada L"
    # only the submitter withdraws
    assert post(bob, f"/paper/arxiv:{NEW}/withdraw").status_code == 403
    assert post(ada, f"/paper/arxiv:{NEW}/withdraw").status_code == 200
    assert [i["paper"]["id"] for i in ada.get("/api/daily_papers", params={"date": day, "submitted": 1}).json()] == [
        "0704.0002"]


def test_submit_errors_answer_clearly(app):
    ada = member(app, "ada@example.org")
    assert post(ada, "/submit", paper="not an id").status_code == 400
    missing = post(ada, "/submit", paper="2406.99999")
    assert missing.status_code == 200 and "Fetching arXiv 2406.99999" in missing.text
    assert fetched(app)["missing"] == 1
    lab = ada.get("/lab").text
    assert "2406.99999" in lab and "failed" in lab and "arXiv has no paper with this id" in lab
    for pid in ("0704.0001", "0704.0002"):  # the failed fetch took one of the three
        assert post(ada, "/submit", paper=pid).status_code == 200
    over = post(ada, "/submit", paper="0704.0003")
    assert over.status_code == 429 and "lab_submissions_per_day" in over.text
    anon = TestClient(app)
    assert anon.post("/submit", data={"paper": "0704.0005", "csrf": csrf_of(anon, "/login")}).status_code == 401
    assert ada.post("/submit", data={"paper": "0704.0005"}).status_code == 403  # no CSRF token


def test_upvotes_are_idempotent_counted_per_member_and_move_trending(app, store):
    ada, bob = member(app, "ada@example.org"), member(app, "bob@example.org")
    before = [i["paper"]["id"] for i in ada.get("/api/trending", params={"limit": 100}).json()]
    last = before[-1]
    for _ in range(2):
        assert post(ada, f"/paper/arxiv:{last}/upvote").status_code == 200
    assert ada.get(f"/api/papers/{last}").json()["upvotes"] == 1
    post(bob, f"/paper/arxiv:{last}/upvote")
    paper = ada.get(f"/api/papers/{last}").json()
    assert paper["upvotes"] == 2 and paper["labUpvotes"] == 2
    after = [i["paper"]["id"] for i in ada.get("/api/trending", params={"limit": 100}).json()]
    assert after.index(last) < before.index(last)
    page = bob.get(f"/paper/arxiv:{last}").text
    assert 'action="/paper/arxiv:' + last + '/unupvote"' in page and "0 on Hugging Face + 2 in this lab" in page
    for _ in range(2):
        post(ada, f"/paper/arxiv:{last}/unupvote")
    assert ada.get(f"/api/papers/{last}").json()["upvotes"] == 1
    import html

    assert "Hugging Face upvotes + this lab's upvotes" in html.unescape(ada.get("/trending").text)


def test_comments_render_inert_and_permissions_hold_over_forms(app, store):
    ada, bob = member(app, "ada@example.org", "Ada"), member(app, "bob@example.org", "Bob")
    r = post(ada, "/paper/arxiv:0704.0001/comments", body=HOSTILE)
    assert r.status_code == 200
    html = bob.get("/paper/arxiv:0704.0001").text
    discussion = html[html.index('id="discussion"'):html.index('class="similar"')]
    assert "<strong>bold</strong>" in discussion and 'rel="nofollow ugc"' in discussion
    assert "<script" not in discussion and "<img" not in discussion and "<style" not in discussion
    assert_inert(discussion)
    assert 'javascript:' not in html.lower() and 'onerror=' not in html and 'onclick="alert' not in html
    assert "ada@example.org" not in html
    cid = store.community.comments_of("arxiv:0704.0001")[0].id
    assert post(bob, f"/comments/{cid}/edit", body="mine now").status_code == 403
    assert post(bob, f"/comments/{cid}/delete").status_code == 403
    assert post(bob, f"/comments/{cid}/hide").status_code == 403
    assert post(bob, "/paper/arxiv:0704.0001/comments", body="a reply", parent=str(cid)).status_code == 200
    api = bob.get("/api/papers/0704.0001").json()
    assert api["numComments"] == 2
    page = bob.get("/paper/arxiv:0704.0001").text
    assert "2 comments in this lab" in page
    assert post(ada, f"/comments/{cid}/edit", body="edited *text*").status_code == 200
    assert "<em>text</em>" in bob.get("/paper/arxiv:0704.0001").text
    assert post(ada, f"/comments/{cid}/delete").status_code == 200
    assert bob.get("/api/papers/0704.0001").json()["numComments"] == 1
    listing = bob.get("/api/papers/0704.0001/comments").json()
    assert listing[0]["deleted"] and listing[0]["body"] == "" and listing[1]["author"] == "Bob"


def test_private_stays_private_and_settings_say_what_is_public(app, store):
    ada, bob = member(app, "ada@example.org", "Ada"), member(app, "bob@example.org")
    post(ada, "/library/save", paper_id="arxiv:0704.0003", tags="secret-tag")
    post(ada, "/library/mark", paper_id="arxiv:0704.0003", action="up")
    post(ada, "/library/mark", paper_id="arxiv:0704.0003", action="note", value="my private note")
    page = bob.get("/paper/arxiv:0704.0003").text
    assert "secret-tag" not in page and "my private note" not in page and "0 in this lab" in page
    assert bob.get("/api/papers/0704.0003").json()["upvotes"] == 0  # a 👍 for recommendations is not an upvote
    settings = ada.get("/settings").text
    assert 'id="privacy"' in settings and "submissions" in settings and "private" in settings
    assert post(bob, "/settings/display-name", name="ada").status_code == 400  # names are unique
    assert post(bob, "/settings/display-name", name="bob@example.org").status_code == 400  # never an email


def test_followers_get_replies_in_their_digest(engine, store):
    from paperscope.digest import select

    ada, bob = store.users.create("ada@example.org", None), store.users.create("bob@example.org", None)
    store.community.follow(ada.id, "arxiv:0704.0001", True)
    since = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ada = dataclasses.replace(ada, last_digest_at=since)
    community.comment(engine, ada, "0704.0001", "my own comment")
    assert select(engine, ada, datetime.now(UTC)) == []  # one's own words are not news
    community.comment(engine, bob, "0704.0001", "I **disagree**")
    items = select(engine, ada, datetime.now(UTC))
    assert [i.paper.id for i in items] == ["arxiv:0704.0001"] and "latest by member-2" in items[0].why
    assert "disagree" in items[0].why


def test_own_upvotes_are_recommendation_positives(engine, store):
    from paperscope.recommend import recommend

    ada = store.users.create("ada@example.org", None)
    with pytest.raises(UsageError):
        recommend(engine, ada.id)
    for pid in store.random_paper_ids(3, seed=1):
        store.community.upvote(ada.id, pid)
    assert recommend(engine, ada.id, k=5)


def test_cli_submit(settings, store, server, tmp_path):
    from click.testing import CliRunner

    from paperscope.cli import main

    _record(server)
    store.users.create("ada@example.org", None)
    env = {"PAPERSCOPE_ARXIV_API_URL": settings.arxiv_api_url, "PAPERSCOPE_ARXIV_API_DELAY": "0"}
    run = CliRunner().invoke(main, ["--data-dir", str(settings.home), "submit", "0704.0001", "--as", "ada@example.org",
                                    "--json"], env=env)
    assert run.exit_code == 0, run.output
    out = json.loads(run.output)
    assert out["created"] and out["submittedBy"] == "member-1" and not out["fetched"]
    missing = CliRunner().invoke(main, ["--data-dir", str(settings.home), "submit", "0704.0001", "--as", "x@y.z"],
                                 env=env)
    assert missing.exit_code != 0 and "paperscope user add" in missing.output


def test_json_api_writes_need_a_token_and_speak_hugging_face_fields(app, store):
    from paperscope.auth import new_api_token

    ada = member(app, "ada@example.org", "Ada")
    token = new_api_token(store, store.users.by_email("ada@example.org").id)
    bearer = {"Authorization": f"Bearer {token}"}
    api = TestClient(app)
    assert ada.post("/api/papers/0704.0001/upvote").status_code == 403  # a cookie alone cannot write (no CSRF)
    for _ in range(2):
        r = api.post("/api/papers/0704.0001/upvote", headers=bearer)
        assert r.status_code == 200 and r.json()["upvotes"] == 1 and r.json()["upvoted"] is True
    assert api.post("/api/papers/0704.0001/unupvote", headers=bearer).json()["upvotes"] == 0
    r = api.post("/api/submit", json={"paper": f"arXiv:{NEW}v1"}, headers=bearer)
    assert r.status_code == 200 and r.json() == {"id": NEW, "day": community.today(), "state": "fetching",
                                                 "created": True}
    assert api.get("/api/lab/pending", headers=bearer).json()[0]["state"] == "fetching"
    fetched(app)
    assert api.get("/api/lab/pending", headers=bearer).json() == []
    r = api.post("/api/submit", json={"paper": f"arXiv:{NEW}v1"}, headers=bearer)
    body = r.json()
    assert body["paper"]["id"] == NEW and body["submittedBy"] == "Ada" and body["state"] == "submitted"
    assert body["paper"]["submittedOnDailyBy"]["name"] == "Ada" and body["submittedOnDailyAt"]
    assert api.post("/api/submit", json={"paper": 5}, headers=bearer).status_code == 400


def test_digest_trending_counts_the_labs_submissions(engine, store):
    from paperscope.digest import select

    ada, bob = store.users.create("ada@example.org", None), store.users.create("bob@example.org", None)
    store.users.set_digest(bob.id, "daily", [], 10, True, None)
    now = datetime.now(UTC)
    bob = dataclasses.replace(store.users.get(bob.id), last_digest_at=(now + timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"))  # the last digest went out after the ingest
    assert [i.paper.id for i in select(engine, bob, now)] == []  # nothing new... until the lab picks a paper
    community.submit(engine, ada, "0704.0007")
    items = select(engine, bob, now)
    assert [i.paper.id for i in items] == ["arxiv:0704.0007"] and items[0].why == "Trending on this instance"


def test_comments_are_rendered_once_when_written_and_slow_shapes_are_refused(engine, store):
    ada = store.users.create("ada@example.org", None)
    cid = community.comment(engine, ada, "0704.0001", "**bold** [a link](https://example.org)")
    stored = store.community.comment(cid)
    assert stored.html_version == community.RENDER_VERSION and "<strong>bold</strong>" in stored.html
    with pytest.raises(UsageError, match="square brackets at most 20 deep"):
        community.comment(engine, ada, "0704.0001", "[" * 9990)
    with pytest.raises(UsageError, match="at most 50 links"):
        community.comment(engine, ada, "0704.0001", " ".join(f"https://example.org/{i}" for i in range(51)))
    with pytest.raises(UsageError, match="quotes"):
        community.comment(engine, ada, "0704.0001", ">" * 30 + " deep")
    edited = community.edit(engine, ada, cid, "now *this*")
    assert "<em>this</em>" in edited.html and "bold" not in edited.html
    # a comment stored before rendering at write time (or by an older renderer) is rendered once, then kept
    store.conn.execute("UPDATE lab_comments SET html = NULL, html_version = 0 WHERE id = ?", (cid,))
    old = store.community.comment(cid)
    assert "<em>this</em>" in community.comment_html(engine, old)
    assert store.community.comment(cid).html_version == community.RENDER_VERSION
    # one written before the limits existed is shown as escaped text, never fed to the slow renderer
    store.conn.execute("UPDATE lab_comments SET body = ?, html = NULL WHERE id = ?", ("[" * 9990 + "<b>", cid))
    assert community.comment_html(engine, store.community.comment(cid)) == "<p>" + "[" * 9990 + "&lt;b&gt;</p>"
