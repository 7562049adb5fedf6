"""`paperscope demo` as a new user runs it: a real process on a free loopback port, Hugging Face at a stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

from serving import free_port, stop


@dataclass
class Demo:
    url: str
    seconds: float  # from starting the command to the first page served
    log: IO[bytes]

    def output(self) -> str:
        """Everything the command printed so far (stdout and stderr)."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@contextmanager
def running_demo(home: Path, hf_url: str, *args: str) -> Iterator[Demo]:
    """Start `paperscope demo` on `home` with `hf_api_url` set to `hf_url`; yield once its home page answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PAPERSCOPE_HF_API_URL": hf_url}
    with tempfile.TemporaryFile() as log:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--data-dir", str(home), "demo", "--port", str(port),
                                 *args], stdout=log, stderr=subprocess.STDOUT, env=env)
        demo = Demo(url, 0.0, log)
        try:
            deadline = started + 180
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if requests.get(url + "/", timeout=5).ok:
                        demo.seconds = time.monotonic() - started
                        break
                except requests.ConnectionError:
                    time.sleep(0.2)
            else:
                raise RuntimeError(f"paperscope demo did not serve {url}:\n{demo.output()}")
            yield demo
        finally:
            stop(proc)
