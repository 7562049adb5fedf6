"""Read arXiv's free-text author lines (arXivRaw, the snapshot) into names and affiliations.

arXiv bylines carry affiliations in parentheses, in three shapes seen in real records:
`Servane Gey (MAP5)`, numbered markers with a legend at the end
`A. One (1), B. Two (1,2) ((1) Univ. X, (2) Univ. Y)` and legends without inner parentheses
`A (1), B (2) (1 Dip. Astro., Bologna; 2 INAF, Bologna)`. Parentheses may nest and may be unbalanced.
"""

from __future__ import annotations

import re

from ..text import clean

# "(1)", "(1,2)", "(1 and 2)", "(a, b)", "(*)": a marker list, not an affiliation.
_MARKERS = re.compile(r"^\s*(?:[0-9]{1,2}|[a-z]|\*+|†|‡)(?:\s*(?:,|and|&|;|-)\s*(?:[0-9]{1,2}|[a-z]|\*+|†|‡))*\s*$")
_PAREN_MARK = re.compile(r"\(\s*([0-9]{1,2}|[a-z]|\*+)\s*\)")
_BARE_MARK = re.compile(r"(?:^|[;,]\s*)([0-9]{1,2})\s+(?=\S)")
_ET_AL = re.compile(r"^et\.?\s*al\.?$", re.IGNORECASE)
_SPLIT = re.compile(r",\s*and\s+|\s+and\s+|,|;|&")
_TRAILING = " ,;.:"


def _segments(text: str) -> list[tuple[str, str]]:
    """Split into ('text', …) and ('group', …) parts at depth 0; an unclosed group runs to the end."""
    parts: list[tuple[str, str]] = []
    depth = 0
    buf: list[str] = []
    for ch in text:
        if ch == "(":
            if depth == 0:
                if buf:
                    parts.append(("text", "".join(buf)))
                buf = []
            else:
                buf.append(ch)
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                parts.append(("group", "".join(buf)))
                buf = []
            else:
                buf.append(ch)
        elif ch == ")":
            continue  # a stray closing parenthesis: drop it
        else:
            buf.append(ch)
    if buf:
        parts.append(("group" if depth else "text", "".join(buf)))
    return parts


def _keys(markers: str) -> list[str]:
    return [k for k in re.split(r"\s*(?:,|and|&|;|-)\s*", markers.strip()) if k]


def _in_sequence(hits: list[re.Match[str]]) -> list[re.Match[str]]:
    kept: list[re.Match[str]] = []
    for hit in hits:
        if hit.group(1) == str(len(kept) + 1):
            kept.append(hit)
    return kept


def _legend(group: str) -> dict[str, str] | None:
    """Read `(1) X, (2) Y` or `1 X; 2 Y` into {marker: affiliation}; None if it is not a legend."""
    for pattern in (_PAREN_MARK, _BARE_MARK):
        hits = list(pattern.finditer(group))
        if pattern is _BARE_MARK:  # bare numbers count only in sequence: 1, 2, 3 …
            hits = _in_sequence(hits)
        if not hits or group[: hits[0].start()].strip(_TRAILING):
            continue
        legend = {}
        for i, hit in enumerate(hits):
            end = hits[i + 1].start() if i + 1 < len(hits) else len(group)
            text = clean(group[hit.end():end]).strip(_TRAILING)
            text = re.sub(r"\s+and$", "", text).strip(_TRAILING)
            if text:
                legend[hit.group(1)] = text
        if legend:
            return legend
    return None


def _name(text: str) -> str:
    name = clean(text).strip(" ,;:")  # a trailing "." belongs to the name ("Jr.", "A. B.")
    return re.sub(r"^(?:and|&)\s+|\s+(?:and|&)$", "", name).strip(" ,;:")


def parse_byline(value: str) -> list[tuple[str, tuple[str, ...]]]:
    """(name, affiliations) per author, in byline order; affiliation text never ends up in a name."""
    text = clean(value)
    if not text:
        return []
    parts = _segments(text)
    legend: dict[str, str] = {}
    if parts and parts[-1][0] == "group":
        found = _legend(parts[-1][1])
        has_markers = any(kind == "group" and _MARKERS.match(body) for kind, body in parts[:-1])
        if found is not None and has_markers:
            legend = found
            parts = parts[:-1]
    authors: list[tuple[str, list[str]]] = []
    for kind, body in parts:
        if kind == "text":
            pieces = _SPLIT.split(body)
            for piece in pieces:
                name = _name(piece)
                if name:
                    authors.append((name, []))
            continue
        if not authors:
            continue  # a group before any name (stray legend): nothing to attach it to
        affiliations = authors[-1][1]
        if _MARKERS.match(body):
            affiliations += [legend[k] for k in _keys(body) if k in legend and legend[k] not in affiliations]
        else:
            inner = _legend(body)  # "Name ((1) X, (2) Y)" for one author
            for aff in (inner.values() if inner else [clean(body).strip(_TRAILING)]):
                if aff and aff not in affiliations:
                    affiliations.append(aff)
    return [(name, tuple(affs)) for name, affs in authors if not _MARKERS.match(name) and not _ET_AL.match(name)]
