"""Trending papers: recent signals decayed by age, with the formula kept in `rank.trending_score`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .models import Paper
from .rank import TRENDING_WINDOW_DAYS, citation_gain, trending_score

if TYPE_CHECKING:
    from .backends import AnyStore


BASIS = {  # where a paper's age counts from, as the trending page explains it
    "featured": "the day Hugging Face featured it in its daily papers",
    "announced": "the day arXiv announced it (first submitted)",
    "submitted": "the day the lab last submitted it (later than its listing day)",
}
BASIS_SHORT = {"featured": "featured", "announced": "announced", "submitted": "lab submission"}


@dataclass(frozen=True)
class Trend:
    """One trending paper: its score, and the day its age counts from and why (a key of BASIS)."""

    paper: Paper
    score: float
    since: str  # ISO time the age counts from
    basis: str


@dataclass(frozen=True)
class Board:
    """Trending papers of the window that ends at `until` (an ISO day: the newest day with data, or today)."""

    rows: tuple[Trend, ...]
    until: str


def _hours(now: datetime, stamp: str) -> float:
    return (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds() / 3600.0


def trending_board(store: AnyStore, limit: int = 30, now: datetime | None = None) -> Board:
    """The `limit` papers of the 30 days up to now, or up to the newest day with papers or lab submissions if
    the store is older; each with the day its age counts from."""
    now = now or datetime.now(UTC)
    latest = max(d for d in (store.latest_day(), store.community.latest_submission_day(), "") if d is not None)
    if latest:
        now = min(now, datetime.fromisoformat(latest[:10]).replace(tzinfo=UTC) + timedelta(days=1))
    since = (now - timedelta(days=TRENDING_WINDOW_DAYS)).isoformat()
    recent = store.papers_since(since)
    submitted = store.community.submitted_since(since[:10])  # an older paper the lab submits trends from that day
    known = {p.id for p in recent}
    recent += [p for pid, p in store.papers_by_ids([i for i in submitted if i not in known]).items()]
    saves = store.users.saves_by_paper([p.id for p in recent])
    lab_upvotes = store.community.upvote_counts([p.id for p in recent])
    rows = []
    for p in recent:
        upvotes = (p.signals["upvotes"].value if "upvotes" in p.signals else 0.0) + lab_upvotes.get(p.id, 0)
        stars = p.signals["github_stars"].value if "github_stars" in p.signals else 0.0
        times, last = submitted.get(p.id, (0, None))
        stamp, basis = (p.featured, "featured") if p.featured else (p.published or "", "announced")
        if last and (not stamp or last > stamp):
            stamp, basis = last, "submitted"
        age = _hours(now, stamp) if stamp else TRENDING_WINDOW_DAYS * 24.0
        rows.append(Trend(p, trending_score(upvotes, stars, saves.get(p.id, 0), age, times), stamp, basis))
    rows.sort(key=lambda t: (-t.score, t.paper.id))
    return Board(tuple(rows[:limit]), (now - timedelta(microseconds=1)).date().isoformat())


def trending(store: AnyStore, limit: int = 30, now: datetime | None = None) -> list[tuple[Paper, float]]:
    """The `limit` papers of the 30 days up to now (or up to the newest day with data, if the store is older)."""
    return [(t.paper, t.score) for t in trending_board(store, limit, now).rows]


@dataclass(frozen=True)
class Cited:
    """One paper of "most cited lately": citations gained in the window by the source that saw most, and that
    source's counts at the window's start and now."""

    paper: Paper
    gain: int
    source: str
    count: int


def most_cited_lately(store: AnyStore, days: int = TRENDING_WINDOW_DAYS, limit: int = 30,
                      now: datetime | None = None) -> list[Cited]:
    """Papers by citations gained in the last `days` days (`rank.citation_gain` per source, the larger source's),
    from the counts each `ingest openalex` / `ingest semantic-scholar` run kept; papers gaining none are left out."""
    from .citations.records import OPENALEX, S2

    now = now or datetime.now(UTC)
    since, until = ((now - timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ") for d in (days, 0))  # the store's format
    ids = store.citations.counted_since(since)
    best: dict[str, tuple[int, str, int]] = {}
    for source in (OPENALEX, S2):
        for pid, history in store.citations.count_history(ids, source, "").items():
            history = [(at, n) for at, n in history if at <= until]
            gain = citation_gain(history, since)
            if gain > 0 and (pid not in best or gain > best[pid][0]):
                best[pid] = (gain, source, history[-1][1])
    top = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    papers = store.papers_by_ids([pid for pid, _ in top])
    return [Cited(papers[pid], g, src, n) for pid, (g, src, n) in top if pid in papers and not papers[pid].withdrawn]
