"""Email digests against a real SMTP server process on loopback."""

from __future__ import annotations

import dataclasses
import email
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest

from paperscope.digest import run
from paperscope.pipeline import embed_papers, update_indexes
from paperscope.search import open_engine
from serving import free_port

DATA = Path(__file__).parent / "data"



@pytest.fixture
def store(snapshot_store):  # every test here starts from the snapshot sample, embedded and indexed
    return snapshot_store


@pytest.fixture
def smtp(tmp_path):
    def start(refuse: int = 0):
        out = tmp_path / f"mail{refuse}"
        out.mkdir()
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).parent / "smtp_sink.py"), "--port", str(port),
                                 "--out", str(out), "--refuse", str(refuse)])
        procs.append(proc)
        _wait_for_smtp(port, proc)
        return port, out

    procs: list[subprocess.Popen] = []
    yield start
    for p in procs:
        p.kill()


def _wait_for_smtp(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Return once the sink answers with an SMTP greeting; fail with its exit code if it died."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the SMTP sink exited with {proc.returncode} before accepting connections")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                if conn.recv(64).startswith(b"220"):
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the SMTP sink did not accept connections on port {port} within {timeout:.0f} s")


def _mails(out: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(out.glob("*.eml"))]


@pytest.fixture
def world(settings, store, fake_embedder):
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    engine = open_engine(store, settings, fake_embedder)
    users = store.users
    papers = list(store.iter_papers())
    ada = users.create("ada@example.org", None)
    bob = users.create("bob@example.org", None)
    carol = users.create("carol@example.org", None)
    for p in [p for p in papers if p.categories[0] == "hep-ph"][:4]:
        users.save(ada.id, p.id, ["pheno\r\nBcc: mallory@evil.example"])  # a tag that tries header injection
    for p in [p for p in papers if p.categories[0].startswith("math")][:4]:
        users.save(bob.id, p.id, ["maths"])
    users.set_digest(ada.id, "daily", ["pheno\r\nBcc: mallory@evil.example"], 5, False, None)
    users.set_digest(bob.id, "weekly", [], 3, False, None)
    users.set_digest(carol.id, "off", [], 5, False, None)
    return engine, ada, bob, carol


def _settings(settings, port):
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                               mail_from="paperscope <digest@paperscope.test>", base_url="http://ps.test")


def test_right_users_get_right_papers_once(world, settings, smtp):
    engine, ada, bob, carol = world
    port, out = smtp()
    s = _settings(settings, port)
    now = datetime.now(UTC) + timedelta(minutes=1)
    report = run(engine, s, now)
    assert (report.composed, report.sent, report.failed) == (2, 2, 0)
    mails = {m["To"]: m for m in _mails(out)}
    assert set(mails) == {"ada@example.org", "bob@example.org"}  # carol opted out
    ada_mail = mails["ada@example.org"]
    assert ada_mail["X-Rcpt-To"] == "ada@example.org" and ada_mail["Bcc"] is None
    assert ada_mail["Subject"] == "paperscope: 5 new papers in pheno Bcc: mallory@evil.example"
    link = str(ada_mail["List-Unsubscribe"]).strip()
    assert link.startswith("<http://ps.test/unsubscribe/") and link.endswith(">")
    assert engine.store.users.by_unsubscribe_token(link[len("<http://ps.test/unsubscribe/"):-1]).id == ada.id
    assert ada_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = ada_mail.get_body(("plain",)).get_content()
    html = ada_mail.get_body(("html",)).get_content()
    assert text.count("http://ps.test/paper/") == 5 and "close to" in text and "<a href" in html
    sent_ids = engine.store.users.already_sent(ada.id)
    assert len(sent_ids) == 5 and not sent_ids & set(engine.store.users.paper_ids(ada.id))
    # the next run, even when due again, has nothing new to send: nobody gets a paper twice
    later = run(engine, s, now + timedelta(days=8))
    assert (later.sent, later.composed) == (0, 0) and len(_mails(out)) == 2


def test_refused_first_attempt_is_retried_and_never_doubled(world, settings, smtp):
    engine, ada, bob, _ = world
    port, out = smtp(refuse=1)
    s = _settings(settings, port)
    now = datetime.now(UTC) + timedelta(minutes=1)
    first = run(engine, s, now)
    assert (first.composed, first.sent, first.failed) == (2, 1, 1)
    second = run(engine, s, now + timedelta(minutes=5))
    assert (second.composed, second.sent, second.failed) == (0, 1, 0)
    third = run(engine, s, now + timedelta(minutes=10))
    assert (third.sent, third.failed) == (0, 0)
    assert sorted(m["To"] for m in _mails(out)) == ["ada@example.org", "bob@example.org"]


def test_dry_run_writes_mails_and_reserves_nothing(world, settings, tmp_path):
    engine, ada, *_ = world
    report = run(engine, settings, datetime.now(UTC) + timedelta(minutes=1), dry_run=tmp_path / "out")
    assert len(report.written) == 2 and all(Path(p).read_bytes().startswith(b"From:") or b"Subject" in Path(p).read_bytes()
                                            for p in report.written)
    assert engine.store.users.already_sent(ada.id) == set()


def test_empty_digest_is_not_sent(world, settings, smtp):
    engine, ada, bob, carol = world
    users = engine.store.users
    users.set_digest(ada.id, "off", [], 5, False, None)
    users.set_digest(bob.id, "off", [], 5, False, None)
    users.set_digest(carol.id, "daily", [], 5, False, None)  # carol saved nothing: no recommendations
    port, out = smtp()
    report = run(engine, _settings(settings, port), datetime.now(UTC) + timedelta(minutes=1))
    assert (report.composed, report.sent, report.skipped_empty) == (0, 0, 1) and _mails(out) == []


def test_webhook_gets_the_digest_as_json(world, settings, smtp, server):
    import json

    engine, ada, bob, _ = world
    engine.store.users.set_digest(bob.id, "weekly", [], 3, False, server.url + "/hook")
    port, out = smtp()
    allowed = dataclasses.replace(_settings(settings, port), webhook_allow="127.0.0.1")  # a lab's internal hook
    run(engine, allowed, datetime.now(UTC) + timedelta(minutes=1))
    assert len(server.posts) == 1 and server.posts[0][0] == "/hook"
    body = json.loads(server.posts[0][1])
    assert len(body["papers"]) == 3 and all(p["title"] and p["why"] for p in body["papers"])


def test_new_papers_of_a_followed_topic_reach_the_members_mail(world, settings, smtp):
    from paperscope.topics.build import rebuild

    engine, *_ = world
    store = engine.store
    rebuild(store, engine.embedder.name, engine.embedder.dim)
    topic = store.topics.topics(1)[0]
    dave = store.users.create("dave@example.org", None)  # no library: only the followed topic fills the digest
    store.topics.follow_topic(dave.id, topic.id)
    port, out = smtp()
    run(engine, _settings(settings, port), datetime.now(UTC) + timedelta(minutes=1))
    mail = {m["To"]: m for m in _mails(out)}["dave@example.org"]
    text = mail.get_body(("plain",)).get_content()
    members = set(store.topics.topic_paper_ids([topic.id]))
    assert f"New in a topic you follow: {topic.label}" in text
    assert 0 < len(store.users.already_sent(dave.id)) <= dave.digest_size
    assert store.users.already_sent(dave.id) <= members
