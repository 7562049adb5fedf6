"""Paper rows on PostgreSQL: the twin of `store/papers.py` (same methods, same rows, `%s` placeholders)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from ..clean import clean_paper
from ..errors import NotFoundError
from ..merge import merge
from ..models import Paper
from ..store.db import now_utc
from ..store.papers import _COLUMNS, _from_row, _to_row, name_key, readable
from ..text import canonical_id, normalise_doi, parse_arxiv_id
from .db import LOCK_PAPERS, PgDatabase

_MARKS = ", ".join(["%s"] * len(_COLUMNS.split(",")))
_LISTED = "withdrawn IS NULL"  # withdrawn papers stay stored but leave lists and search


class PgPaperRows(PgDatabase):
    """The shared catalogue: written by ingest only (writers serialised so `seq` commits in order)."""

    def paper_count(self) -> int:
        """How many papers are stored."""
        return int(self.conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    def random_paper_ids(self, n: int, seed: int = 0) -> list[str]:
        """A reproducible random sample of paper ids (background negatives for recommendations)."""
        total = self.max_seq()
        if total == 0:
            return []
        import random

        rng = random.Random(seed)
        seqs = sorted({rng.randint(1, total) for _ in range(n * 2)})[: n * 2]
        rows = self.conn.execute("SELECT id FROM papers WHERE seq = ANY(%s) ORDER BY seq", (seqs,)).fetchall()
        return [r[0] for r in rows][:n]

    def max_seq(self) -> int:
        """The change counter: every insert or update of a paper takes the next number."""
        return int(self.conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0])

    def _existing(self, papers: Sequence[Paper]) -> list[Paper]:
        """Every stored paper that any of these shares an id, arXiv id or DOI with (one query a batch)."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE id = ANY(%s) OR arxiv_id = ANY(%s) OR doi = ANY(%s)",
            ([p.id for p in papers], [p.arxiv_id for p in papers if p.arxiv_id],
             [p.doi for p in papers if p.doi])).fetchall()
        return [_from_row(r) for r in rows]

    def _upsert_many(self, papers: Sequence[Paper], seen_at: str) -> dict[str, int]:
        """Insert or merge papers as the SQLite store does one by one, in a few round trips; call inside
        `transaction(LOCK_PAPERS)`. A paper matches by id first, then arXiv id, then DOI."""
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        papers = [readable(clean_paper(p)[0]) for p in papers]  # every path in is cleaned (idempotent)
        by_id: dict[str, Paper] = {}
        by_arxiv: dict[str, Paper] = {}
        by_doi: dict[str, Paper] = {}

        def remember(p: Paper) -> None:
            by_id[p.id] = p
            if p.arxiv_id:
                by_arxiv[p.arxiv_id] = p
            if p.doi:
                by_doi.setdefault(p.doi, p)

        for old in self._existing(papers):
            remember(old)
        stored = set(by_id)
        writes: dict[str, Paper] = {}  # id → final version to write (inserted or updated)
        for p in papers:
            found: Paper | None = by_id.get(p.id) or (by_arxiv.get(p.arxiv_id) if p.arxiv_id else None) or (
                by_doi.get(p.doi) if p.doi else None)
            if found is None:
                new = dataclasses.replace(p, first_seen=seen_at)
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
        self.conn.executemany(f"INSERT INTO papers ({_COLUMNS}, seq) VALUES ({_MARKS}, nextval('paper_seq'))",
                              [_to_row(p) for p in inserts])
        self.conn.executemany(
            f"UPDATE papers SET ({_COLUMNS}, seq) = ({_MARKS}, nextval('paper_seq')) WHERE id = %s",
            [_to_row(p) + (p.id,) for p in updates])
        self.conn.execute("DELETE FROM paper_authors WHERE paper_id = ANY(%s)", ([p.id for p in updates],))
        self.conn.executemany("INSERT INTO paper_authors VALUES (%s, %s, %s, %s)",
                              [(p.id, i, a.name, name_key(a.name)) for p in writes.values()
                               for i, a in enumerate(p.authors)])
        return counts

    def _mark_withdrawn(self, arxiv_ids: Sequence[str], at: str) -> int:
        """Mark papers a source reported deleted; the row (and every library entry) stays."""
        if not arxiv_ids:
            return 0
        return self.conn.execute("UPDATE papers SET withdrawn = %s, seq = nextval('paper_seq')"
                                 " WHERE arxiv_id = ANY(%s) AND withdrawn IS NULL", (at, list(arxiv_ids))).rowcount

    def upsert_papers(self, papers: Sequence[Paper]) -> dict[str, int]:
        """Insert or merge papers in one transaction; returns counts of added/updated/unchanged."""
        with self.transaction(LOCK_PAPERS):
            return self._upsert_many(papers, now_utc())

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
            row = self.conn.execute(f"SELECT id FROM papers WHERE {column} = %s", (value,)).fetchone()
            if row:
                return str(row[0])
        return None

    def get_paper(self, ref: str) -> Paper:
        """One paper by any reference `resolve_id` understands, or `NotFoundError`."""
        pid = self.resolve_id(ref)
        if pid is None:
            raise NotFoundError(f"no paper {ref!r} in this store; try `paperscope stats` or ingest it first")
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM papers WHERE id = %s", (pid,)).fetchone()
        if row is None:
            raise NotFoundError(f"paper {ref!r} was removed while it was being read; try again")
        return _from_row(row)

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper in id order, streamed."""
        last = ""
        while True:
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM papers WHERE id > %s ORDER BY id LIMIT %s",
                                     (last, batch)).fetchall()
            if not rows:
                return
            yield from (_from_row(r) for r in rows)
            last = rows[-1][0]

    def papers_by_author(self, name: str, limit: int = 100) -> list[Paper]:
        """Papers with an author of this name, newest first."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE id IN (SELECT paper_id FROM paper_authors WHERE name_key = %s)"
            " ORDER BY published DESC NULLS LAST LIMIT %s", (name_key(name), limit)).fetchall()
        return [_from_row(r) for r in rows]

    def papers_changed_since(self, seq: int, limit: int = 2000) -> list[tuple[int, Paper]]:
        """Papers inserted or updated after change number `seq`, oldest change first (for index updates)."""
        rows = self.conn.execute(f"SELECT seq, {_COLUMNS} FROM papers WHERE seq > %s ORDER BY seq LIMIT %s",
                                 (seq, limit)).fetchall()
        return [(int(r[0]), _from_row(r[1:])) for r in rows]

    def count_changed_since(self, seq: int) -> int:
        """How many papers were inserted or updated after change number `seq`."""
        return int(self.conn.execute("SELECT count(*) FROM papers WHERE seq > %s", (seq,)).fetchone()[0])

    def papers_by_ids(self, ids: Sequence[str]) -> dict[str, Paper]:
        """Look up many papers at once, keyed by canonical id (missing ids are absent)."""
        if not ids:
            return {}
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM papers WHERE id = ANY(%s)", (list(ids),)).fetchall()
        return {r[0]: _from_row(r) for r in rows}

    def papers_on_day(self, day: str, limit: int = 50, offset: int = 0) -> list[Paper]:
        """Papers featured on Hugging Face (else announced) on an ISO day, most upvoted first; undated: never."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE day = %s AND {_LISTED} ORDER BY"
            " coalesce((signals::jsonb -> 'upvotes' ->> 0)::numeric, 0) DESC, published DESC NULLS LAST, id"
            " LIMIT %s OFFSET %s", (day, limit, offset)).fetchall()
        return [_from_row(r) for r in rows]

    def count_on_day(self, day: str) -> int:
        """How many papers `papers_on_day` would list in all."""
        return int(self.conn.execute(f"SELECT count(*) FROM papers WHERE day = %s AND {_LISTED}", (day,)).fetchone()[0])

    def neighbour_days(self, day: str) -> tuple[str | None, str | None]:
        """The nearest earlier and later days that have papers (for previous/next links)."""
        row = self.conn.execute(f"SELECT (SELECT max(day) FROM papers WHERE day < %s AND {_LISTED}),"
                                f" (SELECT min(day) FROM papers WHERE day > %s AND {_LISTED})", (day, day)).fetchone()
        return row[0], row[1]

    def latest_day(self) -> str | None:
        """The most recent day that has papers."""
        return self.conn.execute(f"SELECT max(day) FROM papers WHERE {_LISTED}").fetchone()[0]

    def papers_since(self, iso: str, limit: int = 20000) -> list[Paper]:
        """Dated papers shown on a day at or after an ISO time, newest first, for trending."""
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM papers WHERE day >= %s AND {_LISTED}"
                                 " ORDER BY day DESC LIMIT %s",
                                 (iso[:10], limit)).fetchall()
        return [_from_row(r) for r in rows]

    def ids_by_title(self, title: str) -> list[str]:
        """Ids of papers with exactly this title, ignoring case (for matching imported references)."""
        return [r[0] for r in self.conn.execute("SELECT id FROM papers WHERE lower(title) = lower(%s)", (title,))]

    def ids_first_seen_since(self, iso: str, limit: int = 200000) -> list[str]:
        """Ids of papers this instance first saw at or after an ISO time (new for digests)."""
        return [r[0] for r in self.conn.execute(
            f"SELECT id FROM papers WHERE first_seen >= %s AND {_LISTED} ORDER BY first_seen DESC LIMIT %s",
            (iso, limit))]

    def paper_ids_by_author(self, name: str) -> list[str]:
        """Ids of papers with an author of this name (case, dots and spacing ignored)."""
        return [r[0] for r in self.conn.execute("SELECT paper_id FROM paper_authors WHERE name_key = %s",
                                                (name_key(name),))]
