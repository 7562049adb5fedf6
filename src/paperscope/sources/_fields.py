"""Field readers shared by the arXiv sources: every DOI kept, versions in numeric order."""

from __future__ import annotations

from ..merge import merge_versions
from ..models import Version
from ..text import normalise_doi


def dois_and_links(raw: str | None, arxiv_id: str) -> tuple[str | None, dict[str, str]]:
    """The first DOI as the paper's DOI; every DOI (arXiv lists several, space-separated) as a link."""
    links = {"abs": f"https://arxiv.org/abs/{arxiv_id}", "pdf": f"https://arxiv.org/pdf/{arxiv_id}"}
    dois = list(dict.fromkeys(d for d in (normalise_doi(w) for w in (raw or "").split()) if d))
    for i, doi in enumerate(dois):
        links["doi" if i == 0 else f"doi{i + 1}"] = f"https://doi.org/{doi}"
    return (dois[0] if dois else None), links


def ordered_versions(versions: list[Version] | tuple[Version, ...]) -> tuple[Version, ...]:
    """Versions by number (v9 before v10), one per label, whatever order the source listed them in."""
    return merge_versions((), tuple(versions))
