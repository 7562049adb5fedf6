"""A paper's neighbourhood on the map, as points a page draws in a small SVG (no script needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SIZE = (320, 200)  # the drawing's width and height in SVG units
PAD = 14


@dataclass(frozen=True)
class Dot:
    """One paper in the drawing: where it is, and whether it is the page's own paper."""

    id: str
    title: str
    x: float
    y: float
    centre: bool


def neighbourhood(centre: str, places: dict[str, tuple[float, float]],
                  neighbours: Sequence[tuple[str, str]]) -> list[Dot]:
    """The page's paper and its nearest neighbours (id, title) that have a place, scaled into the drawing with
    the paper in the middle; empty when the paper itself has no place yet."""
    if centre not in places:
        return []
    cx, cy = places[centre]
    near = [(pid, title) for pid, title in neighbours if pid in places and pid != centre]
    reach = max([max(abs(places[p][0] - cx), abs(places[p][1] - cy)) for p, _ in near] + [1e-9])
    half_w, half_h = SIZE[0] / 2 - PAD, SIZE[1] / 2 - PAD
    scale = min(half_w, half_h) / reach

    def dot(pid: str, title: str, is_centre: bool) -> Dot:
        x, y = places[pid]
        return Dot(pid, title, round(SIZE[0] / 2 + (x - cx) * scale, 1), round(SIZE[1] / 2 - (y - cy) * scale, 1),
                   is_centre)

    return [dot(pid, title, False) for pid, title in near] + [dot(centre, "", True)]
