"""Paper rows on PostgreSQL: the twin of `store/papers.py` (same methods, same rows, `%s` placeholders)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..clean import clean_paper
from ..merge import merge
from ..models import Paper
from ..store.db import now_utc
from ..store.papers import _COLUMNS, PaperQueries, _from_row, _to_row, name_key, readable
from .db import LOCK_PAPERS, PgDatabase

_MARKS = ", ".join(["%s"] * len(_COLUMNS.split(",")))


class PgPaperRows(PgDatabase, PaperQueries):
    """The shared catalogue on PostgreSQL: written by ingest only (writers serialised so `seq` commits in order)."""

    MARK = "%s"
    _DAY = "day"
    _UPVOTES = "(signals::jsonb -> 'upvotes' ->> 0)::numeric"

    def _ids_at_seqs(self, seqs: list[int]) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM papers WHERE seq = ANY(%s) ORDER BY seq",
                                                (seqs,)).fetchall()]

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

    def papers_by_author(self, name: str, limit: int = 100) -> list[Paper]:
        """Papers with an author of this name, newest first."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE id IN (SELECT paper_id FROM paper_authors WHERE name_key = %s)"
            " ORDER BY published DESC NULLS LAST LIMIT %s", (name_key(name), limit)).fetchall()
        return [_from_row(r) for r in rows]

    def count_changed_since(self, seq: int) -> int:
        """How many papers were inserted or updated after change number `seq`."""
        return int(self.conn.execute("SELECT count(*) FROM papers WHERE seq > %s", (seq,)).fetchone()[0])

    def papers_by_ids(self, ids: Sequence[str]) -> dict[str, Paper]:
        """Look up many papers at once, keyed by canonical id (missing ids are absent)."""
        if not ids:
            return {}
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM papers WHERE id = ANY(%s)", (list(ids),)).fetchall()
        return {r[0]: _from_row(r) for r in rows}
