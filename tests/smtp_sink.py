"""A real SMTP server process for the tests (aiosmtpd): stores each message, can refuse the first ones."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out: Path, refuse: int) -> None:
        self.out, self.refuse, self.count = out, refuse, 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        self.count += 1
        rcpts = ",".join(envelope.rcpt_tos)
        (self.out / f"{self.count:04d}.eml").write_bytes(f"X-Rcpt-To: {rcpts}\r\n".encode() + envelope.content)
        return "250 OK"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--refuse", type=int, default=0)
    args = ap.parse_args()
    controller = Controller(Sink(args.out, args.refuse), hostname="127.0.0.1", port=args.port)
    controller.start()
    (args.out / "READY").write_text("ok")
    while True:
        time.sleep(1)
