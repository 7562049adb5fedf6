"""Benchmark: `paperscope ingest snapshot` on real arXiv text against the floor of a plain parse-and-insert loop.

Usage: python bench/ingest_snapshot.py [--records 50000] [--repeats 1] [--out bench/results/ingest_snapshot.json]

Builds N snapshot records from the 200 real Kaggle snapshot lines in ../shared/data (read there, never copied into
the repository): unique arXiv ids, about a third of them with LaTeX in the abstract or title as arXiv has, and every
title and abstract made distinct (a per-text cache must not make the benchmark cheaper than the real thing). Then,
in the same run and on the same file:
- ingest: `paperscope ingest snapshot FILE` end to end in a fresh data directory (a child process and the reader
  processes it starts for a file this big: startup, parsing, cleaning, LaTeX, merge lookups, inserts,
  checkpoints), at N/4, N and 2N records for peak RSS (of all its processes together);
- floor: the same file read with `json.loads` and inserted into one SQLite table (WAL, one transaction) by a
  plain Python loop (a child process too).
Prints records/s of both and the ratio; writes bench/results/ingest_snapshot.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
LATEXISH = re.compile(r"[\\{}$^_~]")


def real_lines() -> tuple[list[dict], list[dict]]:
    """The real snapshot records, split into those with LaTeX (title or abstract) and those without."""
    path = DATA / "arxiv-snapshot-sample.jsonl"
    if not path.exists():
        sys.exit(f"missing {path}: this benchmark reads the shared third-party data (see CONTRIBUTING)")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    latex = [r for r in records if LATEXISH.search(r["abstract"] + r["title"])]
    return latex, [r for r in records if not LATEXISH.search(r["abstract"] + r["title"])]


def write_records(path: Path, n: int) -> dict[str, float]:
    """N records with unique ids and distinct texts; returns what the file holds."""
    latex, plain = real_lines()
    with_latex = 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            use_latex = i % 3 == 0  # a third, as on arXiv
            pool = latex if use_latex else plain
            rec = dict(pool[(i // 3) % len(pool)])
            with_latex += use_latex
            rec["id"] = f"{1501 + i // 100000}.{i % 100000:05d}"
            rec["title"] = f"{rec['title']} ({i})"
            rec["abstract"] = f"{rec['abstract'].rstrip()} Record {i}.\n"
            if rec.get("doi"):
                rec["doi"] = f"{rec['doi']}.{i}"  # one paper, one DOI (a shared one would merge records)
            f.write(json.dumps(rec) + "\n")
    return {"records": n, "with_latex": with_latex, "size_mib": round(path.stat().st_size / 2**20, 1),
            "distinct_templates": len(latex) + len(plain)}


def floor(path: str, db: str) -> None:
    """The plain loop: parse each line, insert one row (child process; prints its seconds)."""
    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE papers (id TEXT PRIMARY KEY, title TEXT, abstract TEXT, authors TEXT, "
                 "categories TEXT, versions TEXT, doi TEXT, updated TEXT)")
    n = 0
    with open(path, encoding="utf-8") as f:
        conn.execute("BEGIN")
        for line in f:
            rec = json.loads(line)
            conn.execute("INSERT INTO papers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (rec["id"], rec["title"], rec["abstract"], rec["authors"], rec["categories"],
                          json.dumps(rec["versions"]), rec.get("doi"), rec.get("update_date")))
            n += 1
        conn.execute("COMMIT")
    conn.close()
    print(json.dumps({"records": n, "seconds": time.perf_counter() - t0,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_floor(snap: Path, tmp: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--floor", str(snap), str(tmp / f"floor-{time.time()}.db")],
                         check=True, capture_output=True, text=True).stdout
    row = json.loads(out)
    return {"records_per_s": round(row["records"] / row["seconds"]), "seconds": round(row["seconds"], 2),
            "peak_rss_mib": round(row["peak_rss_mib"], 1)}


def run_ingest(snap: Path, home: Path) -> dict[str, float]:
    """`paperscope ingest snapshot FILE` in a fresh data directory, timed from outside (startup included)."""
    exe = Path(sys.executable).with_name("paperscope")
    cmd = [str(exe), "--data-dir", str(home), "ingest", "snapshot", str(snap), "--json"]
    # a wrapper process of its own, so the peak RSS and CPU it reports are this run's alone
    out = subprocess.run([sys.executable, __file__, "--measure", *cmd], check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()
    measured, report = json.loads(out[-1]), json.loads("\n".join(out[:-1]))
    n = report["added"] + report["updated"] + report["unchanged"]
    return {"records": n, "seconds": round(measured["seconds"], 2), "records_per_s": round(n / measured["seconds"]),
            "cpu_s": round(measured["cpu_s"], 2), "peak_rss_mib": round(measured["peak_rss_mib"], 1),
            "largest_process_rss_mib": round(measured["largest_process_rss_mib"], 1),
            "problems": len(report.get("problems", []))}


def tree_rss_mib(root: int) -> float:
    """The resident memory of a process and all its descendants (the ingest's readers count too), from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields["PPid"])
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in tree) / 1024


def measure(cmd: list[str]) -> None:
    """Run `cmd`, pass its output on, then print its wall seconds, CPU seconds (its processes together) and peak
    RSS (of all its processes at once, sampled every 100 ms) as one JSON line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss_mib(proc.pid))
        time.sleep(0.1)
    out = proc.stdout.read() if proc.stdout else ""
    seconds = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(out.strip())
    print(json.dumps({"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": peak,
                      "largest_process_rss_mib": usage.ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=1, help="alternate floor and ingest this many times; best of each")
    ap.add_argument("--single", action="store_true", help="only the file of N records (no N/4 and 2N runs for memory):"
                    " for big N, e.g. --records 1000000 --single --out bench/results/ingest_snapshot_1m.json")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "ingest_snapshot.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        snap = tmp / "snap.jsonl"
        held = write_records(snap, args.records)
        print(f"{held['records']} records ({held['with_latex']} with LaTeX, {held['size_mib']} MiB) "
              f"from {held['distinct_templates']} real snapshot lines", flush=True)
        sizes = {}
        if not args.single:  # memory must not grow with the file: the same peak at N and 2N
            for name, n in (("ingest_at_quarter_size", max(args.records // 4, 1)),
                            ("ingest_at_double_size", 2 * args.records)):
                write_records(tmp / "snap-size.jsonl", n)
                sizes[name] = run_ingest(tmp / "snap-size.jsonl", tmp / f"home-{n}")
                (tmp / "snap-size.jsonl").unlink()
        floors, ingests = [], []
        for r in range(args.repeats):
            floors.append(run_floor(snap, tmp))
            ingests.append(run_ingest(snap, tmp / f"home-{r}"))
            print(f"floor {floors[-1]['records_per_s']} records/s; ingest {ingests[-1]['records_per_s']} records/s "
                  f"({ingests[-1]['cpu_s']} s CPU, peak RSS {ingests[-1]['peak_rss_mib']} MiB)", flush=True)
    best_floor = max(floors, key=lambda x: x["records_per_s"])
    best_ingest = max(ingests, key=lambda x: x["records_per_s"])
    ratio = round(best_floor["records_per_s"] / best_ingest["records_per_s"], 2)
    result = {"benchmark": "ingest_snapshot", "file": held, "floor": best_floor, "ingest": best_ingest,
              "ratio_floor_over_ingest": ratio, **sizes, "runs": {"floor": floors, "ingest": ingests},
              "cores": os.cpu_count(), "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]}
    peaks = sorted([best_ingest, *sizes.values()], key=lambda x: x["records"])
    print(f"floor {best_floor['records_per_s']} records/s, ingest {best_ingest['records_per_s']} records/s: "
          f"{ratio}x; peak RSS " + ", ".join(f"{x['peak_rss_mib']} MiB at {x['records']} records" for x in peaks))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--floor":
        floor(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 2 and sys.argv[1] == "--measure":
        measure(sys.argv[2:])
    else:
        main()
