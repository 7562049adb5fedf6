"""The SQLite connection of a data directory: WAL, migrations applied at open, one transaction helper."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ..errors import StoreError
from .schema import MIGRATIONS


def now_utc() -> str:
    """The current time in the store's one date format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256_hex(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def private_file(path: Path) -> None:
    """Create the data directory (0700) and the database file (0600) before SQLite opens it: no one else reads them.

    The file is only ever opened here to create it (O_EXCL), never when it exists: closing any descriptor of a file
    drops every POSIX lock the process holds on it, SQLite's included, and another process would then checkpoint
    and delete the WAL under this process's live connections (sqlite.org, "How To Corrupt", 2.2).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.parent.stat().st_uid == os.getuid():
        os.chmod(path.parent, 0o700)
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))  # a new file: no connection holds it
    except FileExistsError:
        return
    os.chmod(path, 0o600)  # by name (no descriptor), against the umask; WAL and shm files take this mode


class Database:
    """Owns the connection; the row mixins (papers, embeddings, runs) build on it."""

    conn: sqlite3.Connection
    _seq: int | None = None

    def __init__(self, path: Path) -> None:
        try:
            private_file(path)
            self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=10000")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database at {path}: {exc}; check the path and its permissions") from None
        self.path = path

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self.conn.close()

    def _migrate(self) -> None:
        self.conn.create_function("sha256_hex", 1, _sha256_hex, deterministic=True)  # hashes tokens in place
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {v for (v,) in self.conn.execute("SELECT version FROM schema_migrations")}
        if done and max(done) > len(MIGRATIONS):
            raise StoreError(
                f"this data directory has schema version {max(done)}, written by a newer paperscope (this one knows "
                f"up to {len(MIGRATIONS)}); upgrade paperscope, or restore a backup made by this version")
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            with self.transaction():
                if callable(sql):
                    sql(self.conn)
                else:
                    for statement in sql.split(";"):
                        if statement.strip():
                            self.conn.execute(statement)
                self.conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, now_utc()))
        if self.conn.execute("PRAGMA user_version").fetchone()[0] != len(MIGRATIONS):
            self.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")  # readable without paperscope

    def schema_version(self) -> int:
        """The newest migration applied to this database."""
        return int(self.conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0])

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """A long run of big transactions (an ingest): a 64 MiB page cache, so the indexes' pages are not read back
        after each commit, and a WAL checkpoint every 64 MiB rather than every 4 (each one is an fsync). Both are
        this connection's alone and are put back after."""
        cache, every = (self.conn.execute(f"PRAGMA {name}").fetchone()[0]
                        for name in ("cache_size", "wal_autocheckpoint"))
        self.conn.execute("PRAGMA cache_size=-65536")
        self.conn.execute("PRAGMA wal_autocheckpoint=16384")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA cache_size={int(cache)}")
            self.conn.execute(f"PRAGMA wal_autocheckpoint={int(every)}")

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
