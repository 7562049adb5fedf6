"""Backup and restore of a live data directory: SQLite's online backup API plus one index generation.

The index generation is copied first and the database after it, so a restored database is never older
than its index (the next `update` brings the index up to the database, never the other way round).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__, generations
from .config import Settings
from .errors import IndexDamagedError, SourceError, StoreError, UsageError
from .store import Store
from .store.schema import MIGRATIONS

MANIFEST = "BACKUP.json"
_DB_FILES = ("paperscope.sqlite3", "paperscope.sqlite3-wal", "paperscope.sqlite3-shm")
_SKIP = shutil.ignore_patterns("*.lock", ".hold", ".*.tmp")


def _copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a database that may be written meanwhile (SQLite's online backup API)."""
    source = sqlite3.connect(str(src))
    target = sqlite3.connect(str(dst))
    try:
        source.backup(target, pages=4096)  # in steps: writers are not held off for the whole copy
    finally:
        target.close()
        source.close()


def _top_files(home: Path) -> list[Path]:
    return [p for p in home.iterdir() if p.is_file() and p.name not in _DB_FILES and p.name != MANIFEST]


def backup(settings: Settings, dest: Path) -> dict[str, Any]:
    """Copy the data directory to `dest` (which must not exist or be empty); returns the manifest."""
    home = settings.home
    if not settings.db_path.exists():
        raise UsageError(f"there is nothing to back up: {home} has no database")
    if dest.exists() and any(dest.iterdir()):
        raise UsageError(f"{dest} is not empty; back up into a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    held = generations.hold_current(home / "index")
    try:
        if held is not None:  # the generation is held: no writer can delete it while it is copied
            shutil.copytree(held.path, dest / "index" / held.name, ignore=_SKIP)
            (dest / "index" / held.name / generations.HOLD).touch()
            (dest / "index" / generations.POINTER).write_text(held.name + "\n", encoding="ascii")
        _copy_db(settings.db_path, dest / settings.db_path.name)
    finally:
        if held is not None:
            held.release()
    for f in _top_files(home):
        shutil.copy2(f, dest / f.name)
    with sqlite3.connect(str(dest / settings.db_path.name)) as conn:
        schema = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    manifest = {"paperscope": __version__, "schema_version": schema, "papers": papers,
                "index_generation": held.name if held else None,
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _check_db(db: Path) -> None:
    """A database copy is whole and not from a newer paperscope, or SourceError saying why."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        bad = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
        if bad != ["ok"]:
            raise SourceError(f"its database fails SQLite's integrity check ({bad[0]})")
        schema = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"its database cannot be read ({exc})") from None
    finally:
        conn.close()
    if schema > len(MIGRATIONS):
        raise SourceError(f"its database has schema version {schema}, from a newer paperscope (this one knows up "
                          f"to {len(MIGRATIONS)}); upgrade paperscope to restore it")


def _check_generation(path: Path) -> None:
    """Every index of a backed-up generation opens and reads, or SourceError saying which does not."""
    from .index import KeywordIndex, check_files, read_meta

    if not path.is_dir():
        raise SourceError(f"its index generation {path.name} is missing")
    try:
        for part in sorted(path.iterdir()):
            if part.name == "keyword":
                KeywordIndex.verify(part)
            elif part.name.startswith("vectors-") and (part / "meta.json").exists():
                check_files(part, read_meta(part))
    except IndexDamagedError as exc:
        raise SourceError(f"its index is damaged ({exc})") from None


def restore(settings: Settings, src: Path, force: bool = False) -> dict[str, Any]:
    """Put a backup back into the data directory; its index goes live as a new generation.

    Everything is checked first, on a copy in a temporary directory (manifest, schema version, SQLite's
    integrity check, the index generation); only then is the database replaced (through SQLite's backup API,
    in one transaction, so a running server sees the old or the new one) and the index published. A refused
    backup leaves the data directory as it was."""
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
        schema = int(manifest["schema_version"])
    except (OSError, ValueError, KeyError, TypeError):
        raise SourceError(f"{src} is not a paperscope backup (no readable {MANIFEST}); "
                          "make one with `paperscope backup DEST`") from None
    if schema > len(MIGRATIONS):
        raise StoreError(f"the backup in {src} has schema version {schema}, from a newer paperscope (this one "
                         f"knows up to {len(MIGRATIONS)}); upgrade paperscope to restore it")
    if settings.db_path.exists() and not force:
        raise UsageError(f"{settings.home} already has a database; pass --force to replace it with the backup")
    gen_name = manifest.get("index_generation")
    if gen_name is not None and (not isinstance(gen_name, str) or not generations.is_name(gen_name)):
        raise SourceError(f"the backup in {src} is damaged: its manifest names no index generation; nothing was "
                          "changed")
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.home))
    try:
        try:
            if not (src / settings.db_path.name).is_file():
                raise SourceError("it has no database file")
            staged_db = staging / settings.db_path.name
            try:
                _copy_db(src / settings.db_path.name, staged_db)
            except sqlite3.DatabaseError as exc:
                raise SourceError(f"its database cannot be read ({exc})") from None
            _check_db(staged_db)
            Store(staged_db).close()  # an older backup is migrated up to this version, on the copy
            if gen_name:
                _check_generation(src / "index" / gen_name)
        except SourceError as exc:
            raise SourceError(f"the backup in {src} was not restored: {exc}; nothing was changed") from None
        with generations.writing(settings.home / "index") as w:
            if gen_name:
                path = w.start(copy_live=False)
                shutil.copytree(src / "index" / gen_name, path, ignore=_SKIP, dirs_exist_ok=True)
            _copy_db(staged_db, settings.db_path)  # one transaction: the old database or the new one
            if gen_name:
                w.publish()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for f in _top_files(src):
        if force or not (settings.home / f.name).exists():
            shutil.copy2(f, settings.home / f.name)
    return manifest
