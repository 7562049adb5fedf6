"""The pages say what is true on real data: a week of real Hugging Face daily papers (2026-08-15..21) ingested
through the HF source from a loopback stand-in, two members who submit, upvote, comment and save, and every page
read as a new user would. Counts, labels, Hugging Face's own fields, icons that need no emoji font.

A hashing embedder stands in for the model (the browser tests run the real one).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fakes import HashingEmbedder
from paperscope.config import load_settings
from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
from paperscope.search import open_engine
from paperscope.store import Store
from paperscope.web.app import create_app
from recorded import RecordedServer, hf_daily_stand_in, shared

WEEK = ("2026-08-15", "2026-08-21")
EMOJI = re.compile("[\U0001f000-\U0010ffff]")


def week_items() -> list[dict]:
    lines = shared("hf-daily-papers.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines]
    return [i for i in items if WEEK[0] <= i["paper"]["submittedOnDailyAt"][:10] <= WEEK[1]]


@dataclasses.dataclass
class Lab:
    app: object
    store: Store
    items: list[dict]
    ada: TestClient
    bob: TestClient
    anon: TestClient
    submitted: str  # the paper ada submitted today (an older HF paper)
    upvoted_only: str  # a paper bob upvoted in the lab and never saved


def csrf_of(client: TestClient, path: str = "/settings") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, f"no form with a CSRF token on {path}"
    return match.group(1)


def post(c: TestClient, path: str, **data: str):
    return c.post(path, data={**data, "csrf": csrf_of(c)})


def member(app, email: str, name: str, role: str = "user") -> TestClient:
    from paperscope.auth import hash_password

    app.state.engine.store.users.create(email, hash_password("correct horse"), role)
    c = TestClient(app)
    r = c.post("/login", data={"email": email, "password": "correct horse", "csrf": csrf_of(c, "/login")},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    assert post(c, "/settings/display-name", name=name).status_code == 200
    return c


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    hf = RecordedServer()
    items = week_items()
    hf_daily_stand_in(hf, items)
    home = tmp_path_factory.mktemp("truthful") / "home"
    settings = load_settings(home, overrides={"hf_api_url": hf.url, "hf_delay": 0, "http_retries": 1,
                                              "signup": "open", "base_url": "http://ps.test"}, environ={})
    store = Store(settings.db_path)
    embedder = HashingEmbedder()
    ingest(store, settings, "hf-daily", SourceOptions(since=WEEK[0], until=WEEK[1]))
    embed_papers(store, embedder)
    update_indexes(store, settings, embedder.name, embedder.dim)
    engine = open_engine(store, settings, embedder)
    app = create_app(settings, engine)
    ada, bob = member(app, "ada@example.org", "Ada", "admin"), member(app, "bob@example.org", "Bob")
    oldest = f"arxiv:{items[0]['paper']['id']}"
    assert post(ada, "/submit", paper=items[0]["paper"]["id"]).status_code == 200
    upvoted = f"arxiv:{items[5]['paper']['id']}"
    assert post(bob, f"/paper/{oldest}/upvote").status_code == 200
    assert post(bob, f"/paper/{upvoted}/upvote").status_code == 200
    assert post(ada, f"/paper/{oldest}/comments", body="Worth a read: see **section 3**.").status_code == 200
    yield Lab(app, store, items, ada, bob, TestClient(app), oldest, upvoted)
    store.close()
    hf.close()


def chrome_text(html: str) -> str:
    """The page's own text: everything but what the data holds (titles, abstracts, names, summaries, comments)."""
    import lxml.html

    root = lxml.html.fromstring(html)
    data = ("//title | //meta | //h1 | //h3 | //*[contains(@class, 'abstract')] | //*[contains(@class, 'authors')]"
            " | //*[contains(@class, 'org')] | //*[@id='ai-summary']/p | //*[contains(@class, 'body')]"
            " | //pre | //textarea | //*[contains(@class, 'because')] | //*[contains(@class, 'who')]"
            " | //*[contains(@class, 'keywords')] | //*[@id='submitted-by'] | //*[contains(@class, 'extra')]")
    for el in root.xpath(data):
        el.drop_tree()
    return root.text_content()


def pages(lab: Lab) -> list[str]:
    paths = ["/", "/?date=2026-08-18", "/trending", "/search?q=agents", "/search?q=xyzzyqwerty", "/lab",
             "/recommendations", "/settings"]
    return paths + [f"/paper/arxiv:{i['paper']['id']}" for i in lab.items]


def test_no_emoji_of_the_pages_own_and_no_zero_counts(lab: Lab) -> None:
    for path in pages(lab):
        html = lab.ada.get(path).text
        assert not EMOJI.findall(chrome_text(html)), path
        assert not re.search(r">\s*(?:▲|★)\s*0\s*<|\b0 comments\b", html), path
    titles_with_emoji = [i["paper"]["id"] for i in lab.items if EMOJI.search(i["paper"]["title"])]
    for pid in titles_with_emoji:  # a title's own emoji is kept
        assert EMOJI.search(lab.anon.get(f"/paper/arxiv:{pid}").text)


def test_comment_counts_are_hugging_faces_or_this_labs_never_mixed(lab: Lab) -> None:
    for item in lab.items:
        pid = f"arxiv:{item['paper']['id']}"
        html = lab.anon.get(f"/paper/{pid}").text
        shown = html.count('<article class="comment')
        count = re.search(r'id="discussion-count">\((\d+)\)', html)
        assert (int(count.group(1)) if count else 0) == shown, pid
        if "No comments yet." in html:
            assert count is None
        hf = item.get("numComments") or 0
        if hf:
            assert f"{hf} comment{'' if hf == 1 else 's'} on Hugging Face" in html
            assert f'href="https://huggingface.co/papers/{item["paper"]["id"]}"' in html
        else:
            assert "on Hugging Face</a>" not in html.split('id="lab"')[1].split("</section>")[0]
    page = lab.anon.get(f"/paper/{lab.submitted}").text
    assert 'id="discussion-count">(1)' in page and "1 comment in this lab" in page


def test_hugging_faces_ai_summary_keywords_and_organisation_are_kept_and_shown(lab: Lab) -> None:
    from markupsafe import escape

    with_summary = [i for i in lab.items if i["paper"].get("ai_summary")]
    assert len(with_summary) > len(lab.items) // 2
    for item in lab.items:
        p = item["paper"]
        html = lab.anon.get(f"/paper/arxiv:{p['id']}").text
        api = lab.anon.get(f"/api/papers/{p['id']}").json()
        summary = " ".join((p.get("ai_summary") or "").split()) or None
        assert api["ai_summary"] == summary
        assert api["ai_keywords"] == [" ".join(k.split()) for k in p.get("ai_keywords") or []]
        if summary:
            assert "Hugging Face's AI summary" in html and str(escape(summary)) in html
            for k in api["ai_keywords"][:3]:
                assert str(escape(k)) in html and "/search?q=%22" in html
        else:
            assert 'id="ai-summary"' not in html
        org = p.get("organization")
        if org:
            assert api["organization"] == {"name": org["name"], "fullname": " ".join(org["fullname"].split())}
            assert f'href="https://huggingface.co/{org["name"]}"' in html
        else:
            assert api["organization"] is None
    day = lab.anon.get("/api/daily_papers", params={"date": "2026-08-18"}).json()
    expected = {i["paper"]["id"]: i["paper"].get("ai_summary") for i in lab.items
                if i["paper"]["submittedOnDailyAt"].startswith("2026-08-18")}
    assert {d["paper"]["id"]: d["paper"]["ai_summary"] for d in day} == {
        k: " ".join(v.split()) if v else None for k, v in expected.items()}


def test_a_query_whose_words_match_nothing_says_so_above_its_meaning_only_matches(lab: Lab) -> None:
    html = lab.anon.get("/search", params={"q": "xyzzyqwerty"}).text
    assert "No paper contains your words" in html and " results" not in html.split('id="count"')[1][:80]
    note, rest = html.split('id="meaning-only-note"')[1].split("</p>", 1)
    assert "no paper contains xyzzyqwerty" in note and '<article class="card">' in rest.split("</section>")[0]
    api = lab.anon.get("/api/search", params={"q": "xyzzyqwerty"}).json()
    assert api["hits"] and any("match by meaning only" in n for n in api["notes"])
    plain = lab.anon.get("/search", params={"q": "agents"}).text
    assert 'id="meaning-only"' not in plain and 'id="legend"' in plain
    assert "cs.CL" not in plain and "no category filter" in plain and "2026" in plain.split('id="filter-hints"')[1]


def test_home_points_at_todays_lab_list_and_a_day_tells_one_story(lab: Lab) -> None:
    from paperscope.community import today

    home = lab.anon.get("/").text
    assert "Friday 21 August 2026" in home and 'id="lab-today-link"' in home and 'href="/lab"' in home
    assert 'id="tab-lab">' in home and 'href="/lab" class="" id="tab-lab"' in home
    day = lab.anon.get("/", params={"date": today()}).text
    assert "No paper was featured" in day and "Submitted by the lab on" in day and "No papers here yet" not in day
    assert " 0 papers" not in day
    empty = lab.anon.get("/", params={"date": "2026-08-16"}).text  # a Sunday: nothing listed, nothing submitted
    assert "No papers here yet" in empty and "or submitted by the lab this day" in empty


def test_trending_names_the_day_each_paper_counts_from(lab: Lab) -> None:
    from paperscope.community import today
    from paperscope.web.present import day, long_day

    html = lab.anon.get("/trending").text
    assert f"30 days up to {long_day(today())}" in html
    assert f"counts from lab submission {day(today())}" in html


def test_recommendations_say_why_each_named_paper_counts(lab: Lab) -> None:
    html = lab.bob.get("/recommendations").text  # bob only upvoted in the lab: nothing saved
    assert "Because you upvoted" in html and "Because you saved" not in html


def test_head_bad_dates_and_signing_in_from_a_401(lab: Lab) -> None:
    from markupsafe import escape

    for path in ("/", "/trending", "/api/daily_papers", f"/paper/{lab.submitted}", "/lab"):
        head, get = lab.anon.head(path), lab.anon.get(path)
        assert head.status_code == get.status_code == 200 and head.content == b"", path
    page, api = lab.anon.get("/?date=2026-13-45"), lab.anon.get("/api/daily_papers?date=2026-13-45")
    assert page.status_code == api.status_code == 400 and str(escape(api.json()["error"])) in page.text
    denied = lab.anon.get("/library")
    assert denied.status_code == 401 and 'href="/login?next=/library"' in denied.text
    c = TestClient(lab.app)
    r = c.post("/login", data={"email": "bob@example.org", "password": "correct horse", "next": "/library",
                               "csrf": csrf_of(c, "/login?next=/library")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/library"
    evil = c.post("/login", data={"email": "bob@example.org", "password": "correct horse", "next": "//evil.example",
                                  "csrf": csrf_of(c, "/login")}, follow_redirects=False)
    assert evil.headers["location"] == "/library"
    assert 'id="admin-link"' in lab.ada.get("/").text and 'id="admin-link"' not in lab.bob.get("/").text


def test_long_author_lists_fold_and_sources_have_human_names(lab: Lab) -> None:
    long = max(lab.items, key=lambda i: len(i["paper"]["authors"]))
    html = lab.anon.get(f"/paper/arxiv:{long['paper']['id']}").text
    n = len(long["paper"]["authors"])
    assert n > 14 and f"+{n - 12} more authors</summary>" in html
    assert '<dd id="sources">Hugging Face daily papers</dd>' in html and 'pre class="bibtex"' in html


def test_settings_controls_sit_with_their_labels_and_deleting_looks_destructive(lab: Lab) -> None:
    html = lab.ada.get("/settings").text
    assert html.count('<label class="check"><input type="checkbox"') == html.count('type="checkbox"') > 0
    assert '<h2 id="saved-searches">Saved searches</h2>' in html
    assert 'id="delete-account" class="danger"' in html and "cannot be undone" in html
    assert html.count('href="/admin"') == 1  # the top bar's, not a lone link under "Your data"
