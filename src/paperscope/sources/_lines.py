"""Stream a JSON Lines file in batches with a byte-offset checkpoint, never loading it whole."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..models import Batch, Paper, Problem, Share

FINGERPRINT_BYTES = 65536


def problem_reason(exc: BaseException) -> str:
    """One line saying why a record was skipped, whatever was raised while reading it."""
    text = " ".join(str(exc).split())[:200]
    if isinstance(exc, (ValueError, TypeError, KeyError, AttributeError)) and text:
        return text
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


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


INCOMPLETE = "incomplete last line, will be read when complete"


def _decode(raw: bytes) -> Any:
    """Strict UTF-8 first, then JSON, so each failure is named for what it is."""
    text = raw.decode("utf-8")  # UnicodeDecodeError: not valid UTF-8
    return json.loads(text.lstrip("\ufeff"))


def _json_reason(exc: json.JSONDecodeError) -> str:
    # json's own message for a control character already ends in "at": do not say "at at".
    msg = exc.msg[:-3] if exc.msg.endswith(" at") else exc.msg
    return f"not valid JSON ({msg} at column {exc.colno})"


def read_jsonl(
    path: Path,
    checkpoint: dict[str, Any] | None,
    batch_size: int,
    to_paper: Callable[[Any], Paper],
    share: Share | None = None,
) -> Iterator[Batch]:
    """Yield batches of papers from a JSONL file; a bad line becomes a Problem naming its line number.

    The checkpoint only ever moves past complete lines (ending in a newline). A last line without
    one that is not yet whole JSON is a file still being written or downloaded: it is left for the
    next run and reported as such. A last line without a newline that does parse is read.

    `share`: yield only every n-th batch from the k-th, for one of n processes reading the same file, and read no
    further than its `end`. Every reader cuts the same bytes into the same batches (a line is one record, parsed or
    not), so their batches interleave into exactly the one-reader sequence.
    """
    try:
        size = path.stat().st_size if share is None else share.end
        offset, line_no = resume_point(path, checkpoint)
        fh = path.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}; check the path") from None
    mine, readers = (0, 1) if share is None else (share.index, share.readers)
    with fh:
        fh.seek(offset)
        papers: list[Paper] = []
        problems: list[Problem] = []
        start = offset
        held = 0  # records in this batch: papers and problems, or (another reader's batch) lines counted
        while True:
            raw = fh.readline() if share is None else fh.readline(size - offset) if size > offset else b""
            if raw and not raw.endswith(b"\n") and raw.strip():
                try:
                    _decode(raw)
                except ValueError:  # JSONDecodeError or UnicodeDecodeError: cut off mid-record
                    problems.append(Problem(f"{path.name}:{line_no + 1}", INCOMPLETE))
                    held += 1
                    raw = b""
            if raw:
                line_no += 1
                offset += len(raw)
                if raw.strip():
                    held += 1
                    if mine == 0:
                        try:
                            papers.append(to_paper(_decode(raw)))
                        except UnicodeDecodeError as exc:
                            where = f"byte {raw[exc.start]:#04x} at byte {exc.start + 1}"
                            problems.append(Problem(f"{path.name}:{line_no}", f"not valid UTF-8 ({where})"))
                        except json.JSONDecodeError as exc:
                            problems.append(Problem(f"{path.name}:{line_no}", _json_reason(exc)))
                        except RecursionError:
                            problems.append(Problem(f"{path.name}:{line_no}", "nested too deeply to be a record"))
                        except Exception as exc:  # one record never aborts the file: skip it, say where and why
                            problems.append(Problem(f"{path.name}:{line_no}", problem_reason(exc)))
            if (not raw and (held or offset == start)) or held >= batch_size:
                if mine == 0:
                    cp = {"path": str(path), "fingerprint": fingerprint(path, offset), "offset": offset,
                          "line": line_no}
                    yield Batch(tuple(papers), tuple(problems), cp, done=offset - start, total=size)
                papers, problems, start, held = [], [], offset, 0
                mine = (mine - 1) % readers  # 0 when the next batch is this reader's
            if not raw:
                return
