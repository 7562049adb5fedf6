"""Points 2 and 4: reset by mail (single use, hashed, same answer for unknown addresses), email syntax,
hashed and rotatable feed tokens, per-token API rate limit, opt-in anonymous limit."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC
from email import message_from_bytes
from email.policy import default

import requests
from realserver import PASSWORD, csrf, login, signup

from serving import serving


def _forgot(url: str, email: str) -> requests.Response:
    s = requests.Session()
    return s.post(url + "/password/forgot", data={"email": email, "csrf": csrf(s, url + "/password/forgot")},
                  timeout=30)


def test_reset_by_mail_is_single_use_and_does_not_reveal_accounts(home, mailbox):
    port, got = mailbox
    with serving(home, smtp_host="127.0.0.1", smtp_port=str(port), smtp_security="none") as url:
        old = signup(url, "reset@example.org")
        known, unknown = _forgot(url, "reset@example.org"), _forgot(url, "nobody.here@example.org")
        assert known.status_code == unknown.status_code == 200
        strip = lambda t: re.sub(r'name="csrf" value="[^"]+"', "", t)  # noqa: E731
        assert strip(known.text) == strip(unknown.text)
        for _ in range(50):
            if got:
                break
            time.sleep(0.1)
        assert len(got) == 1
        mail = message_from_bytes(got[0], policy=default)
        assert mail["To"] == "reset@example.org"
        link = re.search(r"(http://127\.0\.0\.1:\d+/password/reset/\S+)", mail.get_content()).group(1)
        token = link.rsplit("/", 1)[1]
        with sqlite3.connect(home / "paperscope.sqlite3") as db:  # stored hashed only
            assert not db.execute("SELECT 1 FROM tokens WHERE hash = ?", (token,)).fetchone()
        s = requests.Session()
        r = s.post(link, data={"password": "brand new pass", "csrf": csrf(s, link)}, timeout=30)
        assert r.status_code == 200 and r.url.endswith("/library")
        assert old.get(url + "/settings", timeout=10).status_code == 401  # the old session ended
        assert login(url, "reset@example.org").status_code == 401
        assert login(url, "reset@example.org", "brand new pass").status_code == 303
        again = requests.Session()
        assert again.get(link, timeout=10).status_code == 404  # single use


def test_expired_reset_link_is_refused(home):
    from datetime import datetime, timedelta

    from paperscope.auth import new_reset_token
    from paperscope.store import Store

    with serving(home) as url:
        signup(url, "late@example.org")
        store = Store(home / "paperscope.sqlite3")
        user = store.users.by_email("late@example.org")
        token = new_reset_token(store, user.id, datetime.now(UTC) - timedelta(hours=1, minutes=1))
        store.close()
        assert requests.get(url + f"/password/reset/{token}", timeout=10).status_code == 404


def test_signup_checks_email_syntax_and_answers_existing_like_login(home):
    with serving(home) as url:
        s = requests.Session()
        bad = s.post(url + "/signup", data={"email": "not an email@", "password": PASSWORD,
                                            "csrf": csrf(s, url + "/signup")}, timeout=30)
        assert bad.status_code == 400 and "not a valid email" in bad.text
        signup(url, "exists@example.org")
        s = requests.Session()
        again = s.post(url + "/signup", data={"email": "exists@example.org", "password": "someone else 1",
                                              "csrf": csrf(s, url + "/signup")}, timeout=30)
        wrong = login(url, "exists@example.org", "someone else 1")
        assert again.status_code == wrong.status_code == 401
        assert "wrong email or password" in again.text and "already exists" not in again.text


def test_feed_tokens_are_hashed_rotatable_and_revocable(home):
    with serving(home) as url:
        ada = signup(url, "feeds@example.org")
        page = ada.post(url + "/settings/feed", data={"csrf": csrf(ada, url + "/settings")}, timeout=10).text
        feed = re.search(r"(/feeds/([^/]+)/recommendations\.atom)", page)
        path, token = feed.group(1), feed.group(2)
        assert requests.get(url + path, timeout=30).status_code == 200
        later = ada.get(url + "/settings", timeout=10).text
        assert token not in later and 'id="feed-hint"' in later  # masked afterwards
        db_bytes = (home / "paperscope.sqlite3").read_bytes() + b"".join(
            p.read_bytes() for p in home.glob("paperscope.sqlite3-wal"))
        assert token.encode() not in db_bytes
        page = ada.post(url + "/settings/feed", data={"csrf": csrf(ada, url + "/settings")}, timeout=10).text
        new_path = re.search(r"(/feeds/[^/]+/recommendations\.atom)", page).group(1)
        assert requests.get(url + path, timeout=10).status_code == 404  # rotated: the old URL is dead
        assert requests.get(url + new_path, timeout=30).status_code == 200
        ada.post(url + "/settings/feed/revoke", data={"csrf": csrf(ada, url + "/settings")}, timeout=10)
        assert requests.get(url + new_path, timeout=10).status_code == 404


def test_api_token_rate_limit_and_opt_in_anonymous_limit(home):
    with serving(home, api_rate="5") as url:
        ada = signup(url, "api@example.org")
        page = ada.post(url + "/settings/token", data={"csrf": csrf(ada, url + "/settings")}, timeout=10).text
        token = re.search(r'id="api-token">([^<]+)<', page).group(1)
        h = {"Authorization": f"Bearer {token}"}
        codes = [requests.get(url + "/api/library", headers=h, timeout=10).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[-1] == 429
        r = requests.get(url + "/api/library", headers=h, timeout=10)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert all(requests.get(url + "/api/stats", timeout=10).status_code == 200 for _ in range(10))  # off
        ada.post(url + "/settings/token/revoke", data={"csrf": csrf(ada, url + "/settings")}, timeout=10)
    with serving(home, api_anon_rate="3") as url:
        codes = [requests.get(url + "/api/stats", timeout=10).status_code for _ in range(5)]
        assert codes[:3] == [200] * 3 and codes[-1] == 429
        assert requests.get(url + "/api/library", headers=h, timeout=10).status_code == 401  # revoked
