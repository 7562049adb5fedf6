"""OpenAlex (api.openalex.org, CC0): works looked up by DOI in batches with cursor paging, the works they cite
named by id, title and DOI; and the works snapshot (JSON Lines, gzip) read as a stream."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..citations.records import Work, arxiv_doi
from ..text import clean, normalise_doi, parse_arxiv_id
from ._http import Client

NAME = "openalex"
BATCH = 50  # DOIs (or ids) per filter: OpenAlex takes up to 100 values OR-ed with `|`
PAGE = 50  # results per page (`per-page`, at most 200)
_WORK_ID = re.compile(r"(?:https://openalex\.org/)?(W\d+)$")
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/", re.IGNORECASE)
SELECT_FULL = "id,doi,display_name,publication_year,ids,cited_by_count,referenced_works,locations"
SELECT_NAME = "id,doi,display_name,publication_year,locations"


def work_id(value: Any) -> str | None:
    """`W2741809807` from an OpenAlex id or URL; None when it is not one."""
    match = _WORK_ID.search(value.strip()) if isinstance(value, str) else None
    return match.group(1) if match else None


def _links(work: Mapping[str, Any]) -> Iterator[Any]:
    """Every URL a work's locations give: `locations`, `primary_location`, `best_oa_location` (today's format),
    `host_venue` and `alternate_host_venues` (older snapshots) and `open_access.oa_url`."""
    places: list[Any] = list(work.get("locations") or []) + list(work.get("alternate_host_venues") or [])
    places += [work.get("primary_location"), work.get("best_oa_location"), work.get("host_venue")]
    for place in places:
        if isinstance(place, dict):
            yield from (place.get(k) for k in ("landing_page_url", "pdf_url", "url"))
    if isinstance(work.get("open_access"), dict):
        yield work["open_access"].get("oa_url")


def _arxiv_of(work: Mapping[str, Any], doi: str | None) -> str | None:
    """The arXiv id of a work: from arXiv's DOI, else from an arxiv.org abstract or PDF link."""
    if doi and doi.startswith("10.48550/arxiv."):
        parsed = parse_arxiv_id(doi[len("10.48550/arxiv."):])
        if parsed:
            return parsed[0]
    for url in _links(work):
        if isinstance(url, str) and _ARXIV_URL.search(url):
            parsed = parse_arxiv_id(url)
            if parsed:
                return parsed[0]
    return None


def to_work(raw: Mapping[str, Any]) -> Work | None:
    """A work object as a `Work` (None without a usable OpenAlex id)."""
    wid = work_id(raw.get("id"))
    if wid is None:
        return None
    doi = normalise_doi(raw.get("doi") if isinstance(raw.get("doi"), str) else None)
    year = raw.get("publication_year")
    return Work(f"openalex:{wid}", clean(raw.get("display_name") or raw.get("title"))[:500], doi,
                _arxiv_of(raw, doi), year if isinstance(year, int) and 0 < year < 3000 else None)


def cited_by_count(raw: Mapping[str, Any]) -> int | None:
    value = raw.get("cited_by_count")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def references(raw: Mapping[str, Any]) -> list[str]:
    """The OpenAlex ids (`W…`) a work cites, in its order, once each."""
    refs = raw.get("referenced_works")
    return list(dict.fromkeys(w for w in (work_id(r) for r in refs) if w)) if isinstance(refs, list) else []


def _page(body: bytes) -> tuple[list[dict[str, Any]], str | None]:
    """One list page: its work objects and the next cursor (None on the last page)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ValueError("expected an OpenAlex list page (an object with `results`)")
    meta: dict[str, Any] = data["meta"] if isinstance(data.get("meta"), dict) else {}
    cursor = meta.get("next_cursor")
    return [r for r in data["results"] if isinstance(r, dict)], cursor if isinstance(cursor, str) and cursor else None


def _explain(body: bytes) -> str | None:
    """OpenAlex's own error message (`{"error": …, "message": …}`); its 404 for an unknown DOI is an HTML page."""
    data = json.loads(body)
    if isinstance(data, dict) and (data.get("message") or data.get("error")):
        return f"OpenAlex says: {clean(str(data.get('message') or data.get('error')))[:300]}"
    return None


def list_works(client: Client, base_url: str, filter_: str, select: str, mailto: str) -> Iterator[dict[str, Any]]:
    """Every work matching `filter_`, page by page with OpenAlex's cursor (`cursor=*`, then `meta.next_cursor`)."""
    url = base_url.rstrip("/") + "/works"
    cursor: str | None = "*"
    while cursor:
        params = {"filter": filter_, "select": select, "per-page": PAGE, "cursor": cursor}
        if mailto:
            params["mailto"] = mailto
        results, next_cursor = client.get(url, params, _page, _explain)
        yield from results
        cursor = next_cursor if results else None  # an empty page ends it whatever its cursor says


def works_by_doi(client: Client, base_url: str, dois: Sequence[str], mailto: str) -> list[dict[str, Any]]:
    """The works holding these DOIs (a DOI OpenAlex lacks is simply absent), `BATCH` DOIs a request."""
    found: list[dict[str, Any]] = []
    for i in range(0, len(dois), BATCH):
        found += list_works(client, base_url, "doi:" + "|".join(dois[i:i + BATCH]), SELECT_FULL, mailto)
    return found


def works_by_id(client: Client, base_url: str, ids: Sequence[str], mailto: str) -> list[Work]:
    """Title, DOI and arXiv id of these works (`W…`), `BATCH` a request."""
    out: list[Work] = []
    for i in range(0, len(ids), BATCH):
        for raw in list_works(client, base_url, "openalex:" + "|".join(ids[i:i + BATCH]), SELECT_NAME, mailto):
            work = to_work(raw)
            if work:
                out.append(work)
    return out


def doi_keys(arxiv_id: str | None, doi: str | None) -> list[str]:
    """The DOIs a store paper is looked up by: arXiv's DOI for its arXiv id, and its own DOI."""
    keys = [arxiv_doi(arxiv_id)] if arxiv_id else []
    if doi and doi.lower() not in keys:
        keys.append(doi.lower())
    return keys


def read_snapshot(path: Path, start_line: int = 0) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Stream an OpenAlex works snapshot part (JSON Lines, gzip or plain) from line `start_line`: (line number,
    work or None, problem). A truncated gzip ends the stream with a problem on its last line."""
    opener = gzip.open if path.suffix == ".gz" else open
    n = 0
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if n <= start_line or not line.strip():
                    continue
                try:
                    work = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield n, None, f"line {n} is not JSON ({exc.msg})"
                    continue
                yield (n, work, None) if isinstance(work, dict) else (n, None, f"line {n} is not a work object")
    except (OSError, EOFError) as exc:  # a cut gzip, a missing file
        yield n + 1, None, f"{path.name} cannot be read past line {n}: {exc}"
