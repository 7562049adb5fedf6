"""Helpers: real `paperscope serve` processes for the security tests: each group gets its own process (throttles and
limits live in a worker's memory) over a copy of the session's served data directory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(home: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI on a data directory."""
    return subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), *args], capture_output=True,
                          text=True, input=input, timeout=120)


@contextmanager
def serving(home: Path, **env: str) -> Iterator[str]:
    """`paperscope serve` on a free loopback port with extra PAPERSCOPE_* settings; yields its URL."""
    port = free_port()
    full = {**os.environ, "PAPERSCOPE_SIGNUP": "open", "PAPERSCOPE_BASE_URL": f"http://127.0.0.1:{port}",
            **{f"PAPERSCOPE_{k.upper()}": v for k, v in env.items()}}
    proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(home), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/about", timeout=2).ok:
                break
        except requests.ConnectionError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    else:
        proc.kill()
    if proc.poll() is not None:
        raise RuntimeError(f"server did not start: {proc.stdout.read().decode() if proc.stdout else ''}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def csrf(session: requests.Session, url: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', session.get(url, timeout=10).text)
    assert found, f"no form on {url}"
    return found.group(1)


def signup(url: str, email: str, password: str = PASSWORD) -> requests.Session:
    """A browser-like session that signed up (and so is signed in)."""
    s = requests.Session()
    r = s.post(url + "/signup", data={"email": email, "password": password, "csrf": csrf(s, url + "/signup")},
               timeout=30)
    assert r.status_code == 200 and r.url.endswith("/library"), r.text[:300]
    return s


def login(url: str, email: str, password: str = PASSWORD) -> requests.Response:
    """One sign-in attempt from a fresh browser."""
    s = requests.Session()
    return s.post(url + "/login", data={"email": email, "password": password, "csrf": csrf(s, url + "/login")},
                  timeout=30, allow_redirects=False)
