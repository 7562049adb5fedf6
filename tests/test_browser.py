"""The web UI in Debian's headless Chromium (Playwright), against the real server process.

Screenshots of every page go to tests/artifacts/ for a human to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
         "--no-first-run", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM}: run `apt-get install chromium` "
                    "(.ci/run does this)", pytrace=False)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        pg = browser.new_page(viewport={"width": 1100, "height": 900})
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.dialogs = dialogs  # type: ignore[attr-defined]
        yield pg
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_daily_search_filter_paper_similar_flow(page, server_url):
    page.goto(server_url + "/?date=2024-05-01")
    assert page.locator("article.card h3").first.inner_text() == "Dense Retrieval with Binary Embeddings"
    assert page.get_by_text("▲ 42").count() == 1
    shot(page, "01-daily")

    page.fill("header input[name=q]", "diphoton production at colliders")
    page.press("header input[name=q]", "Enter")
    page.wait_for_selector("#count")
    assert "result" in page.inner_text("#count")
    first = page.locator("article.card h3 a").first.inner_text()
    assert "diphoton" in first.lower()
    shot(page, "02-search")

    page.fill("input[name=cat]", "math.CO")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("#count")
    cats = page.locator("article.card .meta").all_inner_texts()
    assert cats and all("math.CO" in c for c in cats)
    shot(page, "03-search-filtered")

    page.locator("article.card h3 a").first.click()
    page.wait_for_selector("h1")
    assert "/paper/" in page.url and page.locator("meta[name=citation_title]").count() == 1
    assert page.inner_text("pre.bibtex").startswith("@")
    shot(page, "04-paper")
    here = page.url
    page.locator("section.similar article.card h3 a").first.click()
    page.wait_for_selector("h1")
    assert "/paper/" in page.url and page.url != here
    shot(page, "05-similar-paper")


def test_script_in_a_title_renders_as_text(page, server_url):
    from fakes import XSS_TITLE

    page.goto(server_url + "/paper/local:xss")
    assert page.inner_text("h1") == XSS_TITLE.replace("<b>", "").replace("</b>", "")  # formatting tags dropped at ingest
    assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
    assert page.dialogs == []
    shot(page, "06-hostile-title")


def test_about_and_trending_pages_and_phone_width(page, server_url):
    page.goto(server_url + "/about")
    assert int(page.inner_text("#paper-count")) == 203
    shot(page, "07-about")
    page.goto(server_url + "/trending")
    assert page.locator("article.card").count() >= 3
    shot(page, "08-trending")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server_url + "/search?q=retrieval")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "09-search-phone")


def test_signup_save_tag_recommendations_and_unsubscribe(page, server_url, served_home):
    from paperscope.store import Store

    page.goto(server_url + "/signup")
    page.fill("input[name=email]", "ada.browser@example.org")
    page.fill("input[name=password]", "correct horse battery")
    page.click("#submit")
    page.wait_for_url("**/library")
    shot(page, "10-empty-library")
    for pid in ("0704.0001", "0704.0008", "0704.0013"):
        page.goto(server_url + f"/paper/arxiv:{pid}")
        page.fill("input[name=tags]", "collider physics")
        page.click("#save")
        page.wait_for_selector("#saved-tags")
        assert "collider physics" in page.inner_text("#saved-tags")
    shot(page, "11-saved-paper")
    page.goto(server_url + "/library")
    assert "collider physics (3)" in page.inner_text("nav.tags")
    shot(page, "12-library")
    page.click("text=collider physics (3)")
    page.click("text=Recommendations for collider physics")
    page.wait_for_selector("p.because")
    assert page.locator("article.card").count() >= 5
    shot(page, "13-recommendations")
    page.locator("button[value=down]").first.click()
    page.wait_for_selector("p.because")

    store = Store(served_home / "paperscope.sqlite3")
    from paperscope.auth import new_unsubscribe_token

    token = new_unsubscribe_token(store, store.users.by_email("ada.browser@example.org").id)
    page.goto(server_url + f"/unsubscribe/{token}")
    page.click("#unsubscribe")
    page.wait_for_selector("#unsubscribed")
    shot(page, "14-unsubscribed")
    assert store.users.by_email("ada.browser@example.org").digest_frequency == "off"
    store.close()
    page.click("#logout")
    page.goto(server_url + "/library")
    assert "sign in first" in page.inner_text("main")
