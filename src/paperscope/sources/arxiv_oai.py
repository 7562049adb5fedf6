"""arXiv OAI-PMH harvesting (`ListRecords`, `arXiv`/`arXivRaw`), incremental and resumable by token."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from typing import Any

from lxml import etree
from sickle import Sickle, oaiexceptions
from sickle.iterator import OAIResponseIterator

from ..errors import SourceError, UsageError
from ..models import Author, Batch, Paper, Problem, Version
from ..text import canonical_id, clean, delatex, parse_arxiv_id, parse_date
from ._authors import parse_byline
from ._fields import dois_and_links, ordered_versions
from ._http import Client
from ._xml import parse_xml, text_of

NAME = "arxiv_oai"
PREFIXES = ("arXiv", "arXivRaw")
OAI_ROOT = "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"


OAI_ERROR = "{http://www.openarchives.org/OAI/2.0/}error"


class _NoRecords(Exception):
    """The server answered `noRecordsMatch`: nothing new in the window, a clean zero."""


class _Page:
    """What sickle's iterator reads from a response: the strictly parsed tree."""

    def __init__(self, xml: etree._Element, params: dict[str, Any]) -> None:
        self.xml = xml
        self.params = params


class _PoliteSickle(Sickle):
    """Sickle's token loop over our paced, retrying, strict-XML client; OAI errors are read by us first."""

    def __init__(self, endpoint: str, client: Client) -> None:
        super().__init__(endpoint, iterator=OAIResponseIterator)
        self.client = client

    def harvest(self, **kwargs: Any) -> _Page:  # noqa: D102 - sickle's hook
        root = self.client.get(self.endpoint, kwargs, _parse_oai, explain=_explain)
        _raise_oai_error(root, self.endpoint)
        return _Page(root, kwargs)


def _parse_oai(body: bytes) -> etree._Element:
    root = parse_xml(body)
    if root.tag != OAI_ROOT:
        raise ValueError(f"not an OAI-PMH response (root element <{etree.QName(root).localname}>)")
    return root


def _raise_oai_error(root: etree._Element, endpoint: str) -> None:
    """Turn an OAI-PMH `<error>` into `_NoRecords` or a SourceError carrying the server's message."""
    errors = root.findall(OAI_ERROR)
    if not errors:
        return
    codes = [e.get("code") or "unknown" for e in errors]
    if "noRecordsMatch" in codes:
        raise _NoRecords()
    said = "; ".join(f"{code}: {clean(text_of(e)) or '(no message)'}" for code, e in zip(codes, errors, strict=True))
    if "badResumptionToken" in codes:
        raise oaiexceptions.BadResumptionToken(said)  # handled by harvest(): the window starts again
    hint = {
        "badResumptionToken": "run the ingest with --restart",
        "cannotDisseminateFormat": "use --prefix arXiv or arXivRaw",
        "badArgument": "check --set, --since and --until",
        "noSetHierarchy": "drop --set",
    }.get(codes[0], "check arxiv_oai_url and the options")
    raise SourceError(f"{endpoint} answered an OAI-PMH error: {said} — {hint}")


def _explain(body: bytes) -> str | None:
    """An OAI error inside an HTTP error answer (arXiv sends badArgument with HTTP 400)."""
    root = _parse_oai(body)
    try:
        _raise_oai_error(root, "the OAI-PMH server")
    except SourceError as exc:
        return str(exc)
    return None


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


def deleted_id(record: etree._Element) -> str | None:
    """The arXiv id of a record whose header says `status="deleted"`, else None."""
    header = record.find("{*}header")
    if header is None or header.get("status") != "deleted":
        return None
    parsed = parse_arxiv_id(clean(text_of(header.find("{*}identifier"))))
    return parsed[0] if parsed else None


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
    title = _t(meta, "title") or ""  # shown as text by the store, which keeps this source
    if not title:
        raise ValueError("no title")
    if prefix == "arXivRaw":
        byline = parse_byline(_t(meta, "authors") or "")
        authors = tuple(Author(delatex(name), tuple(delatex(a) for a in affs)) for name, affs in byline)
        # arXivRaw lists versions as text in the order v1, v10, v11, v2 …: order them by number.
        versions = ordered_versions(tuple(
            Version(v.get("version", f"v{i + 1}"), parse_date(_t(v, "date")))
            for i, v in enumerate(meta.findall("{*}version"))
        ))
        published = versions[0].created if versions else None
        updated = versions[-1].created if len(versions) > 1 else None
    else:
        authors = _authors_arxiv(meta)
        published, updated = parse_date(_t(meta, "created")), parse_date(_t(meta, "updated"))
        versions = ()
    doi, links = dois_and_links(_t(meta, "doi"), arxiv_id)
    return Paper(
        id=canonical_id(arxiv_id, None, None, title), arxiv_id=arxiv_id, title=title,
        abstract=_t(meta, "abstract") or "", authors=authors,
        categories=tuple((_t(meta, "categories") or "").split()), published=published, updated=updated,
        versions=versions, doi=doi, journal_ref=_t(meta, "journal-ref"),
        comments=_t(meta, "comments"), license=_t(meta, "license"), links=links, sources=(NAME,),
    )


def _page_batch(page: etree._Element, prefix: str, checkpoint: dict[str, Any]) -> Batch:
    papers, problems, withdrawn = [], [], []
    for i, record in enumerate(page.iter("{*}record")):
        ident = clean(text_of(record.find("{*}header/{*}identifier"))) or f"#{i + 1} of page"
        gone = deleted_id(record)
        if gone:
            withdrawn.append(gone)
            continue
        try:
            paper = record_to_paper(record, prefix)
        except ValueError as exc:
            problems.append(Problem(ident, str(exc)))
            continue
        if paper is not None:
            papers.append(paper)
    return Batch(tuple(papers), tuple(problems), checkpoint, done=len(papers) + len(problems) + len(withdrawn),
                 withdrawn=tuple(withdrawn))


# sickle 0.7's exception classes derive from Exception, not from its OAIError: catch them all by module.
_SICKLE_ERRORS = tuple(
    c for c in vars(oaiexceptions).values()
    if isinstance(c, type) and issubclass(c, Exception) and c.__module__ == oaiexceptions.__name__
)


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
    seen = {token} if token else set()
    try:
        pages = sickle.ListRecords(**({"resumptionToken": token} if token else base))
        for response in pages:
            next_token = pages.resumption_token.token if pages.resumption_token else None
            if next_token:
                cp: dict[str, Any] = {"params": base, "token": next_token, "next_from": start}
            else:
                cp = {"next_from": until_day}
            batch = _page_batch(response.xml, prefix, cp)
            if next_token in seen:
                # Keep this page's records but not its checkpoint: the previous one still points here.
                yield dataclasses.replace(batch, checkpoint=None)
                raise SourceError(
                    f"{endpoint} sent the resumption token {next_token!r} a second time; stopped instead of "
                    "looping. The papers so far are kept; run the ingest again later, or with --restart"
                )
            if next_token:
                seen.add(next_token)
            yield batch
    except _NoRecords:
        yield Batch((), (), {"next_from": until_day})
    except oaiexceptions.BadResumptionToken as exc:
        if not token:
            raise SourceError(
                f"{endpoint} rejected its own resumption token ({exc}); run the ingest again") from None
        # An expired token: start this harvest window again; records already stored merge, not duplicate.
        yield from harvest(client, endpoint, {"next_from": start}, set_spec, prefix, from_, until)
    except _SICKLE_ERRORS as exc:
        raise SourceError(f"{endpoint} answered an OAI-PMH error: {exc.__class__.__name__}: {exc}") from None
