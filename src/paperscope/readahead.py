"""Read a big file in other processes while this one writes: parsing, cleaning and LaTeX are most of an ingest.

Each reader runs the pipeline's own reading (`pipeline.read_cleaned`) over its share of the file's batches (every
n-th, up to the byte where the file ended when the ingest began: `read_jsonl`), prepares each paper as the store
writes it (`store.papers.prepare`), and sends the batch through a pipe of its own; the writer takes the batches in
file order. A pipe is the only link: it holds about one batch (memory stays flat in the file's size); a writer
that stops (an error, Ctrl-C, `kill -9`) closes it and the reader ends at its next send; a reader that dies is an
EOF here. Checkpoints travel inside the batches and are committed by the writer with them, so a re-run resumes
exactly as a one-process ingest does.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from .errors import PaperscopeError, SourceError
from .models import Share

if TYPE_CHECKING:
    from .config import Settings
    from .models import Batch, Problem
    from .pipeline import SourceOptions

JOIN_SECONDS = 10.0
# what a reader runs: (source, settings, options, checkpoint) → cleaned batches with their notes
Read = Callable[..., "Iterator[tuple[Batch, list[Problem]]]"]


class _RemoteTraceback(Exception):
    """The reader's own traceback, chained to the error raised here (as `concurrent.futures` does)."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


class ReaderCrash(Exception):
    """An unexpected error in a reading process (a bug, not a bad record): the CLI reports it as unexpected."""


def _portable(exc: BaseException) -> Any:
    """The message for the writer: the error itself when it is ours and survives pickling, else its text."""
    if isinstance(exc, PaperscopeError):
        try:
            pickle.loads(pickle.dumps(exc))
            return ("error", exc)
        except Exception:  # an error whose constructor takes other arguments: keep its kind's message
            return ("error", SourceError(str(exc)))
    return ("crash", f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _read(conn: Connection, read: Read, source: str, settings: Settings, opts: SourceOptions,
          checkpoint: dict[str, Any] | None) -> None:
    """The reading process: send each cleaned batch, prepared for the store, until the end or an error."""
    from .store.papers import prepare

    try:
        for batch, notes in read(source, settings, opts, checkpoint):
            conn.send(("batch", dataclasses.replace(batch, papers=(), prepared=tuple(map(prepare, batch.papers))),
                       notes))
        conn.send(("end",))
    except (BrokenPipeError, ConnectionResetError):
        return  # the writer has gone: nothing is left to tell
    except BaseException as exc:  # every failure is the writer's to report
        try:
            conn.send(_portable(exc))
        except (BrokenPipeError, ConnectionResetError):
            return
    finally:
        conn.close()


def _receive(receive: Connection, reader: Any, source: str) -> Any:
    try:
        return receive.recv()
    except (EOFError, OSError):  # OSError: it died while sending ("got end of file during message")
        reader.join(JOIN_SECONDS)
        raise SourceError(f"a process reading the {source} file stopped without a word (exit code "
                          f"{reader.exitcode}); what was committed is kept: run the ingest again to resume") from None


def readers_for(source: str, opts: SourceOptions) -> int:
    """How many processes read the file: one per core, at most three, where its batches can be shared out (JSON
    Lines); else one. Reading is the heavy side (parse, clean, LaTeX, encode) and the writer waits on the disk part
    of the time, so on two cores two readers beside it were faster than one (`bench/ingest_snapshot.py`)."""
    if source == "file":
        from .sources.files import detect_format

        if detect_format(opts.path, opts.fmt) != "jsonl":  # type: ignore[arg-type]
            return 1
    return max(1, min(3, os.cpu_count() or 1))


@contextmanager
def _deaf_to_ctrl_c() -> Iterator[None]:
    """Start readers with Ctrl-C ignored from their first instruction (a spawned process inherits an ignored
    signal): a Ctrl-C is the writer's to handle, and its closed pipes end the readers."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; an ingest in another thread has no terminal anyway
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def cleaned_batches(read: Read, source: str, settings: Settings, opts: SourceOptions,
                    checkpoint: dict[str, Any] | None) -> Iterator[tuple[list[Batch], list[Problem]]]:
    """Consecutive batches of the source, cleaned and prepared, with their notes: `read` (`pipeline.read_cleaned`,
    a module function, so a new process can import it) runs in other processes, which take the batches in turn.

    The batches already waiting when the writer is ready are handed over together (up to four batch sizes of
    records) for one transaction: fewer, bigger commits rewrite the indexes' pages less often. The store plans each
    batch as if it were committed alone, so what is stored does not depend on how many were waiting."""
    ctx = multiprocessing.get_context("spawn")  # never fork a process that holds SQLite connections and threads
    n = readers_for(source, opts)
    end = opts.path.stat().st_size if opts.path is not None else 0  # every reader stops at the same byte
    links = []
    with _deaf_to_ctrl_c():
        for k in range(n):
            receive, send = ctx.Pipe(duplex=False)
            shared = dataclasses.replace(opts, share=Share(k, n, end) if n > 1 else None)
            reader = ctx.Process(target=_read, args=(send, read, source, settings, shared, checkpoint), daemon=True,
                                 name=f"paperscope-read-{k}")
            reader.start()
            send.close()  # the reader holds the only sending end: its exit is an EOF here
            links.append((receive, reader))
    most = 4 * settings.batch_size
    turn = 0  # batch i comes from reader i % n

    def take() -> Any:
        nonlocal turn
        receive, reader = links[turn]
        message = _receive(receive, reader, source)
        if message[0] == "batch":
            turn = (turn + 1) % n
        return message

    def size(batch: Batch) -> int:
        return len(batch.prepared) + len(batch.problems)

    pending = None  # a message already received that is not a batch to hand over with the others
    try:
        while True:
            message, pending = pending or take(), None
            if message[0] == "batch":
                parts, notes = [message[1]], list(message[2])
                while sum(map(size, parts)) < most and links[turn][0].poll():
                    pending = take()
                    if pending[0] != "batch":
                        break
                    parts.append(pending[1])
                    notes += pending[2]
                    pending = None
                yield parts, notes
                continue
            if message[0] == "end":  # the others have no batch left either: each says so, or why it stopped
                others = [link for i, link in enumerate(links) if i != turn]
                message = next((m for m in (_receive(r, p, source) for r, p in others) if m[0] != "end"), None)
                if message is None:
                    return
                if message[0] == "batch":
                    message = ("crash", "ReaderMismatch: a reader sent a batch after the file's last one",
                               "(no traceback: the readers cut the file differently)")
            if message[0] == "error":
                raise message[1]
            raise ReaderCrash(f"{message[1]} (in a process reading the {source} file)") \
                from _RemoteTraceback(message[2])
    finally:
        for receive, _ in links:
            receive.close()  # a reader still sending gets a broken pipe and ends
        for _, reader in links:
            reader.join(JOIN_SECONDS)
            if reader.is_alive():
                reader.kill()
                reader.join()
