"""Atom and JSON Feed documents for lists of papers (daily, trending, recommendations, saved searches)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .clean import strip_controls
from .models import Paper

ATOM_NS = "http://www.w3.org/2005/Atom"


def _paper_url(base: str, p: Paper) -> str:
    return f"{base.rstrip('/')}/paper/{quote(p.id, safe=':/')}"


def _x(text: object) -> str:
    """Text XML 1.0 can carry: ElementTree escapes markup but not control characters, so they go first."""
    return strip_controls(str(text)) if text is not None else ""


def atom(title: str, self_url: str, base: str, entries: Sequence[tuple[Paper, str]]) -> bytes:
    """An Atom 1.0 feed; every text is stripped of control characters, then escaped by ElementTree."""
    ET.register_namespace("", ATOM_NS)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = _x(title)
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = _x(self_url)
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = now
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", href=_x(self_url))
    ET.SubElement(feed, f"{{{ATOM_NS}}}generator").text = "paperscope"
    for paper, note in entries:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        url = _paper_url(base, paper)
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = _x(paper.title)
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = _x(url)
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", rel="alternate", href=_x(url))
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = _x(paper.updated or paper.published or paper.first_seen or now)
        if paper.published:
            ET.SubElement(entry, f"{{{ATOM_NS}}}published").text = _x(paper.published)
        for a in paper.authors:
            ET.SubElement(ET.SubElement(entry, f"{{{ATOM_NS}}}author"), f"{{{ATOM_NS}}}name").text = _x(a.name)
        for c in paper.categories:
            ET.SubElement(entry, f"{{{ATOM_NS}}}category", term=_x(c))
        summary = paper.abstract + (f"\n\n{note}" if note else "")
        ET.SubElement(entry, f"{{{ATOM_NS}}}summary", type="text").text = _x(summary)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


def json_feed(title: str, self_url: str, base: str, entries: Sequence[tuple[Paper, str]]) -> dict[str, Any]:
    """A JSON Feed 1.1 document."""
    return {
        "version": "https://jsonfeed.org/version/1.1", "title": title, "feed_url": self_url, "home_page_url": base,
        "items": [{
            "id": _paper_url(base, p), "url": _paper_url(base, p), "title": p.title,
            "content_text": p.abstract + (f"\n\n{note}" if note else ""),
            "date_published": p.published or p.first_seen, "authors": [{"name": a.name} for a in p.authors],
            "tags": list(p.categories), "external_url": p.links.get("abs"),
        } for p, note in entries],
    }
