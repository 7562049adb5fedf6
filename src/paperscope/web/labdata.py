"""The lab's public counts wherever a paper is shown: JSON enrichment for the API and template helpers.

Shared by the routers (like `common`); imports only services and the store, never a router.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from .. import community
from ..models import Paper
from ..store.community import Activity, Submission

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..store import Store

LabItem = tuple[Paper, Submission, int, int]  # paper, its submission, total upvotes, total comments


def imported(p: Paper, name: str) -> int:
    """A count imported from Hugging Face (upvotes, comments), 0 when absent."""
    return int(p.signals[name].value) if name in p.signals else 0


def lab_items(store: Store, day: str, limit: int, offset: int) -> list[LabItem]:
    """A day's lab submissions with their papers and public totals (imported + local)."""
    subs = store.community.submissions_on_day(day, limit, offset)
    papers = store.papers_by_ids([s.paper_id for s in subs])
    acts = store.community.activity([s.paper_id for s in subs])
    out = []
    for s in subs:
        if s.paper_id in papers:
            p, a = papers[s.paper_id], acts.get(s.paper_id, Activity())
            out.append((p, s, imported(p, "upvotes") + a.upvotes, imported(p, "comments") + a.comments))
    return out


def _add(d: dict[str, Any], act: Activity) -> dict[str, Any]:
    d["upvotes"] = int(d.get("upvotes") or 0) + act.upvotes
    d["numComments"] = int(d.get("numComments") or 0) + act.comments
    d["labUpvotes"] = act.upvotes
    d["labComments"] = act.comments
    return d


def with_activity(store: Store, paper_json: dict[str, Any]) -> dict[str, Any]:
    """One `hf_paper` dict with `upvotes` = imported + local and `numComments` = imported + local."""
    act = store.community.activity([paper_json["paperscopeId"]]).get(paper_json["paperscopeId"], Activity())
    return _add(paper_json, act)


def with_activities(store: Store, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """List items (`{"paper": …, "numComments": …}`, as the HF-shaped endpoints return) with local counts added."""
    items = list(items)
    acts = store.community.activity([i["paper"]["paperscopeId"] for i in items])
    for i in items:
        act = acts.get(i["paper"]["paperscopeId"], Activity())
        _add(i["paper"], act)
        if "numComments" in i:
            i["numComments"] = int(i["numComments"] or 0) + act.comments
    return items


def lab_item_json(p: Paper, s: Submission, upvotes: int, comments: int) -> dict[str, Any]:
    """A lab submission in Hugging Face's daily-papers item shape (`submittedBy` is a display name)."""
    from .common import hf_paper

    paper = hf_paper(p)
    paper.update({"upvotes": upvotes, "numComments": comments, "labUpvotes": s.upvotes,
                  "submittedOnDailyAt": s.submitted_at,
                  "submittedOnDailyBy": {"name": s.submitted_by, "fullname": s.submitted_by, "type": "user"}})
    return {"paper": paper, "title": p.title, "summary": p.abstract, "publishedAt": p.published or p.first_seen,
            "numComments": comments, "thumbnail": None, "submittedBy": s.submitted_by,
            "submittedOnDailyAt": s.submitted_at}


# --- template helpers -----------------------------------------------------------------------------

def install(app: FastAPI) -> None:
    """Give every template the lab's public data: card counts, a paper's discussion, the day's list."""
    env = app.state.templates.env

    def run(fn: Any, *args: Any) -> Any:
        with getattr(app.state, "lock", None) or nullcontext():
            return fn(*args)

    def store() -> Store:
        return app.state.engine.store

    def lab_counts(p: Paper) -> dict[str, int]:
        """Upvotes (Hugging Face's + this lab's, shown as one total with its split) and comments kept apart:
        Hugging Face's count is of comments this instance does not have, `lab_comments` of the ones it shows."""
        act = run(store().community.activity, [p.id]).get(p.id, Activity())
        return {"hf": imported(p, "upvotes"), "lab": act.upvotes, "upvotes": imported(p, "upvotes") + act.upvotes,
                "hf_comments": imported(p, "comments"), "lab_comments": act.comments}

    def lab_paper(p: Paper, user: Any) -> dict[str, Any]:
        rows = store().community
        comments = run(rows.comments_of, p.id)
        return {**lab_counts(p), "threads": community.threads(comments),
                "upvoted": bool(user) and run(rows.has_upvoted, user.id, p.id),
                "following": bool(user) and run(rows.is_following, user.id, p.id),
                "submission": run(rows.submission, p.id, community.today())}

    def lab_upvoted(p: Paper, user: Any) -> bool:
        return bool(user) and bool(run(store().community.has_upvoted, user.id, p.id))

    env.globals.update(
        lab_counts=lab_counts, lab_upvoted=lab_upvoted, lab_paper=lab_paper, lab_today=community.today,
        lab_day=lambda day: run(lab_items, store(), day, 100, 0),
        lab_name=lambda user_id: run(store().community.display_name, user_id),
        lab_comment_html=lambda c: Markup(community.comment_html(app.state.engine, c, run)),  # sanitised when written
    )
    env.filters["lab_source"] = lambda text: Markup(community.defuse(str(escape(text))))  # a textarea's text
    from .present import install as install_present

    install_present(env)
