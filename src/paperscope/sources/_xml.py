"""An XML parser hardened against entity attacks and strict about truncated bodies."""

from __future__ import annotations

from lxml import etree


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, recover=False, remove_blank_text=True,
    )


def parse_xml(body: bytes) -> etree._Element:
    """Parse a whole document; raise ValueError (retryable) if it is truncated or malformed."""
    if b"<!ENTITY" in body[:4096]:
        raise ValueError("document declares XML entities, refused")
    try:
        return etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed XML: {exc}") from None


def text_of(element: etree._Element | None) -> str | None:
    """All text inside an element (children included), or None when absent."""
    if element is None:
        return None
    return "".join(element.itertext())
