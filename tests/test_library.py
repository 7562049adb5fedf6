"""Accounts, libraries, tags, marks and recommendations at the store and service level."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperscope.errors import UsageError
from paperscope.pipeline import embed_papers, update_indexes
from paperscope.recommend import recommend
from paperscope.search import open_engine

DATA = Path(__file__).parent / "data"


@pytest.fixture
def store(snapshot_store):  # every test here starts from the snapshot sample, embedded and indexed
    return snapshot_store


@pytest.fixture
def engine(settings, store, fake_embedder):
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    return open_engine(store, settings, fake_embedder)


def _ids_in(store, category, n):
    return [p.id for p in store.iter_papers() if p.categories and p.categories[0] == category][:n]


def test_tags_rename_merge_delete_and_isolation(store, engine):
    users = store.users
    ada, bob = users.create("ada@example.org", None), users.create("bob@example.org", None)
    users.save(ada.id, "arxiv:0704.0001", ["qcd", "to read"])
    users.save(ada.id, "arxiv:0704.0002", ["qcd"])
    users.save(bob.id, "arxiv:0704.0003", ["mine"])
    assert users.tags(ada.id) == [("qcd", 2), ("to read", 1)]
    users.rename_tag(ada.id, "to read", "qcd")  # merges
    assert users.tags(ada.id) == [("qcd", 2)]
    assert users.paper_ids(bob.id) == ["arxiv:0704.0003"] and users.tags(bob.id) == [("mine", 1)]
    assert users.delete_tag(ada.id, "qcd") == 2 and users.tags(ada.id) == []
    users.save(ada.id, "arxiv:0704.0001", ["bad\r\nBcc: x@y"])  # line breaks never survive into a tag
    assert users.tags(ada.id) == [("bad Bcc: x@y", 1)]
    users.delete_tag(ada.id, "bad Bcc: x@y")
    with pytest.raises(UsageError):
        users.save(ada.id, "arxiv:0704.0001", ["nul\x00tag"])
    with pytest.raises(UsageError, match="already exists"):
        users.create("ADA@example.org", None)


def test_marks_notes_and_votes(store, engine):
    users = store.users
    ada = users.create("ada@example.org", None)
    users.set_note(ada.id, "arxiv:0704.0001", "check eq. 3")
    users.set_read(ada.id, "arxiv:0704.0001")
    users.vote(ada.id, "arxiv:0704.0002", -1)
    users.set_hidden(ada.id, "arxiv:0704.0003")
    state = users.state(ada.id, "arxiv:0704.0001")
    assert state.note == "check eq. 3" and state.read_at and not state.hidden
    assert sorted(users.negatives(ada.id)) == ["arxiv:0704.0002", "arxiv:0704.0003"]


def test_recommendations_follow_the_library_and_explain_themselves(store, engine):
    users = store.users
    ada = users.create("ada@example.org", None)
    saved = _ids_in(store, "hep-ph", 6)
    users.save(ada.id, saved[0], ["pheno"])
    for pid in saved[1:]:
        users.save(ada.id, pid, ["pheno"])
    recs = recommend(engine, ada.id, "pheno", k=5)
    assert len(recs) == 5 and not {r.paper.id for r in recs} & set(saved)
    assert all(r.because and r.because[0].id in saved for r in recs)
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
    top = recs[0].paper.id
    users.set_hidden(ada.id, top)  # 'not interested' removes it and teaches the model
    assert top not in {r.paper.id for r in recommend(engine, ada.id, "pheno", k=5)}


def test_recommendations_need_a_saved_paper(store, engine):
    ada = store.users.create("ada@example.org", None)
    with pytest.raises(UsageError, match="save a few papers"):
        recommend(engine, ada.id)
