"""All SQL: the SQLite store of papers, checkpoints, ingest runs and problems (WAL, migrations)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from ..errors import NotFoundError, StoreError
from ..merge import merge
from ..models import Author, Batch, Paper, Signal, Version
from ..text import canonical_id, normalise_doi, parse_arxiv_id

if TYPE_CHECKING:
    from .users import UserStore

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE papers (
        id TEXT PRIMARY KEY,
        arxiv_id TEXT UNIQUE,
        doi TEXT,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        published TEXT,
        updated TEXT,
        first_seen TEXT NOT NULL,
        versions TEXT NOT NULL DEFAULT '[]',
        journal_ref TEXT,
        comments TEXT,
        license TEXT,
        links TEXT NOT NULL DEFAULT '{}',
        signals TEXT NOT NULL DEFAULT '{}',
        sources TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX papers_doi ON papers(doi);
    CREATE INDEX papers_published ON papers(published);
    CREATE TABLE paper_authors (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        PRIMARY KEY (paper_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX paper_authors_key ON paper_authors(name_key);
    CREATE TABLE checkpoints (
        source TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE ingest_runs (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        added INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        problems INTEGER NOT NULL DEFAULT 0,
        message TEXT
    );
    CREATE TABLE ingest_problems (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES ingest_runs(id),
        record TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE papers ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    UPDATE papers SET seq = rowid;
    CREATE INDEX papers_seq ON papers(seq);
    CREATE TABLE embedding_models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        dim INTEGER NOT NULL
    );
    CREATE TABLE embeddings (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES embedding_models(id),
        seq INTEGER NOT NULL,
        text_hash TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (paper_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX embeddings_seq ON embeddings(model_id, seq);
    """,
    """
    CREATE INDEX papers_day ON papers(substr(coalesce(published, first_seen), 1, 10));
    """,
    """
    CREATE INDEX papers_title ON papers(lower(title));
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT,
        role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
        created_at TEXT NOT NULL,
        api_token_hash TEXT UNIQUE,
        feed_token TEXT NOT NULL UNIQUE,
        unsubscribe_token TEXT NOT NULL UNIQUE,
        digest_frequency TEXT NOT NULL DEFAULT 'weekly' CHECK (digest_frequency IN ('daily', 'weekly', 'off')),
        digest_tags TEXT NOT NULL DEFAULT '[]',
        digest_size INTEGER NOT NULL DEFAULT 10,
        digest_trending INTEGER NOT NULL DEFAULT 0,
        webhook_url TEXT,
        last_digest_at TEXT
    );
    CREATE TABLE library (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        PRIMARY KEY (user_id, tag, paper_id)
    ) WITHOUT ROWID;
    CREATE INDEX library_paper ON library(user_id, paper_id);
    CREATE TABLE paper_state (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        note TEXT,
        read_at TEXT,
        hidden INTEGER NOT NULL DEFAULT 0,
        vote INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, paper_id)
    ) WITHOUT ROWID;
    CREATE TABLE digest_sent (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL,
        outbox_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, paper_id)
    ) WITHOUT ROWID;
    CREATE TABLE digest_outbox (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        message BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at TEXT
    );
    CREATE TABLE saved_searches (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        query TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # OAI-PMH deletions: the paper stays (users' libraries point at it) but leaves lists and search.
    "ALTER TABLE papers ADD COLUMN withdrawn TEXT",
)
_LISTED = "withdrawn IS NULL"
_DAY = "substr(coalesce(published, first_seen), 1, 10)"


def now_utc() -> str:
    """The current time in the store's one date format."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_key(name: str) -> str:
    """Case- and spacing-insensitive author key for the author page and `author:` filter."""
    return " ".join(name.lower().replace(".", " ").split())


def _to_row(p: Paper) -> tuple[Any, ...]:
    return (
        p.id, p.arxiv_id, p.doi, p.title, p.abstract,
        json.dumps([[a.name, list(a.affiliations)] for a in p.authors], ensure_ascii=False),
        json.dumps(list(p.categories)), p.published, p.updated, p.first_seen,
        json.dumps([[v.version, v.created] for v in p.versions]),
        p.journal_ref, p.comments, p.license,
        json.dumps(p.links, sort_keys=True, ensure_ascii=False),
        json.dumps({k: [s.value, s.source, s.at] for k, s in sorted(p.signals.items())}),
        json.dumps(list(p.sources)), p.withdrawn,
    )


_COLUMNS = (
    "id, arxiv_id, doi, title, abstract, authors, categories, published, updated, first_seen, "
    "versions, journal_ref, comments, license, links, signals, sources, withdrawn"
)


def _from_row(r: Sequence[Any]) -> Paper:
    return Paper(
        id=r[0], arxiv_id=r[1], doi=r[2], title=r[3], abstract=r[4],
        authors=tuple(Author(n, tuple(aff)) for n, aff in json.loads(r[5])),
        categories=tuple(json.loads(r[6])), published=r[7], updated=r[8], first_seen=r[9],
        versions=tuple(Version(v, c) for v, c in json.loads(r[10])),
        journal_ref=r[11], comments=r[12], license=r[13], links=json.loads(r[14]),
        signals={k: Signal(v, s, a) for k, (v, s, a) in json.loads(r[15]).items()},
        sources=tuple(json.loads(r[16])), withdrawn=r[17],
    )


class Store:
    """The one owner of the SQLite database of a data directory."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=10000")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database at {path}: {exc}; check the path and its permissions") from None
        self.path = path

    @property
    def users(self) -> "UserStore":
        """Accounts, libraries, votes and digests: the per-user half of the store."""
        from .users import UserStore

        return UserStore(self)

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
        rows = self.conn.execute(
            f"SELECT id FROM papers WHERE seq IN ({','.join('?' * len(seqs))})", seqs).fetchall()
        return [r[0] for r in rows][:n]

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self.conn.close()

    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {v for (v,) in self.conn.execute("SELECT version FROM schema_migrations")}
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            with self.transaction():
                for statement in sql.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, now_utc()))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one IMMEDIATE transaction: all of it lands or none of it does."""
        self.conn.execute("BEGIN IMMEDIATE")
        self._seq = None  # another process may have written since: re-read the sequence inside the lock
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def max_seq(self) -> int:
        """The change counter: every insert or update of a paper takes the next number."""
        return int(self.conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0])

    # --- papers -------------------------------------------------------------------------------

    def _find_existing(self, p: Paper) -> Paper | None:
        # One lookup: the same paper may arrive keyed by id, arXiv id or DOI; prefer the id match.
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE id = ?1 OR arxiv_id = ?2 OR doi = ?3"
            " ORDER BY id = ?1 DESC, arxiv_id = ?2 DESC LIMIT 1",
            (p.id, p.arxiv_id, p.doi),
        ).fetchone()
        return _from_row(row) if row else None

    def _write_authors(self, p: Paper) -> None:
        self.conn.execute("DELETE FROM paper_authors WHERE paper_id = ?", (p.id,))
        self.conn.executemany(
            "INSERT INTO paper_authors VALUES (?, ?, ?, ?)",
            [(p.id, i, a.name, name_key(a.name)) for i, a in enumerate(p.authors)],
        )

    def _next_seq(self) -> int:
        self._seq = getattr(self, "_seq", None) or self.max_seq()
        self._seq += 1
        return self._seq

    def _upsert(self, p: Paper, seen_at: str) -> str:
        old = self._find_existing(p)
        if old is None:
            p = dataclasses.replace(p, first_seen=seen_at)
            self.conn.execute(
                f"INSERT INTO papers ({_COLUMNS}, seq) VALUES ({','.join('?' * 19)})", _to_row(p) + (self._next_seq(),)
            )
            self._write_authors(p)
            return "added"
        merged = merge(old, p)
        if merged == old:
            return "unchanged"
        row = _to_row(merged)
        self.conn.execute(
            f"UPDATE papers SET ({_COLUMNS}, seq) = ({','.join('?' * 19)}) WHERE id = ?",
            row + (self._next_seq(), old.id),
        )
        if merged.authors != old.authors:
            self._write_authors(merged)
        return "updated"

    def upsert_papers(self, papers: Sequence[Paper]) -> dict[str, int]:
        """Insert or merge papers in one transaction; returns counts of added/updated/unchanged."""
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        seen_at = now_utc()
        with self.transaction():
            for p in papers:
                counts[self._upsert(p, seen_at)] += 1
        return counts

    def commit_batch(self, source: str, run_id: int, batch: Batch) -> dict[str, int]:
        """Write a batch's papers, its problems and the checkpoint after it, atomically."""
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        seen_at = now_utc()
        with self.transaction():
            for p in batch.papers:
                counts[self._upsert(p, seen_at)] += 1
            self.conn.executemany(
                "INSERT INTO ingest_problems (run_id, record, reason) VALUES (?, ?, ?)",
                [(run_id, pr.record, pr.reason) for pr in batch.problems],
            )
            self.conn.execute(
                "UPDATE ingest_runs SET added = added + ?, updated = updated + ?, unchanged = unchanged + ?,"
                " problems = problems + ? WHERE id = ?",
                (counts["added"], counts["updated"], counts["unchanged"], len(batch.problems), run_id),
            )
            counts["updated"] += self._mark_withdrawn(batch.withdrawn, seen_at)
            if batch.checkpoint is not None:
                self._set_checkpoint(source, batch.checkpoint)
        return counts

    def _mark_withdrawn(self, arxiv_ids: Sequence[str], at: str) -> int:
        """Mark papers a source reported deleted; the row (and every library entry) stays."""
        done = 0
        for arxiv_id in arxiv_ids:
            done += self.conn.execute(
                "UPDATE papers SET withdrawn = ?, seq = ? WHERE arxiv_id = ? AND withdrawn IS NULL",
                (at, self._next_seq(), arxiv_id)).rowcount
        return done

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
            row = self.conn.execute(f"SELECT id FROM papers WHERE {column} = ?", (value,)).fetchone()
            if row:
                return str(row[0])
        return None

    def get_paper(self, ref: str) -> Paper:
        """One paper by any reference `resolve_id` understands, or `NotFoundError`."""
        pid = self.resolve_id(ref)
        if pid is None:
            raise NotFoundError(f"no paper {ref!r} in this store; try `paperscope stats` or ingest it first")
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM papers WHERE id = ?", (pid,)).fetchone()
        return _from_row(row)

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper in id order, streamed."""
        last = ""
        while True:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM papers WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield _from_row(r)
            last = rows[-1][0]

    def papers_by_author(self, name: str, limit: int = 100) -> list[Paper]:
        """Papers with an author of this name, newest first."""
        rows = self.conn.execute(
            f"SELECT {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))} FROM paper_authors a"
            " JOIN papers p ON p.id = a.paper_id WHERE a.name_key = ? AND p.withdrawn IS NULL"
            " GROUP BY p.id ORDER BY p.published DESC LIMIT ?",
            (name_key(name), limit),
        ).fetchall()
        return [_from_row(r) for r in rows]

    def papers_changed_since(self, seq: int, limit: int = 2000) -> list[tuple[int, Paper]]:
        """Papers inserted or updated after change number `seq`, oldest change first (for index updates)."""
        rows = self.conn.execute(
            f"SELECT seq, {_COLUMNS} FROM papers WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [(r[0], _from_row(r[1:])) for r in rows]

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

    def papers_on_day(self, day: str, limit: int = 50, offset: int = 0) -> list[Paper]:
        """Papers first published (or, lacking a date, first seen) on an ISO day, most upvoted first."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE {_DAY} = ? AND {_LISTED}"
            " ORDER BY coalesce(json_extract(signals, '$.upvotes[0]'), 0) DESC, published DESC, id"
            " LIMIT ? OFFSET ?", (day, limit, offset)).fetchall()
        return [_from_row(r) for r in rows]

    def count_on_day(self, day: str) -> int:
        """How many papers `papers_on_day` would list in all."""
        return int(self.conn.execute(f"SELECT count(*) FROM papers WHERE {_DAY} = ? AND {_LISTED}", (day,)).fetchone()[0])

    def neighbour_days(self, day: str) -> tuple[str | None, str | None]:
        """The nearest earlier and later days that have papers (for previous/next links)."""
        before = self.conn.execute(f"SELECT max({_DAY}) FROM papers WHERE {_DAY} < ? AND {_LISTED}", (day,)).fetchone()[0]
        after = self.conn.execute(f"SELECT min({_DAY}) FROM papers WHERE {_DAY} > ? AND {_LISTED}", (day,)).fetchone()[0]
        return before, after

    def latest_day(self) -> str | None:
        """The most recent day that has papers."""
        return self.conn.execute(f"SELECT max({_DAY}) FROM papers WHERE {_LISTED}").fetchone()[0]

    def papers_since(self, iso: str, limit: int = 20000) -> list[Paper]:
        """Papers published (or first seen) at or after an ISO time, for trending."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE {_DAY} >= ? AND {_LISTED} ORDER BY {_DAY} DESC LIMIT ?",
            (iso[:10], limit)).fetchall()
        return [_from_row(r) for r in rows]

    def ids_by_title(self, title: str) -> list[str]:
        """Ids of papers with exactly this title, ignoring case (for matching imported references)."""
        return [r[0] for r in self.conn.execute("SELECT id FROM papers WHERE lower(title) = lower(?)", (title,))]

    def ids_first_seen_since(self, iso: str, limit: int = 200000) -> list[str]:
        """Ids of papers this instance first saw at or after an ISO time (new for digests)."""
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM papers WHERE first_seen >= ? ORDER BY first_seen DESC LIMIT ?", (iso, limit))]

    def paper_ids_by_author(self, name: str) -> list[str]:
        """Ids of papers with an author of this name (case, dots and spacing ignored)."""
        rows = self.conn.execute("SELECT paper_id FROM paper_authors WHERE name_key = ?", (name_key(name),))
        return [r[0] for r in rows]

    # --- embeddings ---------------------------------------------------------------------------

    def model_id(self, name: str, dim: int) -> int:
        """Register an embedding model (or find it); a known name with another dimension is an error."""
        row = self.conn.execute("SELECT id, dim FROM embedding_models WHERE name = ?", (name,)).fetchone()
        if row:
            if row[1] != dim:
                raise StoreError(f"model {name!r} was stored with dimension {row[1]}, now it gives {dim}; "
                                 "vectors of two models are never mixed: configure another model name")
            return int(row[0])
        with self.transaction():
            cur = self.conn.execute("INSERT INTO embedding_models (name, dim) VALUES (?, ?)", (name, dim))
        return int(cur.lastrowid or 0)

    def models(self) -> list[tuple[str, int, int]]:
        """(name, dim, vectors stored) for every model that has embedded anything."""
        return self.conn.execute(
            "SELECT m.name, m.dim, count(e.paper_id) FROM embedding_models m"
            " LEFT JOIN embeddings e ON e.model_id = m.id GROUP BY m.id ORDER BY m.id"
        ).fetchall()

    def count_to_embed(self, model_id: int) -> int:
        """How many papers have no vector for this model, or changed since theirs was made."""
        return int(self.conn.execute(
            "SELECT count(*) FROM papers p LEFT JOIN embeddings e ON e.paper_id = p.id AND e.model_id = ?"
            " WHERE e.paper_id IS NULL OR e.seq < p.seq", (model_id,)
        ).fetchone()[0])

    def papers_to_embed(self, model_id: int, after_seq: int, limit: int) -> list[tuple[str, int, str, str, str | None]]:
        """(id, seq, title, abstract, stored text hash) of papers after `after_seq` whose vector is missing or stale."""
        return self.conn.execute(
            "SELECT p.id, p.seq, p.title, p.abstract, e.text_hash FROM papers p"
            " LEFT JOIN embeddings e ON e.paper_id = p.id AND e.model_id = ?"
            " WHERE p.seq > ? AND (e.paper_id IS NULL OR e.seq < p.seq) ORDER BY p.seq LIMIT ?",
            (model_id, after_seq, limit)).fetchall()

    def save_embeddings(self, model_id: int, rows: Sequence[tuple[str, int, str, bytes | None]]) -> None:
        """Store (id, seq, text hash, vector bytes) in one transaction; `None` bytes only bump seq."""
        with self.transaction():
            for pid, seq, text_hash, blob in rows:
                if blob is None:
                    self.conn.execute("UPDATE embeddings SET seq = ? WHERE paper_id = ? AND model_id = ?",
                                      (seq, pid, model_id))
                else:
                    self.conn.execute("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?)",
                                      (pid, model_id, seq, text_hash, blob))

    def count_embeddings_since(self, model_id: int, seq: int) -> int:
        """How many vectors of a model were made after change number `seq`."""
        return int(self.conn.execute("SELECT count(*) FROM embeddings WHERE model_id = ? AND seq > ?",
                                     (model_id, seq)).fetchone()[0])

    def embeddings_since(self, model_id: int, seq: int, limit: int) -> list[tuple[str, int, bytes]]:
        """(paper id, seq, vector bytes) made after change `seq`, in change order (for index updates)."""
        return self.conn.execute(
            "SELECT paper_id, seq, vector FROM embeddings WHERE model_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (model_id, seq, limit)).fetchall()

    # --- checkpoints and runs -----------------------------------------------------------------

    def _set_checkpoint(self, source: str, state: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO checkpoints VALUES (?, ?, ?) ON CONFLICT(source) DO UPDATE SET"
            " state = excluded.state, updated_at = excluded.updated_at",
            (source, json.dumps(state, sort_keys=True), now_utc()),
        )

    def get_checkpoint(self, source: str) -> dict[str, Any] | None:
        """The saved resume state of a source, or None if it never ran or finished cleanly."""
        row = self.conn.execute("SELECT state FROM checkpoints WHERE source = ?", (source,)).fetchone()
        return json.loads(row[0]) if row else None

    def start_run(self, source: str) -> int:
        """Record the start of an ingest run and return its id."""
        with self.transaction():
            cur = self.conn.execute("INSERT INTO ingest_runs (source, started_at) VALUES (?, ?)", (source, now_utc()))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, message: str | None = None) -> None:
        """Mark a run finished (`ok` or `failed`) with an optional message."""
        with self.transaction():
            self.conn.execute(
                "UPDATE ingest_runs SET finished_at = ?, status = ?, message = ? WHERE id = ?",
                (now_utc(), status, message, run_id),
            )

    def stats(self) -> dict[str, Any]:
        """Counts and last successful update per source, for `paperscope stats` and the about page."""
        papers = self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        by_source = dict(
            self.conn.execute(
                "SELECT j.value, count(*) FROM papers, json_each(papers.sources) j GROUP BY j.value"
            ).fetchall()
        )
        last_ok = dict(
            self.conn.execute(
                "SELECT source, max(finished_at) FROM ingest_runs WHERE status = 'ok' GROUP BY source"
            ).fetchall()
        )
        dates = self.conn.execute("SELECT min(published), max(published) FROM papers").fetchone()
        return {
            "papers": papers,
            "papers_by_source": by_source,
            "last_successful_ingest": last_ok,
            "published_range": [dates[0], dates[1]],
            "database": str(self.path),
        }
