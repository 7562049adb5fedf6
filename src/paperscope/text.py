"""Text normalisation shared by every source: whitespace, markup, LaTeX accents, ids and dates."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from .latex import to_text

if TYPE_CHECKING:
    from .models import ParsedQuery

# Inline formatting tags some feeds put in titles/abstracts; anything else (e.g. <script>) stays as
# literal text and is escaped when rendered.
_FORMAT_TAG = re.compile(r"</?(?:i|b|em|strong|sub|sup|tt|u|span|p|br|code|small|a)(?:\s[^<>]*)?/?>", re.I)
# ASCII digits only: other scripts' digits are never an arXiv id (ids are NFKC-normalised first, so full-width
# digits become ASCII before they are matched, and only ASCII ever goes upstream)
_NEW_ARXIV = re.compile(r"(?<![\w.])([0-9]{4}\.[0-9]{4,5})(v[0-9]+)?(?![\w.])", re.ASCII)
_OLD_ARXIV = re.compile(r"(?<![\w.])([a-z][a-z-]*(?:\.[A-Z]{2})?/[0-9]{7})(v[0-9]+)?(?![\w.])", re.ASCII)
_DOI = re.compile(r"10\.\d{4,9}/\S+")


def is_collapsed(text: str) -> bool:
    """True when `text` has nothing to collapse or strip: printable (no control, format or separator character but
    the space) and no doubled or edge spaces; decided in C, so the common case costs no split and join."""
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "


def clean(value: object) -> str:
    """Collapse whitespace and drop inline formatting tags; `None` becomes an empty string."""
    if value is None:
        return ""
    text = str(value)
    if "<" not in text and is_collapsed(text):
        return text
    if "<" in text:
        text = _FORMAT_TAG.sub("", text)
    return " ".join(text.split())


_LATEXISH = re.compile(r"[\\{}$^_~]")


@lru_cache(maxsize=4096)
def latex_to_text(source: str) -> str:
    """arXiv-style LaTeX as readable Unicode: `$\\mathcal{O}(n^2)$` → `O(n²)`, `\\alpha` → `α`, `5%` stays `5%`.

    For abstracts, titles and names alike; an unknown macro stays as written (`\\ours`), no word is lost.
    Cached: a title, a name or a repeated abstract is converted once."""
    if not _LATEXISH.search(source):
        return source
    return clean(to_text(source))


def delatex(value: str) -> str:
    """A name or affiliation's LaTeX accents as Unicode (`Bal\\'azs` → `Balázs`); the same reader as abstracts."""
    return latex_to_text(value)


def parse_arxiv_id(value: str | None) -> tuple[str, str | None] | None:
    """Find an arXiv id in an id, `arXiv:` string or abs/pdf URL; return (id without version, version).

    The text is NFKC-normalised first (`２４０１.１２３４５` reads as `2401.12345`), then matched strictly in ASCII."""
    if not value:
        return None
    text = unicodedata.normalize("NFKC", value).strip()
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
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# arXiv's own form (`Mon, 2 Apr 2007 19:18:42 GMT`, every version of every snapshot record), read without email.utils
_ARXIV_DATE = re.compile(r"(?:[A-Z][a-z]{2}, )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
                         r"(\d{2}):(\d{2}):(\d{2}) GMT")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), start=1)}


def parse_date(value: object) -> str | None:
    """Read the date formats sources use (ISO, RFC 2822, `YYYY-MM-DD`, a bare year) into ISO 8601 UTC."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    m = _ARXIV_DATE.fullmatch(text)
    if m:
        try:
            dt = datetime(int(m[3]), _MONTHS[m[2]], int(m[1]), int(m[4]), int(m[5]), int(m[6]))
        except ValueError:
            return None
        return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}Z"
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01-01T00:00:00Z"
    if len(text) > 64:  # no date is that long; do not hand megabytes to the parsers
        return None
    try:
        return iso_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        pass
    try:
        return iso_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):  # an overflowing year or offset is no date
        return None


def split_authors(value: str) -> list[str]:
    """Split a byline such as `A. One, B. Two and C. Three` (or BibTeX `X and Y`) into names."""
    text = clean(value)
    if not text:
        return []
    parts = re.split(r"\s+and\s+|,\s*and\s+|;\s*|,\s*(?![^()]*\))", text)
    return [p.strip() for p in parts if p and p.strip()]


MAX_QUERY_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r'(-?)(?:(\w+):)?(?:"([^"]*)"|(\S+))')


def is_blank(raw: str | None) -> bool:
    """True for a query with nothing in it once control characters and whitespace are removed."""
    return not _CONTROL.sub(" ", raw or "").strip()


def words(text: str) -> list[str]:
    """Lower-cased word tokens; the only thing ever passed on to an index's query parser."""
    return [w.lower() for w in _WORD.findall(text)]


def _day(value: str, end: bool) -> str:
    """`2020`, `2020-05` or `2020-05-17` to an ISO day; the end of the period when `end`."""
    from calendar import monthrange

    parts = value.split("-")
    if not (1 <= len(parts) <= 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4):
        raise ValueError(value)
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
    day = int(parts[2]) if len(parts) > 2 else (monthrange(year, month)[1] if end else 1)
    return datetime(year, month, day).date().isoformat()


def parse_query(raw: str) -> ParsedQuery:
    """Read `"phrases"`, `author:`, `cat:`, `topic:`, `cites:`, `citedby:`, `year:A..B`, `since:`, `until:` and
    `-term`; never raise on junk."""
    from .errors import UsageError
    from .models import Filters, ParsedQuery

    notes: list[str] = []
    text = _CONTROL.sub(" ", raw or "")
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(f"query cut to its first {MAX_QUERY_CHARS} characters")
    if text.count('"') % 2:
        i = text.rfind('"')
        text = text[:i] + " " + text[i + 1:]
        notes.append("an unmatched quote was ignored")
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[str] = []
    excluded_phrases: list[tuple[str, ...]] = []
    since = until = None
    cats: list[str] = []
    authors: list[str] = []
    topics: list[int] = []
    cites: list[str] = []
    cited_by: list[str] = []
    for neg, op, quoted, bare in _TOKEN.findall(text):
        value = (quoted if quoted or (op and not bare) else bare).strip()
        op = op.lower()
        if op in ("author", "au"):
            if value:
                authors.append(value)
        elif op in ("cat", "category"):
            cats += [c for c in re.split(r"[,\s]+", value) if c]
        elif op in ("cites", "citedby"):
            if value:
                (cites if op == "cites" else cited_by).append(value)
        elif op == "topic":
            for part in (c for c in re.split(r"[,\s]+", value) if c):
                if part.isascii() and part.isdigit() and len(part) < 10:
                    topics.append(int(part))
                else:
                    notes.append(f"topic:{part} is not a topic id (write topic:12; `paperscope topics` lists them)")
        elif op in ("year", "since", "until", "date"):
            try:
                if op == "since":
                    since = _day(value, end=False)
                elif op == "until":
                    until = _day(value, end=True)
                else:
                    lo, _, hi = value.partition("..")
                    since = _day(lo, end=False) if lo else None
                    until = _day(hi or lo, end=True) if (hi or not _) else None
            except (ValueError, OverflowError):
                raise UsageError(
                    f"cannot read {op}:{value!r}; write year:2021, year:2020..2023, since:2024-05 or until:2024-05-31"
                ) from None
        else:
            if op:  # an unknown `field:` is just words
                value = f"{op} {value}"
            toks = words(value)
            if not toks:
                continue
            if neg and quoted and len(toks) > 1:
                excluded_phrases.append(tuple(toks))
            elif neg:
                excluded += toks
            elif quoted and len(toks) > 1:
                phrases.append(tuple(toks))
            else:
                terms += toks
    if since and until and since > until:
        raise UsageError(f"the date range is empty: since {since} is after until {until}")
    return ParsedQuery(tuple(terms), tuple(phrases), tuple(excluded),
                       Filters(since, until, tuple(cats), tuple(authors), tuple(dict.fromkeys(topics)),
                               cites=tuple(cites), cited_by=tuple(cited_by)), tuple(notes), tuple(excluded_phrases))


def text_hash(text: str) -> str:
    """The fingerprint stored with a vector: a paper whose text keeps it is not embedded again."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is embedded by: its title, then its abstract."""
    return f"{title}. {abstract}" if abstract else title


def words_starting_with(heads: Collection[str]) -> re.Pattern[str]:
    """Whole words (any case) that start with one of `heads`: the only words a snippet needs to stem.

    A lookahead, not a literal prefix, so a head never ends inside a word (a Devanagari vowel sign is not \\w)."""
    if not heads:
        return re.compile(r"(?!)")
    return re.compile(r"\b(?=" + "|".join(sorted(map(re.escape, heads))) + r")\w+", re.IGNORECASE)


def highlight(text: str, query_words: set[str], width: int = 240, is_match: Callable[[str], bool] | None = None,
              candidates: re.Pattern[str] | None = None) -> tuple[tuple[str, bool], ...]:
    """A window of `text` around the densest query-word matches, split into (text, is_match) segments.

    `is_match` decides per word (search passes the keyword index's stemmer, so what is marked is what
    BM25 matched), asked only about the words `candidates` finds (search: those starting like a query
    stem), so an abstract costs one regex pass; without it a word matches a query word by its first five letters."""
    if not text:
        return ()
    if is_match is not None and candidates is not None:
        spans = [m.span() for m in candidates.finditer(text) if is_match(m.group())]
    else:
        if is_match is None:
            stems = {w[:5] for w in query_words if len(w) > 2}

            def is_match(word: str) -> bool:
                return word.lower()[:5] in stems
        # decide once per distinct word (an abstract repeats many), then find those words' places in C
        matched = {w for w in set(_WORD.findall(text)) if is_match(w)}
        spans = [m.span() for m in re.finditer(r"\b(?:" + "|".join(map(re.escape, matched)) + r")\b", text)] \
            if matched else []
    start = 0
    if spans and len(text) > width:
        starts = [s for s, _ in spans]  # the densest window: the most matches starting within `width`
        best = max(range(len(spans)), key=lambda i: bisect_left(starts, starts[i] + width) - i)
        start = max(0, spans[best][0] - 40)
        while start > 0 and not text[start - 1].isspace():
            start -= 1
    end = min(len(text), start + width)
    while end < len(text) and not text[end].isspace() and end - start < width + 30:
        end += 1
    segments: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        if s > pos:
            segments.append((text[pos:s], False))
        segments.append((text[s:e], True))
        pos = e
    if pos < end:
        segments.append((text[pos:end], False))
    if end < len(text):
        segments.append(("…", False))
    return tuple(segments)
