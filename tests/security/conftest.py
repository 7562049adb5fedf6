"""Fixtures of the security tests: a private copy of the served data directory per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def home(served_home: Path, tmp_path: Path) -> Path:
    """A private copy of the served data directory (catalogue and indexes built by the real CLI)."""
    dest = tmp_path / "home"
    shutil.copytree(served_home, dest, ignore=shutil.ignore_patterns("*.sqlite3-wal", "*.sqlite3-shm"))
    # the copy starts with no accounts, so the first sign-up is the instance's first account
    import sqlite3

    with sqlite3.connect(dest / "paperscope.sqlite3") as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("DELETE FROM users")
    return dest


@pytest.fixture
def mailbox() -> Iterator[tuple[int, list[bytes]]]:
    """A real SMTP server on loopback (aiosmtpd) keeping every message it accepts: (port, messages)."""
    from aiosmtpd.controller import Controller

    from serving import free_port

    got: list[bytes] = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            got.append(envelope.content)
            return "250 OK"

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, got
    controller.stop()
