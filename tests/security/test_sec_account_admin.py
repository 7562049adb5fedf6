"""Points 8 and 9: download everything and delete the account; /admin for admins only, with CLI twins."""

from __future__ import annotations

import json
import sqlite3

import requests
from realserver import PASSWORD, cli, csrf, login, signup

from serving import imports_done, serving


def test_download_everything_then_delete_the_account(home):
    with serving(home) as url:
        ada = signup(url, "owner@example.org")
        token = csrf(ada, url + "/library")
        ada.post(url + "/library/save", data={"paper_id": "0704.0001", "tags": "qcd", "csrf": token}, timeout=10)
        ada.post(url + "/library/mark", data={"paper_id": "0704.0001", "action": "note", "value": "my note",
                                              "csrf": token}, timeout=10)
        ada.post(url + "/library/import", data={"tag": "mine", "csrf": token}, timeout=30,
                 files={"file": ("x.bib", b"@misc{k1, title = {Owned Private Record}, year = {2020}}\n")})
        imports_done(ada, url)
        data = ada.get(url + "/account/export.json", timeout=10).json()
        assert data["account"]["email"] == "owner@example.org"
        assert data["library"]["qcd"] == ["arxiv:0704.0001"] and data["marks"]["arxiv:0704.0001"]["note"] == "my note"
        assert [p["title"] for p in data["private_records"].values()] == ["Owned Private Record"]
        assert "Owned Private Record" in ada.get(url + "/account/export.bib", timeout=10).text
        thief = requests.Session()
        thief.cookies.set("paperscope", ada.cookies.get("paperscope"))
        wrong = ada.post(url + "/account/delete", timeout=30,
                         data={"password": "not it at all", "csrf": csrf(ada, url + "/settings")})
        assert wrong.status_code == 401
        ok = ada.post(url + "/account/delete", data={"password": PASSWORD, "csrf": csrf(ada, url + "/settings")},
                      timeout=30)
        assert ok.status_code == 200
        assert thief.get(url + "/settings", timeout=10).status_code == 401
        assert login(url, "owner@example.org").status_code == 401
        with sqlite3.connect(home / "paperscope.sqlite3") as db:
            for table in ("users", "private_papers", "private_library", "sessions", "tokens", "library"):
                where = " WHERE user_id IS NOT NULL" if table == "sessions" else ""  # anonymous form sessions stay
                assert db.execute(f"SELECT count(*) FROM {table}{where}").fetchone()[0] == 0, table


def test_admin_page_is_for_admins_and_manages_accounts(home):
    with serving(home) as url:
        admin = signup(url, "first@example.org")  # the first account of an instance is its admin
        user = signup(url, "second@example.org")
        assert user.get(url + "/admin", timeout=10).status_code == 403
        assert requests.get(url + "/admin", timeout=10).status_code == 401
        page = admin.get(url + "/admin", timeout=10)
        assert page.status_code == 200 and "second@example.org" in page.text and 'id="runs"' in page.text
        uid = json.loads(cli(home, "user", "list", "--json").stdout)[1]["id"]
        r = admin.post(url + "/admin/user", data={"user_id": uid, "action": "disable",
                                                  "csrf": csrf(admin, url + "/admin")}, timeout=10)
        assert r.status_code == 200 and "disabled" in r.text
        assert user.get(url + "/settings", timeout=10).status_code == 401  # sessions ended
        assert login(url, "second@example.org").status_code == 401
        admin.post(url + "/admin/user", data={"user_id": uid, "action": "enable", "csrf": csrf(admin, url + "/admin")},
                   timeout=10)
        assert login(url, "second@example.org").status_code == 303
        admin.post(url + "/admin/signup", data={"mode": "admin", "csrf": csrf(admin, url + "/admin")}, timeout=10)
        s = requests.Session()
        closed = s.post(url + "/signup", data={"email": "third@example.org", "password": PASSWORD,
                                               "csrf": csrf(s, url + "/signup")}, timeout=10)
        assert closed.status_code == 403
    # the CLI twins
    assert "sign-up: admin" in cli(home, "user", "signup").stdout
    assert cli(home, "user", "signup", "open").returncode == 0
    assert cli(home, "user", "disable", "second@example.org").returncode == 0
    assert "DISABLED" in cli(home, "user", "list").stdout
    link = cli(home, "user", "reset", "second@example.org").stdout.strip()
    assert "/password/reset/r" in link
    assert "run" in cli(home, "user", "status").stdout
    assert cli(home, "user", "delete", "second@example.org", "--yes").returncode == 0
    assert "second@example.org" not in cli(home, "user", "list").stdout
