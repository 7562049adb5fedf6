"""Paper rows on PostgreSQL: the twin of `store/papers.py` (same methods, same rows, `%s` placeholders)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from ..clean import clean_paper
from ..models import Paper
from ..store.db import now_utc
from ..store.papers import _COLUMNS, PaperQueries, Prepared, _from_row, _keys, _keys_of_rows, _to_row, name_key
from .db import LOCK_PAPERS, PgDatabase

_MARKS = ", ".join(["%s"] * len(_COLUMNS.split(",")))


class PgPaperRows(PgDatabase, PaperQueries):
    """The shared catalogue on PostgreSQL: written by ingest only (writers serialised so `seq` commits in order)."""

    MARK = "%s"
    _DAY = "day"
    _UPVOTES = "(signals::jsonb -> 'upvotes' ->> 0)::numeric"

    def _writing_catalogue(self) -> AbstractContextManager[Any]:
        """The transaction a catalogue write runs in: writers serialised, so `seq` commits in order."""
        return self.transaction(LOCK_PAPERS)

    def _ids_at_seqs(self, seqs: list[int]) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM papers WHERE seq = ANY(%s) ORDER BY seq",
                                                (seqs,)).fetchall()]

    def _existing(self, ids: Sequence[str], arxiv_ids: Sequence[str], dois: Sequence[str]) -> list[Paper]:
        """Every stored paper with one of these ids, arXiv ids or DOIs (one query a batch)."""
        if not ids:
            return []
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE id = ANY(%s) OR arxiv_id = ANY(%s) OR doi = ANY(%s)",
            (list(ids), list(arxiv_ids), list(dois))).fetchall()
        return [_from_row(r) for r in rows]

    def _upsert_many(self, papers: Sequence[Paper], seen_at: str, cleaned: bool = False,
                     prepared: Sequence[Prepared] = ()) -> dict[str, int]:
        """Insert or merge papers by the plan both backends share (`_plan_upserts`), in a few round trips; call
        inside `transaction(LOCK_PAPERS)`. Prepared rows that are new go in as they are, before the papers."""
        papers = papers if cleaned else [clean_paper(p)[0] for p in papers]  # every path in is cleaned once
        added = 0
        if prepared:
            rows, authors, decoded = self._split_prepared(prepared, self._existing(*_keys_of_rows(prepared)), seen_at)
            self.conn.executemany(f"INSERT INTO papers ({_COLUMNS}, seq) VALUES ({_MARKS}, nextval('paper_seq'))",
                                  rows)
            self.conn.executemany("INSERT INTO paper_authors VALUES (%s, %s, %s, %s)", authors)
            papers, added = [*papers, *decoded], len(rows)
        counts, inserts, updates, authors, replaced = self._plan_upserts(papers, self._existing(*_keys(papers)),
                                                                         seen_at)
        self.conn.executemany(f"INSERT INTO papers ({_COLUMNS}, seq) VALUES ({_MARKS}, nextval('paper_seq'))",
                              [_to_row(p) for p in inserts])
        self.conn.executemany(
            f"UPDATE papers SET ({_COLUMNS}, seq) = ({_MARKS}, nextval('paper_seq')) WHERE id = %s",
            [_to_row(p) + (p.id,) for p in updates])
        self.conn.execute("DELETE FROM paper_authors WHERE paper_id = ANY(%s)", (sorted(replaced),))
        self.conn.executemany("INSERT INTO paper_authors VALUES (%s, %s, %s, %s)", authors)
        counts["added"] += added
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
