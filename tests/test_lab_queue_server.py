"""Slow work out of requests, against a real `paperscope serve`: submissions while arXiv never answers, and
comments whose Markdown is slow to render."""

from __future__ import annotations

import re
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from serving import serving


def _csrf(s: requests.Session, url: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', s.get(url, timeout=30).text).group(1)


def _member(url: str, i: int) -> requests.Session:
    s = requests.Session()
    r = s.post(url + "/signup", data={"email": f"m{i}@lab.example", "password": "correct horse battery",
                                      "csrf": _csrf(s, url + "/signup")}, timeout=60)
    assert r.status_code == 200, r.text[:200]
    return s


def test_submissions_answer_at_once_while_arxiv_never_answers(new_sample_home):
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(200)
    home = new_sample_home()
    try:
        with serving(home, arxiv_api_url=f"http://127.0.0.1:{silent.getsockname()[1]}/api/query",
                     arxiv_api_delay="0", http_timeout="3", http_retries="0", lab_submissions_per_day="5") as url:
            members = [_member(url, i) for i in range(15)]
            tokens = [_csrf(m, url + "/settings") for m in members]
            jobs = [(i % 15, f"2406.{10001 + i}") for i in range(45)]

            def submit(job: tuple[int, str]) -> int:
                who, arxiv_id = job
                r = members[who].post(url + "/submit", data={"paper": arxiv_id, "csrf": tokens[who]}, timeout=10)
                return r.status_code

            with ThreadPoolExecutor(45) as pool:
                statuses = list(pool.map(submit, jobs))
            assert statuses == [200] * 45  # each answered (within the 10 s timeout), none waited for arXiv
            search = requests.get(url + "/api/search", params={"q": "language models"}, timeout=10)
            assert search.status_code == 200 and search.json()["hits"]
            lab = members[0].get(url + "/lab", timeout=10).text
            assert lab.count("fetching</strong>") == 3 and "2406.10001" in lab
            more = [members[0].post(url + "/submit", data={"paper": f"2406.2000{i}", "csrf": tokens[0]},
                                    timeout=10).status_code for i in range(3)]
            assert more == [200, 200, 429]  # 3 queued + 2 = the limit of 5: queued ones count
    finally:
        silent.close()


def test_slow_markdown_already_stored_is_rendered_once_then_served_from_the_store(new_sample_home):
    home = new_sample_home()
    db = home / "paperscope.sqlite3"
    with serving(home) as url:
        member = _member(url, 1)
        paper = requests.get(url + "/api/search", params={"q": "language", "mode": "keyword"},
                             timeout=30).json()["hits"][0]["paper"]["paperscopeId"]
        token = _csrf(member, url + "/settings")
        refused = member.post(url + f"/paper/{paper}/comments", data={"body": "[" * 9990, "csrf": token}, timeout=30)
        assert refused.status_code == 400 and "square brackets" in refused.text
        _store_old_comments(db, paper, 20)  # as an older paperscope wrote them: no stored HTML
        first = requests.get(url + f"/paper/{paper}", timeout=120)
        assert first.status_code == 200 and first.text.count('class="comment') >= 20
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT count(*) FROM lab_comments WHERE html IS NOT NULL AND html_version > 0"
                                ).fetchone()[0]
        assert rows == 20  # rendered once by that view; every later view reads the stored HTML
        comments = requests.get(url + f"/api/papers/{paper}/comments", timeout=30).json()
        assert len(comments) == 20 and all(c["html"] for c in comments)


def _store_old_comments(db: Path, paper: str, n: int) -> None:
    conn = sqlite3.connect(db, timeout=30)
    try:
        uid = conn.execute("SELECT id FROM users LIMIT 1").fetchone()[0]
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with conn:
            conn.executemany("INSERT INTO lab_comments (paper_id, user_id, body, created_at) VALUES (?, ?, ?, ?)",
                             [(paper, uid, "[" * 9990, now)] * n)
    finally:
        conn.close()
