"""The lab's own daily papers: members submit, upvote and discuss papers, as on Hugging Face Papers.

One code path for the web and the CLI. A submission of an id the catalogue lacks is queued in the store and
answered at once; `fetch_pending` (the server's one fetcher thread, or the CLI inline) brings it from arXiv.
Comments are checked and rendered once, when written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from markupsafe import escape

from .errors import ForbiddenError, SourceError, UsageError
from .models import Paper, User
from .store.community import Comment, Submission
from .text import parse_arxiv_id

if TYPE_CHECKING:
    from .search import Engine

log = logging.getLogger("paperscope.community")
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


@dataclass(frozen=True)
class Queued:
    """A submission of an id the catalogue lacks: the fetcher brings it from arXiv, outside the request."""

    arxiv_id: str
    day: str
    created: bool  # false when this member had queued it already


def submit(engine: Engine, user: User, ref: str, run: Runner = direct, day: str | None = None) -> SubmitResult | Queued:
    """Feature a paper on today's lab list; an unknown arXiv id is queued for the fetcher (answered at once)."""
    store, settings = engine.store, engine.settings
    arxiv_id = parse_ref(ref)
    day = day or today()
    limit = settings.lab_submissions_per_day
    paper_id = run(store.resolve_id, f"arxiv:{arxiv_id}")
    if paper_id is None:
        return Queued(arxiv_id, day, bool(run(store.community.enqueue_fetch, arxiv_id, user.id, day, limit)))
    submission, created = run(store.community.submit, paper_id, user.id, day, limit)
    return SubmitResult(run(store.get_paper, paper_id), submission, created, False, True)


def fetch_pending(engine: Engine, fetch: Callable[[Any, list[str]], list[Paper]] | None = None,
                  batch: int = 50) -> dict[str, int]:
    """One round of the fetcher: the queued ids in one arXiv request, stored, embedded and indexed, then on the
    lab list. arXiv unreachable: the ids wait and are tried again later (a few times, then they fail)."""
    from . import pipeline

    store, settings = engine.store, engine.settings
    ids = store.community.claim_fetches(batch)
    if not ids:
        return {"asked": 0, "fetched": 0, "missing": 0}
    try:
        papers = (fetch or pipeline.fetch_arxiv_papers)(settings, ids)
    except SourceError as exc:
        log.warning("the lab's fetch of %s from arXiv failed (%s); it will be tried again", ", ".join(ids), exc)
        store.community.fetch_failed(ids, "arXiv did not answer; submit it again later", retry=True)
        return {"asked": len(ids), "fetched": 0, "missing": 0}
    found = {p.arxiv_id: p for p in papers if p.arxiv_id in ids}
    if found:
        store.upsert_papers(list(found.values()))
        pipeline.embed_and_index(store, settings, engine.embedder)
    for arxiv_id, paper in found.items():
        store.community.fetch_arrived(arxiv_id, paper.id)
    missing = [i for i in ids if i not in found]
    if missing:
        store.community.fetch_failed(missing, "arXiv has no paper with this id", retry=False)
    return {"asked": len(ids), "fetched": len(found), "missing": len(missing)}


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


RENDER_VERSION = 1  # bump when the renderer or its sanitiser changes: stored HTML is rendered again on view
MAX_BRACKET_DEPTH = 20
MAX_QUOTE_DEPTH = 10
MAX_LINKS = 50


def check_markdown(body: str) -> None:
    """Refuse Markdown whose shape makes rendering slow (deep brackets or quotes, many links), saying which."""
    depth = deepest = 0
    for ch in body:
        if ch == "[":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "]" and depth:
            depth -= 1
    if deepest > MAX_BRACKET_DEPTH:
        raise UsageError(f"a comment may nest square brackets at most {MAX_BRACKET_DEPTH} deep (this one: {deepest})")
    quotes = max((len(line) - len(line.lstrip("> ")) for line in body.splitlines()), default=0)
    if quotes > 2 * MAX_QUOTE_DEPTH:
        raise UsageError(f"a comment may nest quotes (>) at most {MAX_QUOTE_DEPTH} deep")
    links = body.count("](") + len(re.findall(r"(?i)\bhttps?://", body))
    if links > MAX_LINKS:
        raise UsageError(f"a comment may hold at most {MAX_LINKS} links (this one: {links})")


def comment_html(engine: Engine, c: Comment, run: Runner = direct) -> str:
    """A comment's sanitised HTML: stored when written; rendered (and stored) again only if the renderer changed."""
    if c.deleted:
        return ""
    if c.html is not None and c.html_version == RENDER_VERSION:
        return c.html
    try:
        check_markdown(c.body)
        html = render_markdown(c.body)
    except UsageError:  # stored before the limits: shown as plain text, never fed to the slow renderer
        html = "<p>" + defuse(str(escape(c.body))) + "</p>"
    run(engine.store.community.set_comment_html, c.id, html, RENDER_VERSION)
    return html


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
    text = clean_body(body)
    check_markdown(text)
    return int(run(store.community.add_comment, paper.id, user.id, text, parent_id,
                   engine.settings.lab_comments_per_day, (render_markdown(text), RENDER_VERSION)))


def edit(engine: Engine, user: User, comment_id: int, body: str, run: Runner = direct) -> Comment:
    """Change one's own comment: checked and rendered once, here, like a new one."""
    text = clean_body(body)
    check_markdown(text)
    return run(engine.store.community.edit_comment, comment_id, user.id, text, (render_markdown(text), RENDER_VERSION))


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
