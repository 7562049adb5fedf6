"""The lab's daily list against a real `paperscope serve` process: over HTTP with three members, and in Chromium.

The data dir is a copy of the session's served one (real model, real indexes); the arXiv API is a real
loopback server answering recorded Atom. Tests run in file order: trending first, before a submission
moves the instance's latest day.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
import requests

from recorded import RecordedServer
from serving import serving

NEW = "2406.01234"
HOSTILE = ('Hi <script>alert("s")</script> <img src=x onerror=alert(1)> [click me](javascript:alert(2)) '
           '<a href="javascript:alert(3)">raw link</a> <b onmouseover="alert(5)">raw html</b> **fine**')


@pytest.fixture(scope="module")
def lab_url(served_home: Path, tmp_path_factory) -> Iterator[str]:
    """`paperscope serve` on a copy of the served data dir, its arXiv API pointed at recorded responses."""
    home = tmp_path_factory.mktemp("lab") / "home"
    shutil.copytree(served_home, home)
    arxiv = RecordedServer()
    arxiv.add_file("/api/query", "atom_id_2406.01234.xml", when={"id_list": NEW})
    arxiv.add_file("/api/query", "atom_id_missing.xml", when={"id_list": "2406.99999"})
    with serving(home, arxiv_api_url=arxiv.url + "/api/query", arxiv_api_delay="0",
                 lab_submissions_per_day="3") as url:
        yield url
    arxiv.close()


def _csrf(s: requests.Session, url: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', s.get(url, timeout=30).text).group(1)


def _member(url: str, email: str, name: str) -> requests.Session:
    s = requests.Session()
    r = s.post(url + "/signup", data={"email": email, "password": "correct horse battery",
                                      "csrf": _csrf(s, url + "/signup")}, timeout=30)
    assert r.status_code == 200 and r.url.endswith("/library"), r.text[:300]
    r = s.post(url + "/settings/display-name", data={"name": name, "csrf": _csrf(s, url + "/settings")}, timeout=30)
    assert r.status_code == 200
    return s


def _post(s: requests.Session, url: str, path: str, **data: str) -> requests.Response:
    return s.post(url + path, data={**data, "csrf": _csrf(s, url + "/settings")}, timeout=60)


@pytest.fixture(scope="module")
def members(lab_url: str) -> dict[str, requests.Session]:
    return {name: _member(lab_url, f"{name.lower()}@lab.example", name) for name in ("Ada", "Bob", "Cy")}


def _trending(url: str) -> list[dict]:
    return requests.get(url + "/api/trending", params={"limit": 100}, timeout=30).json()


def test_upvotes_count_once_per_member_and_move_trending(lab_url, members):
    before = _trending(lab_url)
    order = [i["paper"]["paperscopeId"] for i in before]
    assert order.index("arxiv:2405.00002") < order.index("local:xss")
    for _ in range(2):
        assert _post(members["Ada"], lab_url, "/paper/local:xss/upvote").status_code == 200
    assert requests.get(lab_url + "/api/papers/local:xss", timeout=30).json()["upvotes"] == 1
    _post(members["Bob"], lab_url, "/paper/local:xss/upvote")
    assert requests.get(lab_url + "/api/papers/local:xss", timeout=30).json()["upvotes"] == 2
    _post(members["Cy"], lab_url, "/paper/local:xss/upvote")
    after = _trending(lab_url)
    order = [i["paper"]["paperscopeId"] for i in after]
    assert order.index("local:xss") < order.index("arxiv:2405.00002")  # (3 + 1) / 26^1.5 > (7 + 1) / 50^1.5
    xss = next(i for i in after if i["paper"]["paperscopeId"] == "local:xss")
    assert xss["paper"]["upvotes"] == 3 and xss["paper"]["labUpvotes"] == 3
    _post(members["Cy"], lab_url, "/paper/local:xss/unupvote")
    _post(members["Cy"], lab_url, "/paper/local:xss/unupvote")
    assert requests.get(lab_url + "/api/papers/local:xss", timeout=30).json()["upvotes"] == 2
    # imported Hugging Face upvotes and local ones add up
    _post(members["Bob"], lab_url, "/paper/arxiv:2405.00002/upvote")
    assert requests.get(lab_url + "/api/papers/2405.00002", timeout=30).json()["upvotes"] == 8


def test_submitted_unknown_id_is_listed_with_its_submitter_and_found_by_search(lab_url, members):
    day = time.strftime("%Y-%m-%d", time.gmtime())
    r = _post(members["Ada"], lab_url, "/submit", paper=f"https://arxiv.org/abs/{NEW}v2")
    assert r.status_code == 200 and f"Fetching arXiv {NEW}" in r.text, r.text[:500]
    deadline = time.monotonic() + 60  # the server's fetcher brings it outside the request
    while "Tardigrade Sponges" not in members["Ada"].get(lab_url + "/lab", timeout=30).text:
        assert time.monotonic() < deadline, "the fetcher did not bring the submitted paper within 60 s"
        time.sleep(0.5)
    assert _post(members["Bob"], lab_url, "/submit", paper=NEW).status_code == 200  # once per day
    assert _post(members["Bob"], lab_url, "/submit", paper="2405.00001").status_code == 200  # known: featured at once
    items = requests.get(lab_url + "/api/daily_papers", params={"date": day, "submitted": 1}, timeout=30).json()
    by_id = {i["paper"]["id"]: i for i in items}
    assert set(by_id) == {NEW, "2405.00001"}
    assert by_id[NEW]["submittedBy"] == "Ada" and by_id["2405.00001"]["submittedBy"] == "Bob"
    assert by_id[NEW]["submittedOnDailyAt"].startswith(day) and "@" not in str(items)
    assert [i["paper"]["id"] for i in items] == ["2405.00001", NEW]  # most upvoted first (42 imported)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        hits = requests.get(lab_url + "/api/search", params={"q": "tardigrade sponges cryptobiotic"}, timeout=30).json()
        if hits["hits"] and hits["hits"][0]["paper"]["id"] == NEW:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the submitted paper was not found by search within 20 s")
    similar = requests.get(lab_url + f"/api/similar/arxiv:{NEW}", timeout=30)
    assert similar.status_code == 200 and similar.json()
    lab_page = members["Cy"].get(lab_url + f"/lab?date={day}", timeout=30).text
    assert "submitted by Ada" in lab_page and "ada@lab.example" not in lab_page
    missing = _post(members["Cy"], lab_url, "/submit", paper="2406.99999")
    assert missing.status_code == 200 and "Fetching arXiv 2406.99999" in missing.text
    deadline = time.monotonic() + 60
    while "arXiv has no paper with this id" not in members["Cy"].get(lab_url + "/lab", timeout=30).text:
        assert time.monotonic() < deadline, "the failed fetch was not shown within 60 s"
        time.sleep(0.5)
    # the daily limit (3 here): the failed fetch counts, so two more work and the third is refused
    for pid in ("0704.0001", "0704.0003"):
        assert _post(members["Cy"], lab_url, "/submit", paper=pid).status_code == 200
    over = _post(members["Cy"], lab_url, "/submit", paper="0704.0004")
    assert over.status_code == 429 and "limit" in over.text
    # only the submitter withdraws, the same day
    assert _post(members["Bob"], lab_url, f"/paper/arxiv:{NEW}/withdraw").status_code == 403
    assert _post(members["Cy"], lab_url, "/paper/arxiv:0704.0003/withdraw").status_code == 200


def test_hostile_comment_is_inert_and_only_its_author_edits_it(lab_url, members):
    ada, bob = members["Ada"], members["Bob"]
    assert _post(ada, lab_url, "/paper/arxiv:2405.00001/comments", body=HOSTILE).status_code == 200
    for viewer in (bob, ada, requests.Session()):
        html = viewer.get(lab_url + "/paper/arxiv:2405.00001", timeout=30).text
        root = lxml.html.fromstring(html)
        discussion = root.get_element_by_id("discussion")
        assert not discussion.xpath(".//script | .//img | .//style | .//b")
        assert not [a for a in root.iter() for k in a.attrib if k.lower().startswith("on") and "alert" in a.attrib[k]]
        assert not [a for a in root.iter("a") if a.get("href", "").strip().lower().startswith("javascript")]
        assert "javascript:" not in html and "onerror=" not in html
        text = discussion.text_content()
        assert '<script>alert("s")</script>' in text and "raw link" in text  # shown as text
    cid = int(re.search(r'id="c(\d+)"', bob.get(lab_url + "/paper/arxiv:2405.00001", timeout=30).text).group(1))
    assert _post(bob, lab_url, f"/comments/{cid}/edit", body="bob was here").status_code == 403
    assert _post(bob, lab_url, f"/comments/{cid}/delete").status_code == 403
    assert _post(bob, lab_url, "/paper/arxiv:2405.00001/comments", body="agreed", parent=str(cid)).status_code == 200
    api = requests.get(lab_url + "/api/papers/2405.00001", timeout=30).json()
    page = requests.get(lab_url + "/paper/arxiv:2405.00001", timeout=30).text
    assert api["numComments"] == 2 and "2 comments in this lab" in page
    daily = requests.get(lab_url + "/api/daily_papers", params={"date": "2024-05-01"}, timeout=30).json()
    assert next(i for i in daily if i["paper"]["id"] == "2405.00001")["numComments"] == 2
    assert _post(ada, lab_url, f"/comments/{cid}/delete").status_code == 200
    assert requests.get(lab_url + "/api/papers/2405.00001", timeout=30).json()["numComments"] == 1


def test_private_marks_stay_private_and_public_actions_show_names(lab_url, members):
    ada, bob = members["Ada"], members["Bob"]
    _post(ada, lab_url, "/library/save", paper_id="arxiv:0704.0005", tags="ada-secret")
    _post(ada, lab_url, "/library/mark", paper_id="arxiv:0704.0005", action="up")
    page = bob.get(lab_url + "/paper/arxiv:0704.0005", timeout=30).text
    assert "ada-secret" not in page and "0 in this lab" in page
    assert requests.get(lab_url + "/api/papers/0704.0005", timeout=30).json()["upvotes"] == 0
    assert "lab.example" not in requests.get(lab_url + "/feeds/lab.atom", timeout=30).text
    assert 'id="privacy"' in ada.get(lab_url + "/settings", timeout=30).text


# --- the browser ----------------------------------------------------------------------------------

def test_browser_submit_upvote_and_comment(lab_url):
    from playwright.sync_api import sync_playwright

    from test_browser import CHROMIUM, FLAGS, shot

    assert Path(CHROMIUM).exists()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(lab_url + "/signup")
        page.fill("input[name=email]", "dee@lab.example")
        page.fill("input[name=password]", "correct horse battery")
        page.locator("form button").last.click()
        page.wait_for_url("**/library")
        page.goto(lab_url + "/settings")
        page.fill("#display-name", "Dee")
        page.click("#save-name")
        page.wait_for_selector("text=Others now see you as Dee")
        page.goto(lab_url + "/lab")
        page.fill("#submit-form input[name=paper]", "arxiv.org/abs/2405.00002v1")
        page.click("#submit-paper")
        page.wait_for_selector("#lab-list")
        item = page.locator(".lab-item", has_text="Reciprocal Rank Fusion Revisited")
        assert "submitted by Dee" in item.inner_text()
        count = int(item.locator(".upvote .n").inner_text())
        item.locator("button.upvote").click()
        page.wait_for_selector("#lab-list")
        item = page.locator(".lab-item", has_text="Reciprocal Rank Fusion Revisited")
        assert int(item.locator(".upvote .n").inner_text()) == count + 1
        assert item.locator("button.upvote.on").count() == 1
        shot(page, "lab-01-list")
        item.locator("button.upvote").click()  # a second click takes it back
        page.wait_for_selector("#lab-list")
        assert int(page.locator(".lab-item", has_text="Reciprocal Rank").locator(".upvote .n").inner_text()) == count
        page.goto(lab_url + "/paper/arxiv:2405.00002")
        page.fill("#comment-form textarea[name=body]", HOSTILE)
        page.click("#post-comment")
        page.wait_for_selector("#discussion .comment")
        body = page.locator("#discussion .comment .body").last
        assert body.locator("strong").inner_text() == "fine"
        assert page.locator("#discussion script, #discussion img, #discussion b").count() == 0
        assert page.locator("#discussion a[href^='javascript' i]").count() == 0
        body.hover()
        assert dialogs == []
        shot(page, "lab-02-discussion")
        browser.close()
