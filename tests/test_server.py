"""The real `paperscope serve` process over HTTP on loopback (real model, real indexes)."""

from __future__ import annotations

import requests


def test_real_server_answers_search_daily_paper_and_errors(server_url):
    s = requests.get(server_url + "/api/search", params={"q": "binary embeddings for retrieval"}, timeout=30).json()
    assert s["hits"][0]["paper"]["id"] == "2405.00001" and s["hits"][0]["reason"] == "both"
    daily = requests.get(server_url + "/api/daily_papers", params={"date": "2024-05-01"}, timeout=10).json()
    assert [d["paper"]["id"] for d in daily] == ["2405.00001", "2405.00002"]  # by upvotes
    paper = requests.get(server_url + "/api/papers/arxiv:0704.0001", timeout=10).json()
    assert paper["versions"][1]["version"] == "v2"
    missing = requests.get(server_url + "/api/papers/0000.00000", timeout=10)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    html = requests.get(server_url + "/", timeout=10)
    assert html.status_code == 200 and "<script>alert" not in html.text
    assert requests.get(server_url + "/docs", timeout=10).status_code == 200


def _csrf(session: requests.Session, url: str) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', session.get(url, timeout=10).text).group(1)


def _signup(server_url: str, email: str) -> requests.Session:
    s = requests.Session()
    r = s.post(server_url + "/signup", data={"email": email, "password": "correct horse battery",
                                             "csrf": _csrf(s, server_url + "/signup")}, timeout=10)
    assert r.status_code == 200 and r.url.endswith("/library"), r.text[:300]
    return s


def test_users_are_isolated_and_csrf_is_enforced_over_real_http(server_url):
    ada, bob = _signup(server_url, "ada.http@example.org"), _signup(server_url, "bob.http@example.org")
    token = _csrf(ada, server_url + "/library")
    r = ada.post(server_url + "/library/save", data={"paper_id": "0704.0001", "tags": "secret-tag", "csrf": token},
                 timeout=10)
    assert r.status_code == 200 and "secret-tag" in r.text
    assert "secret-tag" not in bob.get(server_url + "/library", timeout=10).text
    assert bob.get(server_url + "/api/library", timeout=10).json()["papers"] == []
    assert "secret-tag" not in bob.get(server_url + "/paper/arxiv:0704.0001", timeout=10).text
    # bob's session token does not work for ada's forms, and no token at all is refused
    forged = bob.post(server_url + "/library/save", data={"paper_id": "0704.0002", "csrf": token}, timeout=10)
    assert forged.status_code == 403
    bare = requests.post(server_url + "/library/save", data={"paper_id": "0704.0002"}, timeout=10)
    assert bare.status_code in (401, 403)
    # a tampered session cookie signs nobody in
    cookie = ada.cookies.get("paperscope")
    evil = requests.Session()
    evil.cookies.set("paperscope", cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB"))
    assert evil.get(server_url + "/library", timeout=10).status_code == 401
