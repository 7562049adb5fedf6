"""Frozen dataclasses passed between the layers: papers, ingest batches and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Author:
    """One author in byline order; affiliations only when a source gave them."""

    name: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Version:
    """One arXiv version (`v1`, `v2`, …) and when it was submitted (ISO 8601 UTC)."""

    version: str
    created: str | None = None


@dataclass(frozen=True)
class Signal:
    """A popularity signal (upvotes, GitHub stars) with the source that reported it and when."""

    value: float
    source: str
    at: str


LINK_KINDS = ("abs", "pdf", "code", "project", "organization")  # organization: its Hugging Face page


@dataclass(frozen=True)
class Paper:
    """One paper as paperscope keeps it; `id` is canonical (`arxiv:…`, `doi:…` or `local:…`)."""

    id: str
    title: str
    abstract: str = ""
    authors: tuple[Author, ...] = ()
    categories: tuple[str, ...] = ()  # primary first
    published: str | None = None  # first submitted, ISO 8601 UTC
    updated: str | None = None  # last updated
    first_seen: str | None = None  # set by the store on first insert
    versions: tuple[Version, ...] = ()
    arxiv_id: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comments: str | None = None
    license: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    signals: dict[str, Signal] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    withdrawn: str | None = None  # when arXiv reported it deleted: kept for libraries, hidden from lists/search
    featured: str | None = None  # first listed on Hugging Face daily papers (the day it is shown on)
    abstract_source: str | None = None  # the abstract as the source gave it (LaTeX), when it differs from `abstract`
    title_source: str | None = None  # the title as the source gave it, when it differs from `title`
    ai_summary: str | None = None  # Hugging Face's one-sentence AI summary (its `ai_summary`), shown as such
    ai_keywords: tuple[str, ...] = ()  # Hugging Face's AI-extracted keywords (its `ai_keywords`)
    organization: str | None = None  # the Hugging Face organisation the paper is listed under (its full name)


_PAPER_FIELDS = frozenset(Paper.__dataclass_fields__)


def evolve(p: Paper, **changes: Any) -> Paper:
    """`dataclasses.replace` for the ingest's hot path: a copy with these fields changed, without replace's per-call
    walk over every field (Paper has no `__post_init__` to skip). An unknown field is a TypeError, as there."""
    if not changes.keys() <= _PAPER_FIELDS:
        raise TypeError(f"Paper has no field {sorted(changes.keys() - _PAPER_FIELDS)[0]!r}")
    new = object.__new__(Paper)
    new.__dict__.update(p.__dict__, **changes)
    return new


@dataclass(frozen=True)
class Problem:
    """A record that could not be ingested: which one and why (the rest of the batch is kept)."""

    record: str
    reason: str


@dataclass(frozen=True)
class Batch:
    """A unit of ingest committed in one transaction together with the checkpoint that follows it."""

    papers: tuple[Paper, ...]
    problems: tuple[Problem, ...] = ()
    checkpoint: dict[str, Any] | None = None
    done: int = 0  # units of progress (records or bytes) this batch represents
    total: int | None = None  # the whole job in the same units, when the source knows it
    withdrawn: tuple[str, ...] = ()  # arXiv ids the source reports deleted: kept, marked withdrawn
    notes: tuple[Problem, ...] = ()  # about the whole source, not one record (e.g. "read as Windows-1252")
    cleaned: bool = False  # every paper already passed `clean.clean_paper` (the pipeline's pass): not cleaned twice
    # papers a reader process cleaned, made readable and encoded for the store (`store.papers.prepare`), in place
    # of `papers`: the writer then builds no Paper for a record that matches nothing already stored
    prepared: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Share:
    """One reader's part of a file read by several processes: every `readers`-th batch from the `index`-th, of the
    file's first `end` bytes (its size when the ingest began: all readers cut the same batches even if it grows)."""

    index: int
    readers: int
    end: int


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run did, for the CLI, the JSON output and the about page."""

    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: tuple[Problem, ...] = ()
    resumed: bool = False
    cleaned: tuple[Problem, ...] = ()  # records kept with a field dropped or cut (links, dates, lengths)

    @property
    def valid(self) -> int:
        """Records that were read and stored (new, changed or already known)."""
        return self.added + self.updated + self.unchanged

    @property
    def changed(self) -> bool:
        """True when the store now differs, so the next pipeline stage has work to do."""
        return bool(self.added or self.updated)


@dataclass(frozen=True)
class Filters:
    """Restrictions applied inside candidate search: dates (ISO days, inclusive), categories, authors."""

    since: str | None = None
    until: str | None = None
    categories: tuple[str, ...] = ()  # any of
    authors: tuple[str, ...] = ()  # all of
    topics: tuple[int, ...] = ()  # any of (`topic:12`): resolved to the topic's papers by `search`
    ids: frozenset[str] | None = None  # the papers `topics` resolved to (set by `search`, never by the user)
    cites: tuple[str, ...] = ()  # papers citing all of these (`cites:<id>`), from the stored citation edges
    cited_by: tuple[str, ...] = ()  # papers all of these cite (`citedby:<id>`); both resolved into `ids`

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.categories or self.authors or self.topics or self.cites
                    or self.cited_by)


@dataclass(frozen=True)
class ParsedQuery:
    """A search box's text read into free terms, phrases, exclusions and filters."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)
    notes: tuple[str, ...] = ()  # how a malformed part was read, shown to the user
    excluded_phrases: tuple[tuple[str, ...], ...] = ()  # -"two words": papers holding them in order are refused

    @property
    def text(self) -> str:
        """The words a semantic model should see."""
        return " ".join(list(self.terms) + [" ".join(p) for p in self.phrases])


@dataclass(frozen=True)
class Hit:
    """One search result: the paper, its fused score, why it matched and a highlighted snippet."""

    paper: Paper
    score: float
    reason: str  # "keyword", "semantic", "both", or "filter" (a filter-only query: newest first, no score)
    snippet: tuple[tuple[str, bool], ...] = ()  # (text, is_match) segments; escape when rendering
    keyword_rank: int | None = None
    semantic_rank: int | None = None


@dataclass(frozen=True)
class SearchResult:
    """A page of hits with how many candidates matched and how long it took.

    `total`: keyword mode and filter-only queries, the exact number of matching papers; semantic and
    hybrid modes, the number of ranked candidates that pass the query's phrases, exclusions and filters
    (at most the fixed candidate depth per list). Pages are slices of one ranking, so it never changes
    with `limit` or `offset`. `notes` say how the query was read and why nothing matched, if so."""

    hits: tuple[Hit, ...]
    total: int
    took_ms: float
    query: ParsedQuery
    mode: str
    notes: tuple[str, ...] = ()
    meaning_only: bool = False  # words were given but no paper contains them: every hit matched by meaning alone
    sort: str = "relevance"  # or "citations": most cited first (search.by_citations says over which matches)


@dataclass(frozen=True)
class User:
    """An account on a server instance, with its digest preferences and private tokens."""

    id: int
    email: str
    role: str
    created_at: str
    feed_token: str  # legacy column: always "" now (feed and unsubscribe tokens are kept hashed in `tokens`)
    unsubscribe_token: str
    digest_frequency: str = "weekly"  # daily | weekly | off
    digest_tags: tuple[str, ...] = ()  # empty: the whole library
    digest_size: int = 10
    digest_trending: bool = False
    webhook_url: str | None = None
    last_digest_at: str | None = None
    disabled: bool = False  # an admin switched the account off: no sign-in, no tokens, no digests


@dataclass(frozen=True)
class PaperState:
    """One user's marks on one paper: note, read, hidden, vote (+1/-1/0), and its tags."""

    note: str | None = None
    read_at: str | None = None
    hidden: bool = False
    vote: int = 0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    """A topic found in the papers' vectors: a broad one (level 0) or a fine one inside it (level 1)."""

    id: int
    level: int
    label: str
    terms: tuple[tuple[str, float], ...] = ()  # the words and phrases that set it apart (class-based tf-idf)
    papers: tuple[str, ...] = ()  # representative papers: the nearest to its centre
    size: int = 0
    parent: int | None = None  # a fine topic's broad topic
    x: float = 0.0  # where its label sits on the map
    y: float = 0.0
    active: bool = True  # False: no rebuild kept it (its id still resolves, to say so)
