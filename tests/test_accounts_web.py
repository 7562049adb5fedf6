"""Accounts, library, recommendations, settings, feeds and unsubscribe through the in-process client."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperscope.auth import hash_password
from paperscope.pipeline import embed_papers, update_indexes
from paperscope.search import open_engine
from paperscope.web.app import create_app

DATA = Path(__file__).parent / "data"


@pytest.fixture
def store(snapshot_store):  # every test here starts from the snapshot sample, embedded and indexed
    return snapshot_store


@pytest.fixture
def app(settings, store, fake_embedder):
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    s = dataclasses.replace(settings, signup="open", base_url="http://ps.test")
    return create_app(s, open_engine(store, s, fake_embedder))


def csrf_of(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, "every form carries a CSRF token"
    return match.group(1)


def imports_settled(client: TestClient, timeout: float = 60) -> str:
    """/library once the app's importer thread (running while the client is open) has read every queued import."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        page = client.get("/library").text
        if "<strong>waiting</strong>" not in page and "<strong>reading</strong>" not in page:
            return page
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.1)


def signup(client: TestClient, email: str) -> None:
    r = client.post("/signup", data={"email": email, "password": "correct horse", "csrf": csrf_of(client, "/signup")},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def test_signup_login_logout_and_wrong_password(app):
    with TestClient(app) as c:
        signup(c, "ada@example.org")
        assert "ada@example.org" in c.get("/library").text
        c.post("/logout", data={"csrf": csrf_of(c, "/library")})
        assert c.get("/library").status_code == 401
        bad = c.post("/login", data={"email": "ada@example.org", "password": "wrong password", "csrf": csrf_of(c)})
        assert bad.status_code == 401 and "wrong email or password" in bad.text
        ok = c.post("/login", data={"email": "ADA@example.org", "password": "correct horse", "csrf": csrf_of(c)},
                    follow_redirects=False)
        assert ok.status_code == 303


def test_every_form_rejects_a_missing_or_foreign_csrf_token(app):
    with TestClient(app) as c:
        signup(c, "ada@example.org")
        for path, data in (("/library/save", {"paper_id": "0704.0001"}), ("/settings/token", {}),
                           ("/library/tag", {"tag": "x", "action": "delete"}), ("/logout", {})):
            r = c.post(path, data={**data, "csrf": "forged"})
            assert r.status_code == 403 and "CSRF" in r.text, path
    with TestClient(app) as other:
        r = other.post("/signup", data={"email": "eve@example.org", "password": "12345678"})
        assert r.status_code == 403


def test_library_tags_notes_export_import_and_isolation(app):
    with TestClient(app) as ada, TestClient(app) as bob:
        signup(ada, "ada@example.org")
        signup(bob, "bob@example.org")
        token = csrf_of(ada, "/library")
        ada.post("/library/save", data={"paper_id": "0704.0001", "tags": "qcd, to read", "csrf": token})
        ada.post("/library/mark", data={"paper_id": "0704.0001", "action": "note", "value": "eq. 3 <b>!</b>", "csrf": token})
        page = ada.get("/paper/arxiv:0704.0001").text
        assert "In: qcd, to read" in page and "eq. 3 &lt;b&gt;!&lt;/b&gt;" in page
        ada.post("/library/tag", data={"tag": "to read", "new": "later", "action": "rename", "csrf": token})
        assert "later (1)" in ada.get("/library").text
        bib = ada.get("/library/export.bib", params={"tag": "qcd"})
        assert bib.status_code == 200 and "eprint = {0704.0001}" in bib.text
        ris = ada.get("/library/export.ris").text
        assert "TY  - " in ris and "M1  - arXiv:0704.0001" in ris
        queued = ada.post("/library/import", data={"tag": "zotero", "csrf": token},
                          files={"file": ("lib.bib", (DATA / "library.bib").read_bytes())}, follow_redirects=True)
        assert "Importing into zotero" in queued.text
        assert "done</strong>: 0 matched in the catalogue, 2 kept as your private records" in imports_settled(ada)
        # bob sees none of it, through pages or the API
        assert "0704.0001" not in bob.get("/library").text and "qcd" not in bob.get("/library").text
        assert bob.get("/api/library").json()["papers"] == []
        assert "eq. 3" not in bob.get("/paper/arxiv:0704.0001").text


def test_recommendations_votes_settings_token_and_feeds(app):
    with TestClient(app) as c:
        signup(c, "ada@example.org")
        token = csrf_of(c, "/library")
        assert "save a few papers first" in c.get("/recommendations").text
        for pid in ("0704.0001", "0704.0002", "0704.0003"):
            c.post("/library/save", data={"paper_id": pid, "tags": "pheno", "csrf": token})
        recs = c.get("/recommendations", params={"tag": "pheno"}).text
        assert recs.count("Because you saved") >= 5
        first = re.search(r'name="paper_id" value="([^"]+)"', recs.split("Because you saved")[1]).group(1)
        c.post("/library/mark", data={"paper_id": first, "action": "hide", "csrf": token,
                                      "next": "/recommendations?tag=pheno"})
        assert f'value="{first}"' not in c.get("/recommendations", params={"tag": "pheno"}).text
        c.post("/settings/digest", data={"frequency": "daily", "size": "5", "tags": "pheno", "csrf": token})
        settings_page = c.post("/settings/token", data={"csrf": token}).text  # redirected to /settings, shown once
        api_token = re.search(r'id="api-token">([^<]+)<', settings_page).group(1)
        assert 'value="daily" selected' in settings_page or "<option selected>daily</option>" in settings_page
        settings_page = c.post("/settings/feed", data={"csrf": token}).text  # the feed URL, shown in full once
        feed_url = re.search(r'http://ps.test(/feeds/[^/]+/recommendations.atom)', settings_page).group(1)
        assert feed_url.split("/")[2] not in c.get("/settings").text  # afterwards only a masked hint
    with TestClient(app) as script:  # a script with only the API token
        h = {"Authorization": f"Bearer {api_token}"}
        assert len(script.get("/api/library", headers=h).json()["papers"]) == 3
        assert script.post("/api/library", headers=h, json={"paper_id": "0704.0010", "tags": ["x"]}).status_code == 200
        wrong = script.post("/api/library", headers=h, json={"id": "0704.0010"})  # a typed body says what is wrong
        assert wrong.status_code == 422 and "paper_id" in wrong.json()["error"] and "id" in wrong.json()["error"]
        schema = script.get("/openapi.json").json()  # /docs offers Authorize for the API token
        assert "API token" in schema["components"]["securitySchemes"]
        assert {"API token": []} in schema["paths"]["/api/library"]["post"]["security"]
        assert "SaveRequest" in schema["components"]["schemas"]
        recs = script.get("/api/recommendations", headers=h, params={"tag": "pheno"}).json()
        assert recs and recs[0]["because"]
        assert script.get("/api/library", headers={"Authorization": "Bearer nope"}).status_code == 401
        atom = script.get(feed_url)
        assert atom.status_code == 200 and atom.headers["content-type"].startswith("application/atom+xml")
        assert atom.text.count("<entry>") >= 5
        assert script.get(feed_url.replace("/feeds/", "/feeds/x")).status_code == 404
        assert script.get("/feeds/daily.json").json()["version"].startswith("https://jsonfeed.org")


def test_one_click_unsubscribe(app, store):
    from paperscope.auth import new_unsubscribe_token

    user = store.users.create("ada@example.org", hash_password("correct horse"))
    token = new_unsubscribe_token(store, user.id)
    with TestClient(app) as c:
        page = c.get(f"/unsubscribe/{token}")
        assert page.status_code == 200 and 'id="unsubscribe"' in page.text
        c.post(f"/unsubscribe/{token}")  # what a mail client's one-click POST does
        assert store.users.get(user.id).digest_frequency == "off"
        assert c.get("/unsubscribe/not-a-token").status_code == 404


def test_closed_signup_points_to_the_admin(settings, store, fake_embedder):
    app = create_app(settings, open_engine(store, settings, fake_embedder))
    with TestClient(app) as c:
        r = c.post("/signup", data={"email": "x@example.org", "password": "12345678", "csrf": csrf_of(c, "/signup")})
        assert r.status_code == 403 and "an admin creates accounts" in r.text and "paperscope user add" not in r.text
