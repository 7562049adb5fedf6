"""The arXiv API (Atom): `search_query` or `id_list`, paged, one request per `arxiv_api_delay` seconds."""

from __future__ import annotations

from typing import Any, Iterator

from lxml import etree

from ..errors import SourceError, UsageError
from ..models import Author, Batch, Paper, Problem, Version
from ..text import canonical_id, clean, delatex, normalise_doi, parse_arxiv_id, parse_date
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
    title = delatex(_t(entry, f"{ATOM}title") or "")
    if not title:
        raise ValueError("no title")
    published, updated = parse_date(_t(entry, f"{ATOM}published")), parse_date(_t(entry, f"{ATOM}updated"))
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
    links = {"abs": f"https://arxiv.org/abs/{arxiv_id}", "pdf": f"https://arxiv.org/pdf/{arxiv_id}"}
    return Paper(
        id=canonical_id(arxiv_id, None, None, title), arxiv_id=arxiv_id, title=title,
        abstract=_t(entry, f"{ATOM}summary") or "", authors=authors, categories=tuple(c for c in categories if c),
        published=published, updated=updated if version and version != "v1" else None,
        versions=tuple(versions), doi=normalise_doi(_t(entry, f"{ARXIV}doi")),
        journal_ref=_t(entry, f"{ARXIV}journal_ref"), comments=_t(entry, f"{ARXIV}comment"),
        links=links, sources=(NAME,),
    )


def _check_error(feed: etree._Element) -> None:
    for entry in feed.findall(f"{ATOM}entry"):
        if "api/errors" in (_t(entry, f"{ATOM}id") or ""):
            raise SourceError(f"the arXiv API rejected the query: {_t(entry, f'{ATOM}summary')}; fix the query")


def harvest(
    client: Client,
    endpoint: str,
    checkpoint: dict[str, Any] | None,
    search_query: str | None = None,
    id_list: list[str] | None = None,
    page_size: int = 100,
    max_results: int | None = None,
) -> Iterator[Batch]:
    """Yield one batch per Atom page, resuming at the saved `start` for the same query."""
    if not search_query and not id_list:
        raise UsageError("give --query (arXiv search_query syntax, e.g. 'cat:cs.CL AND ti:retrieval') or --id")
    query = {"search_query": search_query or "", "id_list": ",".join(id_list or [])}
    state = checkpoint or {}
    start = int(state.get("start", 0)) if state.get("query") == query and not state.get("complete") else 0
    limit = max_results if max_results is not None else (len(id_list) if id_list and not search_query else None)
    empty_retries = 0
    while limit is None or start < limit:
        size = page_size if limit is None else min(page_size, limit - start)
        params = {**{k: v for k, v in query.items() if v}, "start": start, "max_results": size}
        feed = client.get(endpoint, params, parse_xml)
        if feed.tag != f"{ATOM}feed":
            raise SourceError(f"{endpoint} did not return an Atom feed (root <{feed.tag}>); check arxiv_api_url")
        _check_error(feed)
        total = int(_t(feed, f"{OPENSEARCH}totalResults") or 0)
        entries = feed.findall(f"{ATOM}entry")
        if not entries and start < total and empty_retries < client.retries:
            empty_retries += 1  # the arXiv API is known to return spurious empty pages: ask again
            continue
        papers, problems = [], []
        for i, entry in enumerate(entries):
            try:
                papers.append(entry_to_paper(entry))
            except ValueError as exc:
                problems.append(Problem(_t(entry, f"{ATOM}id") or f"entry {start + i + 1}", str(exc)))
        start += len(entries)
        finished = not entries or start >= total or (limit is not None and start >= limit)
        cp = {"query": query, "start": start, "complete": finished}
        yield Batch(tuple(papers), tuple(problems), cp, done=len(entries), total=min(total, limit or total))
        if finished:
            return
        empty_retries = 0
