"""Benchmark: search speed of two source trees side by side, rounds alternating, medians of the rounds.

Usage: python bench/before_after.py --before-src OLD/src [--after-src src] [--papers 100000] [--rounds 4]
Each version builds its own data dir with its own code (bench/search_speed.py, once; reused afterwards), then
the rounds run `search_speed.py --serve-only --no-extras` for each version in turn, swapping which goes first,
so drift on the machine falls on both. Writes every round and the medians to
bench/results/search_speed_<label>_before_after.json. For an old tree whose default embedder no longer
installs, copy today's src/paperscope/embed.py and model/ into it: the query embedder then is the same.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SPEED = ROOT / "search_speed.py"


def _label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


def run(src: Path, papers: int, data_dir: Path, serve_only: bool) -> dict[str, dict[str, float]]:
    """One search_speed.py run with `src` first on the path; its serving figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speed.json"
        cmd = [sys.executable, str(SPEED), "--papers", str(papers), "--no-extras", "--queries", "300",
               "--data-dir", str(data_dir), "--out", str(out)] + (["--serve-only"] if serve_only else [])
        subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=str(src)), check=True, capture_output=True)
        serve = json.loads(out.read_text())["serve"]
    return {k: v for k, v in serve.items() if isinstance(v, dict)}


def medians(rounds: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Per case and figure, the median over the rounds."""
    return {case: {fig: round(statistics.median(r[case][fig] for r in rounds), 2) for fig in rounds[0][case]}
            for case in rounds[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--before-src", type=Path, required=True)
    ap.add_argument("--after-src", type=Path, default=ROOT.parent / "src")
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--before-label", default=None, help="what the old tree is, e.g. 'main at 63e9e12'")
    ap.add_argument("--after-label", default=None)
    args = ap.parse_args()
    label = _label(args.papers)
    out = args.out or ROOT / "results" / f"search_speed_{label}_before_after.json"
    srcs = {"before": args.before_src.resolve(), "after": args.after_src.resolve()}
    dirs = {v: ROOT / "out" / f"speed-{label}-{v}" for v in srcs}
    for v, d in dirs.items():
        if not (d / "index").exists():
            print(f"building {d} with {srcs[v]} …", flush=True)
            d.mkdir(parents=True, exist_ok=True)
            run(srcs[v], args.papers, d, serve_only=False)
    rounds: list[dict[str, object]] = []
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        entry: dict[str, object] = {"round": r + 1, "first": "before" if r % 2 == 0 else "after"}
        for v in (("before", "after") if r % 2 == 0 else ("after", "before")):
            entry[v] = run(srcs[v], args.papers, dirs[v], serve_only=True)
            hybrid = entry[v]["hybrid no filter"]  # type: ignore[index]
            print(f"round {r + 1} {v:<6} hybrid p50 {hybrid['p50_ms']:6.2f} ms  p99 {hybrid['p99_ms']:6.2f} ms", flush=True)
        rounds.append(entry)
    result = {"papers": args.papers, "queries": 300, "before": args.before_label or str(srcs["before"]),
              "after": args.after_label or str(srcs["after"]),
              "machine": f"{os.cpu_count()} cores, load {load:.2f} when the rounds began; "
                         f"{args.rounds} rounds alternating which version runs first",
              "median_of_rounds": {v: medians([e[v] for e in rounds]) for v in srcs},  # type: ignore[misc]
              "rounds": rounds}
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result["median_of_rounds"], indent=1))


if __name__ == "__main__":
    main()
