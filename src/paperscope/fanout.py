"""Embedding fanned out over Ray: bounded batches as tasks on model-holding workers, written back as they finish.

`ray_address` chooses the runtime: `local` starts one on this machine (Ray's default temp dir), `ray://…`
or `host:port` joins a cluster whose workers have paperscope installed. Each finished batch commits on
its own, so an interrupted run resumes where it stopped: the next run only sees papers still to embed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import Settings
from .errors import ConfigError, MissingExtraError
from .text import paper_text

if TYPE_CHECKING:
    from .backends import AnyStore

IN_FLIGHT_PER_WORKER = 2  # batches queued per worker: enough to keep it busy, bounded memory


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingExtraError("ray_address is set but Ray is not installed: "
                                "install paperscope[ray] (pip install 'paperscope[ray]')") from None
    return ray


@dataclass(frozen=True)
class RaySession:
    """What `start` connected to: the address given, the session directory and the workers used."""

    address: str
    session_dir: str
    workers: int
    started_here: bool


def start(address: str, workers: int = 0) -> RaySession:
    """Start a local Ray runtime (`local`) or join a cluster (`ray://…`, `host:port`)."""
    ray = _ray()
    if not address:
        raise ConfigError("ray_address is empty: embedding runs in this process")
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING,
                              "ignore_reinit_error": True}
    if address == "local":
        kwargs.update(address="local", num_cpus=workers or None, object_store_memory=256 * 2**20)
    else:
        kwargs["address"] = address
    already = ray.is_initialized()
    try:
        context = ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"cannot start or reach Ray at {address!r} ({exc}); use ray_address=local, "
                          "ray://head:10001 or head:6379 of a running cluster") from None
    cpus = int(ray.cluster_resources().get("CPU", 1))
    session_dir = str((getattr(context, "address_info", None) or {}).get("session_dir", ""))
    return RaySession(address, session_dir, max(1, workers or cpus), not already)


class EmbedWorker:
    """One Ray worker holding one copy of the model (loaded once, reused for every batch)."""

    def __init__(self, model: str, threads: int) -> None:
        from .embed import load_embedder

        self.embedder = load_embedder(model, threads)

    def embed(self, texts: list[str]) -> np.ndarray:
        """float16 vectors, as the store keeps them (half the bytes back to the driver)."""
        return self.embedder.embed(texts).astype(np.float16)


def embed_papers_ray(store: AnyStore, settings: Settings, name: str, dim: int, batch_size: int = 64,
                     on_progress: Callable[[int, int], None] | None = None,
                     on_start: Callable[[RaySession], None] | None = None) -> int:
    """Embed papers with no (or a stale) vector on Ray workers; each batch commits when its task returns."""
    ray = _ray()
    session = start(settings.ray_address, settings.ray_workers)
    if on_start:
        on_start(session)
    try:
        worker_cls = ray.remote(num_cpus=1)(EmbedWorker)
        workers = [worker_cls.remote(settings.model, 1) for _ in range(session.workers)]
        model_id = store.model_id(name, dim)
        total = store.count_to_embed(model_id)
        pending: dict[Any, list[tuple[str, int, str]]] = {}
        cursor = done = embedded = turn = 0
        exhausted = False

        def commit(rows: list[tuple[str, int, str]], blobs: list[bytes | None]) -> None:
            nonlocal done
            store.save_embeddings(model_id, [(pid, seq, h, b) for (pid, seq, h), b in zip(rows, blobs, strict=True)])
            done += len(rows)
            if on_progress:
                on_progress(len(rows), max(total, done))

        while pending or not exhausted:
            while not exhausted and len(pending) < IN_FLIGHT_PER_WORKER * len(workers):
                rows = store.papers_to_embed(model_id, cursor, batch_size)
                if not rows:
                    exhausted = True
                    break
                cursor = rows[-1][1]
                texts = [paper_text(title, abstract) for _, _, title, abstract, _ in rows]
                hashes = [hashlib.sha1(t.encode("utf-8")).hexdigest()[:16] for t in texts]
                stale = [(r[0], r[1], h) for r, h in zip(rows, hashes, strict=True) if r[4] != h]
                same = [(r[0], r[1], h) for r, h in zip(rows, hashes, strict=True) if r[4] == h]
                if same:  # text unchanged since its vector was made: only the change number moves
                    commit(same, [None] * len(same))
                if stale:
                    todo = [texts[i] for i, (r, h) in enumerate(zip(rows, hashes, strict=True)) if r[4] != h]
                    pending[workers[turn % len(workers)].embed.remote(todo)] = stale
                    turn += 1
            if not pending:
                break
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                finished = pending.pop(ref)
                vectors = ray.get(ref)
                commit(finished, [v.tobytes() for v in vectors])
                embedded += len(finished)
        return embedded
    finally:
        if session.started_here:
            ray.shutdown()
