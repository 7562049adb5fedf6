"""Clean one paper before it is stored: http(s) links only, plausible dates, no control characters, bounded sizes.

Every source's records pass through `clean_paper` (in the pipeline, which reports what it dropped, and again
in the store, so no path writes an unclean record). Cleaning keeps the record and drops only the bad field.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from .models import LINK_KINDS, Author, Paper, Signal, Version, evolve
from .text import is_collapsed

MAX_TEXT = {"title": 1000, "abstract": 20000, "journal_ref": 1000, "comments": 2000, "license": 500,
            "ai_summary": 2000, "organization": 300}
MAX_KEYWORDS = 50
MAX_KEYWORD = 100
MAX_ID = 512
MAX_AUTHORS = 500
MAX_NAME = 300
MAX_AFFILIATIONS = 10
MAX_CATEGORIES = 16
MAX_CATEGORY = 64
MAX_VERSIONS = 100
MAX_LINK = 2048
MIN_YEAR = 1000  # old classics stay valid; year 0000 and the like do not
MAX_SIGNAL = 1e12
# C0/C1 controls (tab/newline/CR are whitespace and already collapsed), lone surrogates, non-characters:
# none of them is text, and several make XML feeds invalid.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_CATEGORY = re.compile(r"[A-Za-z0-9][\w.+\-]*")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DOI_LINK = re.compile(r"doi\d{0,2}")


def strip_controls(text: str) -> str:
    """Remove control characters, lone surrogates and non-characters (they are never meant as text)."""
    return _CONTROL.sub("", text) if text else text


def cap_text(text: str, limit: int) -> str:
    """Control characters removed and the text cut at `limit` characters (with an ellipsis)."""
    if not is_collapsed(text):
        text = " ".join(strip_controls(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# The common case, decided without urlsplit: http(s), a plain host, printable ASCII only (nothing to strip).
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][!-~]*)?")


def safe_url(value: object) -> str | None:
    """The URL if it is an absolute http(s) URL of sane length, else None (javascript:, data:, relative…)."""
    if not isinstance(value, str):
        return None
    if len(value) <= MAX_LINK and _PLAIN_URL.fullmatch(value):
        return value
    url = "".join(strip_controls(value).split())  # browsers ignore tabs/newlines inside a scheme: so do we
    if not url or len(url) > MAX_LINK:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def latest_day(today: date | None = None) -> date:
    """The last acceptable publication day: tomorrow (time zones put some papers a day ahead)."""
    return (today or datetime.now(UTC).date()) + timedelta(days=1)


def date_problem(iso: str | None, today: date | None = None) -> str | None:
    """Why a stored ISO date is unusable (impossible or after tomorrow), or None when it is fine."""
    return _date_problem(iso, latest_day(today))


def _date_problem(iso: str | None, latest: date) -> str | None:
    if iso is None:
        return None
    match = _ISO.match(iso)
    if not match:
        return "not a date"
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return "an impossible date"
    if day.year < MIN_YEAR:
        return f"before the year {MIN_YEAR}"
    if day > latest:
        return "after tomorrow"
    return None


def _categories(values: tuple[str, ...], notes: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for raw in values:
        # a well-formed name has nothing to strip (the pattern admits no control character or space)
        cat = raw if isinstance(raw, str) and _CATEGORY.fullmatch(raw) else strip_controls(str(raw)).strip()
        if cat and len(cat) <= MAX_CATEGORY and _CATEGORY.fullmatch(cat) and cat not in kept:
            kept.append(cat)
    if len(kept) > MAX_CATEGORIES:
        notes.append(f"categories: kept the first {MAX_CATEGORIES} of {len(kept)}")
        kept = kept[:MAX_CATEGORIES]
    elif len(kept) < len(values):
        notes.append(f"categories: dropped {len(values) - len(kept)} malformed or repeated")
    return tuple(kept)


def _links(links: dict[str, str], notes: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for kind, url in links.items():
        known = kind in LINK_KINDS or _DOI_LINK.fullmatch(str(kind)) is not None  # doi, doi2, … (every DOI)
        safe = safe_url(url) if known else None
        if safe is None:
            scheme = str(url).split(":", 1)[0][:20] if ":" in str(url) else "no scheme"
            notes.append(f"link {str(kind)[:20]!r} dropped (only http/https links are kept; got {scheme!r})")
        else:
            out[kind] = safe
    return out


def _authors(authors: tuple[Author, ...], notes: list[str]) -> tuple[Author, ...]:
    if len(authors) > MAX_AUTHORS:
        notes.append(f"authors: kept the first {MAX_AUTHORS} of {len(authors)}")
    out = []
    for a in authors[:MAX_AUTHORS]:
        name = cap_text(a.name, MAX_NAME)
        if not name:
            continue
        affs = tuple(x for x in (cap_text(f, MAX_NAME) for f in a.affiliations[:MAX_AFFILIATIONS]) if x) \
            if a.affiliations else ()
        out.append(a if name == a.name and affs == a.affiliations else Author(name, affs))
    return tuple(out)


def _date(field: str, iso: str | None, latest: date, notes: list[str]) -> str | None:
    why = _date_problem(iso, latest)
    if why:
        notes.append(f"{field} {str(iso)[:40]!r} dropped: {why}")
        return None
    return iso


def clean_paper(p: Paper, today: date | None = None) -> tuple[Paper, list[str]]:
    """The paper with every unsafe or implausible field dropped or cut, and one note per change.

    Raises ValueError when nothing usable is left (no title, or an id too long to be one)."""
    notes: list[str] = []
    pid = strip_controls(p.id).strip()
    if not pid or len(pid) > MAX_ID:
        raise ValueError(f"id is empty or longer than {MAX_ID} characters")
    texts: dict[str, str | None] = {}
    for name, limit in MAX_TEXT.items():
        value = getattr(p, name)
        if value is None:
            texts[name] = None
            continue
        cleaned = cap_text(value, limit)
        if len(value) > limit and len(strip_controls(value)) > limit:
            notes.append(f"{name} cut to {limit} characters")
        texts[name] = cleaned if (cleaned or name in ("title", "abstract")) else None
    if not texts["title"]:
        raise ValueError("no title left after removing control characters")
    latest = latest_day(today)
    versions = []
    for v in p.versions[:MAX_VERSIONS]:
        label = cap_text(v.version, 20)
        if label:
            created = _date(f"version {label} date", v.created, latest, notes)
            versions.append(v if label == v.version and created == v.created else Version(label, created))
    signals = {k: s for k, s in p.signals.items()
               if isinstance(s.value, (int, float)) and math.isfinite(s.value) and abs(s.value) <= MAX_SIGNAL}
    if len(signals) < len(p.signals):
        notes.append("signals: dropped values that are not finite numbers")
    result = evolve(
        p, id=pid, title=texts["title"], abstract=texts["abstract"] or "",
        journal_ref=texts["journal_ref"], comments=texts["comments"], license=texts["license"],
        authors=_authors(p.authors, notes), categories=_categories(p.categories, notes),
        published=_date("published", p.published, latest, notes), updated=_date("updated", p.updated, latest, notes),
        versions=tuple(versions), links=_links(p.links, notes),
        signals={k: Signal(float(s.value), cap_text(s.source, 50), cap_text(s.at, 40)) for k, s in signals.items()},
        doi=cap_text(p.doi, 300) or None if p.doi else None,
        arxiv_id=cap_text(p.arxiv_id, 64) or None if p.arxiv_id else None,
        featured=_date("featured", p.featured, latest, notes),
        abstract_source=cap_text(p.abstract_source, MAX_TEXT["abstract"]) or None if p.abstract_source else None,
        title_source=cap_text(p.title_source, MAX_TEXT["title"]) or None if p.title_source else None,
        ai_summary=texts["ai_summary"], organization=texts["organization"],
        ai_keywords=tuple(dict.fromkeys(
            k for k in (cap_text(str(w), MAX_KEYWORD) for w in p.ai_keywords[:MAX_KEYWORDS]) if k)),
    )
    return result, notes
