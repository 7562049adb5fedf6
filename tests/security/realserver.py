"""Helpers of the security tests: the real CLI and browser-like sign-up and sign-in (servers come from
tests/serving.py: each group gets its own process, since throttles and limits live in a worker's memory)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

PASSWORD = "correct horse battery"


def cli(home: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI on a data directory."""
    return subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), *args], capture_output=True,
                          text=True, input=input, timeout=120)


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
