"""Citations of a paper: BibTeX for copying and for library exports."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from .clean import strip_controls
from .models import Paper

_LATEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#",
          "_": r"\_", "^": r"\^{}", "~": r"\~{}", "$": r"\$"}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX))


def _escape(value: str) -> str:
    """Text safe inside a braced BibTeX value: LaTeX specials escaped, braces always balanced, one line."""
    return _LATEX_RE.sub(lambda m: _LATEX[m.group(0)], strip_controls(" ".join(value.split())))


def _url(value: str) -> str:
    """A URL with the characters BibTeX or `\\url` would misread percent-encoded."""
    return quote(strip_controls(value).strip(), safe=":/?=&;@+,!$'()*-._~[]")


def bibtex_key(p: Paper) -> str:
    """`lastnameYEARfirstword`, ASCII only, the way Google Scholar and arXiv keys look."""
    last = re.sub(r"[^a-z]", "", (p.authors[0].name.split()[-1] if p.authors else "anon").lower()) or "anon"
    year = re.sub(r"[^0-9]", "", (p.published or "")[:4])
    first = next((w for w in re.findall(r"[a-z]+", p.title.lower()) if len(w) > 3), "paper")
    return f"{last}{year}{first}"[:60]


def unique_keys(papers: Sequence[Paper], used: dict[str, int] | None = None) -> list[str]:
    """One key per paper, unique in the list (`smith2020deep`, `smith2020deepb`, `smith2020deepc`, …) and not in
    `used` (a document written in chunks passes the same dict to each; it holds every key given so far and, for a
    base key met again, how many suffixes it has used, so 10,000 papers with one base cost 10,000 steps)."""
    used = {} if used is None else used
    keys = []
    for p in papers:
        base = key = bibtex_key(p)
        n = used.get(base, 0)
        while key in used:
            n += 1
            key = base + _letters(n + 1)
        if n:
            used[base] = n
        used.setdefault(key, 0)
        keys.append(key)
    return keys


def _letters(m: int) -> str:
    out = ""
    while m:
        m, r = divmod(m - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def _entry(p: Paper, key: str) -> Any:
    from bibtexparser.model import Entry, Field

    fields = [("title", _escape(p.title)), ("author", " and ".join(_escape(a.name) for a in p.authors))]
    if p.published:
        fields.append(("year", re.sub(r"[^0-9]", "", p.published[:4])))
    if p.arxiv_id:
        fields += [("eprint", _escape(p.arxiv_id)), ("archivePrefix", "arXiv")]
        if p.categories:
            fields.append(("primaryClass", _escape(p.categories[0])))
    if p.doi:
        fields.append(("doi", _escape(p.doi)))
    if p.journal_ref:
        fields.append(("journal", _escape(p.journal_ref)))
    if p.links.get("abs"):
        fields.append(("url", _url(p.links["abs"])))
    kind = "article" if p.journal_ref else "misc"
    return Entry(kind, key, [Field(k, v) for k, v in fields if v])


def to_bibtex_many(papers: Sequence[Paper], used: dict[str, int] | None = None) -> str:
    """Many papers as one BibTeX document, written by bibtexparser, every key unique (also against `used`, for a
    document written in chunks), every field escaped."""
    import bibtexparser

    library = bibtexparser.Library()
    for p, key in zip(papers, unique_keys(papers, used), strict=True):
        library.add(_entry(p, key))
    return str(bibtexparser.write_string(library)).strip() + "\n"


def to_bibtex(p: Paper) -> str:
    """A BibTeX entry (@misc for arXiv preprints, @article when a journal reference is known)."""
    return to_bibtex_many([p]).strip()


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
