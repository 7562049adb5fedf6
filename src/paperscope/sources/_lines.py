"""Stream a JSON Lines file in batches with a byte-offset checkpoint, never loading it whole."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import SourceError
from ..models import Batch, Paper, Problem

FINGERPRINT_BYTES = 65536


def fingerprint(path: Path, length: int = FINGERPRINT_BYTES) -> str:
    """Identify a file by its first bytes, so a resumed run does not continue inside another file."""
    with path.open("rb") as fh:
        return hashlib.sha1(fh.read(min(length, FINGERPRINT_BYTES))).hexdigest()


def resume_point(path: Path, checkpoint: dict[str, Any] | None) -> tuple[int, int]:
    """(byte offset, line number) to start at: the checkpoint's if it belongs to this very file."""
    if not checkpoint:
        return 0, 0
    offset = int(checkpoint.get("offset", 0))
    if offset > path.stat().st_size or checkpoint.get("fingerprint") != fingerprint(path, offset):
        return 0, 0
    return offset, int(checkpoint.get("line", 0))


def read_jsonl(
    path: Path,
    checkpoint: dict[str, Any] | None,
    batch_size: int,
    to_paper: Callable[[Any], Paper],
) -> Iterator[Batch]:
    """Yield batches of papers from a JSONL file; a bad line becomes a Problem naming its line number."""
    try:
        size = path.stat().st_size
        offset, line_no = resume_point(path, checkpoint)
        fh = path.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}; check the path") from None
    with fh:
        fh.seek(offset)
        papers: list[Paper] = []
        problems: list[Problem] = []
        start = offset
        while True:
            raw = fh.readline()
            if raw:
                line_no += 1
                offset += len(raw)
                if raw.strip():
                    try:
                        papers.append(to_paper(json.loads(raw)))
                    except json.JSONDecodeError as exc:
                        problems.append(Problem(f"{path.name}:{line_no}", f"not valid JSON ({exc.msg} at column {exc.colno})"))
                    except UnicodeDecodeError:
                        problems.append(Problem(f"{path.name}:{line_no}", "not valid UTF-8"))
                    except (ValueError, TypeError, KeyError, AttributeError) as exc:
                        problems.append(Problem(f"{path.name}:{line_no}", str(exc) or exc.__class__.__name__))
            if (not raw and (papers or problems or offset == start)) or len(papers) + len(problems) >= batch_size:
                cp = {"path": str(path), "fingerprint": fingerprint(path, offset), "offset": offset, "line": line_no}
                yield Batch(tuple(papers), tuple(problems), cp, done=offset - start, total=size)
                papers, problems, start = [], [], offset
            if not raw:
                return
