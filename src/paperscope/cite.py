"""Citations of a paper: BibTeX for copying and for library exports."""

from __future__ import annotations

import re

from .models import Paper


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")


def bibtex_key(p: Paper) -> str:
    """`lastnameYEARfirstword`, ASCII only, the way Google Scholar and arXiv keys look."""
    last = re.sub(r"[^a-z]", "", (p.authors[0].name.split()[-1] if p.authors else "anon").lower()) or "anon"
    year = (p.published or "")[:4]
    first = next((w for w in re.findall(r"[a-z]+", p.title.lower()) if len(w) > 3), "paper")
    return f"{last}{year}{first}"


def to_bibtex(p: Paper) -> str:
    """A BibTeX entry (@misc for arXiv preprints, @article when a journal reference is known)."""
    fields = [("title", "{" + _escape(p.title) + "}"), ("author", " and ".join(_escape(a.name) for a in p.authors))]
    if p.published:
        fields.append(("year", p.published[:4]))
    if p.arxiv_id:
        fields += [("eprint", p.arxiv_id), ("archivePrefix", "arXiv")]
        if p.categories:
            fields.append(("primaryClass", p.categories[0]))
    if p.doi:
        fields.append(("doi", p.doi))
    if p.journal_ref:
        fields.append(("journal", _escape(p.journal_ref)))
    if p.links.get("abs"):
        fields.append(("url", p.links["abs"]))
    kind = "article" if p.journal_ref else "misc"
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v)
    return f"@{kind}{{{bibtex_key(p)},\n{body}\n}}"


def to_ris(p: Paper) -> str:
    """An RIS record (Zotero, EndNote, Mendeley import)."""
    lines = ["TY  - JOUR" if p.journal_ref else "TY  - PREP", f"TI  - {p.title}"]
    lines += [f"AU  - {a.name}" for a in p.authors]
    if p.published:
        lines += [f"PY  - {p.published[:4]}", f"DA  - {p.published[:10].replace('-', '/')}"]
    if p.abstract:
        lines.append(f"AB  - {p.abstract}")
    if p.doi:
        lines.append(f"DO  - {p.doi}")
    if p.journal_ref:
        lines.append(f"JO  - {p.journal_ref}")
    if p.links.get("abs"):
        lines.append(f"UR  - {p.links['abs']}")
    if p.arxiv_id:
        lines.append(f"M1  - arXiv:{p.arxiv_id}")
    lines += [f"KW  - {c}" for c in p.categories]
    lines.append("ER  - ")
    return "\n".join(" ".join(line.split("\n")) for line in lines)
