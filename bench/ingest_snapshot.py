"""Benchmark: ingest a generated arXiv snapshot; prints records/s and peak memory at two sizes.

Usage: python bench/ingest_snapshot.py [--records 200000] [--out bench/results/ingest.json]
Each size runs in a fresh child process so peak RSS is that run's alone (memory must stay flat in file size).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth import write_snapshot  # noqa: E402


def _child(snapshot: str, home: str) -> None:
    from paperscope.config import load_settings
    from paperscope.pipeline import SourceOptions, ingest
    from paperscope.store import Store

    settings = load_settings(home, environ={})
    store = Store(settings.db_path)
    t0 = time.perf_counter()
    report = ingest(store, settings, "snapshot", SourceOptions(path=Path(snapshot)))
    seconds = time.perf_counter() - t0
    n = report.added + report.updated + report.unchanged
    print(json.dumps({"records": n, "seconds": round(seconds, 2), "records_per_s": round(n / seconds),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "problems": len(report.problems)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "ingest.json"))
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted({max(args.records // 4, 1), args.records}):
            snap = write_snapshot(Path(tmp) / f"snap{n}.jsonl", n)
            out = subprocess.run([sys.executable, __file__, "--child", str(snap), str(Path(tmp) / f"home{n}")],
                                 check=True, capture_output=True, text=True).stdout
            row = {"size_mib": round(snap.stat().st_size / 2**20, 1), **json.loads(out)}
            print(f"{row['records']:>8} records ({row['size_mib']} MiB): {row['records_per_s']} records/s, "
                  f"peak RSS {row['peak_rss_mib']} MiB, {row['seconds']} s")
            results.append(row)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"benchmark": "ingest_snapshot", "runs": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
