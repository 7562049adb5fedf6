"""Split a BEIR collection's test judgments in two halves by query id, to choose on one and report on the other.

Usage: python bench/split_qrels.py BEIR_DIR
Writes qrels/train.tsv and qrels/heldout.tsv beside qrels/test.tsv: a query goes to `train` when the md5 of
its id is even, so the split is fixed and independent of the file's order.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path


def half(qid: str) -> str:
    """`train` or `heldout`, fixed by the query id alone."""
    return "train" if int(hashlib.md5(qid.encode()).hexdigest(), 16) % 2 == 0 else "heldout"


def main() -> None:
    beir = Path(sys.argv[1])
    header, *rows = (beir / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    for name in ("train", "heldout"):
        kept = [r for r in rows if r.strip() and half(r.split("\t")[0]) == name]
        (beir / "qrels" / f"{name}.tsv").write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
        print(name, len({r.split("\t")[0] for r in kept}), "queries")


if __name__ == "__main__":
    main()
