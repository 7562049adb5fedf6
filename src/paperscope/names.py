"""Public display names: NFKC-normalised, printable, not reserved, and not a look-alike of another member's.

Look-alikes are caught by a confusables skeleton (in the spirit of Unicode TS #39): every character is replaced by
one representative of its confusable class, from the data of the `confusable-homoglyphs` package (Unicode's
confusables.txt), so "Prof Аda" (Cyrillic А) and "Prof Ada" have the same skeleton.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from .errors import UsageError

MIN_NAME, MAX_NAME = 2, 40
RESERVED = ("admin", "administrator", "moderator", "operator", "root", "system", "staff", "support",
            "paperscope", "anonymous", "deleted")
# Explicit and implicit direction marks (RLO, LRI, RLM, ALM…): they reorder what others read around the name.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@lru_cache(maxsize=1)
def _classes() -> dict[str, str]:
    """Character → the representative of its confusable class (an ASCII member when there is one); the classes
    are the data's pairs joined transitively, so every member maps to the same one."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for char, glyphs in data.items():
        members = [m for m in (x.strip("\u200e\u200f") for x in [char, *(g["c"] for g in glyphs)]) if len(m) == 1]
        for other in members[1:]:
            a, b = root(members[0]), root(other)
            if a != b:
                parent[max(a, b, key=_rank)] = min(a, b, key=_rank)
    return {c: root(c) for c in list(parent)}


def _rank(c: str) -> tuple[bool, str]:
    return (not c.isascii(), c)


def skeleton(name: str) -> str:
    """What a name looks like: equal skeletons mean two names a reader cannot tell apart (capital I and small l
    are told apart only by case, so see `shapes` for the check)."""
    classes = _classes()
    return "".join(classes.get(c, c) for c in unicodedata.normalize("NFKC", name)).casefold()


def shapes(name: str) -> frozenset[str]:
    """The skeletons of a name as written and of its case-folded form: 'AIice' (capital I) looks like 'Alice',
    and 'BOB' like 'bob'."""
    return frozenset({skeleton(name), skeleton(unicodedata.normalize("NFKC", name).casefold())})


def clean_display_name(name: str, reserved: Iterable[str] = ()) -> str:
    """A display name as stored: NFKC-normalised, spaces collapsed, 2-40 printable characters without '@',
    no direction or other control/format characters, and none of the reserved names (nor a look-alike of one)."""
    value = " ".join(unicodedata.normalize("NFKC", str(name)).split())
    rule = f"a display name is {MIN_NAME} to {MAX_NAME} printable characters without '@'"
    if not MIN_NAME <= len(value) <= MAX_NAME or "@" in value:
        raise UsageError(rule)
    if any(c in _BIDI or unicodedata.bidirectional(c) in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")
           for c in value):
        raise UsageError("a display name may not hold text-direction characters; choose another")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in value):
        raise UsageError(rule + " (no control, format or unassigned characters)")
    shape = shapes(value)
    for word in (*RESERVED, *(r for r in reserved if r)):
        if shape & shapes(word):
            raise UsageError(f"the name {value!r} is reserved on this instance; choose another")
    return value


def lookalike(name: str, others: Iterable[str]) -> str | None:
    """The first of `others` that a reader could not tell apart from `name` (same skeleton), or None."""
    shape = shapes(name)
    return next((o for o in others if shape & shapes(o)), None)
