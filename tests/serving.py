"""A real `paperscope serve` process on a free loopback port: the one way tests start a server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import requests


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(home: Path, environ: dict[str, str] | None = None, log_to: Path | None = None,
            **settings: str) -> Iterator[str]:
    """`paperscope serve` on `home` with extra PAPERSCOPE_* settings (sign-up open, without its per-address limit);
    yields its URL once it answers.

    `environ` adds raw environment variables; output goes to a file (a chatty server must never block on a full
    pipe) and is shown when the server fails to start; `log_to` keeps it in that file instead."""
    with serving_process(home, environ, log_to=log_to, **settings) as (url, _proc):
        yield url


@contextmanager
def serving_process(home: Path, environ: dict[str, str] | None = None, *args: str, log_to: Path | None = None,
                    **settings: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As `serving`, also yielding the server process (its pid, to read its descriptors); `args` go to `serve`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # every test client signs up from 127.0.0.1: no per-address sign-up limit unless a test sets one
    env = {**os.environ, "PAPERSCOPE_SIGNUP": "open", "PAPERSCOPE_BASE_URL": url,
           "PAPERSCOPE_SIGNUP_PER_ADDRESS_PER_HOUR": "0", **(environ or {}),
           **{f"PAPERSCOPE_{k.upper()}": v for k, v in settings.items()}}
    with (log_to.open("w+b") if log_to else tempfile.TemporaryFile()) as log:
        proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(home), "serve",
                                 "--port", str(port), *args], stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_until_up(proc, url, log)
            yield url, proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a server the way an operator would (SIGTERM), and kill it if it has not stopped within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def deleted_db_files(pid: int) -> list[str]:
    """The SQLite files (database, WAL, shm) a process holds open that were deleted under it."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if ".sqlite3" in target and target.endswith("(deleted)"):
            found.append(target)
    return found


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(url + "/about", timeout=2).ok:  # a page: /api/* may be rate-limited by the test
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    log.seek(0)
    raise RuntimeError(f"paperscope serve did not answer at {url}:\n{log.read().decode(errors='replace')}")


def imports_done(session: requests.Session, url: str, timeout: float = 60) -> str:
    """A member's /library page once every import they queued has finished (the server's importer runs them)."""
    deadline = time.monotonic() + timeout
    while True:
        page = session.get(url + "/library", timeout=30).text
        if "<strong>waiting</strong>" not in page and "<strong>reading</strong>" not in page:
            return page
        if time.monotonic() > deadline:
            raise AssertionError(f"the import did not finish within {timeout} s")
        time.sleep(0.2)
