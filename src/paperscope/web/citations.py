"""Citations where a researcher looks: "cited by N" on cards, a paper's references and citing papers on its page,
and the JSON API's `/api/papers/{id}/citations` and `/references` (registered before `/api/papers/{id:path}`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from markupsafe import Markup, escape

from ..models import Paper
from ..store.citations import SOURCE_NAMES, Linked
from .common import hf_paper, locked

api = APIRouter(prefix="/api", tags=["citations"])
SHOWN = 200  # works listed per side on a page (the API pages with limit/offset)


def source_name(source: str) -> str:
    return SOURCE_NAMES.get(source, source)


def cited_by_badge(p: Paper) -> Markup:
    """'cited by N' with the source and date on hover; nothing when no source has counted it."""
    sig = p.signals.get("citations")
    if sig is None or int(sig.value) <= 0:
        return Markup("")
    n = int(sig.value)
    title = f"citations counted by {source_name(sig.source)} on {sig.at[:10]}"
    return Markup(' <span class="sig citations" title="{}">cited by {}</span>').format(title, f"{n:,}")


def linked_json(w: Linked, papers: dict[str, Paper]) -> dict[str, Any]:
    """A citing or cited work: the stored paper in the paper shape, else what a source said of it."""
    if w.in_store and w.id in papers:
        return {"inStore": True, "sources": [source_name(s) for s in w.sources], "paper": hf_paper(papers[w.id])}
    return {"inStore": False, "sources": [source_name(s) for s in w.sources], "id": w.id, "title": w.title,
            "doi": w.doi, "arxivId": w.arxiv_id, "year": w.year}


def _listing(request: Request, paper_id: str, side: str, limit: int, offset: int) -> dict[str, Any]:
    store = request.app.state.engine.store
    paper = locked(request, store.get_paper, paper_id)
    rows = store.citations
    works = locked(request, rows.references_of if side == "references" else rows.cited_by_of, paper.id)
    page = works[offset:offset + limit]
    papers = locked(request, store.papers_by_ids, [w.id for w in page if w.in_store])
    sig = paper.signals.get("citations")
    return {"paperscopeId": paper.id, "total": len(works), "inStore": sum(1 for w in works if w.in_store),
            "citationCount": int(sig.value) if sig else None,
            "counts": [{"source": source_name(f.source), "citationCount": f.cited_by,
                        "influentialCitationCount": f.influential, "fetchedAt": f.fetched_at,
                        "found": f.external_id is not None} for f in locked(request, rows.last_fetches, paper.id)],
            "offset": offset, side: [linked_json(w, papers) for w in page]}


@api.get("/papers/{paper_id:path}/citations", summary="Works citing a paper (stored ones first, newest first)")
def api_citations(request: Request, paper_id: str, limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0)) -> dict[str, Any]:
    return _listing(request, paper_id, "citations", limit, offset)


@api.get("/papers/{paper_id:path}/references", summary="Works a paper cites (stored ones first, newest first)")
def api_references(request: Request, paper_id: str, limit: int = Query(100, ge=1, le=1000),
                   offset: int = Query(0, ge=0)) -> dict[str, Any]:
    return _listing(request, paper_id, "references", limit, offset)


def install(app: FastAPI) -> None:
    """Template helpers: `cited_by(p)` for cards, `citation_view(p, user)` for the paper page."""
    env = app.state.templates.env

    def citation_view(p: Paper, user: Any) -> dict[str, Any]:
        store = app.state.engine.store
        rows = store.citations
        refs, citing = rows.references_of(p.id), rows.cited_by_of(p.id)
        mine = rows.citing_in_library(p.id, user.id) if user else []
        ids = [w.id for w in refs[:SHOWN] + citing[:SHOWN] if w.in_store] + mine
        papers = store.papers_by_ids(ids) if ids else {}
        return {"references": refs[:SHOWN], "cited_by": [w for w in citing if w.in_store][:SHOWN],
                "cited_by_outside": sum(1 for w in citing if not w.in_store), "refs_total": len(refs),
                "library": [papers[i] for i in mine if i in papers], "papers": papers,
                "fetches": rows.last_fetches(p.id), "source_name": source_name}

    env.globals.update(cited_by=cited_by_badge, citation_view=citation_view)


__all__ = ["api", "cited_by_badge", "escape", "install"]
