"""Either index damaged or its disk full, through real processes: the server starts and says what to run,
search and similar answer 503 `index_damaged`, every other page works; a full disk is one line and exit 4."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from serving import serving

# The CLI with a cap on the size a file may grow to (writes fail with EFBIG, as on a full disk), set by the new
# interpreter itself: a `preexec_fn` would fork this test process, and a worker that has loaded gRPC (the Ray and
# Milvus tests) aborts in the forked child before it can exec.
_CAPPED = ("import resource, runpy, sys; n = int(sys.argv.pop(1)); resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); "
           "runpy.run_module('paperscope', run_name='__main__', alter_sys=True)")


def _cli(home: Path, *args: str, max_file_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    start = ["-m", "paperscope"] if max_file_bytes is None else ["-c", _CAPPED, str(max_file_bytes)]
    return subprocess.run([sys.executable, *start, "--data-dir", str(home), *args],
                          capture_output=True, text=True, timeout=300)


def _live(home: Path) -> Path:
    return home / "index" / (home / "index" / "CURRENT").read_text().strip()


def _keyword_meta(home: Path) -> None:
    (_live(home) / "keyword" / "meta.json").write_text('{"segments": [{"segment_id": ')


def _keyword_segment(home: Path) -> None:
    biggest = max((p for p in (_live(home) / "keyword").iterdir() if p.suffix in {".idx", ".term", ".store"}),
                  key=lambda p: p.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[:16])


def _vector_meta(home: Path) -> None:
    (meta,) = _live(home).glob("vectors-*/meta.json")
    meta.write_text('{"format": ')


@pytest.mark.parametrize("damage", [_keyword_meta, _keyword_segment, _vector_meta])
def test_a_damaged_index_leaves_the_server_up_and_only_search_and_similar_refused(new_sample_home, damage):
    home = new_sample_home()
    found = _cli(home, "search", "language", "--mode", "keyword", "--json")
    assert found.returncode == 0, found.stderr
    paper = json.loads(found.stdout)["hits"][0]["id"]
    damage(home)
    with serving(home) as url:
        assert requests.get(url + "/healthz", timeout=30).status_code == 200
        ready = requests.get(url + "/readyz", timeout=30)
        assert ready.status_code == 503 and "paperscope index --rebuild" in ready.text
        assert str(home) not in ready.text  # no paths of the server's disk to anonymous callers
        for path in ("/api/search?q=language", "/api/similar/" + paper, "/search?q=language"):
            r = requests.get(url + path, timeout=30)
            assert r.status_code == 503, (path, r.status_code, r.text[:300])
            if path.startswith("/api"):
                assert r.json()["code"] == "index_damaged" and "index --rebuild" in r.json()["error"]
        for path in ("/", "/trending", "/about", "/api/stats", "/paper/" + paper, "/api/daily_papers"):
            r = requests.get(url + path, timeout=30)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
    rebuilt = _cli(home, "index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert _cli(home, "search", "language", "--json").returncode == 0


@pytest.mark.parametrize("part", ["keyword", "vectors"])
def test_a_full_disk_while_an_index_is_written_is_one_line_and_exit_4(new_sample_home, part):
    home = new_sample_home()
    live = _live(home)
    keyword_files = [p.stat().st_size for p in (live / "keyword").iterdir()]
    (vectors,) = live.glob("vectors-*/vectors.f16")
    # keyword: no file may be as big as its biggest; vectors: the keyword files fit, the vector file does not
    limit = max(keyword_files) // 2 if part == "keyword" else max(keyword_files) + 1
    assert part == "keyword" or vectors.stat().st_size > limit
    before = (home / "index" / "CURRENT").read_text()
    done = _cli(home, "index", "--rebuild", max_file_bytes=limit)
    assert done.returncode == 4, (done.returncode, done.stderr)
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "previous index still serves" in lines[0] and "Free disk space" in lines[0]
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr
    assert (home / "index" / "CURRENT").read_text() == before
    assert _cli(home, "search", "language", "--json").returncode == 0  # the previous generation still answers
