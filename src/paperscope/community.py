"""The lab's own daily papers: members submit, upvote and discuss papers, as on Hugging Face Papers.

One code path for the web and the CLI. Store work runs through `run` so the web can hold its engine
lock around database and index writes but never around the network fetch of an unknown paper.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from .errors import ForbiddenError, LimitError, NotFoundError, SourceError, UsageError
from .models import Paper, User
from .store.community import Comment, Submission
from .text import parse_arxiv_id

if TYPE_CHECKING:
    from .search import Engine

T = TypeVar("T")
Runner = Callable[..., Any]
MAX_REF = 300
MAX_COMMENT = 10_000
ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}


def direct(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The runner for callers that own their store alone (the CLI)."""
    return fn(*args, **kwargs)


def today(now: datetime | None = None) -> str:
    """The lab's day (UTC), the key of the daily list."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d")


def parse_ref(ref: str) -> str:
    """An arXiv id from what a member typed: `2401.12345`, `arXiv:2401.12345v2` or an arxiv.org abs/pdf URL."""
    text = str(ref or "").strip()
    hint = "give an arXiv id such as 2401.12345 or a link such as https://arxiv.org/abs/2401.12345"
    if not text or len(text) > MAX_REF or any(ord(c) < 32 for c in text):
        raise UsageError(f"no arXiv id given; {hint}")
    if "://" in text or text.lower().startswith(("arxiv.org/", "www.arxiv.org/", "export.arxiv.org/")):
        url = urlsplit(text if "://" in text else "https://" + text)
        if url.scheme not in ("http", "https") or (url.hostname or "").lower() not in ARXIV_HOSTS:
            raise UsageError(f"{text[:80]!r} is not an arxiv.org link; {hint}")
        text = url.path
    parsed = parse_arxiv_id(text)
    if not parsed:
        raise UsageError(f"{text[:80]!r} is not an arXiv id; {hint}")
    return parsed[0]


@dataclass(frozen=True)
class SubmitResult:
    """What a submission did: the paper, its place on the day's list, and whether it was new there."""

    paper: Paper
    submission: Submission
    created: bool
    fetched: bool
    indexed: bool  # false only when a fetched paper waits for the operator's next update


def submit(engine: Engine, user: User, ref: str, run: Runner = direct, day: str | None = None,
           fetch: Callable[[Any, list[str]], list[Paper]] | None = None) -> SubmitResult:
    """Feature a paper on today's lab list; an unknown arXiv id is fetched, embedded and indexed first."""
    from . import pipeline

    store, settings = engine.store, engine.settings
    arxiv_id = parse_ref(ref)
    day = day or today()
    limit = settings.lab_submissions_per_day
    paper_id = run(store.resolve_id, f"arxiv:{arxiv_id}")
    fetched = indexed = False
    if paper_id is None:
        used = run(store.community.submissions_today, user.id, day)
        if used >= limit:  # before the network: a member at the limit cannot make us fetch
            raise LimitError(f"you have submitted {used} papers today, the limit of this instance "
                             "(setting lab_submissions_per_day); try again tomorrow")
        try:
            papers = (fetch or pipeline.fetch_arxiv_papers)(settings, [arxiv_id])
        except SourceError as exc:
            raise SourceError(f"could not fetch arXiv {arxiv_id} from the arXiv API ({exc}); try again later, "
                              "or ask the operator to check the arxiv_api_url setting") from None
        papers = [p for p in papers if p.arxiv_id == arxiv_id]
        if not papers:
            raise NotFoundError(f"arXiv has no paper {arxiv_id}; check the id")
        run(store.upsert_papers, papers[:1])
        indexed = bool(run(pipeline.embed_and_index, store, settings, engine.embedder))
        paper_id, fetched = papers[0].id, True
    submission, created = run(store.community.submit, paper_id, user.id, day, limit)
    return SubmitResult(run(store.get_paper, paper_id), submission, created, fetched, indexed or not fetched)


def withdraw(engine: Engine, user: User, paper_ref: str, run: Runner = direct, day: str | None = None) -> None:
    """Take one's own submission off today's list (only the same day)."""
    store = engine.store
    paper = run(store.get_paper, paper_ref)
    run(store.community.withdraw, paper.id, user.id, day or today())


# --- comments -------------------------------------------------------------------------------------

_TAGS = {"p", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "br", "hr",
         "h1", "h2", "h3", "h4", "h5", "h6", "del"}


def clean_body(body: str) -> str:
    """A comment's Markdown as stored: control characters dropped, 1 to 10,000 characters."""
    text = "".join(c for c in str(body or "") if c in "\n\t" or (ord(c) >= 32 and not 127 <= ord(c) < 160))
    text = text.replace("\r", "").strip()
    if not text:
        raise UsageError("a comment needs some text")
    if len(text) > MAX_COMMENT:
        raise UsageError(f"a comment holds at most {MAX_COMMENT:,} characters")
    return text


def render_markdown(body: str) -> str:
    """CommonMark to HTML with raw HTML shown as text, then sanitised: no script, style, handler or bad link."""
    import nh3
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": False}).disable("image").render(body)
    clean = nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}}, url_schemes={"http", "https", "mailto"},
                      link_rel="nofollow ugc", strip_comments=True)
    # nh3 escapes every '<' of text, so outside tags is text: defuse what scanners and sloppy re-parsers trip on
    return "".join(part if part.startswith("<") else defuse(part) for part in _TAG.split(clean))


_TAG = re.compile(r"(<[^>]*>)")
_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data)(\s*):")
_HANDLER = re.compile(r"(?i)\b(on[a-z]+)(\s*)=")


def defuse(escaped_text: str) -> str:
    """Already-escaped text with `javascript:` and `onerror=` spelt as entities: it reads the same, means nothing."""
    return _HANDLER.sub(r"\1\2&#61;", _SCHEME.sub(r"\1\2&#58;", escaped_text))


def comment(engine: Engine, user: User, paper_ref: str, body: str, parent_id: int | None = None,
            run: Runner = direct) -> int:
    """Add a comment (or a one-level reply) to a paper; returns its id."""
    store = engine.store
    paper = run(store.get_paper, paper_ref)
    return int(run(store.community.add_comment, paper.id, user.id, clean_body(body), parent_id,
                   engine.settings.lab_comments_per_day))


def hide(engine: Engine, user: User, comment_id: int, hidden: bool, run: Runner = direct) -> Comment:
    """An admin hides (or shows again) any comment."""
    if user.role != "admin":
        raise ForbiddenError("only an admin can hide comments")
    return run(engine.store.community.set_comment_hidden, comment_id, hidden)


@dataclass(frozen=True)
class Thread:
    """A top-level comment with its replies, as a page shows them."""

    comment: Comment
    replies: tuple[Comment, ...]


def threads(comments: list[Comment]) -> list[Thread]:
    """Group `comments_of` output into threads (replies under their parent)."""
    tops: dict[int, list[Comment]] = {}
    order: list[Comment] = []
    for c in comments:
        if c.parent_id is None:
            order.append(c)
            tops[c.id] = []
        elif c.parent_id in tops:
            tops[c.parent_id].append(c)
    return [Thread(c, tuple(tops[c.id])) for c in order]


def visible_count(comments: list[Comment]) -> int:
    """How many comments others can read (not deleted, not hidden): the `numComments` of the paper."""
    return sum(1 for c in comments if not c.deleted and not c.hidden)


# --- digests --------------------------------------------------------------------------------------

def reply_notes(engine: Engine, user: User, since: str) -> list[tuple[Paper, str]]:
    """(paper, sentence) for each followed paper with new comments by others since the last digest."""
    replies = engine.store.community.new_replies(user.id, since)
    by_paper: dict[str, list[Comment]] = {}
    for c in replies:
        by_paper.setdefault(c.paper_id, []).append(c)
    papers = engine.store.papers_by_ids(list(by_paper))
    out = []
    for pid, cs in by_paper.items():
        if pid in papers:
            last = cs[-1]
            text = " ".join(last.body.split())
            out.append((papers[pid], f"{len(cs)} new comment{'s' if len(cs) != 1 else ''} on a paper you follow; "
                                     f"latest by {last.author}: “{text[:200]}{'…' if len(text) > 200 else ''}”"))
    return out
