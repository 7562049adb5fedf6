"""Text normalisation shared by every source: whitespace, markup, LaTeX accents, ids and dates."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

# Inline formatting tags some feeds put in titles/abstracts; anything else (e.g. <script>) stays as
# literal text and is escaped when rendered.
_FORMAT_TAG = re.compile(r"</?(?:i|b|em|strong|sub|sup|tt|u|span|p|br|code|small|a)(?:\s[^<>]*)?/?>", re.I)
_NEW_ARXIV = re.compile(r"(?<![\w.])(\d{4}\.\d{4,5})(v\d+)?(?![\w.])")
_OLD_ARXIV = re.compile(r"(?<![\w.])([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?(?![\w.])")
_DOI = re.compile(r"10\.\d{4,9}/\S+")


def clean(value: object) -> str:
    """Collapse whitespace and drop inline formatting tags; `None` becomes an empty string."""
    if value is None:
        return ""
    text = str(value)
    if "<" in text:
        text = _FORMAT_TAG.sub("", text)
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _latex_converter():  # type: ignore[no-untyped-def]
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)


@lru_cache(maxsize=65536)
def delatex(value: str) -> str:
    """Turn LaTeX accents and macros in names and titles into Unicode (`Bal\\'azs` → `Balázs`), keep math."""
    if "\\" not in value and "{" not in value:
        return value
    try:
        return clean(_latex_converter().latex_to_text(value))
    except Exception:  # pylatexenc is tolerant, but a pathological string must not lose the record
        return value


def parse_arxiv_id(value: str | None) -> tuple[str, str | None] | None:
    """Find an arXiv id in an id, `arXiv:` string or abs/pdf URL; return (id without version, version)."""
    if not value:
        return None
    text = value.strip()
    for pattern in (_NEW_ARXIV, _OLD_ARXIV):
        match = pattern.search(text)
        if match:
            return match.group(1), match.group(2)
    return None


def normalise_doi(value: str | None) -> str | None:
    """Lower-case a DOI and strip `doi:` / resolver prefixes; `None` if it is not a DOI."""
    if not value:
        return None
    match = _DOI.search(value.strip())
    return match.group(0).rstrip(".,;").lower() if match else None


def title_key(title: str) -> str:
    """A stable local id for a paper known only by its title (case, spacing and punctuation ignored)."""
    norm = re.sub(r"[^\w]+", " ", title.lower()).strip()
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()[:12]


def canonical_id(arxiv_id: str | None, doi: str | None, local: str | None, title: str) -> str:
    """The store key: `arxiv:<id>`, else `doi:<doi>`, else `local:<given id or title hash>`."""
    if arxiv_id:
        return f"arxiv:{arxiv_id}"
    if doi:
        return f"doi:{doi}"
    if local:
        return f"local:{local.strip()}"
    return f"local:{title_key(title)}"


def iso_utc(dt: datetime) -> str:
    """Format a datetime as ISO 8601 UTC with a `Z`, the one date format the store holds."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: object) -> str | None:
    """Read the date formats sources use (ISO, RFC 2822, `YYYY-MM-DD`, a bare year) into ISO 8601 UTC."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01-01T00:00:00Z"
    try:
        return iso_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        return iso_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


def split_authors(value: str) -> list[str]:
    """Split a byline such as `A. One, B. Two and C. Three` (or BibTeX `X and Y`) into names."""
    text = clean(value)
    if not text:
        return []
    parts = re.split(r"\s+and\s+|,\s*and\s+|;\s*|,\s*(?![^()]*\))", text)
    return [p.strip() for p in parts if p and p.strip()]
