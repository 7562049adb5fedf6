"""Embedding: only what is missing or changed, resumable after a crash, never two models mixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperscope.errors import StoreError
from paperscope.models import Paper
from paperscope.pipeline import SourceOptions, embed_papers, ingest


class CrashingEmbedder:
    """Wraps an embedder and dies on the n-th batch, like a process killed mid-run."""

    def __init__(self, inner, crash_on: int) -> None:
        self.inner, self.crash_on, self.calls = inner, crash_on, 0
        self.name, self.dim = inner.name, inner.dim

    def embed(self, texts, batch_size=32):
        self.calls += 1
        if self.calls == self.crash_on:
            raise KeyboardInterrupt("killed")
        return self.inner.embed(texts)


def test_embed_resumes_after_a_crash_without_redoing_batches(settings, store, fake_embedder):
    ingest(store, settings, "file", SourceOptions(path=Path(__file__).parent / "data" / "listing-papers.jsonl"))
    crashing = CrashingEmbedder(fake_embedder, crash_on=4)
    with pytest.raises(KeyboardInterrupt):
        embed_papers(store, crashing, batch_size=50)
    model_id = store.model_id(fake_embedder.name, fake_embedder.dim)
    assert store.count_to_embed(model_id) == 564 - 150
    assert embed_papers(store, fake_embedder, batch_size=50) == 414
    assert embed_papers(store, fake_embedder, batch_size=50) == 0


def test_changed_text_is_re_embedded_unchanged_metadata_is_not(settings, store, fake_embedder):
    store.upsert_papers([Paper(id="local:a", title="Alpha", abstract="First.")])
    assert embed_papers(store, fake_embedder) == 1
    store.upsert_papers([Paper(id="local:a", title="Alpha", abstract="First.", comments="5 pages")])
    assert embed_papers(store, fake_embedder) == 0  # text unchanged: only the bookkeeping moves
    store.upsert_papers([Paper(id="local:a", title="Alpha", abstract="Second version.",
                               updated="2024-01-01T00:00:00Z")])
    assert embed_papers(store, fake_embedder) == 1


def test_a_model_name_with_another_dimension_is_refused(store):
    store.model_id("m", 384)
    with pytest.raises(StoreError, match="never mixed"):
        store.model_id("m", 768)
