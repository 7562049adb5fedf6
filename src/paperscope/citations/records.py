"""What a citation source says about one paper of the store: its id there, its counts, the works it cites and
the works that cite it. Plain data; the sources build it, the store writes it."""

from __future__ import annotations

from dataclasses import dataclass

OPENALEX = "openalex"
S2 = "s2"


@dataclass(frozen=True)
class Work:
    """A work named by a source: `key` is the source's id (`openalex:W…`, `s2:<paperId>`), the rest as given."""

    key: str
    title: str = ""
    doi: str | None = None  # lower-case, no resolver prefix
    arxiv_id: str | None = None  # without version
    year: int | None = None


@dataclass(frozen=True)
class Found:
    """One source's answer for one store paper. `external_id` None: the source has no such paper (no match;
    never guessed by title). `cited_by_complete`: `cited_by_works` lists every citing work the source has."""

    paper_id: str
    external_id: str | None
    cited_by: int | None = None
    influential: int | None = None
    references: tuple[Work, ...] = ()
    cited_by_works: tuple[Work, ...] = ()
    matched_by: str = ""  # "arXiv id" or "DOI": how the source's record was matched to the paper


@dataclass(frozen=True)
class Wanted:
    """A store paper to look up: its id and the ids a source can match it by."""

    paper_id: str
    arxiv_id: str | None
    doi: str | None


def arxiv_doi(arxiv_id: str) -> str:
    """arXiv's own DOI for a paper (DataCite, `10.48550/arXiv.<id>`), lower-cased as the store keeps DOIs."""
    return f"10.48550/arxiv.{arxiv_id}".lower()


def canonical_of(work: Work) -> str:
    """The id the store would give this work (arxiv:…, else doi:…), else the source's own key."""
    if work.arxiv_id:
        return f"arxiv:{work.arxiv_id}"
    if work.doi:
        return f"doi:{work.doi}"
    return work.key
