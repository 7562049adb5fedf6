"""Backup and restore of a live data directory: SQLite's online backup API plus one index generation.

The index generation is copied first and the database after it, so a restored database is never older
than its index (the next `update` brings the index up to the database, never the other way round).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__, generations
from .config import Settings
from .errors import SourceError, StoreError, UsageError
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


def restore(settings: Settings, src: Path, force: bool = False) -> dict[str, Any]:
    """Put a backup back into the data directory; its index goes live as a new generation."""
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
    settings.home.mkdir(parents=True, exist_ok=True)
    _copy_db(src / settings.db_path.name, settings.db_path)
    Store(settings.db_path).close()  # an older backup is migrated up to this version now
    gen_name = generations.current_name(src / "index") if (src / "index").exists() else None
    if gen_name:
        with generations.writing(settings.home / "index") as w:
            path = w.start(copy_live=False)
            shutil.copytree(src / "index" / gen_name, path, ignore=_SKIP, dirs_exist_ok=True)
            w.publish()
    for f in _top_files(src):
        if force or not (settings.home / f.name).exists():
            shutil.copy2(f, settings.home / f.name)
    return manifest
