"""The Hugging Face daily-papers API (`/api/daily_papers?date=…`): papers, upvotes, GitHub links, AI summaries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from ..errors import UsageError
from ..models import Author, Batch, Paper, Problem, Signal
from ..text import canonical_id, clean, delatex, parse_arxiv_id, parse_date
from ._http import Client
from ._json import json_list

NAME = "hf_daily"
PAGE = 100
REFRESH_DAYS = 2  # upvotes keep moving for a couple of days: an incremental run re-reads them


def _parse_json_list(body: bytes) -> list[Any]:
    return json_list(body, "daily papers")


def item_to_paper(item: Any, fetched_at: str, listed_on: str | None = None) -> Paper:
    """Map one daily-papers item to a Paper (featured on its `submittedOnDailyAt`, else the day asked for)."""
    if not isinstance(item, dict):
        raise ValueError("item is not an object")
    paper: dict[str, Any] = item["paper"] if isinstance(item.get("paper"), dict) else item
    parsed = parse_arxiv_id(str(paper.get("id") or ""))
    if not parsed:
        raise ValueError(f"no arXiv id (paper.id={paper.get('id')!r})")
    arxiv_id = parsed[0]
    title = clean(paper.get("title") or item.get("title"))  # the store shows it as text and keeps this
    if not title:
        raise ValueError("no title")
    authors = tuple(
        Author(delatex(clean(a.get("name"))))
        for a in paper.get("authors") or []
        if isinstance(a, dict) and clean(a.get("name"))
    )
    signals: dict[str, Signal] = {}
    for key, value in (("upvotes", paper.get("upvotes")), ("github_stars", paper.get("githubStars")),
                       ("comments", item.get("numComments"))):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1e9:
            signals[key] = Signal(float(value), NAME, fetched_at)
    links = {"abs": f"https://arxiv.org/abs/{arxiv_id}", "pdf": f"https://arxiv.org/pdf/{arxiv_id}"}
    if isinstance(paper.get("githubRepo"), str) and paper["githubRepo"].startswith("http"):
        links["code"] = paper["githubRepo"]
    if isinstance(paper.get("projectPage"), str) and paper["projectPage"].startswith("http"):
        links["project"] = paper["projectPage"]
    org = paper.get("organization") if isinstance(paper.get("organization"), dict) else item.get("organization")
    org_name = clean(org.get("fullname") or org.get("name")) if isinstance(org, dict) else ""
    if org_name and isinstance(org, dict) and isinstance(org.get("name"), str) and org["name"].strip():
        links["organization"] = "https://huggingface.co/" + quote(org["name"].strip(), safe="")
    keywords: list[Any] = paper["ai_keywords"] if isinstance(paper.get("ai_keywords"), list) else []
    return Paper(
        id=canonical_id(arxiv_id, None, None, title), arxiv_id=arxiv_id, title=title,
        abstract=clean(paper.get("summary") or item.get("summary")), authors=authors,
        published=parse_date(paper.get("publishedAt")), links=links, signals=signals, sources=(NAME,),
        featured=parse_date(paper.get("submittedOnDailyAt")) or parse_date(listed_on),
        ai_summary=clean(paper.get("ai_summary")) or None, organization=org_name or None,
        ai_keywords=tuple(k for k in (clean(w) for w in keywords if isinstance(w, str)) if k),
    )


def latest_day(client: Client, base_url: str) -> date | None:
    """The newest listing day Hugging Face has: its `/api/daily_papers` without a date lists the latest papers.

    None when the list is empty or names no day; SourceError when the API cannot be reached or read."""
    items = client.get(base_url.rstrip("/") + "/api/daily_papers", {"limit": PAGE}, _parse_json_list)
    days = []
    for item in items:
        paper = item.get("paper") if isinstance(item, dict) else None
        if isinstance(paper, dict):
            day = parse_date(paper.get("submittedOnDailyAt")) or parse_date(paper.get("publishedAt"))
            if day:
                days.append(day[:10])
    return date.fromisoformat(max(days)) if days else None


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def harvest(
    client: Client,
    base_url: str,
    checkpoint: dict[str, Any] | None,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[Batch]:
    """Yield one batch per day from `since` (default: a little before the last day read) to `until`."""
    try:
        end = date.fromisoformat(until) if until else date.today()
        if since:
            start = date.fromisoformat(since)
        elif checkpoint and checkpoint.get("last_date"):
            start = date.fromisoformat(checkpoint["last_date"]) - timedelta(days=REFRESH_DAYS)
        else:
            start = end
    except ValueError as exc:
        raise UsageError(f"dates must be YYYY-MM-DD: {exc}") from None
    if start > end:
        raise UsageError(f"--since {start} is after --until {end}")
    url = base_url.rstrip("/") + "/api/daily_papers"
    total = (end - start).days + 1
    fetched_at = date.today().isoformat()
    for day in _days(start, end):
        papers, problems, page = [], [], 0
        while True:
            items = client.get(url, {"date": day.isoformat(), "limit": PAGE, "p": page}, _parse_json_list)
            for i, item in enumerate(items):
                try:
                    papers.append(item_to_paper(item, fetched_at, day.isoformat()))
                except ValueError as exc:
                    problems.append(Problem(f"{day} item {page * PAGE + i + 1}", str(exc)))
            if len(items) < PAGE:
                break
            page += 1
        yield Batch(tuple(papers), tuple(problems), {"last_date": day.isoformat()}, done=1, total=total)
