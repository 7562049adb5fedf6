"""Topics, each paper's topics and place on the map, and members' topic follows: SQL written once for both backends.

A rebuild replaces the active topics and every paper's row in one transaction; topics it did not keep stay as
inactive rows (their ids still resolve). `update` places a new paper without a rebuild (`placed = 1`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..models import Paper, Topic
from .db import now_utc
from .records import _COLUMNS, _from_row
from .rows import SqlRows

if TYPE_CHECKING:
    from . import Store

_TOPIC = "id, level, label, terms, papers, size, parent, x, y, active"
_LISTED = "p.withdrawn IS NULL"


@dataclass(frozen=True)
class TopicRow:
    """A topic as a rebuild writes it: the public fields plus its centroid (float32, unit length)."""

    topic: Topic
    centroid: np.ndarray


@dataclass(frozen=True)
class MapPoints:
    """A page of map points in rowid-free order (by paper id): ids, coordinates and topics."""

    ids: list[str]
    x: np.ndarray
    y: np.ndarray
    broad: np.ndarray
    fine: np.ndarray


def _topic(row: Sequence[Any]) -> Topic:
    return Topic(int(row[0]), int(row[1]), row[2], tuple((str(t), float(w)) for t, w in json.loads(row[3])),
                 tuple(json.loads(row[4])), int(row[5]), None if row[6] is None else int(row[6]), float(row[7]),
                 float(row[8]), bool(row[9]))


class TopicQueries(SqlRows):
    """Reads and writes of the topic tables, the same SQL on SQLite and PostgreSQL."""

    _DAY = "substr(coalesce(p.featured, p.published), 1, 10)"

    # --- a rebuild ------------------------------------------------------------------------------------

    def save_topic_build(self, model: str, params: dict[str, Any], stats: dict[str, Any], topics: Sequence[TopicRow],
                         assignments: Iterable[tuple[str, int, int, float, float]]) -> int:
        """Replace the active topics and every paper's topics and place, atomically; the new build's id."""
        with self.store.transaction():
            build = int(self.run("SELECT coalesce(max(id), 0) + 1 FROM topic_builds").fetchone()[0])
            self.run("INSERT INTO topic_builds (id, model, built_at, params, stats) VALUES (?, ?, ?, ?, ?)",
                     (build, model, now_utc(), json.dumps(params), json.dumps(stats)))
            self.run("UPDATE topics SET active = 0 WHERE active = 1")
            kept = {int(r[0]) for r in self.run("SELECT id FROM topics").fetchall()}
            for row in topics:
                t = row.topic
                values = (t.level, t.parent, t.label, json.dumps([list(x) for x in t.terms]), json.dumps(list(t.papers)),
                          t.size, np.asarray(row.centroid, np.float32).tobytes(), t.x, t.y, build)
                if t.id in kept:
                    self.run("UPDATE topics SET level = ?, parent = ?, label = ?, terms = ?, papers = ?, size = ?,"
                             " centroid = ?, x = ?, y = ?, active = 1, build_id = ? WHERE id = ?", (*values, t.id))
                else:
                    self.run("INSERT INTO topics (level, parent, label, terms, papers, size, centroid, x, y, active,"
                             " build_id, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)", (*values, t.id))
            self.run("DELETE FROM paper_topics")
            batch: list[tuple[str, int, int, float, float]] = []
            for a in assignments:
                batch.append(a)
                if len(batch) >= 5000:
                    self._insert_points(batch, 0)
                    batch = []
            self._insert_points(batch, 0)
        return build

    def _insert_points(self, rows: Sequence[tuple[str, int, int, float, float]], placed: int) -> None:
        if rows:
            self.conn.executemany(self.sql("INSERT INTO paper_topics (paper_id, broad, fine, x, y, placed)"
                                           f" VALUES (?, ?, ?, ?, ?, {int(placed)})"), list(rows))

    def place_papers(self, rows: Sequence[tuple[str, int, int, float, float]]) -> None:
        """Give new papers their nearest topics and a place on the map between rebuilds (sizes follow)."""
        if not rows:
            return
        with self.store.transaction():
            ids = [r[0] for r in rows]
            marks = ",".join("?" * len(ids))
            self.run(f"DELETE FROM paper_topics WHERE paper_id IN ({marks})", ids)
            self._insert_points(rows, 1)
            for level, col in ((0, 1), (1, 2)):
                counts: dict[int, int] = {}
                for r in rows:
                    counts[int(r[col])] = counts.get(int(r[col]), 0) + 1
                for tid, n in counts.items():
                    self.run("UPDATE topics SET size = size + ? WHERE id = ? AND level = ?", (n, tid, level))
            self.run("UPDATE topic_builds SET placed = placed + ? WHERE id = (SELECT max(id) FROM topic_builds)",
                     (len(rows),))

    # --- reads ----------------------------------------------------------------------------------------

    def topic_build(self) -> dict[str, Any] | None:
        """The latest build: id, model, built_at, params, stats, placed (None before the first)."""
        row = self.run("SELECT id, model, built_at, params, stats, placed FROM topic_builds"
                       " ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return {"id": int(row[0]), "model": row[1], "built_at": row[2], "params": json.loads(row[3]),
                "stats": json.loads(row[4]), "placed": int(row[5])}

    def topics(self, level: int | None = None) -> list[Topic]:
        """The active topics (of one level), largest first."""
        where, params = ("active = 1", ()) if level is None else ("active = 1 AND level = ?", (level,))
        return [_topic(r) for r in self.run(f"SELECT {_TOPIC} FROM topics WHERE {where} ORDER BY size DESC, id",
                                            params).fetchall()]

    def next_topic_id(self) -> int:
        """The id a new topic gets: never one a topic (active or not) ever had."""
        return int(self.run("SELECT coalesce(max(id), 0) + 1 FROM topics").fetchone()[0])

    def topic(self, topic_id: int) -> Topic | None:
        """One topic, active or not."""
        row = self.run(f"SELECT {_TOPIC} FROM topics WHERE id = ?", (topic_id,)).fetchone()
        return None if row is None else _topic(row)

    def topic_centroids(self, level: int) -> tuple[list[int], np.ndarray]:
        """The active topics' ids and centroids (float32 rows) of one level, in id order."""
        rows = self.run("SELECT id, centroid FROM topics WHERE active = 1 AND level = ? ORDER BY id",
                        (level,)).fetchall()
        if not rows:
            return [], np.zeros((0, 0), np.float32)
        return [int(r[0]) for r in rows], np.stack([np.frombuffer(bytes(r[1]), np.float32) for r in rows])

    def topics_of(self, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Each paper's (broad, fine) topic ids, for the papers that have them."""
        out: dict[str, tuple[int, int]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            rows = self.run(f"SELECT paper_id, broad, fine FROM paper_topics WHERE paper_id IN"
                            f" ({','.join('?' * len(chunk))})", chunk).fetchall()
            out.update((r[0], (int(r[1]), int(r[2]))) for r in rows)
        return out

    def topic_paper_ids(self, topic_ids: Sequence[int]) -> list[str]:
        """Every paper in any of these topics (broad or fine), for `topic:` in search."""
        if not topic_ids:
            return []
        marks = ",".join("?" * len(topic_ids))
        rows = self.run(f"SELECT paper_id FROM paper_topics WHERE broad IN ({marks}) OR fine IN ({marks})",
                        [*topic_ids, *topic_ids]).fetchall()
        return [r[0] for r in rows]

    def topic_papers(self, topic_id: int, limit: int = 50, offset: int = 0) -> list[Paper]:
        """A topic's papers, newest first (undated ones last)."""
        cols = ", ".join("p." + c.strip() for c in _COLUMNS.split(","))
        rows = self.run(f"SELECT {cols} FROM paper_topics t JOIN papers p ON p.id = t.paper_id"
                        f" WHERE (t.broad = ? OR t.fine = ?) AND {_LISTED}"
                        f" ORDER BY {self._DAY} IS NULL, {self._DAY} DESC, p.seq DESC LIMIT ? OFFSET ?",
                        (topic_id, topic_id, limit, offset)).fetchall()
        return [_from_row(r) for r in rows]

    def map_points(self, after: str = "", limit: int = 50_000) -> MapPoints:
        """Map points after a paper id (paging by id), at most `limit`."""
        rows = self.run("SELECT paper_id, x, y, broad, fine FROM paper_topics WHERE paper_id > ? ORDER BY paper_id"
                        " LIMIT ?", (after, limit)).fetchall()
        cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
        return MapPoints(list(cols[0]), np.array(cols[1], np.float32), np.array(cols[2], np.float32),
                         np.array(cols[3], np.int64), np.array(cols[4], np.int64))

    def map_version(self) -> tuple[int, int]:
        """(build id, papers placed since): changes whenever a point is added or moved."""
        row = self.run("SELECT id, placed FROM topic_builds ORDER BY id DESC LIMIT 1").fetchone()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def unplaced_ids(self, model_id: int, limit: int = 10_000) -> list[str]:
        """Papers with a vector of this model and no topic yet (new since the last rebuild)."""
        rows = self.run("SELECT e.paper_id FROM embeddings e LEFT JOIN paper_topics t ON t.paper_id = e.paper_id"
                        " WHERE e.model_id = ? AND t.paper_id IS NULL ORDER BY e.seq LIMIT ?",
                        (model_id, limit)).fetchall()
        return [r[0] for r in rows]

    def map_places(self, ids: Sequence[str]) -> dict[str, tuple[float, float]]:
        """Where these papers sit on the map (papers without a place are absent)."""
        out: dict[str, tuple[float, float]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            rows = self.run(f"SELECT paper_id, x, y FROM paper_topics WHERE paper_id IN ({','.join('?' * len(chunk))})",
                            chunk).fetchall()
            out.update((r[0], (float(r[1]), float(r[2]))) for r in rows)
        return out

    # --- follows --------------------------------------------------------------------------------------

    def follow_topic(self, user_id: int, topic_id: int, on: bool = True) -> None:
        """Follow (or stop following) a topic: its new papers join the member's digest."""
        if on:
            self.write("INSERT INTO topic_follows (user_id, topic_id, created_at) VALUES (?, ?, ?)"
                       " ON CONFLICT (user_id, topic_id) DO NOTHING", (user_id, topic_id, now_utc()))
        else:
            self.write("DELETE FROM topic_follows WHERE user_id = ? AND topic_id = ?", (user_id, topic_id))

    def followed_topics(self, user_id: int) -> list[int]:
        """The topics a member follows, oldest follow first."""
        return [int(r[0]) for r in self.run("SELECT topic_id FROM topic_follows WHERE user_id = ?"
                                            " ORDER BY created_at, topic_id", (user_id,)).fetchall()]

    def new_in_topics(self, topic_ids: Sequence[int], since: str, limit: int = 20) -> list[tuple[Paper, int]]:
        """Papers first seen at or after `since` in any of these topics, newest first, with the topic matched."""
        if not topic_ids:
            return []
        marks = ",".join("?" * len(topic_ids))
        cols = ", ".join("p." + c.strip() for c in _COLUMNS.split(","))
        rows = self.run(f"SELECT {cols}, CASE WHEN t.fine IN ({marks}) THEN t.fine ELSE t.broad END"
                        " FROM paper_topics t JOIN papers p ON p.id = t.paper_id"
                        f" WHERE (t.broad IN ({marks}) OR t.fine IN ({marks})) AND p.first_seen >= ? AND {_LISTED}"
                        " ORDER BY p.first_seen DESC, p.id LIMIT ?",
                        [*topic_ids, *topic_ids, *topic_ids, since, limit]).fetchall()
        return [(_from_row(r[:-1]), int(r[-1])) for r in rows]


class TopicRows(TopicQueries):
    """The topic tables on SQLite."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
