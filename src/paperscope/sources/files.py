"""Local files — JSONL, CSV and BibTeX — mapped to papers by one documented field table."""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import SourceError, UsageError
from ..models import Author, Batch, Paper, Problem, Share, Signal
from ..text import canonical_id, clean, delatex, latex_to_text, normalise_doi, parse_arxiv_id, parse_date, split_authors
from ._lines import problem_reason, read_jsonl

NAME = "files"
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "csv",
           ".bib": "bibtex", ".bibtex": "bibtex"}

# paperscope field <- accepted input names, first present wins (documented in docs/sources.md).
FIELD_MAP: dict[str, tuple[str, ...]] = {
    "id": ("id", "_id", "paper_id", "ID"),
    "arxiv_id": ("arxiv_id", "arxiv", "eprint", "arxivId"),
    "doi": ("doi", "DOI"),
    "title": ("title",),
    "abstract": ("abstract", "summary", "text"),
    "authors": ("authors", "author"),
    "categories": ("categories", "category", "primaryClass", "keywords"),
    "published": ("published", "date", "publishedAt", "year"),
    "updated": ("updated", "update_date"),
    "journal_ref": ("journal_ref", "journal-ref", "journal", "venue", "booktitle"),
    "comments": ("comments", "note"),
    "license": ("license",),
    "abs": ("url", "abs_url", "link"),
    "pdf": ("pdf", "pdf_url"),
    "code": ("code", "github", "githubRepo", "code_url"),
    "project": ("project", "project_page", "projectPage"),
    "upvotes": ("upvotes",),
    "github_stars": ("github_stars", "githubStars", "stars"),
}


def _pick(rec: dict[str, Any], name: str) -> Any:
    for key in FIELD_MAP[name]:
        value = rec.get(key)
        if value not in (None, "", []):
            return value
    return None


def _authors(value: Any) -> tuple[Author, ...]:
    if isinstance(value, str):
        names = split_authors(value) if " and " in value or "," in value or ";" in value else [value]
        return tuple(Author(delatex(_bib_name(n))) for n in names if clean(n))
    authors = []
    for item in value or []:
        if isinstance(item, dict) and clean(item.get("name")):
            affs = item.get("affiliations") or item.get("affiliation") or []
            affs = [affs] if isinstance(affs, str) else affs
            authors.append(Author(delatex(clean(item["name"])), tuple(clean(a) for a in affs if clean(a))))
        elif isinstance(item, str) and clean(item):
            authors.append(Author(delatex(clean(item))))
    return tuple(authors)


def _bib_name(name: str) -> str:
    """`Last, First` → `First Last`; anything else unchanged."""
    name = clean(name)
    if name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        return f"{first} {last}".strip()
    return name


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> str | None:
    """ISO date, or the unreadable value itself (cut) so that cleaning drops it and the report names the field."""
    if value in (None, ""):
        return None
    return parse_date(value) or " ".join(str(value).split())[:40] or None


def record_to_paper(rec: Any, local_prefix: str = "") -> Paper:
    """Map one record (a dict from JSONL, CSV or BibTeX) by FIELD_MAP; ValueError names what is wrong."""
    if not isinstance(rec, dict):
        raise ValueError("record is not an object")
    title = clean(_pick(rec, "title"))  # the store shows it as text and keeps this source
    if not title:
        raise ValueError("no title")
    arxiv = parse_arxiv_id(str(_pick(rec, "arxiv_id") or "")) or parse_arxiv_id(str(_pick(rec, "id") or ""))
    arxiv_id = arxiv[0] if arxiv else None
    doi = normalise_doi(str(_pick(rec, "doi") or ""))
    local = _pick(rec, "id")
    local_id = f"{local_prefix}{local}" if local is not None and not arxiv_id else None
    cats = _pick(rec, "categories")
    categories = tuple(cats) if isinstance(cats, list) else tuple(str(cats or "").replace(",", " ").split())
    links = {k: str(_pick(rec, k)) for k in ("abs", "pdf", "code", "project") if _pick(rec, k)}
    if arxiv_id:
        links.setdefault("abs", f"https://arxiv.org/abs/{arxiv_id}")
        links.setdefault("pdf", f"https://arxiv.org/pdf/{arxiv_id}")
    signals = {}
    for key in ("upvotes", "github_stars"):
        value = _number(_pick(rec, key))
        if value is not None:
            signals[key] = Signal(value, NAME, "")
    return Paper(
        id=canonical_id(arxiv_id, doi, str(local_id) if local_id is not None else None, latex_to_text(title)),
        arxiv_id=arxiv_id, doi=doi, title=title, abstract=clean(_pick(rec, "abstract")),
        authors=_authors(_pick(rec, "authors")), categories=categories,
        published=_date(_pick(rec, "published")), updated=_date(_pick(rec, "updated")),
        journal_ref=clean(_pick(rec, "journal_ref")) or None, comments=clean(_pick(rec, "comments")) or None,
        license=clean(_pick(rec, "license")) or None, links=links, signals=signals, sources=(NAME,),
    )


MAX_CSV_FIELD = 1_000_000  # characters; a longer field is a broken or hostile row, skipped with its line


def sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else Windows-1252, else Latin-1."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                chunk.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _encoding_note(path: Path, encoding: str) -> tuple[Problem, ...]:
    if encoding == "utf-8-sig":
        return ()
    name = {"cp1252": "Windows-1252", "latin-1": "Latin-1"}[encoding]
    return (Problem(path.name, f"not UTF-8: read as {name}; save it as UTF-8 to be sure of accents"),)


def _read_csv(path: Path, checkpoint: dict[str, Any] | None, batch_size: int) -> Iterator[Batch]:
    done = int((checkpoint or {}).get("rows", 0)) if (checkpoint or {}).get("fingerprint") == _sha(path) else 0
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    encoding = sniff_encoding(path)
    csv.field_size_limit(MAX_CSV_FIELD)
    with path.open(newline="", encoding=encoding) as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        try:
            fieldnames = reader.fieldnames
        except csv.Error as exc:
            raise SourceError(f"{path} is not readable as CSV ({exc}); see docs/sources.md") from None
        if not fieldnames or not any(f in FIELD_MAP["title"] for f in fieldnames):
            raise SourceError(f"{path} has no 'title' column (columns: {fieldnames}); see docs/sources.md")
        papers: list[Paper] = []
        problems: list[Problem] = []
        notes = () if done else _encoding_note(path, encoding)
        row_no = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # an oversize or broken field: skip this row, keep reading
                row_no += 1
                if row_no > done:
                    problems.append(Problem(f"{path.name}:line {reader.line_num + 1}", f"unreadable CSV row ({exc})"))
                continue
            row_no += 1
            if row_no <= done:
                continue
            try:
                papers.append(record_to_paper(row))
            except ValueError as exc:
                problems.append(Problem(f"{path.name}:row {row_no}", str(exc)))
            except Exception as exc:  # one record never aborts the file
                problems.append(Problem(f"{path.name}:row {row_no}", problem_reason(exc)))
            if len(papers) + len(problems) >= batch_size:
                yield Batch(tuple(papers), tuple(problems), {"fingerprint": _sha(path), "rows": row_no},
                            len(papers) + len(problems), notes=notes)
                papers, problems, notes = [], [], ()
        yield Batch(tuple(papers), tuple(problems), {"fingerprint": _sha(path), "rows": row_no},
                    len(papers) + len(problems), notes=notes)


def _sha(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()[:65536]).hexdigest()


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def bibtex_entry_to_record(fields: dict[str, str], key: str) -> dict[str, Any]:
    """Turn a BibTeX entry's fields into a FIELD_MAP record (arXiv eprints and DOIs kept as ids)."""
    rec: dict[str, Any] = {k.lower(): v for k, v in fields.items()}
    rec["id"] = key
    if rec.get("author"):
        rec["author"] = [_bib_name(n) for n in re.split(r"\s+and\s+", rec["author"]) if n.strip()]
    if rec.get("archiveprefix", "").lower() == "arxiv" or "arxiv" in rec.get("journal", "").lower():
        rec.setdefault("eprint", rec.get("journal", ""))
    if rec.get("primaryclass"):
        rec["primaryClass"] = rec["primaryclass"]
    month = str(rec.get("month", "")).strip().lower()[:3]
    number = _MONTHS.index(month) + 1 if month in _MONTHS else (int(month) if month.isdigit() else 0)
    if re.fullmatch(r"\d{4}", str(rec.get("year", "")).strip()) and 1 <= number <= 12:
        rec["date"] = f"{str(rec['year']).strip()}-{number:02d}-01"
    return rec


def _read_bibtex(path: Path, checkpoint: dict[str, Any] | None, batch_size: int) -> Iterator[Batch]:
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    encoding = sniff_encoding(path)
    text = path.read_text(encoding=encoding, errors="replace")
    try:
        library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    except RecursionError:
        raise SourceError(f"{path} nests braces too deeply to be BibTeX; check the file") from None
    done = int((checkpoint or {}).get("entries", 0)) if (checkpoint or {}).get("fingerprint") == _sha(path) else 0
    problems = [
        Problem(f"{path.name}:line {(b.start_line or 0) + 1}", f"unparseable BibTeX block: {b.error.__class__.__name__}")
        for b in library.failed_blocks
    ] if not done else []
    notes = () if done else tuple(_encoding_note(path, encoding))
    entries = library.entries
    for start in range(done, max(len(entries), 1), batch_size):
        papers = []
        for entry in entries[start:start + batch_size]:
            try:
                fields = {f.key: str(f.value) for f in entry.fields}
                papers.append(record_to_paper(bibtex_entry_to_record(fields, entry.key), local_prefix="bib:"))
            except Exception as exc:  # one entry never aborts the file
                problems.append(Problem(f"{path.name}:line {(entry.start_line or 0) + 1} @{entry.entry_type}{{{entry.key}}}",
                                        problem_reason(exc)))
        end = min(start + batch_size, len(entries))
        yield Batch(tuple(papers), tuple(problems), {"fingerprint": _sha(path), "entries": end},
                    len(papers) + len(problems), notes=notes)
        problems, notes = [], ()


def detect_format(path: Path, fmt: str | None) -> str:
    """The file's format from `--format` or its extension; UsageError says which are known."""
    if fmt:
        if fmt not in set(FORMATS.values()):
            raise UsageError(f"unknown format {fmt!r}; use one of jsonl, csv, bibtex")
        return fmt
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UsageError(f"cannot tell the format of {path.name}; pass --format jsonl|csv|bibtex") from None


def harvest(path: Path, checkpoint: dict[str, Any] | None, batch_size: int, fmt: str | None = None,
            share: Share | None = None) -> Iterator[Batch]:
    """Yield batches from a local file of any supported format, resuming from the checkpoint (`share`, JSON Lines
    only: see `read_jsonl`)."""
    if not path.is_file():
        raise SourceError(f"no such file: {path}")
    kind = detect_format(path, fmt)
    if kind == "jsonl":
        return read_jsonl(path, checkpoint, batch_size, record_to_paper, share)
    if share is not None:
        raise ValueError(f"a {kind} file is read by one process, not shared as {share}")
    if kind == "csv":
        return _read_csv(path, checkpoint, batch_size)
    return _read_bibtex(path, checkpoint, batch_size)
