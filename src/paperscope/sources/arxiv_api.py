"""The arXiv API (Atom): `search_query` or `id_list`, paged, one request per `arxiv_api_delay` seconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from ..errors import SourceError, UsageError
from ..models import Author, Batch, Paper, Problem, Version
from ..text import canonical_id, clean, delatex, parse_arxiv_id, parse_date
from ._fields import dois_and_links, ordered_versions
from ._http import Client
from ._xml import parse_xml, text_of

NAME = "arxiv_api"
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def _t(el: etree._Element, path: str) -> str | None:
    value = clean(text_of(el.find(path)))
    return value or None


def entry_to_paper(entry: etree._Element) -> Paper:
    """Map one Atom `<entry>` to a Paper; ValueError if it has no arXiv id or title."""
    parsed = parse_arxiv_id(_t(entry, f"{ATOM}id"))
    if not parsed:
        raise ValueError(f"no arXiv id in <id> {_t(entry, f'{ATOM}id')!r}")
    arxiv_id, version = parsed
    title = _t(entry, f"{ATOM}title") or ""  # shown as text by the store, which keeps this source
    if not title:
        raise ValueError("no title")
    published, updated = parse_date(_t(entry, f"{ATOM}published")), parse_date(_t(entry, f"{ATOM}updated"))
    # The API names only the latest version: v1 is `published`, the latest is `updated`.
    versions = [Version("v1", published)]
    if version and version != "v1":
        versions.append(Version(version, updated))
    authors = tuple(
        Author(delatex(_t(a, f"{ATOM}name") or ""), tuple(clean(text_of(x)) for x in a.findall(f"{ARXIV}affiliation")))
        for a in entry.findall(f"{ATOM}author")
        if _t(a, f"{ATOM}name")
    )
    primary = entry.find(f"{ARXIV}primary_category")
    categories = [primary.get("term")] if primary is not None and primary.get("term") else []
    categories += [c.get("term") for c in entry.findall(f"{ATOM}category") if c.get("term") not in categories]
    doi, links = dois_and_links(_t(entry, f"{ARXIV}doi"), arxiv_id)
    return Paper(
        id=canonical_id(arxiv_id, None, None, title), arxiv_id=arxiv_id, title=title,
        abstract=_t(entry, f"{ATOM}summary") or "", authors=authors, categories=tuple(c for c in categories if c),
        published=published, updated=updated if version and version != "v1" else None,
        versions=ordered_versions(versions), doi=doi,
        journal_ref=_t(entry, f"{ARXIV}journal_ref"), comments=_t(entry, f"{ARXIV}comment"),
        links=links, sources=(NAME,),
    )


def _error_message(feed: etree._Element) -> str | None:
    """The message of arXiv's error feed (an entry whose id is …/api/errors#…), else None."""
    for entry in feed.findall(f"{ATOM}entry"):
        if "/api/errors" in (_t(entry, f"{ATOM}id") or ""):
            return _t(entry, f"{ATOM}summary") or _t(entry, f"{ATOM}title") or "unspecified error"
    return None


def _check_error(feed: etree._Element) -> None:
    said = _error_message(feed)
    if said:
        raise SourceError(f"the arXiv API rejected the query: {said}; fix the query")


def _explain(body: bytes) -> str | None:
    """arXiv answers a bad query with HTTP 400 and an Atom error feed: show its message."""
    said = _error_message(parse_xml(body))
    return f"the arXiv API rejected the query: {said}; fix the query" if said else None


def harvest(
    client: Client,
    endpoint: str,
    checkpoint: dict[str, Any] | None,
    search_query: str | None = None,
    id_list: list[str] | None = None,
    page_size: int = 100,
    max_results: int | None = None,
) -> Iterator[Batch]:
    """Yield one batch per Atom page, resuming at the saved `start` for the same query.

    The arXiv API sometimes answers an empty page (often with totalResults 0) in the middle of a
    query. Such a page is asked again; if it stays empty the harvest stops with a SourceError and
    the checkpoint keeps the last good `start`, so the next run resumes there.
    """
    if not search_query and not id_list:
        raise UsageError("give --query (arXiv search_query syntax, e.g. 'cat:cs.CL AND ti:retrieval') or --id")
    query = {"search_query": search_query or "", "id_list": ",".join(id_list or [])}
    state = checkpoint or {}
    resuming = state.get("query") == query and not state.get("complete")
    start = int(state.get("start", 0)) if resuming else 0
    known_total = int(state.get("total") or 0) if resuming else 0
    limit = max_results if max_results is not None else (len(id_list) if id_list and not search_query else None)
    empty_retries = 0
    while limit is None or start < limit:
        size = page_size if limit is None else min(page_size, limit - start)
        params = {**{k: v for k, v in query.items() if v}, "start": start, "max_results": size}
        feed = client.get(endpoint, params, parse_xml, explain=_explain)
        if feed.tag != f"{ATOM}feed":
            raise SourceError(f"{endpoint} did not return an Atom feed (root <{feed.tag}>); check arxiv_api_url")
        _check_error(feed)
        page_total = int(_t(feed, f"{OPENSEARCH}totalResults") or 0)
        entries = feed.findall(f"{ATOM}entry")
        known_total = max(known_total, page_total)  # a glitched empty page says 0: keep what we knew
        target = known_total if limit is None else min(known_total, limit)
        if not entries and start < target:
            if empty_retries < client.retries:
                empty_retries += 1  # the arXiv API is known to return spurious empty pages: ask again
                continue
            raise SourceError(
                f"the arXiv API returned an empty page at start={start} of {target} results "
                f"({empty_retries + 1} tries); the papers so far are saved and the next run resumes at "
                f"start={start}: re-run the same command later"
            )
        papers, problems = [], []
        for i, entry in enumerate(entries):
            try:
                papers.append(entry_to_paper(entry))
            except ValueError as exc:
                problems.append(Problem(_t(entry, f"{ATOM}id") or f"entry {start + i + 1}", str(exc)))
        start += len(entries)
        # A short page is kept: the next request starts right after what arrived, so nothing is skipped.
        finished = start >= target
        cp = {"query": query, "start": start, "total": known_total, "complete": finished}
        yield Batch(tuple(papers), tuple(problems), cp, done=len(entries), total=target)
        if finished:
            return
        empty_retries = 0
