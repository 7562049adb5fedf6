"""Gather `eval` results (written by an eval run per collection and split) into bench/results/quality_*.json.

Usage: python bench/quality_report.py DIR
DIR holds f-<collection>-<split>.json (default settings) and o-<collection>-<split>.json (the previous
default, z-score 0.5/0.5 with no length rule), each the JSON of `evaluate` plus its settings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
NOTE = ("paperscope eval (evaluate.py) over corpora embedded once with OnnxMiniLMEmbedder (int8 ONNX all-MiniLM-L6-v2, "
        "corpus and queries); default settings: fusion zscore, keyword 0.7 / semantic 0.3 at 8 words, length_slope 0.15 "
        "(semantic share 0.3 + 0.15·log2(words/8) within 0.1..0.9), candidates 150; 'rrf' = plain RRF k=60 of the same "
        "two lists; 'hybrid (before)' = the previous default, zscore 0.5/0.5. Chosen on SciFact train and the train half "
        "of hf-keywords (bench/split_qrels.py: md5 of the query id even); reported on SciFact test and the held-out halves.")


def main() -> None:
    src = Path(sys.argv[1])
    out: dict[str, dict] = {}
    for f in sorted(src.glob("f-*.json")):
        r = json.loads(f.read_text())
        name = f"{r['dataset']} {r['split']}"
        out[name] = {"queries": r["queries"], "settings": r.get("settings"), "modes": r["modes"]}
        old = src / ("o-" + f.name[2:])
        if old.exists():
            out[name]["modes"]["hybrid (before)"] = json.loads(old.read_text())["modes"]["hybrid"]
    beir = {"note": NOTE, "collections": out}
    (RESULTS / "quality_beir.json").write_text(json.dumps(beir, indent=1) + "\n")
    scifact = {"note": NOTE, "dataset": "scifact", "chosen_on": "train", "reported_on": "test",
               "splits": {k.split()[1]: v for k, v in out.items() if k.startswith("scifact ")}}
    (RESULTS / "quality_scifact.json").write_text(json.dumps(scifact, indent=1) + "\n")
    for name, v in out.items():
        print(f"{name:<22} " + "  ".join(f"{m} {x['ndcg@10']:.4f}" for m, x in v["modes"].items()))


if __name__ == "__main__":
    main()
