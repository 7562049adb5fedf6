"""The demo instance in Debian's headless Chromium: `paperscope demo` on the latest week of real Hugging Face daily
papers (a loopback stand-in of /api/daily_papers serving ../shared/data/hf-daily-papers.jsonl); authors and upvotes
on the daily page, offline API docs, phone and desktop widths. Screenshots of the home, daily and paper pages go to
docs/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from demoing import running_demo
from recorded import RecordedServer, hf_daily_stand_in
from test_browser import CHROMIUM, FLAGS

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> Iterator[str]:
    """`paperscope demo` as a new user runs it, Hugging Face being the stand-in, on a free loopback port."""
    hf = RecordedServer()
    hf_daily_stand_in(hf)
    try:
        with running_demo(tmp_path_factory.mktemp("demo") / "home", hf.url) as demo:
            yield demo.url
    finally:
        hf.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM}: run `apt-get install chromium`",
                    pytrace=False)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def offline_page(browser, width: int = 1280, height: int = 900):
    """A page whose every request to another host fails, as on a machine with no network."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.blocked = []  # type: ignore[attr-defined]

    def route(r):
        if urlsplit(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            page.blocked.append(r.request.url)  # type: ignore[attr-defined]
            r.abort()

    page.route("**/*", route)
    return page


def test_daily_page_shows_authors_upvotes_and_walks_days(browser, demo_url):
    page = offline_page(browser)
    page.goto(demo_url + "/")
    assert "21 August 2026" in page.inner_text("h1")
    cards = page.locator("article.card")
    assert cards.count() == 17
    first = cards.first
    assert first.locator(".authors a").count() >= 1 and first.locator(".sig.upvotes").inner_text().startswith("▲ ")
    upvotes = [int(t.split()[1]) for t in page.locator("article.card .sig.upvotes").all_inner_texts()]
    assert upvotes == sorted(upvotes, reverse=True) and upvotes[0] > 0
    assert page.locator("article.card .authors").count() == 17
    width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert width > 1100  # a desktop's width is used (cards in columns)
    page.screenshot(path=str(SCREENSHOTS / "home.png"))
    page.click("#prev-day")
    page.wait_for_url("**date=2026-08-20")
    assert "20 August 2026" in page.inner_text("h1") and page.locator("#next-day").count() == 1
    page.goto(demo_url + "/?date=2026-08-17")  # the week's first listing day: Saturday and Sunday had none
    assert page.locator("#prev-day").count() == 0 and page.locator("#next-day").inner_text().startswith("18 Aug 2026")
    page.click("#next-day")
    page.wait_for_url("**date=2026-08-18")
    assert page.locator("#prev-day").inner_text().startswith("← 17 Aug 2026")
    page.screenshot(path=str(SCREENSHOTS / "daily.png"))
    assert page.blocked == []  # the pages themselves need no other host
    page.close()


def test_paper_page_and_phone_width(browser, demo_url):
    page = offline_page(browser)
    page.goto(demo_url + "/")
    page.locator("article.card h3 a").first.click()
    page.wait_for_selector("section.similar article.card")
    assert page.locator("article.paper .authors a").count() >= 1
    assert "$" not in page.inner_text("article.paper .abstract")
    page.screenshot(path=str(SCREENSHOTS / "paper.png"), full_page=True)
    paper_url = page.url
    for path in ("/", paper_url.replace(demo_url, ""), "/trending", "/search?q=agents", "/status"):
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(demo_url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    page.goto(demo_url + "/")
    page.screenshot(path=str(SCREENSHOTS / "home-phone.png"))
    page.close()


def test_api_docs_render_with_the_network_blocked(browser, demo_url):
    page = offline_page(browser)
    page.goto(demo_url + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30000)
    assert "paperscope" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock-summary-path", has_text="/api/daily_papers").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"))
    page.goto(demo_url + "/redoc")
    page.wait_for_selector("#redoc-container h1", timeout=30000)
    assert "paperscope" in page.inner_text("#redoc-container h1")
    assert page.blocked == []
    page.close()


def test_not_found_page_leads_to_a_search(browser, demo_url):
    page = offline_page(browser)
    page.goto(demo_url + "/paper/agent%20memory%20benchmark")
    assert "There is no page" in page.inner_text("#not-found")
    page.click("#search-instead")
    page.wait_for_selector("#count")
    assert "q=agent+memory+benchmark" in page.url and page.locator("article.card").count() > 0
    page.close()
