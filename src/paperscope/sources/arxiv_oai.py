"""arXiv OAI-PMH harvesting (`ListRecords`, `arXiv`/`arXivRaw`), incremental and resumable by token."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterator

from lxml import etree
from sickle import Sickle, oaiexceptions
from sickle.iterator import OAIResponseIterator

from ..errors import SourceError, UsageError
from ..models import Author, Batch, Paper, Problem, Version
from ..text import canonical_id, clean, delatex, normalise_doi, parse_arxiv_id, parse_date, split_authors
from ._http import Client
from ._xml import parse_xml, text_of

NAME = "arxiv_oai"
PREFIXES = ("arXiv", "arXivRaw")
OAI_ROOT = "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"


class _Page:
    """What sickle's iterator reads from a response: the strictly parsed tree."""

    def __init__(self, xml: etree._Element, params: dict[str, Any]) -> None:
        self.xml = xml
        self.params = params


class _PoliteSickle(Sickle):
    """Sickle's token loop and OAI error mapping over our paced, retrying, strict-XML client."""

    def __init__(self, endpoint: str, client: Client) -> None:
        super().__init__(endpoint, iterator=OAIResponseIterator)
        self.client = client

    def harvest(self, **kwargs: Any) -> _Page:  # noqa: D102 - sickle's hook
        return _Page(self.client.get(self.endpoint, kwargs, _parse_oai), kwargs)


def _parse_oai(body: bytes) -> etree._Element:
    root = parse_xml(body)
    if root.tag != OAI_ROOT:
        raise ValueError(f"not an OAI-PMH response (root element <{etree.QName(root).localname}>)")
    return root


def _t(meta: etree._Element, tag: str) -> str | None:
    value = clean(text_of(meta.find(f"{{*}}{tag}")))
    return value or None


def _authors_arxiv(meta: etree._Element) -> tuple[Author, ...]:
    authors = []
    for el in meta.findall("{*}authors/{*}author"):
        parts = [_t(el, "forenames"), _t(el, "keyname"), _t(el, "suffix")]
        name = delatex(" ".join(p for p in parts if p))
        affiliations = tuple(clean(text_of(a)) for a in el.findall("{*}affiliation") if clean(text_of(a)))
        if name:
            authors.append(Author(name, affiliations))
    return tuple(authors)


def record_to_paper(record: etree._Element, prefix: str) -> Paper | None:
    """Map one OAI `<record>` to a Paper; None for a deleted record; ValueError if unusable."""
    header = record.find("{*}header")
    if header is not None and header.get("status") == "deleted":
        return None
    meta = record.find(f"{{*}}metadata/{{*}}{prefix}")
    if meta is None:
        raise ValueError(f"no <{prefix}> metadata")
    parsed = parse_arxiv_id(_t(meta, "id"))
    if not parsed:
        raise ValueError(f"no usable arXiv id ({_t(meta, 'id')!r})")
    arxiv_id = parsed[0]
    title = delatex(_t(meta, "title") or "")
    if not title:
        raise ValueError("no title")
    if prefix == "arXivRaw":
        authors = tuple(Author(delatex(n)) for n in split_authors(_t(meta, "authors") or ""))
        versions = tuple(
            Version(v.get("version", f"v{i + 1}"), parse_date(_t(v, "date")))
            for i, v in enumerate(meta.findall("{*}version"))
        )
        published = versions[0].created if versions else None
        updated = versions[-1].created if len(versions) > 1 else None
    else:
        authors = _authors_arxiv(meta)
        published, updated = parse_date(_t(meta, "created")), parse_date(_t(meta, "updated"))
        versions = ()
    return Paper(
        id=canonical_id(arxiv_id, None, None, title), arxiv_id=arxiv_id, title=title,
        abstract=_t(meta, "abstract") or "", authors=authors,
        categories=tuple((_t(meta, "categories") or "").split()), published=published, updated=updated,
        versions=versions, doi=normalise_doi(_t(meta, "doi")), journal_ref=_t(meta, "journal-ref"),
        comments=_t(meta, "comments"), license=_t(meta, "license"),
        links={"abs": f"https://arxiv.org/abs/{arxiv_id}", "pdf": f"https://arxiv.org/pdf/{arxiv_id}"},
        sources=(NAME,),
    )


def _page_batch(page: etree._Element, prefix: str, checkpoint: dict[str, Any]) -> Batch:
    papers, problems = [], []
    for i, record in enumerate(page.iter("{*}record")):
        ident = clean(text_of(record.find("{*}header/{*}identifier"))) or f"#{i + 1} of page"
        try:
            paper = record_to_paper(record, prefix)
        except ValueError as exc:
            problems.append(Problem(ident, str(exc)))
            continue
        if paper is not None:
            papers.append(paper)
    return Batch(tuple(papers), tuple(problems), checkpoint, done=len(papers) + len(problems))


def harvest(
    client: Client,
    endpoint: str,
    checkpoint: dict[str, Any] | None,
    set_spec: str | None = None,
    prefix: str = "arXiv",
    from_: str | None = None,
    until: str | None = None,
) -> Iterator[Batch]:
    """Yield one batch per OAI page; resume from a saved token, else from the last harvest's end date."""
    if prefix not in PREFIXES:
        raise UsageError(f"metadata prefix {prefix!r} is not supported; use one of {', '.join(PREFIXES)}")
    state = dict(checkpoint or {})
    start = from_ or state.get("next_from")
    until_day = until or date.today().isoformat()
    base = {"metadataPrefix": prefix, **({"set": set_spec} if set_spec else {}), "until": until_day}
    if start:
        base["from"] = start
    sickle = _PoliteSickle(endpoint, client)
    token = state.get("token") if state.get("params") == base else None
    try:
        pages = sickle.ListRecords(**({"resumptionToken": token} if token else base))
        for response in pages:
            next_token = pages.resumption_token.token if pages.resumption_token else None
            if next_token:
                cp: dict[str, Any] = {"params": base, "token": next_token, "next_from": start}
            else:
                cp = {"next_from": until_day}
            yield _page_batch(response.xml, prefix, cp)
    except oaiexceptions.NoRecordsMatch:
        yield Batch((), (), {"next_from": until_day})
    except oaiexceptions.BadResumptionToken:
        if not token:
            raise SourceError(f"{endpoint} rejected its own resumption token; run the ingest again") from None
        # An expired token: start this harvest window again; records already stored merge, not duplicate.
        yield from harvest(client, endpoint, {"next_from": start}, set_spec, prefix, from_, until)
    except oaiexceptions.OAIError as exc:
        raise SourceError(f"{endpoint} answered an OAI-PMH error: {exc.__class__.__name__}: {exc}") from None
