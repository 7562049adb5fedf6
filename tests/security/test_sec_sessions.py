"""Point 1: server-side sessions: opaque cookie, logout/everywhere/password change revoke, idle expiry."""

from __future__ import annotations

import base64
import sqlite3
import time

import requests
from realserver import PASSWORD, csrf, login, signup

from serving import serving


def _copy(s: requests.Session) -> requests.Session:
    thief = requests.Session()
    thief.cookies.set("paperscope", s.cookies.get("paperscope"))
    return thief


def test_cookie_is_an_opaque_revocable_id(home):
    with serving(home) as url:
        ada = signup(url, "ada.sessions@example.org")
        assert "ada.sessions@example.org" in ada.get(url + "/settings", timeout=10).text
        cookie = ada.cookies.get("paperscope")
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        assert b"ada" not in raw and b"uid" not in raw and len(cookie) >= 40
        with sqlite3.connect(home / "paperscope.sqlite3") as db:  # only the id's hash is stored
            assert not db.execute("SELECT 1 FROM sessions WHERE id_hash = ?", (cookie,)).fetchone()
        r = requests.post(url + "/login", data={"email": "ada.sessions@example.org", "password": PASSWORD,
                                                "csrf": "x"}, timeout=10)
        assert r.status_code == 403  # no session, no CSRF token: refused before any password check
        fresh = requests.Session()
        token = csrf(fresh, url + "/login")
        set_cookie = fresh.post(url + "/login", data={"email": "ada.sessions@example.org", "password": PASSWORD,
                                                      "csrf": token}, allow_redirects=False,
                                timeout=30).headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie
        # logout kills the copied cookie
        thief = _copy(ada)
        assert thief.get(url + "/settings", timeout=10).status_code == 200
        ada.post(url + "/logout", data={"csrf": csrf(ada, url + "/settings")}, timeout=10)
        assert thief.get(url + "/settings", timeout=10).status_code == 401
        assert thief.get(url + "/api/library", timeout=10).status_code == 401


def test_log_out_everywhere_and_password_change_end_other_sessions(home):
    with serving(home) as url:
        laptop = signup(url, "bob.sessions@example.org")
        phone = requests.Session()
        token = csrf(phone, url + "/login")
        phone.post(url + "/login", data={"email": "bob.sessions@example.org", "password": PASSWORD, "csrf": token},
                   timeout=30)
        assert phone.get(url + "/settings", timeout=10).status_code == 200
        laptop.post(url + "/settings/sessions/end", data={"csrf": csrf(laptop, url + "/settings")}, timeout=10)
        assert phone.get(url + "/settings", timeout=10).status_code == 401
        assert laptop.get(url + "/settings", timeout=10).status_code == 401
        # password change: the other session ends, this one continues, the old password stops working
        laptop, other = signup(url, "cy.sessions@example.org"), requests.Session()
        token = csrf(other, url + "/login")
        other.post(url + "/login", data={"email": "cy.sessions@example.org", "password": PASSWORD, "csrf": token},
                   timeout=30)
        wrong = laptop.post(url + "/settings/password", data={"current": "not my password", "password": "new pass 1234",
                                                              "csrf": csrf(laptop, url + "/settings")}, timeout=30)
        assert wrong.status_code == 401 and other.get(url + "/settings", timeout=10).status_code == 200
        ok = laptop.post(url + "/settings/password", data={"current": PASSWORD, "password": "new pass 1234",
                                                           "csrf": csrf(laptop, url + "/settings")}, timeout=30)
        assert ok.status_code == 200 and "Password changed" in ok.text
        assert other.get(url + "/settings", timeout=10).status_code == 401
        assert laptop.get(url + "/settings", timeout=10).status_code == 200
        assert login(url, "cy.sessions@example.org").status_code == 401
        assert login(url, "cy.sessions@example.org", "new pass 1234").status_code == 303


def test_idle_sessions_expire(home):
    with serving(home, session_idle_hours=str(2 / 3600)) as url:  # two seconds
        ada = signup(url, "idle@example.org")
        assert ada.get(url + "/settings", timeout=10).status_code == 200
        time.sleep(2.5)  # idle for longer than the two seconds allowed
        assert ada.get(url + "/settings", timeout=10).status_code == 401
