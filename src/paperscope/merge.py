"""Merge two records of one paper: several sources, several versions, one record, never duplicates."""

from __future__ import annotations

import dataclasses
import re

from .models import Paper, Version

_TEXT_FIELDS = ("title", "abstract", "authors", "categories", "doi", "journal_ref", "comments", "license",
                "ai_summary", "ai_keywords", "organization")


_DIGITS = re.compile(r"\d+")


def _version_number(version: Version) -> int:
    match = _DIGITS.search(version.version)
    return int(match.group(0)) if match else 0


def merge_versions(old: tuple[Version, ...], new: tuple[Version, ...]) -> tuple[Version, ...]:
    """Union of versions keyed by label, dates filled from whichever record has them, in order."""
    by_label: dict[str, Version] = {v.version: v for v in old}
    for v in new:
        known = by_label.get(v.version)
        if known is None or (known.created is None and v.created):
            by_label[v.version] = v
    return tuple(sorted(by_label.values(), key=_version_number))


def _freshness(paper: Paper) -> str:
    latest = max((v.created or "" for v in paper.versions), default="")
    return max(latest, paper.updated or "")


def merge(old: Paper, new: Paper) -> Paper:
    """Fold `new` into `old`: newer metadata wins, empty fields are filled, history and signals accumulate."""
    new_is_fresher = _freshness(new) >= _freshness(old)
    changes: dict[str, object] = {}
    for name in _TEXT_FIELDS:
        old_value, new_value = getattr(old, name), getattr(new, name)
        if new_value and (not old_value or new_is_fresher):
            changes[name] = new_value
    # A byline without affiliations must not erase the affiliations we already know.
    if "authors" in changes and [a.name for a in new.authors] == [a.name for a in old.authors]:
        changes["authors"] = tuple(
            n if n.affiliations else o for o, n in zip(old.authors, new.authors, strict=True)
        )
    if "abstract" in changes:  # the shown text and its LaTeX source travel together
        changes["abstract_source"] = new.abstract_source
    if "title" in changes:
        changes["title_source"] = new.title_source
    changes["arxiv_id"] = old.arxiv_id or new.arxiv_id
    dates = [d for d in (old.featured, new.featured) if d]
    changes["featured"] = min(dates) if dates else None
    dates = [d for d in (old.published, new.published) if d]
    changes["published"] = min(dates) if dates else None
    dates = [d for d in (old.updated, new.updated) if d]
    changes["updated"] = max(dates) if dates else None
    changes["versions"] = merge_versions(old.versions, new.versions)
    changes["links"] = {**old.links, **{k: v for k, v in new.links.items() if v}}
    changes["signals"] = {
        **old.signals,
        **{k: s for k, s in new.signals.items() if (old.signals.get(k) or s).value != s.value or k not in old.signals},
    }
    changes["sources"] = tuple(dict.fromkeys(old.sources + new.sources))
    return dataclasses.replace(old, **changes)  # type: ignore[arg-type]
