"""Citation edges and counts, shared by both backends (the SQL reads the same in SQLite and PostgreSQL).

An edge is citing → cited by the ids this store uses: a work the store holds is named by its paper id, one it
lacks as the store would name it (`arxiv:…`, `doi:…`) or by its source's id (`openalex:W…`, `s2:…`), so a paper
ingested later is linked at once. `citation_works` keeps what each source said about a work (title, DOI, arXiv
id) under the source's id: the titles shown for works outside the store, and the aliases that turn a source's id
into the store's. Edges are only added, never rewritten, so a re-run leaves them as they are.
`citation_fetches` keeps every fetch of a paper per source (its id there, or NULL for no match, and the counts):
staleness is judged by it and trending reads its history; `papers.signals` holds the latest counts."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ..citations.records import Found, Wanted, Work, canonical_of
from .db import now_utc
from .rows import SqlRows

CHUNK = 400  # ids per IN (...) list
SOURCE_NAMES = {"openalex": "OpenAlex", "s2": "Semantic Scholar"}


@dataclass(frozen=True)
class Linked:
    """A work on one side of a paper's citations: in the store (by paper id) or known only by what a source said."""

    id: str
    in_store: bool
    title: str
    doi: str | None
    arxiv_id: str | None
    year: int | None
    sources: tuple[str, ...]  # which sources report this edge


@dataclass(frozen=True)
class Fetch:
    """One fetch of one paper from one source."""

    paper_id: str
    source: str
    fetched_at: str
    external_id: str | None
    cited_by: int | None
    influential: int | None


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


class CitationQueries(SqlRows):
    """Citation SQL for both backends; a backend's row class sets MARK and how its paper writes are locked."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.conn = store.conn

    def _papers_transaction(self) -> AbstractContextManager[Any]:
        """A transaction that may rewrite papers.signals (PostgreSQL also takes the papers' writer lock)."""
        return self.store.transaction()  # type: ignore[no-any-return]

    def _marks(self, n: int) -> str:
        return ",".join("?" * n)

    # --- what to fetch ------------------------------------------------------------------------------

    def citations_due(self, source: str, stale_before: str, after: str = "", limit: int = 100) -> list[Wanted]:
        """Listed papers with an arXiv id or DOI whose last fetch from `source` is older than `stale_before` (or
        never happened), by id after `after`: a re-run within the staleness window fetches nothing."""
        rows = self.run(
            "SELECT p.id, p.arxiv_id, p.doi FROM papers p LEFT JOIN (SELECT paper_id, max(fetched_at) AS at"
            " FROM citation_fetches WHERE source = ? GROUP BY paper_id) f ON f.paper_id = p.id"
            " WHERE p.withdrawn IS NULL AND (p.arxiv_id IS NOT NULL OR p.doi IS NOT NULL)"
            " AND (f.at IS NULL OR f.at < ?) AND p.id > ? ORDER BY p.id LIMIT ?",
            (source, stale_before, after, limit)).fetchall()
        return [Wanted(r[0], r[1], r[2]) for r in rows]

    def papers_without_ids(self) -> int:
        """Listed papers with neither arXiv id nor DOI: no source can match them (titles are never guessed)."""
        return int(self.run("SELECT count(*) FROM papers WHERE withdrawn IS NULL AND arxiv_id IS NULL"
                            " AND doi IS NULL").fetchone()[0])

    def known_works(self, keys: Sequence[str]) -> dict[str, Work]:
        """What the store already knows of these source ids (title, DOI, arXiv id)."""
        out: dict[str, Work] = {}
        for part in _chunks(list(dict.fromkeys(keys))):
            for r in self.run(f"SELECT id, title, doi, arxiv_id, year FROM citation_works WHERE id IN"
                              f" ({self._marks(len(part))})", part).fetchall():
                out[r[0]] = Work(r[0], r[1], r[2], r[3], r[4])
        return out

    def unresolved_citation_keys(self, prefix: str, limit: int = 1000) -> list[str]:
        """Edge ends named by a source id (e.g. `openalex:W…` from a snapshot) with nothing known about them."""
        rows = self.run("SELECT DISTINCT c.cited FROM citations c LEFT JOIN citation_works w ON w.id = c.cited"
                        " WHERE c.cited >= ? AND c.cited < ? AND w.id IS NULL ORDER BY c.cited LIMIT ?",
                        (prefix, prefix + "\uffff", limit)).fetchall()
        return [r[0] for r in rows]

    # --- writes -------------------------------------------------------------------------------------

    def store_ids(self, works: Sequence[Work]) -> dict[str, str]:
        """Source key → the paper id of the stored paper with that arXiv id or DOI."""
        arxiv = list({w.arxiv_id for w in works if w.arxiv_id})
        dois = list({w.doi for w in works if w.doi})
        by_arxiv: dict[str, str] = {}
        by_doi: dict[str, str] = {}
        for part in _chunks(arxiv):
            by_arxiv.update((r[1], r[0]) for r in self.run(
                f"SELECT id, arxiv_id FROM papers WHERE arxiv_id IN ({self._marks(len(part))})", part).fetchall())
        for part in _chunks(dois):
            by_doi.update((r[1], r[0]) for r in self.run(
                f"SELECT id, doi FROM papers WHERE doi IN ({self._marks(len(part))})", part).fetchall())
        out = {}
        for w in works:
            pid = (by_arxiv.get(w.arxiv_id) if w.arxiv_id else None) or (by_doi.get(w.doi) if w.doi else None)
            if pid:
                out[w.key] = pid
        return out

    def _set_count_signals(self, paper_id: str, source: str, at: str, cited_by: int | None,
                           influential: int | None) -> None:
        row = self.run("SELECT signals FROM papers WHERE id = ?", (paper_id,)).fetchone()
        if row is None:
            return
        signals: dict[str, list[Any]] = json.loads(row[0] or "{}")
        if cited_by is not None:
            signals[f"citations_{source}"] = [float(cited_by), source, at]
        if influential is not None:
            signals[f"influential_citations_{source}"] = [float(influential), source, at]
        per_source = [v for k, v in signals.items() if k.startswith("citations_")]
        if per_source:  # the count shown: the highest any source reports, with that source and its date
            signals["citations"] = max(per_source, key=lambda v: (v[0], v[2]))
        self.run("UPDATE papers SET signals = ? WHERE id = ?", (json.dumps(dict(sorted(signals.items()))), paper_id))

    def save_citations(self, source: str, found: Sequence[Found], fetched_at: str | None = None,
                       checkpoint: tuple[str, dict[str, Any]] | None = None) -> dict[str, int]:
        """Write one batch of a source's answers at once: each fetch (a no-match too), the counts as signals,
        what is known of every linked work, the edges (added once; those already stored stay as they are) and
        the checkpoint after the batch, if any."""
        at = fetched_at or now_utc()
        works = [w for f in found for w in f.references + f.cited_by_works]
        in_store = self.store_ids(works)
        added = 0
        with self._papers_transaction():
            seen: set[str] = set()
            for w in works:
                if w.key in seen or not (w.title or w.doi or w.arxiv_id):  # a bare id: `save_works` names it later
                    continue
                seen.add(w.key)
                self.run("INSERT INTO citation_works (id, title, doi, arxiv_id, year, source, fetched_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
                         " doi = excluded.doi, arxiv_id = excluded.arxiv_id, year = excluded.year,"
                         " fetched_at = excluded.fetched_at WHERE citation_works.title = '' AND excluded.title <> ''",
                         (w.key, w.title, w.doi, w.arxiv_id, w.year, source, at))
            for f in found:
                self.run("INSERT INTO citation_fetches (paper_id, source, fetched_at, external_id, cited_by,"
                         " influential) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                         (f.paper_id, source, at, f.external_id, f.cited_by, f.influential))
                if f.external_id is None:
                    continue
                self._set_count_signals(f.paper_id, source, at, f.cited_by, f.influential)
                edges = [(f.paper_id, in_store.get(w.key) or canonical_of(w)) for w in f.references]
                edges += [(in_store.get(w.key) or canonical_of(w), f.paper_id) for w in f.cited_by_works]
                for citing, cited in dict.fromkeys(edges):
                    if citing != cited:
                        added += self.run("INSERT INTO citations (citing, cited, source, fetched_at) VALUES"
                                          " (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                          (citing, cited, source, at)).rowcount or 0
            if checkpoint is not None:
                self.store._set_checkpoint(*checkpoint)
        return {"edges_added": added, "works": len(seen)}

    def save_works(self, source: str, works: Sequence[Work]) -> int:
        """Record what a source says about works edges name by its id, and move those edges to the store's id
        for the work (its paper id, or arxiv:…/doi:…). Returns the edges moved."""
        if not works:
            return 0
        at = now_utc()
        in_store = self.store_ids(works)
        moved = 0
        with self.store.transaction():
            for w in works:
                self.run("INSERT INTO citation_works (id, title, doi, arxiv_id, year, source, fetched_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
                         " doi = excluded.doi, arxiv_id = excluded.arxiv_id, year = excluded.year"
                         " WHERE citation_works.title = '' AND excluded.title <> ''",
                         (w.key, w.title, w.doi, w.arxiv_id, w.year, source, at))
                new = in_store.get(w.key) or canonical_of(w)
                if new == w.key:
                    continue
                for end, other in (("cited", "citing"), ("citing", "cited")):
                    self.run(f"INSERT INTO citations (citing, cited, source, fetched_at) SELECT"
                             f" {'citing, ?' if end == 'cited' else '?, cited'}, source, fetched_at FROM citations"
                             f" WHERE {end} = ? AND {other} <> ? ON CONFLICT DO NOTHING", (new, w.key, new))
                    moved += self.run(f"DELETE FROM citations WHERE {end} = ?", (w.key,)).rowcount or 0
        return moved

    # --- reads --------------------------------------------------------------------------------------

    def last_fetches(self, paper_id: str) -> list[Fetch]:
        """The newest fetch of this paper from each source."""
        rows = self.run("SELECT paper_id, source, fetched_at, external_id, cited_by, influential FROM"
                        " citation_fetches WHERE paper_id = ? ORDER BY fetched_at DESC", (paper_id,)).fetchall()
        out: dict[str, Fetch] = {}
        for r in rows:
            out.setdefault(r[1], Fetch(*r))
        return list(out.values())

    def _linked(self, pairs: list[tuple[str, str]]) -> list[Linked]:
        """(work id, source) rows as Linked works: stored papers first, newest first, then the others by title."""
        sources: dict[str, list[str]] = {}
        for wid, src in pairs:
            sources.setdefault(wid, []).append(src)
        ids = list(sources)
        stored: dict[str, tuple[Any, ...]] = {}
        for part in _chunks(ids):
            for r in self.run(f"SELECT id, title, doi, arxiv_id, published FROM papers WHERE id IN"
                              f" ({self._marks(len(part))}) AND withdrawn IS NULL", part).fetchall():
                stored[r[0]] = r
        outside = [i for i in ids if i not in stored]
        meta: dict[str, Work] = {}
        by_key = [i for i in outside if not i.startswith(("arxiv:", "doi:"))]
        meta.update(self.known_works(by_key))
        for prefix, column in (("arxiv:", "arxiv_id"), ("doi:", "doi")):
            values = [i[len(prefix):] for i in outside if i.startswith(prefix)]
            for part in _chunks(values):
                for r in self.run(f"SELECT id, title, doi, arxiv_id, year FROM citation_works WHERE {column} IN"
                                  f" ({self._marks(len(part))}) ORDER BY title DESC", part).fetchall():
                    key = prefix + (r[3] if column == "arxiv_id" else r[2])
                    if key not in meta or (not meta[key].title and r[1]):
                        meta[key] = Work(r[0], r[1], r[2], r[3], r[4])
        inside = sorted(stored.values(), key=lambda r: (r[4] or "", r[0]), reverse=True)
        out = [Linked(r[0], True, r[1], r[2], r[3], int(r[4][:4]) if r[4] else None, tuple(sources[r[0]]))
               for r in inside]
        rest = []
        for i in outside:
            w = meta.get(i)
            rest.append(Linked(i, False, w.title if w else "", (w.doi if w else None) or (
                i[4:] if i.startswith("doi:") else None), (w.arxiv_id if w else None) or (
                i[6:] if i.startswith("arxiv:") else None), w.year if w else None, tuple(sources[i])))
        rest.sort(key=lambda x: (-(x.year or 0), x.title.lower(), x.id))
        return out + rest

    def references_of(self, paper_id: str) -> list[Linked]:
        """The works this paper cites."""
        return self._linked([(r[0], r[1]) for r in self.run(
            "SELECT cited, source FROM citations WHERE citing = ? ORDER BY cited, source", (paper_id,)).fetchall()])

    def cited_by_of(self, paper_id: str) -> list[Linked]:
        """The works that cite this paper (those in the store first, newest first)."""
        return self._linked([(r[0], r[1]) for r in self.run(
            "SELECT citing, source FROM citations WHERE cited = ? ORDER BY citing, source", (paper_id,)).fetchall()])

    def citing_in_library(self, paper_id: str, user_id: int) -> list[str]:
        """Papers in a member's library (any tag) that cite this paper, newest first."""
        rows = self.run("SELECT DISTINCT c.citing, p.published FROM citations c JOIN library l ON l.paper_id ="
                        " c.citing AND l.user_id = ? JOIN papers p ON p.id = c.citing WHERE c.cited = ?"
                        " ORDER BY p.published DESC, c.citing", (user_id, paper_id)).fetchall()
        return [r[0] for r in rows]

    def citing_ids(self, paper_id: str) -> list[str]:
        """Stored papers that cite `paper_id` (the `cites:` filter)."""
        return [r[0] for r in self.run("SELECT DISTINCT c.citing FROM citations c JOIN papers p ON p.id = c.citing"
                                       " WHERE c.cited = ? ORDER BY c.citing", (paper_id,)).fetchall()]

    def cited_ids(self, paper_id: str) -> list[str]:
        """Stored papers `paper_id` cites (the `citedby:` filter)."""
        return [r[0] for r in self.run("SELECT DISTINCT c.cited FROM citations c JOIN papers p ON p.id = c.cited"
                                       " WHERE c.citing = ? ORDER BY c.cited", (paper_id,)).fetchall()]

    def counts_of(self, paper_ids: Sequence[str]) -> dict[str, int]:
        """The citation count each paper shows (papers.signals' `citations`: the highest any source reported in
        its latest fetch); papers never counted are left out (sort=citations ranks them as 0)."""
        out: dict[str, int] = {}
        for part in _chunks(list(dict.fromkeys(paper_ids))):
            for pid, raw in self.run(f"SELECT id, signals FROM papers WHERE id IN ({self._marks(len(part))})",
                                     part).fetchall():
                got = json.loads(raw or "{}").get("citations") if raw and "citations" in raw else None
                if got:
                    out[pid] = int(got[0])
        return out

    def edge_count(self) -> int:
        return int(self.run("SELECT count(*) FROM citations").fetchone()[0])

    def counted_since(self, since: str) -> list[str]:
        """Papers with a count fetched since `since` (any source): the candidates of "most cited lately"."""
        return [r[0] for r in self.run("SELECT DISTINCT paper_id FROM citation_fetches WHERE fetched_at >= ? AND"
                                       " cited_by IS NOT NULL ORDER BY paper_id", (since,)).fetchall()]

    def count_history(self, paper_ids: Sequence[str], source: str, since: str) -> dict[str, list[tuple[str, int]]]:
        """Each paper's counts from `source` fetched since `since`, oldest first (trending's history)."""
        out: dict[str, list[tuple[str, int]]] = {}
        for part in _chunks(list(paper_ids)):
            for pid, at, n in self.run(
                    f"SELECT paper_id, fetched_at, cited_by FROM citation_fetches WHERE source = ? AND fetched_at >= ?"
                    f" AND cited_by IS NOT NULL AND paper_id IN ({self._marks(len(part))}) ORDER BY fetched_at",
                    (source, since, *part)).fetchall():
                out.setdefault(pid, []).append((at, int(n)))
        return out


class CitationRows(CitationQueries):
    """The embedded store's citation rows (SQLite takes `?`)."""
