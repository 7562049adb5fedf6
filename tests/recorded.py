"""A real HTTP server on 127.0.0.1 that answers recorded bodies, the Hugging Face stand-in built on it, and the one
helper that finds the project's shared data (../shared/data beside the project root)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

DATA = Path(__file__).parent / "data"  # files written by hand from published formats (see data/README.md)
# Third-party data lives outside the repository: ../shared/data from the project root (CI has it there too);
# PAPERSCOPE_TESTS_SHARED_DATA points elsewhere.
SHARED = Path(os.environ.get("PAPERSCOPE_TESTS_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def shared(*parts: str) -> Path:
    """A file or folder of the shared data; a test that needs it fails with one line when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read third-party data from ../shared/data beside the project "
                    "(or PAPERSCOPE_TESTS_SHARED_DATA); see CONTRIBUTING.md", pytrace=False)
    return path


@dataclass
class Rule:
    path: str
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    when: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    answer: Callable[[dict[str, str]], tuple[int, bytes]] | None = None  # computes (status, body) from the params


@dataclass
class Request:
    path: str
    params: dict[str, str]
    at: float


class RecordedServer:
    """A real threaded HTTP server; each request is answered by the first matching rule, and logged."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.log: list[Request] = []
        self.posts: list[tuple[str, bytes]] = []
        # POST path → fn(params, body) → (status, body) or (status, body, headers)
        self.post_answers: dict[str, Callable[[dict[str, str], bytes], tuple]] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                outer.log.append(Request(parts.path, params, time.monotonic()))
                for rule in outer.rules:
                    if rule.path == parts.path and all(params.get(k) == v for k, v in rule.when.items()):
                        if rule.times is not None:
                            if rule.times <= 0:
                                continue
                            rule.times -= 1
                        status, body = rule.answer(params) if rule.answer else (rule.status, rule.body)
                        self.send_response(status)
                        for k, v in rule.headers.items():
                            self.send_header(k, v)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                self.send_error(404, "no recorded response")

            def do_POST(self) -> None:  # noqa: N802 - webhooks: record the body, answer 200
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                outer.posts.append((self.path, body))
                parts = urlsplit(self.path)
                answer = outer.post_answers.get(parts.path)
                if answer is not None:  # a POST that reads (a batch lookup): answered by its function
                    params = dict(parse_qsl(parts.query, keep_blank_values=True))
                    outer.log.append(Request(parts.path, params, time.monotonic()))
                    status, out, *more = answer(params, body)
                    self.send_response(status)
                    for k, v in (more[0] if more else {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, body: bytes | str, status: int = 200, headers: dict[str, str] | None = None,
            when: dict[str, str] | None = None, times: int | None = None, first: bool = False) -> None:
        """Answer GET `path` (with these params) by `body`; `times` limits how often; `first` takes priority."""
        rule = Rule(path, body.encode() if isinstance(body, str) else body, status, headers or {}, when or {}, times)
        self.rules.insert(0, rule) if first else self.rules.append(rule)

    def answer(self, path: str, fn: Callable[[dict[str, str]], tuple[int, bytes]]) -> None:
        """Answer GET `path` by `fn(params)` → (status, body)."""
        self.rules.append(Rule(path, b"", answer=fn))

    def add_file(self, path: str, name: str, **kw: object) -> None:
        self.add(path, (DATA / name).read_bytes(), **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()



def hf_daily_stand_in(server: RecordedServer, items: list[dict] | None = None) -> None:
    """Make `server` a stand-in of Hugging Face's `/api/daily_papers`: `?date=D` lists that day's items (paged by
    `limit` and `p`), no date lists the newest day's, as huggingface.co does. Items default to the shared
    hf-daily-papers.jsonl (real API items, 2026-05-01 to 2026-08-21)."""
    if items is None:
        items = [json.loads(line) for line in shared("hf-daily-papers.jsonl").read_text(encoding="utf-8").splitlines()]
    by_day: dict[str, list[dict]] = {}
    for item in items:
        by_day.setdefault(item["paper"]["submittedOnDailyAt"][:10], []).append(item)
    newest = max(by_day)

    def daily_papers(params: dict[str, str]) -> tuple[int, bytes]:
        try:
            limit, page = int(params.get("limit", 50)), int(params.get("p", 0))
        except ValueError:
            return 400, b'{"error": "bad limit or p"}'
        day = by_day.get(params.get("date") or newest, [])
        return 200, json.dumps(day[page * limit:(page + 1) * limit]).encode()

    server.answer("/api/daily_papers", daily_papers)
