"""Index generations: each update writes a new generation directory and swaps one `CURRENT` pointer.

Layout under `<data dir>/index/`: `CURRENT` (the live generation's name), `g000012/` (`keyword/`,
`vectors-<model>/`, `.hold`), and `.write.lock`. A writer hard-links the live generation's files into a new
directory (tantivy segments are immutable; vector files are only appended to, or copied before an in-place
change), updates it, fsyncs, then replaces `CURRENT` by rename. Readers hold a shared lock on their
generation's `.hold`; a generation that is not current and that nobody holds is deleted.
Part of the index layer: only `index`, this module and the pipeline's index step touch these files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexDamagedError

POINTER = "CURRENT"
HOLD = ".hold"
_NAME = re.compile(r"g\d{6}")
_SKIP = re.compile(r"(\.tantivy-.*\.lock|\.hold|\..*\.tmp)$")


class Generation:
    """A reader's (or writer's) hold on one generation: the directory is not deleted while this is open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.name = path.name
        self._fd: int | None = fd

    def release(self) -> None:
        """Let go of the generation (it may be deleted once it is no longer current)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:
        self.release()


def is_name(name: str) -> bool:
    """Whether `name` is a generation directory's name (`g` and six digits)."""
    return bool(_NAME.fullmatch(name))


def current_name(root: Path) -> str | None:
    """The live generation's name, or None when there is none yet."""
    try:
        name = (root / POINTER).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not _NAME.fullmatch(name):
        raise IndexDamagedError(f"{root / POINTER} does not name a generation; run `paperscope index --rebuild`")
    return name


def stamp(root: Path) -> tuple[int, int] | None:
    """A cheap fingerprint of the pointer (one stat): it changes whenever a new generation goes live."""
    try:
        st = os.stat(root / POINTER)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _hold(path: Path, exclusive: bool = False) -> Generation | None:
    """A lock on a generation's `.hold`, or None if it is gone (or, when exclusive, held by someone)."""
    try:
        fd = os.open(path / HOLD, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino != os.stat(path / HOLD).st_ino:
            raise FileNotFoundError  # deleted between open and lock
    except OSError:
        os.close(fd)
        return None
    return Generation(path, fd)


def hold_current(root: Path) -> Generation | None:
    """Hold the live generation (retrying across a concurrent swap); None when no generation exists."""
    for _ in range(100):
        name = current_name(root)
        if name is None:
            return None
        held = _hold(root / name)
        if held is not None:
            return held
    raise IndexDamagedError(f"the live index generation under {root} cannot be opened; "
                            "run `paperscope index --rebuild`")


def is_legacy(root: Path) -> bool:
    """Index files of the layout before generations (`index/keyword`, `index/vectors-*`) and no pointer."""
    return not (root / POINTER).exists() and any(
        p.name == "keyword" or p.name.startswith("vectors-") for p in root.glob("*") if p.is_dir())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link every file of `src` into `dst` (same tree), skipping locks and temporaries."""
    for dirpath, _dirs, names in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in names:
            if not _SKIP.match(name):
                os.link(Path(dirpath) / name, dst / rel / name)


def _fsync_tree(path: Path) -> None:
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            fd = os.open(Path(dirpath) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


class Writer:
    """The one writer of an index root (under `.write.lock`): start a generation, fill it, publish it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = hold_current(root)
        self.new: Generation | None = None

    def start(self, copy_live: bool) -> Path:
        """A new generation directory: the live one's files hard-linked in (or empty for a rebuild)."""
        names = [int(p.name[1:]) for p in self.root.glob("g*") if _NAME.fullmatch(p.name)]
        path = self.root / f"g{max(names, default=0) + 1:06d}"
        path.mkdir()
        (path / HOLD).touch()
        self.new = _hold(path)
        if copy_live and self.base is not None:
            _link_tree(self.base.path, path)
        return path

    def publish(self) -> None:
        """Make the new generation durable, then live: fsync its files, replace `CURRENT` by rename."""
        assert self.new is not None
        _fsync_tree(self.new.path)
        tmp = self.root / f".{POINTER}.tmp"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(self.new.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / POINTER)
        _fsync_dir(self.root)
        if self.base is not None:
            self.base.release()
        self.base, self.new = self.new, None

    def abandon(self) -> None:
        """Delete a generation that was started but not published (the live one is untouched)."""
        if self.new is not None:
            path = self.new.path
            self.new.release()
            self.new = None
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def writing(root: Path) -> Iterator[Writer]:
    """Be the only writer of this index root; an exception abandons the unpublished generation."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".write.lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        writer = Writer(root)
        try:
            yield writer
        except BaseException:
            writer.abandon()
            raise
        finally:
            if writer.base is not None:
                writer.base.release()
        collect(root)


def collect(root: Path) -> int:
    """Delete generations that are not live and that no reader holds (and legacy files once a pointer exists).

    Returns how many old generations are left (held by a reader)."""
    live = current_name(root)
    if live is None:
        return 0
    left = 0
    for path in sorted(root.glob("g*")):
        if not _NAME.fullmatch(path.name) or path.name == live or not path.is_dir():
            continue
        held = _hold(path, exclusive=True) if (path / HOLD).exists() else None
        if held is None and (path / HOLD).exists():
            left += 1
            continue
        shutil.rmtree(path, ignore_errors=True)
        if held is not None:
            held.release()
    for legacy in [root / "keyword", *root.glob("vectors-*")]:
        if legacy.is_dir():
            shutil.rmtree(legacy, ignore_errors=True)
    return left


def ensure_live(root: Path, init: Callable[[Path], object] | None = None) -> Generation:
    """Hold the live generation, first publishing an empty one (made by `init`) when there is none."""
    held = hold_current(root)
    if held is not None:
        return held
    if is_legacy(root):
        raise IndexDamagedError(f"the index under {root} was written by an older paperscope; "
                                "run `paperscope index --rebuild`")
    with writing(root) as w:
        if w.base is None:
            path = w.start(copy_live=False)
            if init is not None:
                init(path)
            w.publish()
    held = hold_current(root)
    if held is None:
        raise IndexDamagedError(f"no index generation under {root}; run `paperscope index --rebuild`")
    return held
