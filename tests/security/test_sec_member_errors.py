"""Issue 25, point 5 (and the per-member rate of point 3): errors a member can read never show internal URLs,
exception text or operator instructions (those go to the log and /admin), and the API limiter's 429 says
`rate_limited`, per member rather than per token."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from realserver import csrf, signup

from paperscope.errors import MissingExtraError, NotFoundError, SourceError, StoreError, UsageError
from paperscope.web.common import member_message, recent_problems
from serving import serving

LEAKS = re.compile(r"`|https?://|run the ingest|arxiv_api_url|ConnectionRefused|Traceback|\bsetting\b")


def _request(path: str = "/submit") -> SimpleNamespace:
    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(home=Path("/srv/paperscope-data"))))
    return SimpleNamespace(app=app, url=SimpleNamespace(path=path))


@pytest.mark.parametrize("exc", [
    SourceError("cannot reach http://10.0.0.7:9/api/query: ConnectionRefusedError: [Errno 111] Connection refused "
                "(after 2 attempts); run the ingest again to resume"),
    SourceError("could not fetch arXiv 2401.12345 from the arXiv API (timed out); try again later, or ask the "
                "operator to check the arxiv_api_url setting"),
    StoreError("cannot open the database at /srv/paperscope-data/paperscope.sqlite3: disk I/O error"),
    MissingExtraError("vector_backend=milvus needs `pip install 'paperscope[milvus]'`"),
    NotFoundError("no paper 'x' in this store; try `paperscope stats` or ingest it first"),
    UsageError("save a few papers first (with vectors: run `paperscope update`) to get recommendations"),
    UsageError("the search indexes are not built yet: run `paperscope update` (embed + index) first"),
])
def test_member_messages_hide_urls_exception_text_and_operator_instructions(exc):
    request = _request()
    shown = member_message(request, exc)  # type: ignore[arg-type]
    assert shown and not LEAKS.search(shown), shown
    assert recent_problems(request)[0][3] == str(exc)  # the operator keeps the whole text  # type: ignore[arg-type]


def test_plain_messages_stay_as_they_are():
    request = _request()
    for message in ("you have submitted 10 papers today, the limit of this instance; try again tomorrow",
                    "a webhook is an http:// or https:// URL with a host name"):  # a scheme named, not a URL
        assert member_message(request, UsageError(message)) == message  # type: ignore[arg-type]
    assert recent_problems(request) == []  # type: ignore[arg-type]


def _token(s: requests.Session, url: str) -> str:
    page = s.post(url + "/settings/token", data={"csrf": csrf(s, url + "/settings")}, timeout=10).text
    return re.search(r'id="api-token">([^<]+)<', page).group(1)


def test_errors_through_a_real_server_and_the_details_on_admin(home):
    with serving(home) as url:
        admin = signup(url, "errors.admin@example.org")  # the first account is the admin
        r = requests.get(url + "/api/papers/9999.99999", timeout=10)
        assert r.status_code == 404 and not LEAKS.search(r.json()["error"]), r.json()
        page = requests.get(url + "/paper/arxiv:9999.99999", timeout=10)
        assert page.status_code == 404 and "paperscope stats" not in page.text
        h = {"Authorization": f"Bearer {_token(admin, url)}"}
        r = requests.get(url + "/api/recommendations", headers=h, timeout=30)
        assert r.status_code == 400 and not LEAKS.search(r.json()["error"]), r.json()
        board = admin.get(url + "/admin", timeout=10).text
        assert 'id="problems"' in board and "paperscope stats" in board  # the operator's text is on /admin


def test_api_rate_is_per_member_and_its_429_says_rate_limited(home):
    with serving(home, api_rate="5") as url:
        ada = signup(url, "rate.member@example.org")
        first = {"Authorization": f"Bearer {_token(ada, url)}"}
        assert [requests.get(url + "/api/library", headers=first, timeout=10).status_code
                for _ in range(5)] == [200] * 5
        second = {"Authorization": f"Bearer {_token(ada, url)}"}  # a rotated token: the same member's bucket
        r = requests.get(url + "/api/library", headers=second, timeout=10)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.json() == {"error": r.json()["error"], "code": "rate_limited", "status": 429}
        bob = signup(url, "rate.other@example.org")  # another member has a bucket of their own
        other = {"Authorization": f"Bearer {_token(bob, url)}"}
        assert requests.get(url + "/api/library", headers=other, timeout=10).status_code == 200
        made_up = {"Authorization": "Bearer ps_made-up"}
        codes = [requests.get(url + "/api/library", headers=made_up, timeout=10).status_code for _ in range(7)]
        assert codes[:5] == [401] * 5 and codes[-1] == 429  # unknown tokens: counted by address
