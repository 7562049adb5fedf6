"""Third-party data stays in ../shared/data: nothing under tests/ or src/ is a copy of a shared file, whole or in part.

A project file fails when it is byte for byte a shared file, when its lines (JSON Lines records, or the lines of
any text file) are all lines of one shared file, as written or as the same JSON re-serialised, or when it is JSON
Lines whose every record carries a long text (a title, an abstract) of one shared file's records: a slimmed copy. The seed listing
pages' papers (`listing-papers.jsonl`) are allowed in the repository and the package, so that file is left out.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

from recorded import shared

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"listing-papers.jsonl"}  # text from the seed listing pages (shared/data/README.md)
MIN_LINE = 20  # shorter lines (`}`, `</entry>`, a TSV header) are everywhere; a file of only those proves nothing
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "artifacts", ".hypothesis"}


def project_files(root: Path = ROOT) -> list[Path]:
    """Every file under tests/ and src/ that git tracks or would track (the walk outside a git checkout)."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                                 "--", "tests", "src"], capture_output=True, check=True).stdout.decode()
        return sorted(p for p in (root / name for name in listed.split("\0") if name) if p.is_file())
    except (OSError, subprocess.CalledProcessError):
        return sorted(p for top in ("tests", "src") for p in (root / top).rglob("*")
                      if p.is_file() and not SKIP_DIRS & set(p.relative_to(root).parts))


def _lines(blob: bytes) -> set[bytes]:
    return {line.strip() for line in blob.splitlines() if line.strip()}


def _texts(value: object) -> set[str]:
    """The long strings inside a JSON value (titles, abstracts, comments): what a slimmed copy keeps."""
    if isinstance(value, str):
        return {value} if len(value) >= 40 else set()
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*map(_texts, items)) if items else set()


def _records(lines: set[bytes]) -> list[object] | None:
    try:
        return [json.loads(line) for line in lines]
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _canonical(line: bytes) -> bytes | None:
    """One JSON value written one way (sorted keys, no spaces), or None when the line is not JSON."""
    try:
        return json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):  # tests/security holds deliberately deep nesting
        return None


@cache
def shared_index(root: Path) -> tuple[dict[str, Path], list[tuple[Path, set[bytes], set[bytes], set[str]]]]:
    """sha256 → shared file, and per shared text file its lines as written, as canonical JSON, and its records'
    long texts."""
    hashes, texts = {}, []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name not in ALLOWED):
        blob = path.read_bytes()
        hashes[hashlib.sha256(blob).hexdigest()] = path
        if b"\0" not in blob[:4096]:
            lines = _lines(blob)
            whole = _records({blob}) if path.suffix == ".json" else None
            records = whole if whole is not None else [r for r in (_records({line}) for line in lines) if r]
            leaves = set().union(*(_texts(r) for r in records)) if records else set()
            texts.append((path, lines, {c for c in map(_canonical, lines) if c is not None}, leaves))
    return hashes, texts


def copies(files: list[Path], shared_root: Path) -> list[str]:
    """What each offending file copies, one line each."""
    hashes, texts = shared_index(shared_root)
    found = []
    for path in files:
        blob = path.read_bytes()
        same = hashes.get(hashlib.sha256(blob).hexdigest())
        if same:
            found.append(f"{path} is byte for byte {same}")
            continue
        if b"\0" in blob[:4096]:
            continue
        lines = _lines(blob)
        if not any(len(line) >= MIN_LINE for line in lines):
            continue
        canonical = {_canonical(line) for line in lines}
        records = _records(lines) if path.suffix in (".jsonl", ".ndjson", ".json") else None
        for source, shared_lines, shared_json, shared_texts in texts:
            if lines <= shared_lines:
                found.append(f"{path}: all {len(lines)} line(s) are lines of {source}")
                break
            if None not in canonical and canonical <= shared_json:
                found.append(f"{path}: all {len(lines)} JSON line(s) are records of {source}")
                break
            if records and all(_texts(r) & shared_texts for r in records):
                found.append(f"{path}: every one of its {len(records)} record(s) carries a text of {source}")
                break
    return found


def test_no_file_under_tests_or_src_copies_shared_data():
    root = shared()
    files = project_files()
    assert len(files) > 100 and ROOT / "src" / "paperscope" / "sample" / "listing-papers.jsonl" in files
    assert copies(files, root) == []


def test_the_check_finds_whole_copies_line_subsets_and_reserialised_records(tmp_path):
    root = shared()
    whole = tmp_path / "recording.xml"
    shutil.copyfile(root / "real-arxiv" / "api_id_1707.08567.xml", whole)
    records = (root / "hf-daily-papers.jsonl").read_bytes().splitlines(keepends=True)
    subset = tmp_path / "sample.jsonl"
    subset.write_bytes(records[40] + b"\n" + records[7])  # two records, out of order, a blank line between
    reserialised = tmp_path / "slim.jsonl"
    reserialised.write_text(json.dumps(json.loads(records[3]), indent=None, sort_keys=False) + "\n")
    cut = tmp_path / "snapshot-head.jsonl"
    cut.write_bytes(b"".join((root / "arxiv-snapshot-sample.jsonl").read_bytes().splitlines(keepends=True)[:5]))
    own = tmp_path / "own.jsonl"
    own.write_bytes(records[40] + b'{"title": "A record written here, not copied from anywhere"}\n')
    slim = tmp_path / "slimmed.jsonl"
    slim.write_text("".join(json.dumps({"paper": {"id": r["paper"]["id"], "title": r["paper"]["title"]}}) + "\n"
                            for r in map(json.loads, records[100:103])))
    listing = tmp_path / "listing-papers.jsonl"
    shutil.copyfile(root / "listing-papers.jsonl", listing)
    found = copies([whole, subset, reserialised, cut, slim, own, listing], root)
    assert [line.split(" ")[0].rstrip(":") for line in found] == [str(p) for p in (whole, subset, reserialised, cut, slim)]
