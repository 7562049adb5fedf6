"""Embed a data dir's papers with the int8 ONNX default, whole (truncated) and as overlapping token windows.

Usage: nice python bench/passage_embed.py DATA_DIR OUT_PREFIX [SIZE:STRIDE ...]
Writes OUT_PREFIX-ids.txt, OUT_PREFIX-full.npy (one vector per paper, 256 wordpieces, as today) and, per
window setting, OUT_PREFIX-w{SIZE}s{STRIDE}.npz with `vecs` (one row per window) and `owner` (paper row).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from paperscope.embed import OnnxMiniLMEmbedder
from paperscope.text import paper_text


def windows(ids: list[int], size: int, stride: int) -> list[list[int]]:
    """Overlapping windows of at most `size` wordpieces (no special tokens), the last one ending at the end."""
    if len(ids) <= size:
        return [ids]
    starts = list(range(0, len(ids) - size, stride)) + [len(ids) - size]
    return [ids[s:s + size] for s in starts]


def run_ids(e: OnnxMiniLMEmbedder, seqs: list[list[int]], batch: int = 32) -> np.ndarray:
    out = []
    order = np.argsort([len(s) for s in seqs])
    for start in range(0, len(seqs), batch):
        chunk = [[101] + seqs[i] + [102] for i in order[start:start + batch]]
        width = max(len(c) for c in chunk)
        ids = np.array([c + [0] * (width - len(c)) for c in chunk], np.int64)
        mask = (np.arange(width)[None, :] < np.array([len(c) for c in chunk])[:, None]).astype(np.int64)
        out.append(e.session.run(None, {"input_ids": ids, "attention_mask": mask})[0])  # pooled, unit length
    vecs = np.concatenate(out).astype(np.float32)
    result = np.empty_like(vecs)
    result[order] = vecs
    return result


def main() -> None:
    data_dir, prefix = Path(sys.argv[1]), sys.argv[2]
    db = sqlite3.connect(data_dir / "paperscope.sqlite3")
    rows = db.execute("select id, title, abstract from papers order by id").fetchall()
    Path(prefix + "-ids.txt").write_text("\n".join(r[0] for r in rows) + "\n")
    e = OnnxMiniLMEmbedder(1)
    e.tokenizer.no_truncation()
    e.tokenizer.no_padding()
    texts = [paper_text(t, a or "") for _, t, a in rows]
    toks = [enc.ids for enc in e.tokenizer.encode_batch(texts, add_special_tokens=False)]
    lens = np.array([len(t) for t in toks])
    print(f"{len(rows)} papers, wordpieces p50 {np.median(lens):.0f} p90 {np.percentile(lens, 90):.0f}, "
          f"over 254: {(lens > 254).mean():.1%}", flush=True)
    full = Path(prefix + "-full.npy")
    if not full.exists():
        t0 = time.perf_counter()
        np.save(full, run_ids(e, [t[:254] for t in toks]))
        print("full", round(time.perf_counter() - t0, 1), "s", flush=True)
    for spec in sys.argv[3:]:
        size, stride = (int(x) for x in spec.split(":"))
        path = Path(f"{prefix}-w{size}s{stride}.npz")
        if path.exists():
            continue
        seqs, owner = [], []
        for row, t in enumerate(toks):
            for w in windows(t, size, stride)[1 if size >= 254 else 0:]:  # the first window is the whole text's
                seqs.append(w)
                owner.append(row)
        t0 = time.perf_counter()
        extra = run_ids(e, seqs)
        first = np.load(full) if size >= 254 else np.zeros((0, extra.shape[1]), np.float32)
        np.savez(path, vecs=np.concatenate([first, extra]),
                 owner=np.concatenate([np.arange(len(first)), np.array(owner, np.int64)]).astype(np.int32))
        print(spec, len(seqs), "windows", round(time.perf_counter() - t0, 1), "s", flush=True)


if __name__ == "__main__":
    main()
