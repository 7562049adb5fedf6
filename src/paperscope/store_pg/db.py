"""The PostgreSQL connection pool of a server install: migrations at open, one transaction helper, a
`conn`-shaped adapter so each row module reads like its SQLite twin (`%s` placeholders instead of `?`)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import MissingExtraError, StoreError
from ..store.db import now_utc
from .schema import MIGRATIONS

# advisory lock keys (any 64-bit numbers, fixed): migrations, and writers of the papers' change counter
LOCK_MIGRATE = 7_345_001
LOCK_PAPERS = 7_345_002


def psycopg_modules() -> tuple[Any, Any]:
    """psycopg and psycopg_pool, or the error that names the extra to install."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise MissingExtraError("database_url names PostgreSQL, which needs psycopg 3 with its pool: "
                                "install paperscope[postgres] (pip install 'paperscope[postgres]')") from None
    return psycopg, psycopg_pool


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and `stats`."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class Result:
    """Rows fetched eagerly (the connection goes back to the pool at once), read like a sqlite3 cursor."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.rows, self.rowcount = rows, rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)


class Conn:
    """`execute`/`executemany` on the thread's open transaction, or on a pooled connection for one statement."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Result:
        with self.db.connection() as conn:
            cur = conn.execute(sql, params)
            return Result(cur.fetchall() if cur.description else [], cur.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self.db.connection() as conn, conn.cursor() as cur:
            cur.executemany(sql, rows)


class PgDatabase:
    """Owns the pool; the row mixins (papers, embeddings, runs) build on it exactly as on `Database`."""

    def __init__(self, url: str, pool_size: int = 8) -> None:
        psycopg, psycopg_pool = psycopg_modules()
        self.url = url
        self.path = redact(url)  # what `stats` shows as "database"
        self._local = threading.local()
        self.conn = Conn(self)
        try:
            psycopg.connect(url, connect_timeout=10).close()  # fail fast, with the server's own reason
            self.pool = psycopg_pool.ConnectionPool(url, min_size=1, max_size=pool_size, open=True,
                                                    kwargs={"autocommit": True}, name="paperscope")
            self.pool.wait(timeout=15)
            self._migrate()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            self.close()
            raise StoreError(f"cannot use the PostgreSQL database at {redact(url)}: {str(exc).strip()}; "
                             "check database_url, that the server runs and that the user may create tables") from None

    def close(self) -> None:
        """Close every pooled connection."""
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()

    def schema_version(self) -> int:
        """The newest migration applied to this database."""
        return int(self.conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0])

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """The thread's transaction connection if one is open, else a pooled one for a single statement."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Nothing to change for a long ingest: PostgreSQL's cache and checkpoints are the server's to tune."""
        yield

    @contextmanager
    def transaction(self, lock: int | None = None) -> Iterator[Any]:
        """Run a block in one transaction (joining an open one); `lock` serialises writers by advisory lock."""
        if getattr(self._local, "conn", None) is not None:
            if lock is not None:
                self._local.conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            yield self._local.conn
            return
        with self.pool.connection() as conn, conn.transaction():
            if lock is not None:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    def _migrate(self) -> None:
        with self.transaction(LOCK_MIGRATE) as conn:  # two workers starting at once: one migrates
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                         " applied_at TEXT NOT NULL)")
            done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
            if done and max(done) > len(MIGRATIONS):
                raise StoreError(f"this database has schema version {max(done)}, written by a newer paperscope "
                                 f"(this one knows up to {len(MIGRATIONS)}); upgrade paperscope")
            for version, sql in enumerate(MIGRATIONS, start=1):
                if version in done:
                    continue
                if callable(sql):
                    sql(conn)
                else:
                    for statement in sql.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (%s, %s)", (version, now_utc()))
