"""How the pages read and write dates, times, source names and icons: one format everywhere, no emoji font needed.

Template filters and globals only; `labdata.install` registers them on the app's Jinja environment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup

from ..errors import UsageError

SOURCE_NAMES = {
    "hf_daily": "Hugging Face daily papers",
    "arxiv_oai": "arXiv (OAI-PMH)",
    "arxiv_api": "arXiv API",
    "arxiv_snapshot": "arXiv metadata snapshot",
    "files": "an imported file",
    "sample": "the bundled sample",
}

# Inline SVG paths (24×24, stroked): the page's own icons never depend on an emoji font.
_ICONS = {
    "comment": '<path d="M4 5h16v11H9l-5 4z"/>',
    "up": '<path d="M7 11v9H4v-9zM7 11l4-8c1.5 0 2.5 1 2.5 2.5V9H19a2 2 0 0 1 2 2.3l-1.3 7A2 2 0 0 1 17.7 20H7"/>',
    "down": '<path d="M7 13V4H4v9zM7 13l4 8c1.5 0 2.5-1 2.5-2.5V15H19a2 2 0 0 0 2-2.3l-1.3-7A2 2 0 0 0 17.7 4H7"/>',
    "hf": '<circle cx="12" cy="12" r="9"/><path d="M8.5 14.5c1.8 2 5.2 2 7 0M9 10h.01M15 10h.01"/>',
}


def icon(name: str, label: str = "") -> Markup:
    """An inline SVG icon; with `label`, announced to screen readers as that text, else hidden from them."""
    aria = f'role="img" aria-label="{Markup.escape(label)}"' if label else 'aria-hidden="true"'
    return Markup(f'<svg class="icon" viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor" '
                  f'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" focusable="false" {aria}>'
                  f'{_ICONS[name]}</svg>')


def day(value: Any) -> str:
    """An ISO date or time as the pages show a day everywhere: `21 Aug 2026`."""
    if not value:
        return ""
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)[:10]
    return f"{d.day} {d.strftime('%b %Y')}"


def long_day(value: Any) -> str:
    """A day as a page heading names it: `Friday 21 August 2026`."""
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)[:10]
    return f"{d.strftime('%A')} {d.day} {d.strftime('%B %Y')}"


def when(value: Any) -> str:
    """An ISO time (stored in UTC) with its timezone: `21 Aug 2026, 14:03 UTC`."""
    if not value:
        return ""
    text = str(value)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return f"{day(text)}, {dt.strftime('%H:%M')} UTC" if len(text) > 10 else day(text)


def source_name(key: str) -> str:
    """A source as a reader knows it (`hf_daily` is Hugging Face daily papers)."""
    return SOURCE_NAMES.get(key, key.replace("_", " "))


def parse_day(raw: str | None) -> str | None:
    """A `date=` parameter as an ISO day; the one answer to a bad one on every page and API path (400)."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        example = datetime.now(UTC).date().isoformat()
        raise UsageError(f"date {raw[:40]!r} is not a day; use YYYY-MM-DD, e.g. {example}") from None


def install(env: Any) -> None:
    env.filters.update(day=day, long_day=long_day, when=when, source_name=source_name)
    env.globals.update(icon=icon)
