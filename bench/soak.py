"""Soak: a lab's week in minutes. Processes share one data directory, some are killed, nothing acknowledged is lost.

Usage: python bench/soak.py [--minutes 10] [--seed 1] [--data-dir bench/out/soak]

Two phases of `--minutes / 2` each on one data directory (a copy of `paperscope ingest sample` + `update`):
(a) `paperscope serve --workers 2` with `paperscope update` started every few seconds as cron would, and
(b) a single-worker `serve --schedule "every 5s"` (the shortest interval allowed) running its own updates.
Beside the server in both: a loop of CLI commands (stats, user list, update, ingest file of new papers,
backup into a fresh directory, user add, user token, digest send to a loopback SMTP sink) and web members
(sign-ups, library saves under tags by form and by API token, tag renames, upvotes, comments, lab submissions of
known arXiv ids, API token rotation) and searchers, while `kill -9` hits the whole server, one of its workers,
CLI commands and scheduled updates, and the server is restarted.

Every acknowledged write (a 2xx answer, a form's 303 to where success goes, or a CLI exit 0) is recorded with
its identity. At the end, after a final `update` and a clean restart: each is looked up through the server
(sessions, API tokens, keyword search for the new papers) or, once every process has stopped, through a
read-only SQLite connection (users, library rows, tag renames, upvotes, comments, submissions, papers, sent
mail), and counted per kind; `PRAGMA integrity_check` must say ok. Each acknowledged backup is checked when it
is made (integrity, and every write acknowledged before it started is in it). All along, the server's
processes are sampled for database, WAL or shm files deleted under them (/proc/<pid>/fd), and every 5xx is
kept with its path and time (connection errors while a server is down are expected and only counted).

Prints the counts and writes them to bench/results/soak.json; tests/test_soak.py runs the same code for ~25 s
a phase and asserts found == acknowledged, integrity ok, no deleted WAL file, no 5xx. On the code before
07a94c5 (whose `private_file` dropped the server's POSIX locks) a 20 s run loses writes of every kind, answers
hundreds of 5xx ("disk I/O error") and sees the WAL deleted under the server. To soak one commit while the
checkout changes: `git archive COMMIT src | tar -x -C /tmp/c` and run with PYTHONPATH=/tmp/c/src.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent
DB = "paperscope.sqlite3"
PASSWORD = "correct horse battery"
MEMBERS = 12  # web members per writer thread before sign-ups slow to a trickle
TIMEOUT = 60  # seconds before a request counts as hung (no answer: not acknowledged)
KNOWN_ARXIV = [f"2601.{i:05d}" for i in range(1, 13)]  # ingested by `prepare`: lab submissions of known ids
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
API_TOKEN = re.compile(r'<code id="api-token">([^<]+)</code>')
MARKER = re.compile(r"soak-note-([0-9a-z-]+)")
KINDS = ("signup", "session", "user_add", "library_save", "api_save", "tag_rename", "upvote", "api_upvote",
         "comment", "submission", "api_submission", "token", "cli_token", "ingest_file", "searchable",
         "digest_mail", "backup")


ABOUT = {
    "writes": "per kind: attempted (requests or commands sent), acknowledged (2xx, a form's 303 to where success "
              "goes, CLI exit 0) and found after the final restart; an attempt with no answer is not required",
    "token, cli_token": "accounts whose last rotation was acknowledged: that token must work at the end (and every "
                        "earlier acknowledged one must not: stale_tokens_accepted)",
    "session": "members whose sign-up was acknowledged and whose cookie still opens /api/library at the end",
    "searchable": "papers of acknowledged `ingest file` runs found by keyword search on the final server",
    "digest_mail": "mails the SMTP sink received during an acknowledged `digest send`, each marked sent in the store",
    "backup": "acknowledged backups that pass integrity_check and hold every write acknowledged before they began",
    "5xx_outside_kills": "5xx answers not overlapping a kill -9 of the server or a worker (and its restart)",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def word(rng: random.Random) -> str:
    """A made-up, pronounceable word no paper has: a keyword search for it finds exactly one paper."""
    return "".join(rng.choice("bdfgklmnprtvz") + rng.choice("aiou") for _ in range(5)) + "x"


# --- what happened: one ledger for every thread -------------------------------------------------

class Ledger:
    """Acknowledged writes (kind -> identities), requests and their answers, kills, restarts, failures."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.acked: dict[str, list[Any]] = defaultdict(list)
        self.acked_at: list[tuple[float, str, Any]] = []
        self.attempts: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()  # 4xx by status, method and path (digits as N)
        self.server_errors: list[dict[str, Any]] = []
        self.connection_errors = 0
        self.timeouts: list[str] = []
        self.kill_windows: list[list[float]] = []
        self.kills: Counter[str] = Counter()
        self.restarts = 0
        self.cli: dict[str, Counter[str]] = defaultdict(Counter)
        self.cli_failures: list[dict[str, Any]] = []
        self.deleted: dict[str, str] = {}
        self.fd_samples = 0
        self.anomalies: list[str] = []
        self.renamed: dict[tuple[str, str], str] = {}  # (email, old tag) -> new, for every attempted rename
        self.tokens: dict[str, list[str | None]] = defaultdict(list)  # email -> rotations (None: outcome unknown)
        self.backups: list[dict[str, Any]] = []
        self.phase = ""

    def ack(self, kind: str, identity: Any) -> None:
        with self.lock:
            self.acked[kind].append(identity)
            self.acked_at.append((time.monotonic(), kind, identity))

    def attempt(self, kind: str) -> None:
        with self.lock:
            self.attempts[kind] += 1

    def anomaly(self, text: str) -> None:
        with self.lock:
            if len(self.anomalies) < 200:
                self.anomalies.append(f"[{self.phase}] {text}")

    def acked_before(self, t: float, kinds: set[str]) -> list[tuple[str, Any]]:
        with self.lock:
            return [(k, i) for at, k, i in self.acked_at if at < t and k in kinds]

    def during_kill(self, t0: float, t1: float) -> bool:
        with self.lock:
            return any(start - 0.5 <= t1 and t0 <= end + 0.5 for start, end in self.kill_windows)


# --- processes: the server, CLI commands ----------------------------------------------------------

def _ppids() -> dict[int, int]:
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        if fields and fields[0] != "Z":
            out[int(stat.parent.name)] = int(fields[1])
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(pid: int) -> list[int]:
    """`pid` and every live process below it."""
    ppids = _ppids()
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in ppids:
            found.append(p)
            todo.extend(c for c, pp in ppids.items() if pp == p)
    return found


def deleted_db_files(pid: int, db: Path) -> list[str]:
    """The files of this database (database, WAL, shm) that process `pid` holds open although they were deleted."""
    found: list[str] = []
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(db)) and target.endswith("(deleted)"):
            found.append(target)
    return found


class Server:
    """`paperscope serve` in its own process group: started, killed (-9, whole or one worker), restarted, stopped."""

    def __init__(self, soak: Soak, workers: int, schedule: str | None) -> None:
        self.soak, self.workers, self.schedule = soak, workers, schedule
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for _ in range(3):
            if self._start_once():
                return
            self.port = free_port()  # the old port may still be held a moment after a kill
        last = sorted(self.soak.work.glob("server-*.log"))[-1]
        raise RuntimeError(f"paperscope serve did not start three times; the last log ({last}) ends:\n"
                           f"{last.read_text(errors='replace')[-1500:]}")

    def _start_once(self) -> bool:
        if self.soak.closed:
            raise RuntimeError("the soak has ended")
        self.soak.server_starts += 1
        log_path = self.soak.work / f"server-{self.soak.server_starts:03d}.log"
        args = ["--workers", str(self.workers)] + (["--schedule", self.schedule] if self.schedule else [])
        with log_path.open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(self.soak.home), "serve",
                                     "--port", str(self.port), *args], stdout=log, stderr=subprocess.STDOUT,
                                    env=self.soak.env, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(self.url + "/about", timeout=5).ok:
                    self.proc = proc
                    return True
            except requests.RequestException:
                time.sleep(0.1)
        self.kill_group(proc)
        self.soak.ledger.anomaly(f"server did not start: {log_path.read_text(errors='replace')[-600:]}")
        return False

    def kill_group(self, proc: subprocess.Popen[bytes]) -> None:
        pids = descendants(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(p in _ppids() for p in pids):
            time.sleep(0.05)

    def pids(self) -> list[int]:
        """The server's own processes (master and workers), not the updates it starts."""
        proc = self.proc
        if proc is None:
            return []
        return [p for p in descendants(proc.pid) if " update" not in _cmdline(p)]

    def kill_and_restart(self, rng: random.Random) -> None:
        with self.lock:
            assert self.proc is not None
            window = [time.monotonic(), float("inf")]
            with self.soak.ledger.lock:
                self.soak.ledger.kill_windows.append(window)
                self.soak.ledger.kills["server"] += 1
            self.kill_group(self.proc)
            self.proc = None
            time.sleep(rng.uniform(0, 1.0))
            self.start()
            with self.soak.ledger.lock:
                window[1] = time.monotonic()
                self.soak.ledger.restarts += 1

    def kill_worker(self, rng: random.Random) -> bool:
        """kill -9 one uvicorn worker (the supervisor starts another)."""
        with self.lock:
            if self.proc is None:
                return False
            workers = [p for p in descendants(self.proc.pid) if "spawn_main" in _cmdline(p)]
            if not workers:
                return False
            now = time.monotonic()
            with self.soak.ledger.lock:
                self.soak.ledger.kill_windows.append([now, now + 5])
                self.soak.ledger.kills["server_worker"] += 1
            with contextlib.suppress(ProcessLookupError):
                os.kill(rng.choice(workers), signal.SIGKILL)
            return True

    def kill_scheduled_update(self, rng: random.Random) -> bool:
        """kill -9 the update the server's schedule started, a moment into it (waits for the next one)."""
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not self.soak.stop.is_set():
            proc = self.proc
            updates = [p for p in descendants(proc.pid) if " update" in _cmdline(p)] if proc else []
            if updates:
                time.sleep(rng.uniform(0.1, 1.5))
                try:
                    os.kill(updates[0], signal.SIGKILL)
                except ProcessLookupError:
                    return False
                with self.soak.ledger.lock:
                    self.soak.ledger.kills["scheduled_update"] += 1
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """A clean stop (SIGTERM to the group, as a service manager would)."""
        with self.lock:
            if self.proc is None:
                return
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.soak.ledger.anomaly("server did not stop within 60 s of SIGTERM")
                self.kill_group(self.proc)
            except ProcessLookupError:
                pass
            self.proc = None


class Cli:
    """Runs `paperscope …` commands, each in its own process (kill -9 hits only it), and keeps their outcomes."""

    def __init__(self, soak: Soak) -> None:
        self.soak = soak
        self.running: dict[int, tuple[subprocess.Popen[str], str, float]] = {}
        self.lock = threading.Lock()

    def run(self, name: str, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[int, str, str]:
        proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(self.soak.home), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.soak.env,
                                start_new_session=True)
        started = time.monotonic()
        with self.lock:
            self.running[proc.pid] = (proc, name, started)
        try:
            out, err = proc.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.soak.ledger.anomaly(f"`{name}` hung for 15 min: {' '.join(args)}")
        finally:
            with self.lock:
                self.running.pop(proc.pid, None)
        code = proc.returncode
        ledger = self.soak.ledger
        with ledger.lock:
            ledger.cli[name]["killed" if code == -signal.SIGKILL else str(code)] += 1
            ledger.cli[name]["max_seconds"] = max(ledger.cli[name]["max_seconds"], round(time.monotonic() - started))
            if code not in ok and code != -signal.SIGKILL:
                ledger.cli_failures.append({"phase": ledger.phase, "command": " ".join(args), "exit": code,
                                            "stderr": err.strip()[-500:]})
        return code, out, err

    def kill_one(self, rng: random.Random) -> bool:
        """kill -9 the next command to start, a random moment into it (one that ends first is let go, and the
        next is tried): long commands are not picked more often just for running longer."""
        since, deadline = time.monotonic(), time.monotonic() + 15
        while time.monotonic() < deadline and not self.soak.stop.is_set():
            with self.lock:
                started = [r for r in self.running.values() if r[2] >= since]
            if not started:
                time.sleep(0.02)
                continue
            proc, name, at = started[0]
            since = at + 1e-6
            time.sleep(max(0.0, at + rng.uniform(0.1, 1.5) - time.monotonic()))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                with self.soak.ledger.lock:
                    self.soak.ledger.kills[f"cli:{name}"] += 1
                return True
        return False


class MailSink:
    """A loopback SMTP server (aiosmtpd) that accepts every mail and remembers when it came and for whom."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.lock = threading.Lock()
        self.mails: list[tuple[float, str]] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.mails.append((time.monotonic(), rcpt.lower()))
        return "250 OK"

    def between(self, t0: float, t1: float) -> list[str]:
        with self.lock:
            return [r for t, r in self.mails if t0 <= t <= t1]

    def close(self) -> None:
        self.controller.stop()


# --- the actors ----------------------------------------------------------------------------------

@dataclass
class Member:
    """A web member: their own cookies, CSRF token, API token and the tags they saved under."""

    email: str
    http: requests.Session = field(default_factory=requests.Session)
    csrf: str = ""
    token: str | None = None
    tags: list[str] = field(default_factory=list)


class Web:
    """HTTP calls that record every answer; `None` when there was none (server down or killed mid-request)."""

    def __init__(self, soak: Soak) -> None:
        self.soak = soak

    def call(self, http: Any, method: str, path: str, **kw: Any) -> requests.Response | None:
        ledger = self.soak.ledger
        t0 = time.monotonic()
        try:
            r = http.request(method, self.soak.server.url + path, timeout=TIMEOUT, allow_redirects=False, **kw)
        except requests.Timeout:
            with ledger.lock:
                ledger.timeouts.append(f"[{ledger.phase}] {method} {path}")
            return None
        except requests.RequestException:
            with ledger.lock:
                ledger.connection_errors += 1
            time.sleep(0.2)
            return None
        t1 = time.monotonic()
        with ledger.lock:
            ledger.statuses[str(r.status_code)] += 1
            if 400 <= r.status_code < 500:
                ledger.refusals[f"{r.status_code} {method} {re.sub(r'[0-9]+', 'N', path.split('?')[0])}"] += 1
        if r.status_code >= 500:
            with ledger.lock:
                ledger.server_errors.append({"phase": ledger.phase, "method": method, "path": path,
                                             "status": r.status_code, "t0": t0, "t1": t1, "body": r.text[:300]})
        return r


def _location(r: requests.Response | None, start: str, code: int = 303) -> str | None:
    if r is None or r.status_code != code:
        return None
    loc = r.headers.get("location", "")
    return loc if loc.startswith(start) else None


class Writer(threading.Thread):
    """One thread of web members: each member's writes run in order, so every identity is unambiguous."""

    def __init__(self, soak: Soak, n: int, phase: int) -> None:
        super().__init__(daemon=True, name=f"writer-{n}")
        self.soak, self.n = soak, f"{phase}{n}"
        self.rng = random.Random(soak.seed * 1000 + phase * 100 + n)
        self.members = soak.groups[n]  # a later phase goes on with the same members (and their sessions)
        self.count = 0

    def _uid(self) -> str:
        self.count += 1
        return f"{self.soak.seed}-{self.n}-{self.count}"

    def run(self) -> None:
        actions = [(self.signup, 2), (self.save, 10), (self.api_save, 5), (self.rename, 4), (self.upvote, 6),
                   (self.api_upvote, 3), (self.comment, 6), (self.submit, 3), (self.api_submit, 2), (self.rotate, 3)]
        fns, weights = zip(*actions, strict=True)
        while not self.soak.stop.is_set():
            if len(self.members) < 2:
                self.signup()
                continue
            # a lab, not a sign-up storm: past MEMBERS a thread's members rarely grow (digests stay a lab's size)
            self.rng.choices(fns, (weights[0] if len(self.members) < MEMBERS else 0.1, *weights[1:]))[0]()
            time.sleep(self.rng.uniform(0.0, 0.1))

    def _csrf(self, m: Member) -> bool:
        """The member's CSRF token, read from a page of theirs when not known yet; False if no page came."""
        if not m.csrf:
            page = self.soak.web.call(m.http, "GET", "/settings")
            found = CSRF.search(page.text) if page is not None and page.status_code == 200 else None
            if found is None:
                if page is not None and page.status_code in (401, 403):
                    self.soak.ledger.anomaly(f"{m.email}, signed up with an acknowledged answer, is signed out "
                                             f"({page.status_code} on /settings)")
                return False
            m.csrf = found.group(1)
        return True

    def _form(self, m: Member, path: str, kind: str, **data: str) -> requests.Response | None:
        """POST a form with the member's CSRF token (fetched again if the server refused it)."""
        if not self._csrf(m):
            return None
        self.soak.ledger.attempt(kind)
        r = self.soak.web.call(m.http, "POST", path, data={**data, "csrf": m.csrf})
        if r is not None and r.status_code == 403:
            m.csrf = ""
        return r

    def _api(self, m: Member, path: str, kind: str, body: dict[str, Any]) -> requests.Response | None:
        self.soak.ledger.attempt(kind)
        r = self.soak.web.call(requests, "POST", path, json=body, headers={"Authorization": f"Bearer {m.token}"})
        if r is not None and r.status_code == 401:
            with self.soak.ledger.lock:
                if self.soak.ledger.tokens[m.email][-1] == m.token:
                    self.soak.ledger.anomaly(f"{m.email}'s token from an acknowledged rotation was refused ({path})")
            m.token = None  # (or a rotation that got no answer took effect after all): rotate again
        return r

    def _paper(self) -> str:
        return self.soak.pick_paper(self.rng)

    def signup(self) -> None:
        m = Member(f"web-{self._uid()}@soak.example")
        web = self.soak.web
        page = web.call(m.http, "GET", "/signup")
        found = CSRF.search(page.text) if page is not None and page.status_code == 200 else None
        if found is None:
            return
        self.soak.ledger.attempt("signup")
        r = web.call(m.http, "POST", "/signup", data={"email": m.email, "password": PASSWORD,
                                                      "csrf": found.group(1)})
        if _location(r, "/library") is not None:
            self.soak.ledger.ack("signup", m.email)
            self.soak.ledger.ack("session", m.email)
            self.members.append(m)
            self.soak.add_member(m)

    def save(self) -> None:
        m, pid, tag = self.rng.choice(self.members), self._paper(), f"s{self._uid()}"
        r = self._form(m, "/library/save", "library_save", paper_id=pid, tags=tag)
        if _location(r, "/paper/") is not None:
            self.soak.ledger.ack("library_save", (m.email, pid, tag))
            m.tags.append(tag)
        elif r is not None and r.status_code == 404 and pid in self.soak.acked_papers:
            self.soak.ledger.anomaly(f"the server answered 404 for {pid}, whose `ingest file` was acknowledged")

    def api_save(self) -> None:
        m = self.rng.choice(self.members)
        if m.token is None:
            return self.rotate(m)
        pid, tag = self._paper(), f"a{self._uid()}"
        r = self._api(m, "/api/library", "api_save", {"paper_id": pid, "tags": [tag]})
        if r is not None and r.status_code == 200 and r.json().get("saved") == pid:
            self.soak.ledger.ack("api_save", (m.email, pid, tag))
            m.tags.append(tag)

    def rename(self) -> None:
        m = self.rng.choice(self.members)
        if not m.tags:
            return self.save()
        old = m.tags.pop(self.rng.randrange(len(m.tags)))
        new = f"r{self._uid()}"
        with self.soak.ledger.lock:
            self.soak.ledger.renamed[(m.email, old)] = new
        r = self._form(m, "/library/tag", "tag_rename", tag=old, new=new, action="rename")
        if _location(r, "/library?") is not None:
            self.soak.ledger.ack("tag_rename", (m.email, old, new))

    def upvote(self) -> None:
        m, pid = self.rng.choice(self.members), self._paper()
        r = self._form(m, f"/paper/{pid}/upvote", "upvote")
        if _location(r, "/paper/") is not None:
            self.soak.ledger.ack("upvote", (m.email, pid))

    def api_upvote(self) -> None:
        m = self.rng.choice(self.members)
        if m.token is None:
            return self.rotate(m)
        pid = self._paper()
        r = self._api(m, f"/api/papers/{pid}/upvote", "api_upvote", {})
        if r is not None and r.status_code == 200 and r.json().get("upvoted") is True:
            self.soak.ledger.ack("api_upvote", (m.email, pid))

    def comment(self) -> None:
        m, pid, marker = self.rng.choice(self.members), self._paper(), self._uid()
        r = self._form(m, f"/paper/{pid}/comments", "comment",
                       body=f"soak-note-{marker}: *worth a read* for the [reading group](https://example.org).")
        loc = _location(r, "/paper/")
        if loc is not None and "#c" in loc:
            self.soak.ledger.ack("comment", (m.email, marker))

    def submit(self) -> None:
        m, ref = self.rng.choice(self.members), self.rng.choice(KNOWN_ARXIV)
        loc = _location(self._form(m, "/submit", "submission", paper=ref), "/lab?date=")
        if loc is not None and loc.endswith("#pending"):
            self.soak.ledger.anomaly(f"arXiv {ref}, in the store, was queued for fetching instead of submitted")
        elif loc is not None:
            self.soak.ledger.ack("submission", (loc.split("date=")[1][:10], f"arxiv:{ref}"))

    def api_submit(self) -> None:
        m = self.rng.choice(self.members)
        if m.token is None:
            return self.rotate(m)
        ref = self.rng.choice(KNOWN_ARXIV)
        r = self._api(m, "/api/submit", "api_submission", {"paper": ref})
        if r is not None and r.status_code == 200 and r.json().get("state", "submitted") == "submitted":
            day = r.json().get("submittedOnDailyAt", "")[:10]
            self.soak.ledger.ack("api_submission", (day, f"arxiv:{ref}"))

    def rotate(self, m: Member | None = None) -> None:
        m = m or self.rng.choice(self.members)
        if not self._csrf(m):
            return
        r = self._form(m, "/settings/token", "token")
        found = API_TOKEN.search(r.text) if r is not None and r.status_code == 200 else None
        with self.soak.ledger.lock:
            self.soak.ledger.tokens[m.email].append(found.group(1) if found else None)
        m.token = found.group(1) if found else None
        if found:
            self.soak.ledger.ack("token", m.email)


class Reader(threading.Thread):
    """Searches and pages, as the lab's readers keep doing while everything else happens."""

    def __init__(self, soak: Soak, n: int) -> None:
        super().__init__(daemon=True, name=f"reader-{n}")
        self.soak, self.rng = soak, random.Random(soak.seed * 7 + n)

    def run(self) -> None:
        queries = ["retrieval", "language model agents", "diffusion", "reasoning benchmark", "vision transformer"]
        while not self.soak.stop.is_set():
            q = self.rng.choice(queries)
            path = self.rng.choice([f"/api/search?q={q}&mode={self.rng.choice(['hybrid', 'keyword', 'semantic'])}",
                                    f"/search?q={q}", "/", "/lab", "/api/stats", "/api/trending?limit=10",
                                    f"/paper/{self.soak.pick_paper(self.rng)}"])
            self.soak.web.call(requests, "GET", path)
            time.sleep(self.rng.uniform(0.05, 0.3))


class CliLoop(threading.Thread):
    """The operator's and cron's commands, one after another (the cron variant only runs `update`)."""

    def __init__(self, soak: Soak, cron_every: float | None = None) -> None:
        super().__init__(daemon=True, name="cron" if cron_every else "cli")
        self.soak, self.cron_every = soak, cron_every
        self.rng = random.Random(soak.seed * 31 + (1 if cron_every else 0))

    def run(self) -> None:
        if self.cron_every:
            while not self.soak.stop.wait(self.cron_every):
                self.soak.cli.run("cron update", "update", "--json", ok=(0, 1))
            return
        deck = [self.stats, self.user_list, self.ingest, self.ingest, self.update, self.backup, self.user_add,
                self.user_token, self.digest]
        while not self.soak.stop.is_set():  # every command once a round, in a new order each round
            self.rng.shuffle(deck)
            for command in deck:
                if self.soak.stop.is_set():
                    break
                command()
                time.sleep(self.rng.uniform(0.05, 0.5))

    def stats(self) -> None:
        before = len(self.soak.ledger.acked_before(time.monotonic(), {"ingest_file"})) + self.soak.base_papers
        code, out, _ = self.soak.cli.run("stats", "stats", "--json")
        if code == 0 and json.loads(out)["papers"] < before:
            self.soak.ledger.anomaly(f"`stats` counted {json.loads(out)['papers']} papers, {before} were acknowledged")

    def user_list(self) -> None:
        before = {i for _, i in self.soak.ledger.acked_before(time.monotonic(), {"signup", "user_add"})}
        code, out, _ = self.soak.cli.run("user list", "user", "list", "--json")
        if code == 0:
            missing = before - {u["email"].lower() for u in json.loads(out)}
            if missing:
                self.soak.ledger.anomaly(f"`user list` misses {len(missing)} acknowledged accounts, e.g. "
                                         f"{sorted(missing)[:3]}")

    def ingest(self) -> None:
        self.soak.files += 1
        path = self.soak.work / "ingest" / f"f{self.soak.files:04d}.jsonl"
        path.parent.mkdir(exist_ok=True)
        records = []
        for i in range(self.rng.randint(1, 3)):
            w = word(self.rng)
            records.append({"id": f"soak-{self.soak.seed}-{self.soak.files}-{i}", "published": self.soak.today,
                            "title": f"{w.capitalize()} sampling for sparse retrieval under drift",
                            "abstract": f"We study {w} estimators for retrieval when collections drift over a week.",
                            "authors": ["Soak Tester"], "categories": "cs.IR"})
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        for _ in records:
            self.soak.ledger.attempt("ingest_file")
        code, _, _ = self.soak.cli.run("ingest file", "ingest", "file", str(path), "--json")
        if code == 0:
            for r in records:
                pid = f"local:{r['id']}"
                self.soak.ledger.ack("ingest_file", pid)
                self.soak.ledger.ack("searchable", (pid, str(r["title"]).split()[0].lower()))
                self.soak.acked_papers.append(pid)

    def update(self) -> None:
        self.soak.cli.run("update", "update", "--json", ok=(0, 1))

    def backup(self) -> None:
        self.soak.backups += 1
        n = self.soak.backups
        dest = self.soak.work / "backups" / f"b{n:04d}"
        stable = {"signup", "user_add", "upvote", "api_upvote", "comment", "submission", "api_submission",
                  "ingest_file"}
        before = self.soak.ledger.acked_before(time.monotonic(), stable)
        self.soak.ledger.attempt("backup")
        code, _, _ = self.soak.cli.run("backup", "backup", str(dest), "--json")
        if code == 0:
            self.soak.ledger.ack("backup", n)
            missing, integrity = check_backup(dest / DB, before)
            with self.soak.ledger.lock:
                self.soak.ledger.backups.append({"n": n, "integrity": integrity, "checked": len(before),
                                                 "missing": missing})
        shutil.rmtree(dest, ignore_errors=True)

    def user_add(self) -> None:
        self.soak.users += 1
        email = f"cli-{self.soak.seed}-{self.soak.users}@soak.example"
        self.soak.ledger.attempt("user_add")
        code, _, _ = self.soak.cli.run("user add", "user", "add", email, "--password", PASSWORD)
        if code == 0:
            self.soak.ledger.ack("user_add", email)
            self.soak.cli_users.append(email)

    def user_token(self) -> None:
        if not self.soak.cli_users:
            return self.user_add()
        email = self.rng.choice(self.soak.cli_users)
        self.soak.ledger.attempt("cli_token")
        code, out, _ = self.soak.cli.run("user token", "user", "token", email)
        token = out.strip() if code == 0 else None
        with self.soak.ledger.lock:
            self.soak.ledger.tokens[email].append(token)
        if token:
            self.soak.ledger.ack("cli_token", email)

    def digest(self) -> None:
        t0, wall0 = time.monotonic(), time.time()
        self.soak.ledger.attempt("digest")
        code, _, _ = self.soak.cli.run("digest send", "digest", "send")
        t1, wall1 = time.monotonic(), time.time()
        if code == 0:  # each mail that came during an acknowledged run is marked sent by it
            for rcpt in self.soak.sink.between(t0, t1):
                self.soak.ledger.ack("digest_mail", (rcpt, wall0, wall1))


class Chaos(threading.Thread):
    """kill -9 at random moments: the whole server (then a restart), one worker, a CLI command, a scheduled update."""

    def __init__(self, soak: Soak, every: tuple[float, float]) -> None:
        super().__init__(daemon=True, name="chaos")
        self.soak, self.every = soak, every
        self.rng = random.Random(soak.seed * 13)

    def run(self) -> None:
        server = self.soak.server
        # the server first (every phase kills it at least once), then rounds of each kind in a new order each time
        deck = ["worker" if server.workers > 1 else "scheduled", "cli", "server", "cli"]
        choices = iter(["server"])
        while not self.soak.stop.wait(self.rng.uniform(*self.every)):
            choice = next(choices, None)
            if choice is None:
                choices = iter(self.rng.sample(deck, len(deck)))
                choice = next(choices)
            if choice == "worker" and server.workers > 1 and server.kill_worker(self.rng):
                continue
            if choice == "scheduled" and server.schedule and server.kill_scheduled_update(self.rng):
                continue
            if choice == "cli" and self.soak.cli.kill_one(self.rng):
                continue
            server.kill_and_restart(self.rng)


class Sampler(threading.Thread):
    """Looks at the live server's descriptors every 0.2 s for database files deleted under it."""

    def __init__(self, soak: Soak) -> None:
        super().__init__(daemon=True, name="sampler")
        self.soak, self.done = soak, threading.Event()

    def run(self) -> None:
        db = self.soak.home / DB
        while not self.done.wait(0.2):
            for pid in self.soak.server.pids():
                gone = deleted_db_files(pid, db)
                with self.soak.ledger.lock:
                    self.soak.ledger.fd_samples += 1
                    for target in gone:
                        self.soak.ledger.deleted.setdefault(target, f"[{self.soak.ledger.phase}] pid {pid} "
                                                                    f"{_cmdline(pid)[:120]}")


# --- checks --------------------------------------------------------------------------------------

def read_only(db: Path, immutable: bool = False) -> sqlite3.Connection:
    """A connection that cannot write (and, for a backup nobody writes, takes no locks at all)."""
    return sqlite3.connect(f"file:{db}?{'immutable=1' if immutable else 'mode=ro'}", uri=True)


def check_backup(db: Path, before: list[tuple[str, Any]]) -> tuple[list[str], str]:
    """A backup's integrity, and which writes acknowledged before it started it lacks."""
    conn = read_only(db, immutable=True)
    try:
        integrity = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check(5)"))
        rows = snapshot(conn)
    finally:
        conn.close()
    return [f"{kind} {ident}" for kind, ident in before if not present(kind, ident, rows, {})], integrity


def snapshot(conn: sqlite3.Connection) -> dict[str, Any]:
    """What the checks look up, read in one go."""
    q = conn.execute
    emails = {e.lower() for (e,) in q("SELECT email FROM users")}
    return {
        "users": emails,
        "papers": {p for (p,) in q("SELECT id FROM papers")},
        "library": {(e.lower(), p, t) for e, p, t in q("SELECT u.email, l.paper_id, l.tag FROM library l "
                                                       "JOIN users u ON u.id = l.user_id")},
        "tags": {(e.lower(), t) for e, t in q("SELECT DISTINCT u.email, l.tag FROM library l "
                                              "JOIN users u ON u.id = l.user_id")},
        "upvotes": {(e.lower(), p) for e, p in q("SELECT u.email, v.paper_id FROM lab_upvotes v "
                                                 "JOIN users u ON u.id = v.user_id")},
        "comments": {(e.lower(), m.group(1)) for e, body in q("SELECT u.email, c.body FROM lab_comments c JOIN users"
                                                               " u ON u.id = c.user_id WHERE c.deleted = 0")
                     if (m := MARKER.search(body))},
        "submissions": {(d, p) for d, p in q("SELECT day, paper_id FROM lab_submissions")},
        "sent": [(e.lower(), s) for e, s in q("SELECT u.email, o.sent_at FROM digest_outbox o JOIN users u "
                                              "ON u.id = o.user_id WHERE o.status = 'sent'")],
    }


def present(kind: str, ident: Any, rows: dict[str, Any], renamed: dict[tuple[str, str], str]) -> bool:
    """Whether one acknowledged write is in the database `rows` were read from."""
    if kind in ("signup", "user_add"):
        return ident in rows["users"]
    if kind == "ingest_file":
        return ident in rows["papers"]
    if kind in ("library_save", "api_save"):
        email, paper, tag = ident
        new = renamed.get((email, tag))
        return (email, paper, tag) in rows["library"] or (new is not None and (email, paper, new) in rows["library"])
    if kind == "tag_rename":
        email, old, new = ident
        return (email, new) in rows["tags"] and (email, old) not in rows["tags"]
    if kind in ("upvote", "api_upvote"):
        return ident in rows["upvotes"]
    if kind == "comment":
        return ident in rows["comments"]
    if kind in ("submission", "api_submission"):
        return ident in rows["submissions"]
    if kind == "digest_mail":
        email, t0, t1 = ident
        return any(e == email and _epoch(s) is not None and t0 - 1 <= _epoch(s) <= t1 + 1 for e, s in rows["sent"])
    raise ValueError(kind)


def _epoch(stamp: str | None) -> float | None:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() if stamp else None


# --- the run -------------------------------------------------------------------------------------

class Soak:
    """Everything one soak shares: data dir, environment, the ledger, the current server, the actors' pools."""

    def __init__(self, home: Path, work: Path, seed: int) -> None:
        self.home, self.work, self.seed = home, work, seed
        self.work.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger()
        self.stop = threading.Event()
        self.sink = MailSink()
        self.env = {**os.environ, "PAPERSCOPE_SIGNUP": "open", "PAPERSCOPE_EMBED_THREADS": "1",
                    "PAPERSCOPE_LAB_SUBMISSIONS_PER_DAY": "1000000", "PAPERSCOPE_LAB_COMMENTS_PER_DAY": "1000000",
                    "PAPERSCOPE_API_RATE": "1000000", "PAPERSCOPE_SIGNUP_PER_ADDRESS_PER_HOUR": "1000000",
                    "PAPERSCOPE_SMTP_HOST": "127.0.0.1",
                    "PAPERSCOPE_SMTP_PORT": str(self.sink.port), "PAPERSCOPE_SMTP_SECURITY": "none",
                    # never online: unknown arXiv ids would be fetched from here (port 9 refuses)
                    "PAPERSCOPE_ARXIV_API_URL": "http://127.0.0.1:9/api/query",
                    "PAPERSCOPE_ARXIV_OAI_URL": "http://127.0.0.1:9/oai", "PAPERSCOPE_HF_API_URL": "http://127.0.0.1:9"}
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env.pop("PAPERSCOPE_HOME", None)
        self.cli = Cli(self)
        self.web = Web(self)
        self.server: Server = Server(self, 1, None)
        self.server_starts = 0
        self.closed = False
        self.today = datetime.now(UTC).strftime("%Y-%m-%d")
        self.files = self.backups = self.users = 0
        self.cli_users: list[str] = []
        self.acked_papers: list[str] = []
        self.papers: list[str] = []
        self.base_papers = 0
        self.members: list[Member] = []
        self.members_lock = threading.Lock()
        self.groups: dict[int, list[Member]] = defaultdict(list)  # writer thread number -> its members

    def add_member(self, m: Member) -> None:
        with self.members_lock:
            self.members.append(m)

    def pick_paper(self, rng: random.Random) -> str:
        fresh = self.acked_papers
        if fresh and rng.random() < 0.3:
            return rng.choice(fresh)
        return rng.choice(self.papers)

    def prepare(self) -> None:
        """Known arXiv papers for lab submissions (ingested and indexed before anything runs), and paper ids."""
        path = self.work / "known.jsonl"
        path.write_text("".join(json.dumps({
            "arxiv_id": a, "title": f"Known paper {i} on retrieval evaluation", "published": "2026-01-02",
            "abstract": "A paper already in the store, which members submit to the lab's daily list.",
            "authors": ["Known Author"], "categories": "cs.IR"}) + "\n" for i, a in enumerate(KNOWN_ARXIV)))
        for args, ok in ((["ingest", "file", str(path)], (0,)), (["update"], (0, 1))):
            code, _, err = self.cli.run("prepare", *args, ok=ok)
            if code not in ok:
                raise RuntimeError(f"paperscope {' '.join(args)} failed: {err}")
        conn = read_only(self.home / DB)
        try:
            ids = [p for (p,) in conn.execute("SELECT id FROM papers ORDER BY id")]
        finally:
            conn.close()
        self.base_papers = len(ids)
        self.papers = random.Random(self.seed).sample(ids, min(80, len(ids))) + [f"arxiv:{a}" for a in KNOWN_ARXIV]

    def phase(self, number: int, name: str, seconds: float, workers: int, schedule: str | None,
              cron_every: float | None, writers: int, readers: int, kill_every: tuple[float, float]) -> None:
        self.ledger.phase = name
        self.stop.clear()
        self.server = Server(self, workers, schedule)
        self.server.start()
        sampler = Sampler(self)
        sampler.start()
        actors: list[threading.Thread] = [Writer(self, i, number) for i in range(writers)]
        actors += [Reader(self, i) for i in range(readers)] + [CliLoop(self), Chaos(self, kill_every)]
        if cron_every:
            actors.append(CliLoop(self, cron_every))
        for a in actors:
            a.start()
        time.sleep(seconds)
        self.stop.set()
        for a in actors:
            a.join(timeout=900)
            if a.is_alive():
                self.ledger.anomaly(f"{a.name} did not finish within 15 min of the end of the phase")
        sampler.done.set()
        sampler.join()
        self.server.stop()

    def final(self) -> dict[str, Any]:
        """A final update, a clean restart, the checks through the server, then through SQLite once all stopped."""
        ledger = self.ledger
        ledger.phase = "final"
        code, _, err = self.cli.run("final update", "update", "--json", ok=(0, 1))
        self.server = Server(self, 1, None)
        self.server.start()
        through_server: dict[str, set[Any]] = defaultdict(set)
        for email in set(ledger.acked["session"]):
            m = next(x for x in self.members if x.email == email)
            r = self.web.call(m.http, "GET", "/api/library")
            if r is not None and r.status_code == 200:
                through_server["session"].add(email)
        stale_accepted = []
        for email, events in ledger.tokens.items():
            for i, token in enumerate(events):
                if token is None:
                    continue
                r = self.web.call(requests, "GET", "/api/library", headers={"Authorization": f"Bearer {token}"})
                works = r is not None and r.status_code == 200
                if i == len(events) - 1 and works:
                    through_server["token"].add(email)
                if works and any(t is not None for t in events[i + 1:]):
                    stale_accepted.append(email)  # an acknowledged later rotation should have replaced it
        for pid, w in ledger.acked["searchable"]:
            r = self.web.call(requests, "GET", f"/api/search?q={w}&mode=keyword&limit=5")
            if r is not None and r.status_code == 200 and pid in [h["paper"]["paperscopeId"] for h in r.json()["hits"]]:
                through_server["searchable"].add((pid, w))
        api_stats = self.web.call(requests, "GET", "/api/stats")
        server_papers = api_stats.json().get("papers") if api_stats is not None and api_stats.ok else None
        self.server.stop()

        code, out, _ = self.cli.run("final user list", "user", "list", "--json")
        cli_users = {u["email"].lower() for u in json.loads(out)} if code == 0 else set()
        code, out, _ = self.cli.run("final stats", "stats", "--json")
        cli_papers = json.loads(out)["papers"] if code == 0 else None
        leftovers = sorted(p.name for p in self.home.glob(DB + "-*"))
        conn = read_only(self.home / DB)
        try:
            integrity = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
            rows = snapshot(conn)
        finally:
            conn.close()

        writes = {}
        for kind in KINDS:
            acked = ledger.acked.get(kind, [])
            if kind in ("token", "cli_token"):
                owners = set(acked)  # each account's last rotation, if it was acknowledged, must be the one that works
                acked = [e for e in owners if ledger.tokens[e] and ledger.tokens[e][-1] is not None]
                found = [e for e in acked if e in through_server["token"]]
            elif kind in ("session", "searchable"):
                found = [i for i in acked if i in through_server[kind]]
            elif kind == "backup":
                ok = {b["n"] for b in ledger.backups if b["integrity"] == "ok" and not b["missing"]}
                found = [n for n in acked if n in ok]
            else:
                found = [i for i in acked if present(kind, i, rows, ledger.renamed)]
                if kind in ("signup", "user_add"):
                    found = [i for i in found if i in cli_users]
            writes[kind] = {"attempted": ledger.attempts.get(kind, len(acked)), "acknowledged": len(acked),
                            "found": len(found), "missing_examples": [str(i) for i in acked if i not in found][:5]}
        return {"writes": writes, "integrity_check": integrity, "stale_tokens_accepted": stale_accepted,
                "papers": {"sqlite": len(rows["papers"]), "cli_stats": cli_papers, "server_api_stats": server_papers},
                "files_left_after_clean_stop": leftovers}

    def close(self) -> None:
        """Nothing of the soak outlives it: the server, running commands, the mail sink."""
        self.stop.set()
        with self.cli.lock:
            for proc, _, _ in self.cli.running.values():
                proc.kill()
        with self.server.lock:  # after a restart under way, not before it
            self.closed = True
            if self.server.proc is not None:
                self.server.kill_group(self.server.proc)
                self.server.proc = None
        self.sink.close()


def run_soak(home: Path, work: Path, seconds: float, seed: int = 1, writers: int = 3, readers: int = 1,
             kill_every: tuple[float, float] = (4.0, 9.0), cron_every: float = 4.0) -> dict[str, Any]:
    """Both phases of `seconds` each on `home` (changed in place), then the checks; returns the figures."""
    soak = Soak(home, work, seed)
    started = time.monotonic()
    try:
        soak.prepare()
        soak.phase(1, "a: serve --workers 2 + cron update", seconds, 2, None, cron_every, writers, readers, kill_every)
        soak.phase(2, "b: serve --schedule 'every 5s'", seconds, 1, "every 5s", None, writers, readers, kill_every)
        checks = soak.final()
    finally:
        soak.close()
    ledger = soak.ledger
    outside = [e for e in ledger.server_errors if not ledger.during_kill(e["t0"], e["t1"])]
    runs = [json.loads(line) for line in (home / "logs" / "updates.jsonl").read_text().splitlines()
            ] if (home / "logs" / "updates.jsonl").exists() else []
    server_log_errors = []
    for log in sorted(work.glob("server-*.log")):
        lines = log.read_text(errors="replace").splitlines()
        server_log_errors += [f"{log.name}: {ln[:300]}" for ln in lines  # (scheduled runs: scheduled_failures)
                              if (" ERROR " in ln or "Traceback" in ln) and "scheduled update" not in ln]
    return {
        "about": ABOUT, "seed": seed, "seconds_per_phase": seconds,
        "wall_seconds": round(time.monotonic() - started, 1),
        **checks,
        "deleted_db_files": [f"{k} ({v})" for k, v in ledger.deleted.items()], "fd_samples": ledger.fd_samples,
        "kills": dict(ledger.kills), "restarts": ledger.restarts, "server_starts": soak.server_starts,
        "http": {"answers": dict(sorted(ledger.statuses.items())), "5xx": len(ledger.server_errors),
                 "5xx_outside_kills": len(outside), "5xx_examples": outside[:5] or ledger.server_errors[:5],
                 "4xx": dict(ledger.refusals.most_common(20)), "connection_errors": ledger.connection_errors,
                 "timeouts": ledger.timeouts[:20]},
        "cli": {k: dict(v) for k, v in sorted(ledger.cli.items())}, "cli_failures": ledger.cli_failures[:20],
        "scheduled_updates": dict(Counter(f"{r['status']} (exit {r['exit_code']})" for r in runs)),
        "scheduled_failures": [r for r in runs if r["status"] == "failed" and r["exit_code"] >= 0][:10],  # not killed
        "backups": {"checked": len(ledger.backups), "bad": [b for b in ledger.backups
                                                             if b["integrity"] != "ok" or b["missing"]][:5]},
        "digest_mails_received": len(soak.sink.mails), "anomalies": ledger.anomalies,
        "server_log_errors": server_log_errors[:20],
    }


def build_template(path: Path) -> None:
    """What a new user's `paperscope ingest sample` and `paperscope update` make (kept and reused)."""
    if (path / "built").exists():
        return
    shutil.rmtree(path, ignore_errors=True)
    run = [sys.executable, "-m", "paperscope", "--data-dir", str(path)]
    subprocess.run(run + ["ingest", "sample"], check=True, capture_output=True)
    done = subprocess.run(run + ["update"], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    (path / "built").touch()


def report(result: dict[str, Any]) -> str:
    lines = [f"{'kind':<16}{'attempted':>10}{'acked':>8}{'found':>8}"]
    for kind, c in result["writes"].items():
        lines.append(f"{kind:<16}{c['attempted']:>10}{c['acknowledged']:>8}{c['found']:>8}")
    http = result["http"]
    lines += [f"integrity_check: {result['integrity_check']}; deleted WAL/shm/db under a live server: "
              f"{len(result['deleted_db_files'])} ({result['fd_samples']} fd samples)",
              f"kills: {result['kills']}; restarts: {result['restarts']}",
              f"http: {http['answers']}; 5xx {http['5xx']} ({http['5xx_outside_kills']} outside kills); "
              f"connection errors {http['connection_errors']}; timeouts {len(http['timeouts'])}",
              f"cli: {result['cli']}", f"cli failures: {len(result['cli_failures'])}; scheduled updates: "
              f"{result['scheduled_updates']}; backups checked {result['backups']['checked']}, bad "
              f"{len(result['backups']['bad'])}; anomalies: {len(result['anomalies'])}"]
    return "\n".join(lines)


def code_label() -> dict[str, Any]:
    """Which paperscope ran: where it was imported from, this checkout's commit, and whether src/ had changes."""
    import paperscope

    git = ["git", "-C", str(ROOT.parent)]
    head = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(git + ["status", "--porcelain", "src"], capture_output=True, text=True).stdout
    return {"paperscope": str(Path(paperscope.__file__).parent), "checkout_head": head,
            "checkout_src_changes": len(dirty.splitlines())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10, help="total soak time, split between the two phases")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--writers", type=int, default=4, help="threads of web members")
    ap.add_argument("--data-dir", type=Path, default=ROOT / "out" / "soak")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "soak.json")
    args = ap.parse_args()
    code = code_label()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still ends its server and commands
    os.environ.setdefault("PAPERSCOPE_EMBED_THREADS", "1")
    template = args.data_dir / "template"
    build_template(template)
    home, work = args.data_dir / "run" / "home", args.data_dir / "run" / "work"
    shutil.rmtree(args.data_dir / "run", ignore_errors=True)
    shutil.copytree(template, home, ignore=shutil.ignore_patterns("built"))
    result = run_soak(home, work, args.minutes * 60 / 2, args.seed, args.writers, readers=2, kill_every=(6.0, 20.0),
                      cron_every=10.0)
    result["minutes"], result["code"] = args.minutes, code
    print(report(result))
    for key in ("anomalies", "cli_failures", "scheduled_failures", "server_log_errors", "deleted_db_files"):
        for item in result[key][:10]:
            print(f"{key}: {item}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
