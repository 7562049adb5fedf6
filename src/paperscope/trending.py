"""Trending papers: recent signals decayed by age, with the formula kept in `rank.trending_score`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .models import Paper
from .rank import TRENDING_WINDOW_DAYS, trending_score

if TYPE_CHECKING:
    from .backends import AnyStore


def _age_hours(p: Paper, now: datetime) -> float:
    stamp = p.featured or p.published  # the day it is shown on; undated papers never reach trending
    if not stamp:
        return TRENDING_WINDOW_DAYS * 24.0
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (now - when).total_seconds() / 3600.0


def trending(store: AnyStore, limit: int = 30, now: datetime | None = None) -> list[tuple[Paper, float]]:
    """The `limit` papers of the 30 days up to now (or up to the newest paper, if the store is older)."""
    now = now or datetime.now(UTC)
    latest = store.latest_day()
    if latest:
        now = min(now, datetime.fromisoformat(latest).replace(tzinfo=UTC) + timedelta(days=1))
    since = (now - timedelta(days=TRENDING_WINDOW_DAYS)).isoformat()
    recent = store.papers_since(since)
    submitted = store.community.submitted_since(since[:10])  # an older paper the lab submits trends from that day
    known = {p.id for p in recent}
    recent += [p for pid, p in store.papers_by_ids([i for i in submitted if i not in known]).items()]
    saves = store.users.saves_by_paper([p.id for p in recent])
    lab_upvotes = store.community.upvote_counts([p.id for p in recent])
    scored = []
    for p in recent:
        upvotes = (p.signals["upvotes"].value if "upvotes" in p.signals else 0.0) + lab_upvotes.get(p.id, 0)
        stars = p.signals["github_stars"].value if "github_stars" in p.signals else 0.0
        times, last = submitted.get(p.id, (0, None))
        age = _age_hours(p, now)
        if last:
            age = min(age, (now - datetime.fromisoformat(last.replace("Z", "+00:00"))).total_seconds() / 3600.0)
        scored.append((p, trending_score(upvotes, stars, saves.get(p.id, 0), age, times)))
    scored.sort(key=lambda ps: (-ps[1], ps[0].id))
    return scored[:limit]
