"""A loopback stand-in of Hugging Face's `/api/daily_papers`, serving saved API items (standard library only).

    python tools/hf_stand_in.py [../shared/data/hf-daily-papers.jsonl] [--port 0]

Prints its base URL on the first line, then serves until killed: `?date=YYYY-MM-DD` lists that day's items (paged
by `limit` and `p`), no date lists the newest day's, as huggingface.co does. Point paperscope at it to run the demo
without a network on a real week:

    PAPERSCOPE_HF_API_URL=http://127.0.0.1:PORT paperscope demo

`.ci/run` times the demo this way; the tests use the same stand-in built on their RecordedServer
(tests/recorded.py, `hf_daily_stand_in`).
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("items", type=Path, nargs="?", default=ROOT.parent / "shared" / "data" / "hf-daily-papers.jsonl")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    by_day: dict[str, list[dict]] = {}
    for line in args.items.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        by_day.setdefault(item["paper"]["submittedOnDailyAt"][:10], []).append(item)
    newest = max(by_day)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            params = dict(parse_qsl(parts.query))
            if parts.path != "/api/daily_papers":
                self.send_error(404)
                return
            limit, page = int(params.get("limit", 50)), int(params.get("p", 0))
            body = json.dumps(by_day.get(params.get("date") or newest, [])[page * limit:(page + 1) * limit]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"http://127.0.0.1:{httpd.server_address[1]}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
