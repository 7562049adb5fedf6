"""Semantic Scholar's Graph API: papers looked up in batches (`POST /paper/batch`, ids sent as `ARXIV:<id>` or
`DOI:<doi>`), matched back through `externalIds.ArXiv` / `externalIds.DOI`, with citationCount,
influentialCitationCount, the papers each one cites and the papers that cite it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..citations.records import S2, Found, Wanted, Work
from ..text import clean, normalise_doi, parse_arxiv_id
from ._http import Client
from ._json import json_list

NAME = "semantic-scholar"
BATCH = 100  # ids a request (the API takes 500; the nested lists make big answers, so fewer)
_LINKED = "paperId,externalIds,title,year"
FIELDS = ",".join(["paperId", "externalIds", "title", "year", "citationCount", "influentialCitationCount"]
                  + [f"references.{f}" for f in _LINKED.split(",")] + [f"citations.{f}" for f in _LINKED.split(",")])


def _ids(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    ext: dict[str, Any] = raw["externalIds"] if isinstance(raw.get("externalIds"), dict) else {}
    parsed = parse_arxiv_id(str(ext.get("ArXiv"))) if ext.get("ArXiv") else None
    doi = normalise_doi(str(ext.get("DOI"))) if ext.get("DOI") else None
    if parsed is None and doi and doi.startswith("10.48550/arxiv."):
        parsed = parse_arxiv_id(doi[len("10.48550/arxiv."):])
    return (parsed[0] if parsed else None), doi


def to_work(raw: Any) -> Work | None:
    """A linked paper (reference or citation) as a `Work`; None without a paperId (S2 has no record of it)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("paperId"), str) or not raw["paperId"]:
        return None
    arxiv_id, doi = _ids(raw)
    year = raw.get("year")
    return Work(f"s2:{raw['paperId']}", clean(raw.get("title"))[:500], doi, arxiv_id,
                year if isinstance(year, int) and 0 < year < 3000 else None)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _batch_body(body: bytes) -> list[Any]:
    return json_list(body, "papers (one entry per id asked)")


def _explain(body: bytes) -> str | None:
    data = json.loads(body)
    if isinstance(data, dict) and (data.get("error") or data.get("message")):
        return f"Semantic Scholar says: {clean(str(data.get('error') or data.get('message')))[:300]}"
    return None


def lookup_id(want: Wanted) -> str | None:
    """The id a paper is asked for by: `ARXIV:<id>`, else `DOI:<doi>`."""
    return f"ARXIV:{want.arxiv_id}" if want.arxiv_id else f"DOI:{want.doi}" if want.doi else None


def match(want: Wanted, raw: Any) -> Found:
    """What the API answered for one paper, matched back by the id it was asked for (never by title)."""
    if not isinstance(raw, dict):
        return Found(want.paper_id, None)
    arxiv_id, doi = _ids(raw)
    if want.arxiv_id:
        if arxiv_id != want.arxiv_id:
            return Found(want.paper_id, None)
        by = "arXiv id"
    elif not (doi and want.doi and doi == want.doi.lower()):
        return Found(want.paper_id, None)
    else:
        by = "DOI"
    refs = tuple(w for w in (to_work(r) for r in raw.get("references") or []) if w)
    cites = tuple(w for w in (to_work(c) for c in raw.get("citations") or []) if w)
    return Found(want.paper_id, f"s2:{raw.get('paperId')}", _count(raw.get("citationCount")),
                 _count(raw.get("influentialCitationCount")), refs, cites, by)


def lookup(client: Client, base_url: str, wanted: Sequence[Wanted]) -> list[Found]:
    """One batch request for these papers (at most `BATCH`); a paper S2 lacks comes back as a no-match."""
    asked = [(w, lookup_id(w)) for w in wanted]
    ids = [i for _, i in asked if i]
    answers = client.post_json(base_url.rstrip("/") + "/paper/batch", {"fields": FIELDS}, {"ids": ids},
                               _batch_body, _explain) if ids else []
    if len(answers) != len(ids):
        from ..errors import SourceError

        raise SourceError(f"Semantic Scholar answered {len(answers)} entries for {len(ids)} ids; run the ingest "
                          "again to resume")
    by_id = dict(zip(ids, answers, strict=True))
    return [match(w, by_id.get(i)) if i else Found(w.paper_id, None) for w, i in asked]


__all__ = ["NAME", "S2", "lookup", "match", "to_work"]
