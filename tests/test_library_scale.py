"""A large library stays cheap per request: pages of it, exports streamed in chunks, recommendations reused until
the library changes (and limited per member)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from paperscope import library
from paperscope.models import Paper
from test_accounts_web import app, signup, store  # noqa: F401 - the fixtures, reused

N = 250


def _fill(db, user_id: int) -> None:
    for i in range(N):
        db.users.save_private(user_id, Paper(id=f"mine-{i:04d}", title=f"Smith Notes Part {i}",
                                                abstract="A private record.", published="2024-01-02"), ["big"])


def test_a_large_library_is_shown_a_page_at_a_time(app, store):  # noqa: F811
    c = TestClient(app)
    signup(c, "ada@example.org")
    uid = store.users.by_email("ada@example.org").id
    _fill(store, uid)
    first = c.get("/library").text
    assert first.count('class="card') == library.PAGE and f"Page 1 of 3 ({N} papers)" in first
    last = c.get("/library", params={"page": 3}).text
    assert last.count('class="card') == N - 2 * library.PAGE and 'rel="prev"' in last and 'rel="next"' not in last
    seen = set()
    for page in (1, 2, 3):
        seen |= set(re.findall(r"Smith Notes Part (\d+)", c.get("/library", params={"page": page}).text))
    assert len(seen) == N


def test_exports_stream_every_record_with_unique_keys_across_chunks(app, store, monkeypatch):  # noqa: F811
    monkeypatch.setattr(library, "EXPORT_CHUNK", 60)  # several chunks: keys must stay unique across them
    c = TestClient(app)
    signup(c, "ada@example.org")
    _fill(store, store.users.by_email("ada@example.org").id)
    bib = c.get("/library/export.bib")
    assert bib.status_code == 200 and bib.headers["content-disposition"].endswith('library.bib"')
    keys = re.findall(r"@\w+\{([^,]+),", bib.text)
    assert len(keys) == N and len(set(keys)) == N
    ris = c.get("/library/export.ris", params={"tag": "big"}).text
    assert ris.count("TY  - ") == N and ris.count("ER  - ") == N


def test_recommendations_are_reused_until_the_library_changes_and_limited_per_member(app, store, monkeypatch):  # noqa: F811
    import paperscope.web.accounts as accounts

    calls = []
    real = accounts.recommend

    def counted(*args, **kwargs):
        calls.append(args[1:])
        return real(*args, **kwargs)

    monkeypatch.setattr(accounts, "recommend", counted)
    c = TestClient(app)
    signup(c, "ada@example.org")
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/library").text).group(1)
    c.post("/library/save", data={"paper_id": "0704.0001", "tags": "qcd", "csrf": token})
    for _ in range(3):
        assert c.get("/recommendations").status_code == 200
    assert len(calls) == 1  # computed once, then served from the cache
    c.post("/library/save", data={"paper_id": "0704.0002", "tags": "qcd", "csrf": token})
    assert c.get("/recommendations").status_code == 200 and len(calls) == 2  # the library changed
    statuses = [c.get("/recommendations").status_code for _ in range(40)]
    assert 429 in statuses and statuses.index(429) >= 20  # a member's own limit, not everyone's
    other = TestClient(app)
    signup(other, "bob@example.org")
    assert other.get("/recommendations").status_code == 200


def test_bibtex_keys_of_thousands_of_papers_with_one_base_are_unique_and_in_order():
    from paperscope.cite import unique_keys

    papers = [Paper(id=str(i), title="Private Notes", published="2021-01-01") for i in range(5000)]
    used: dict[str, int] = {}
    keys = unique_keys(papers[:2500], used) + unique_keys(papers[2500:], used)  # two chunks of one export
    assert len(set(keys)) == 5000 and keys[:3] == ["anon2021private", "anon2021privateb", "anon2021privatec"]
    assert keys[-1] == "anon2021private" + "gjh"  # the 5000th name in the b, c, …, z, aa, … sequence
