"""Paper rows: upsert with merge, lookups by any id, days, authors, the change sequence."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..clean import clean_paper
from ..errors import NotFoundError
from ..merge import merge
from ..models import Batch, Paper, evolve
from ..text import canonical_id, latex_to_text, normalise_doi, parse_arxiv_id
from .db import Database, now_utc
from .records import _COLUMNS, _NAMES, _from_row, _to_row
from .rows import SqlRows

# The day a paper is shown on (featured on Hugging Face, else announced); undated papers have none.
_DAY = "substr(coalesce(featured, published), 1, 10)"
_LISTED = "withdrawn IS NULL"  # withdrawn papers stay stored but leave lists and search


def readable(p: Paper) -> Paper:
    """Show the title and abstract as Unicode text and keep each one's LaTeX source beside it when the two differ."""
    changes: dict[str, Any] = {}
    if p.abstract_source is None:
        text = latex_to_text(p.abstract)
        if text != p.abstract:
            changes.update(abstract=text, abstract_source=p.abstract)
    if p.title_source is None:
        title = latex_to_text(p.title)
        if title != p.title and title:
            changes.update(title=title, title_source=p.title)
    return evolve(p, **changes) if changes else p


def name_key(name: str) -> str:
    """Case- and spacing-insensitive author key for the author page and `author:` filter."""
    return " ".join(name.lower().replace(".", " ").split())


Prepared = tuple[tuple[Any, ...], tuple[tuple[str, str], ...]]
_FIRST_SEEN = _NAMES.index("first_seen")


def prepare(p: Paper) -> Prepared:
    """A cleaned paper as the store writes it, computed in a reader process (`readahead`): its row (`first_seen`
    is the store's to fill) and its authors' names and keys."""
    p = readable(p)
    return _to_row(p), tuple((a.name, name_key(a.name)) for a in p.authors)


_MARKS = ",".join("?" * (len(_COLUMNS.split(",")) + 1))


def _keys(papers: Sequence[Paper]) -> tuple[list[str], list[str], list[str]]:
    """The ids, arXiv ids and DOIs a batch of papers can match stored papers by."""
    return [p.id for p in papers], [p.arxiv_id for p in papers if p.arxiv_id], [p.doi for p in papers if p.doi]


def _keys_of_rows(prepared: Sequence[Prepared]) -> tuple[list[str], list[str], list[str]]:
    """The same keys, read from prepared rows (their first three columns)."""
    return [r[0] for r, _ in prepared], [r[1] for r, _ in prepared if r[1]], [r[2] for r, _ in prepared if r[2]]


class PaperQueries(SqlRows):
    """Catalogue reads that are the same SQL in SQLite and PostgreSQL; each backend's PaperRows adds writes and id lists."""

    _DAY = _DAY  # the day a paper is shown on: an expression here, a generated column on PostgreSQL
    _UPVOTES = "json_extract(signals, '$.upvotes[0]')"  # imported upvotes, in the backend's JSON dialect

    if TYPE_CHECKING:  # each backend's PaperRows: the ids at these change numbers (a list of ids is dialect)
        def _ids_at_seqs(self, seqs: list[int]) -> list[str]: ...
        def _writing_catalogue(self) -> AbstractContextManager[Any]: ...
        def _upsert_many(self, papers: Sequence[Paper], seen_at: str, cleaned: bool = False,
                         prepared: Sequence[Prepared] = ()) -> dict[str, int]: ...
        def _mark_withdrawn(self, arxiv_ids: Sequence[str], at: str) -> int: ...
        def _set_checkpoint(self, source: str, state: dict[str, Any]) -> None: ...

    def commit_batch(self, source: str, run_id: int, batch: Batch) -> dict[str, int]:
        """Write a batch's papers, its problems and the checkpoint after it, atomically."""
        return self.commit_batches(source, run_id, [batch])

    def commit_batches(self, source: str, run_id: int, batches: Sequence[Batch]) -> dict[str, int]:
        """Write consecutive batches in one transaction, each planned as if committed alone (what is stored does
        not depend on how many were joined), with the checkpoint after the last."""
        seen_at = now_utc()
        totals = {"added": 0, "updated": 0, "unchanged": 0}
        with self._writing_catalogue():
            for batch in batches:
                counts = self._upsert_many(batch.papers, seen_at, cleaned=batch.cleaned, prepared=batch.prepared)
                self.conn.executemany(self.sql("INSERT INTO ingest_problems (run_id, record, reason) VALUES (?, ?, ?)"),
                                      [(run_id, pr.record, pr.reason) for pr in batch.problems])
                self.run("UPDATE ingest_runs SET added = added + ?, updated = updated + ?, unchanged = unchanged + ?,"
                         " problems = problems + ? WHERE id = ?",
                         (counts["added"], counts["updated"], counts["unchanged"], len(batch.problems), run_id))
                counts["updated"] += self._mark_withdrawn(batch.withdrawn, seen_at)
                for name, n in counts.items():
                    totals[name] += n
            checkpoints = [b.checkpoint for b in batches if b.checkpoint is not None]
            if checkpoints:
                self._set_checkpoint(source, checkpoints[-1])
        return totals

    @staticmethod
    def _plan_upserts(papers: Sequence[Paper], existing: Sequence[Paper], seen_at: str,
                      ) -> tuple[dict[str, int], list[Paper], list[Paper], list[tuple[str, int, str, str]], set[str]]:
        """What writing these (cleaned) papers does, decided in memory for the whole batch: (counts, papers to
        insert, merged papers to update, author rows to insert, ids whose old author rows go). `existing` holds
        every stored paper sharing an id, arXiv id or DOI with one of them; a paper matches by id first, then
        arXiv id, then DOI (also one earlier in the same batch). Each is shown as text (`readable`)."""
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        by_id: dict[str, Paper] = {}  # id → the paper's latest version
        by_arxiv: dict[str, str] = {}  # arXiv id → id of the paper that has it
        by_doi: dict[str, str] = {}  # DOI → id of the (first) paper that has it

        def remember(p: Paper) -> None:
            before = by_id.get(p.id)
            if before is not None:  # a key the merge took away finds the paper no more, as once it is stored
                if before.arxiv_id != p.arxiv_id and by_arxiv.get(before.arxiv_id or "") == p.id:
                    del by_arxiv[before.arxiv_id or ""]
                if before.doi != p.doi and by_doi.get(before.doi or "") == p.id:
                    del by_doi[before.doi or ""]
            by_id[p.id] = p
            if p.arxiv_id:
                by_arxiv[p.arxiv_id] = p.id
            if p.doi:
                by_doi.setdefault(p.doi, p.id)

        for old in existing:
            remember(old)
        stored = dict(by_id)
        writes: dict[str, Paper] = {}  # id → final version to write (inserted or updated)
        for p in papers:
            p = readable(p)
            match = p.id if p.id in by_id else (by_arxiv.get(p.arxiv_id) if p.arxiv_id else None) or (
                by_doi.get(p.doi) if p.doi else None)
            found = by_id[match] if match else None  # always the latest version of the matched paper
            if found is None:
                new = evolve(p, first_seen=seen_at)
                counts["added"] += 1
            else:
                new = merge(found, p)
                if new == found:
                    counts["unchanged"] += 1
                    continue
                counts["updated"] += 1
            writes[new.id] = new
            remember(new)
        inserts = [p for pid, p in writes.items() if pid not in stored]
        updates = [p for pid, p in writes.items() if pid in stored]
        replaced = {p.id for p in updates if p.authors != stored[p.id].authors}
        authors = [(p.id, i, a.name, name_key(a.name)) for p in inserts + [u for u in updates if u.id in replaced]
                   for i, a in enumerate(p.authors)]
        return counts, inserts, updates, authors, replaced

    @staticmethod
    def _split_prepared(prepared: Sequence[Prepared], existing: Sequence[Paper], seen_at: str,
                        ) -> tuple[list[tuple[Any, ...]], list[tuple[str, int, str, str]], list[Paper]]:
        """Prepared rows as (rows to insert as they are, their author rows, papers for the merge plan): a row that
        shares no id, arXiv id or DOI with a stored paper or an earlier row of the batch is new and written as
        prepared; the others are decoded and planned by `_plan_upserts` after the new rows are in."""
        ids = {p.id for p in existing}
        arxiv_ids = {p.arxiv_id for p in existing if p.arxiv_id}
        dois = {p.doi for p in existing if p.doi}
        rows: list[tuple[Any, ...]] = []
        authors: list[tuple[str, int, str, str]] = []
        rest: list[Paper] = []
        for row, names in prepared:
            pid, arxiv_id, doi = row[0], row[1], row[2]
            if pid in ids or arxiv_id in arxiv_ids or doi in dois:
                rest.append(_from_row(row))
            else:
                rows.append(row[:_FIRST_SEEN] + (seen_at,) + row[_FIRST_SEEN + 1:])
                authors += [(pid, i, name, key) for i, (name, key) in enumerate(names)]
            ids.add(pid)
            if arxiv_id:
                arxiv_ids.add(arxiv_id)
            if doi:
                dois.add(doi)
        return rows, authors, rest

    def random_paper_ids(self, n: int, seed: int = 0) -> list[str]:
        """A reproducible random sample of paper ids (background negatives for recommendations)."""
        total = self.max_seq()
        if total == 0:
            return []
        import random

        rng = random.Random(seed)
        seqs = sorted({rng.randint(1, total) for _ in range(n * 2)})[: n * 2]
        return self._ids_at_seqs(seqs)[:n]

    def paper_count(self) -> int:
        """How many papers are stored."""
        return int(self.run("SELECT count(*) FROM papers").fetchone()[0])

    def max_seq(self) -> int:
        """The change counter: every insert or update of a paper takes the next number."""
        return int(self.run("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0])

    def resolve_id(self, ref: str) -> str | None:
        """Find the canonical id for what a user typed: a canonical id, an arXiv id or URL, or a DOI."""
        candidates: list[tuple[str, str]] = [("id", ref.strip())]
        arxiv = parse_arxiv_id(ref) if not ref.startswith(("doi:", "local:")) else None
        if arxiv:
            candidates.append(("arxiv_id", arxiv[0]))
        doi = normalise_doi(ref)
        if doi:
            candidates.append(("doi", doi))
        candidates.append(("id", canonical_id(None, None, ref, ref)))
        for column, value in candidates:
            row = self.run(f"SELECT id FROM papers WHERE {column} = ?", (value,)).fetchone()
            if row:
                return str(row[0])
        return None

    def get_paper(self, ref: str) -> Paper:
        """One paper by any reference `resolve_id` understands, or `NotFoundError`."""
        pid = self.resolve_id(ref)
        if pid is None:
            raise NotFoundError(f"no paper {ref!r} in this store; try `paperscope stats` or ingest it first")
        row = self.run(f"SELECT {_COLUMNS} FROM papers WHERE id = ?", (pid,)).fetchone()
        if row is None:
            raise NotFoundError(f"paper {ref!r} was removed while it was being read; try again")
        return _from_row(row)

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper in id order, streamed."""
        last = ""
        while True:
            rows = self.run(
                f"SELECT {_COLUMNS} FROM papers WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield _from_row(r)
            last = rows[-1][0]

    def papers_changed_since(self, seq: int, limit: int = 2000) -> list[tuple[int, Paper]]:
        """Papers inserted or updated after change number `seq`, oldest change first (for index updates)."""
        rows = self.run(
            f"SELECT seq, {_COLUMNS} FROM papers WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [(int(r[0]), _from_row(r[1:])) for r in rows]

    def papers_on_day(self, day: str, limit: int = 50, offset: int = 0) -> list[Paper]:
        """Papers featured on Hugging Face (else announced) on an ISO day, most upvoted first; undated: never."""
        rows = self.run(
            f"SELECT {_COLUMNS} FROM papers WHERE {self._DAY} = ? AND {_LISTED}"
            f" ORDER BY coalesce({self._UPVOTES}, 0) DESC, published DESC NULLS LAST, id"
            " LIMIT ? OFFSET ?", (day, limit, offset)).fetchall()
        return [_from_row(r) for r in rows]

    def count_on_day(self, day: str) -> int:
        """How many papers `papers_on_day` would list in all."""
        return int(self.run(f"SELECT count(*) FROM papers WHERE {self._DAY} = ? AND {_LISTED}", (day,)).fetchone()[0])

    def neighbour_days(self, day: str) -> tuple[str | None, str | None]:
        """The nearest earlier and later days that have papers (for previous/next links)."""
        row = self.run(f"SELECT (SELECT max({self._DAY}) FROM papers WHERE {self._DAY} < ? AND {_LISTED}),"
                       f" (SELECT min({self._DAY}) FROM papers WHERE {self._DAY} > ? AND {_LISTED})",
                       (day, day)).fetchone()
        return row[0], row[1]

    def latest_day(self) -> str | None:
        """The most recent day that has papers."""
        return self.run(f"SELECT max({self._DAY}) FROM papers WHERE {_LISTED}").fetchone()[0]

    def papers_since(self, iso: str, limit: int = 20000) -> list[Paper]:
        """Dated papers shown on a day at or after an ISO time, newest first, for trending."""
        rows = self.run(
            f"SELECT {_COLUMNS} FROM papers WHERE {self._DAY} >= ? AND {_LISTED} ORDER BY {self._DAY} DESC LIMIT ?",
            (iso[:10], limit)).fetchall()
        return [_from_row(r) for r in rows]

    def filter_hints(self, sample: int = 500) -> tuple[list[str], str | None, str | None]:
        """What the search filters can match here: the most common categories of the newest `sample` papers that
        have any, and the first and last publication dates (for the search form's examples)."""
        counts: dict[str, int] = {}
        for (raw,) in self.run("SELECT categories FROM papers WHERE categories <> '[]' ORDER BY seq DESC LIMIT ?",
                               (sample,)).fetchall():
            for c in json.loads(raw):
                counts[c] = counts.get(c, 0) + 1
        first, last = self.run("SELECT min(published), max(published) FROM papers").fetchone()
        return sorted(counts, key=lambda c: (-counts[c], c))[:6], first, last

    def ids_by_title(self, title: str) -> list[str]:
        """Ids of papers with exactly this title, ignoring case (for matching imported references)."""
        return [r[0] for r in self.run("SELECT id FROM papers WHERE lower(title) = lower(?)", (title,))]

    def ids_first_seen_since(self, iso: str, limit: int = 200000) -> list[str]:
        """Ids of papers this instance first saw at or after an ISO time (new for digests)."""
        return [r[0] for r in self.run(
            f"SELECT id FROM papers WHERE first_seen >= ? AND {_LISTED} ORDER BY first_seen DESC LIMIT ?",
            (iso, limit))]

    def paper_ids_by_author(self, name: str) -> list[str]:
        """Ids of papers with an author of this name (case, dots and spacing ignored)."""
        rows = self.run("SELECT paper_id FROM paper_authors WHERE name_key = ?", (name_key(name),))
        return [r[0] for r in rows]


class PaperRows(Database, PaperQueries):
    """The shared catalogue on SQLite: written by ingest only, read by everyone."""

    def _writing_catalogue(self) -> AbstractContextManager[Any]:
        """The transaction a catalogue write runs in (SQLite's one writer lock)."""
        return self.transaction()

    def _ids_at_seqs(self, seqs: list[int]) -> list[str]:
        return [r[0] for r in self.conn.execute(
            f"SELECT id FROM papers WHERE seq IN ({','.join('?' * len(seqs))})", seqs).fetchall()]

    def _existing(self, ids: Sequence[str], arxiv_ids: Sequence[str], dois: Sequence[str]) -> list[Paper]:
        """Every stored paper with one of these ids, arXiv ids or DOIs (one query per column and 500 values)."""
        found: dict[str, Paper] = {}
        for column, values in (("id", list(set(ids))), ("arxiv_id", list(set(arxiv_ids))), ("doi", list(set(dois)))):
            for i in range(0, len(values), 500):
                chunk = values[i:i + 500]
                for row in self.conn.execute(
                        f"SELECT {_COLUMNS} FROM papers WHERE {column} IN ({','.join('?' * len(chunk))})", chunk):
                    if row[0] not in found:
                        found[row[0]] = _from_row(row)
        return list(found.values())

    def _next_seq(self) -> int:
        self._seq = getattr(self, "_seq", None) or self.max_seq()
        self._seq += 1
        return self._seq

    def _upsert_many(self, papers: Sequence[Paper], seen_at: str, cleaned: bool = False,
                     prepared: Sequence[Prepared] = ()) -> dict[str, int]:
        """Insert or merge papers (call inside `transaction()`): one lookup, then the writes, for the whole batch.
        Prepared rows that are new go in as they are, before the papers are planned."""
        papers = papers if cleaned else [clean_paper(p)[0] for p in papers]  # every path in is cleaned once
        added = 0
        if prepared:
            rows, authors, decoded = self._split_prepared(prepared, self._existing(*_keys_of_rows(prepared)), seen_at)
            self.conn.executemany(f"INSERT INTO papers ({_COLUMNS}, seq) VALUES ({_MARKS})",
                                  [row + (self._next_seq(),) for row in rows])
            self.conn.executemany("INSERT INTO paper_authors VALUES (?, ?, ?, ?)", authors)
            papers, added = [*papers, *decoded], len(rows)
        counts, inserts, updates, authors, replaced = self._plan_upserts(papers, self._existing(*_keys(papers)),
                                                                         seen_at)
        self.conn.executemany(f"INSERT INTO papers ({_COLUMNS}, seq) VALUES ({_MARKS})",
                              [_to_row(p) + (self._next_seq(),) for p in inserts])
        self.conn.executemany(f"UPDATE papers SET ({_COLUMNS}, seq) = ({_MARKS}) WHERE id = ?",
                              [_to_row(p) + (self._next_seq(), p.id) for p in updates])
        self.conn.executemany("DELETE FROM paper_authors WHERE paper_id = ?", [(pid,) for pid in sorted(replaced)])
        self.conn.executemany("INSERT INTO paper_authors VALUES (?, ?, ?, ?)", authors)
        counts["added"] += added
        return counts

    def _mark_withdrawn(self, arxiv_ids: Sequence[str], at: str) -> int:
        """Mark papers a source reported deleted; the row (and every library entry) stays."""
        done = 0
        for arxiv_id in arxiv_ids:
            done += self.conn.execute(
                "UPDATE papers SET withdrawn = ?, seq = ? WHERE arxiv_id = ? AND withdrawn IS NULL",
                (at, self._next_seq(), arxiv_id)).rowcount
        return done

    def upsert_papers(self, papers: Sequence[Paper]) -> dict[str, int]:
        """Insert or merge papers in one transaction; returns counts of added/updated/unchanged."""
        with self.transaction():
            return self._upsert_many(papers, now_utc())

    def papers_by_author(self, name: str, limit: int = 100) -> list[Paper]:
        """Papers with an author of this name, newest first."""
        rows = self.conn.execute(
            f"SELECT {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))} FROM paper_authors a"
            " JOIN papers p ON p.id = a.paper_id WHERE a.name_key = ? AND p.withdrawn IS NULL"
            " GROUP BY p.id ORDER BY p.published DESC LIMIT ?",
            (name_key(name), limit),
        ).fetchall()
        return [_from_row(r) for r in rows]

    def papers_by_ids(self, ids: Sequence[str]) -> dict[str, Paper]:
        """Look up many papers at once, keyed by canonical id (missing ids are absent)."""
        out: dict[str, Paper] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM papers WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            out.update((r[0], _from_row(r)) for r in rows)
        return out
