"""A real HTTP server on 127.0.0.1 that answers recorded bodies, and a free-port helper (shared by conftest and tests)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

DATA = Path(__file__).parent / "data"


@dataclass
class Rule:
    path: str
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    when: dict[str, str] = field(default_factory=dict)
    times: int | None = None


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
                        self.send_response(rule.status)
                        for k, v in rule.headers.items():
                            self.send_header(k, v)
                        self.send_header("Content-Length", str(len(rule.body)))
                        self.end_headers()
                        self.wfile.write(rule.body)
                        return
                self.send_error(404, "no recorded response")

            def do_POST(self) -> None:  # noqa: N802 - webhooks: record the body, answer 200
                length = int(self.headers.get("Content-Length", 0))
                outer.posts.append((self.path, self.rfile.read(length)))
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

    def add_file(self, path: str, name: str, **kw: object) -> None:
        self.add(path, (DATA / name).read_bytes(), **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

