"""The vector index in Milvus: Milvus Lite for a file path, a Milvus server or cluster for an http(s) URI.

The server twin of `index.VectorIndex` (same methods): one collection per model with its dimension,
filters on date and category pushed into Milvus expressions, the last store change seen kept in a
small meta collection so updates stay incremental.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import MissingExtraError, StoreError
from .index import MAX_CATS, NO_DAY, day_number
from .models import Filters, Paper

META = "paperscope_meta"
UPSERT_BATCH = 2000
MAX_ID = 256
MAX_CAT = 64


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError:
        raise MissingExtraError("vector_backend=milvus needs pymilvus and milvus-lite: "
                                "install paperscope[milvus] (pip install 'paperscope[milvus]')") from None
    return pymilvus


def resolve_uri(uri: str, home: Path) -> str:
    """`http(s)://…`/`tcp://…` stay as they are; a file path (relative to the data dir) means Milvus Lite."""
    if uri.startswith(("http://", "https://", "tcp://", "grpc://", "unix:")):
        return uri
    path = Path(uri or "index/milvus.db").expanduser()
    path = path if path.is_absolute() else home / path
    if path.suffix != ".db":
        raise StoreError(f"milvus_uri {uri!r}: a Milvus Lite file must end in .db (e.g. {path.with_suffix('.db')}); "
                         "a server is http://host:19530")
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def collection_name(model: str, dim: int) -> str:
    """Milvus names allow letters, digits and underscores: one collection per model and dimension."""
    safe = "".join(c if c.isalnum() else "_" for c in model)
    return f"paperscope_{safe}_{dim}"[:250]


def connect(uri: str) -> Any:
    """A MilvusClient; a Lite file held by another process or an unreachable server gets a clear error."""
    pm = _pymilvus()
    for noisy in ("pymilvus", "milvus_lite", "grpc._server"):  # their errors reach the user as StoreError
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        return pm.MilvusClient(uri)
    except pm.exceptions.MilvusException as exc:
        if uri.startswith(("http", "tcp", "grpc", "unix")):
            raise StoreError(f"cannot reach Milvus at {uri} ({exc.message}); start the server or fix "
                             "PAPERSCOPE_MILVUS_URI") from None
        raise StoreError(f"cannot open Milvus Lite file {uri} ({exc.message}); Milvus Lite serves one process: "
                         "stop the other paperscope process using it, or use a Milvus server "
                         "(PAPERSCOPE_MILVUS_URI=http://host:19530) for several workers") from None


def _literal(values: Sequence[str]) -> str:
    """A Milvus list literal of strings: json escaping keeps quotes and backslashes inside the strings;
    control characters (which no stored id or category holds, and Milvus cannot escape) are dropped."""
    clean = ["".join(c for c in str(v) if c >= " " and c != "\x7f") for v in values]
    return json.dumps(clean, ensure_ascii=False)


@dataclass(frozen=True)
class MilvusFilter:
    """A boolean expression Milvus evaluates inside the search (None from `mask` means every row)."""

    expr: str


@dataclass
class MilvusVectorIndex:
    """Vectors of one model in a Milvus collection (HNSW over inner product of unit vectors = cosine)."""

    client: Any
    uri: str
    model: str
    dim: int
    collection: str
    last_seq: int
    ef: int = 256

    @classmethod
    def open(cls, uri: str, model: str, dim: int) -> MilvusVectorIndex:
        """Open (or create) this model's collection; a collection of another dimension is an error."""
        client = connect(uri)
        name = collection_name(model, dim)
        try:
            lite = _is_lite(uri)
            _ensure_meta(client, lite)
            if client.has_collection(name):
                desc = client.describe_collection(name)
                have = next((f["params"].get("dim") for f in desc["fields"] if f["name"] == "vector"), None)
                if have is not None and int(have) != dim:
                    raise StoreError(f"Milvus collection {name} holds {have}-d vectors, not {dim}-d; "
                                     "run `paperscope index --rebuild`")
            else:
                _create(client, name, dim, model, lite)
            client.load_collection(name)
            rows = client.get(META, ids=[name], output_fields=["last_seq"])
        except _pymilvus().exceptions.MilvusException as exc:
            raise StoreError(f"Milvus at {uri}: {exc.message}") from None
        return cls(client, uri, model, dim, name, int(rows[0]["last_seq"]) if rows else 0)

    def _call(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, fn)(*args, **kwargs)
        except _pymilvus().exceptions.MilvusException as exc:
            raise StoreError(f"Milvus at {self.uri} ({self.collection}): {exc.message}") from None

    def __len__(self) -> int:
        rows = self._call("query", self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, papers: Sequence[Paper], last_seq: int) -> None:
        """Insert or replace these papers' rows, then record how far through the store's changes we are."""
        latest = {pid: i for i, pid in enumerate(ids)}  # a paper twice in one call keeps its last vector
        rows = []
        for pid, i in latest.items():
            if len(pid) > MAX_ID:
                raise StoreError(f"paper id {pid[:40]!r}… is longer than {MAX_ID} characters; Milvus cannot key it")
            rows.append({"id": pid, "vector": np.asarray(vectors[i], np.float32).tolist(),
                         "day": day_number(papers[i].published),
                         **{f"cat{j}": c[:MAX_CAT] for j, c in enumerate(_cats(papers[i]))}})
        for start in range(0, len(rows), UPSERT_BATCH):
            self._call("upsert", self.collection, rows[start:start + UPSERT_BATCH])
        if self.lite:  # Lite brute-forces unsealed rows in Python (1.5 s a query at 5k rows): seal and index them
            self._call("flush", self.collection)
        self._call("upsert", META, [{"key": self.collection, "last_seq": int(last_seq), "model": self.model[:250],
                                     "v": [0.0, 0.0]}])
        self.last_seq = last_seq

    def mask(self, filters: Filters, allowed_ids: Sequence[str] | None = None) -> MilvusFilter | None:
        """The filters as one Milvus expression (None: no filter), evaluated inside the vector search."""
        parts = []
        if filters.since:
            parts.append(f"day >= {day_number(filters.since)}")
        if filters.until:
            parts.append(f"day <= {day_number(filters.until)} and day != {NO_DAY}")
        if filters.categories:  # an empty slot is "", which no asked-for category may match
            wanted = _literal([c for c in filters.categories if c] or ["#" * (MAX_CAT + 1)])
            parts.append(" or ".join(f"cat{j} in {wanted}" for j in range(MAX_CATS)))
        if allowed_ids is not None:
            parts.append(f"id in {_literal(allowed_ids)}")
        return MilvusFilter(" and ".join(f"({p})" for p in parts)) if parts else None

    def vector(self, paper_id: str) -> np.ndarray | None:
        """A stored paper's vector as float32, or None."""
        rows = self._call("get", self.collection, ids=[paper_id], output_fields=["vector"])
        return np.asarray(rows[0]["vector"], np.float32) if rows else None

    def vectors_of(self, ids: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """The stored vectors of those ids that have one, in the given order, and those ids."""
        found: dict[str, Any] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 1000):
            for row in self._call("get", self.collection, ids=unique[start:start + 1000], output_fields=["vector"]):
                found[row["id"]] = row["vector"]
        have = [i for i in unique if i in found]
        if not have:
            return np.zeros((0, self.dim), np.float32), []
        return np.asarray([found[i] for i in have], np.float32), have

    def count(self, mask: MilvusFilter | None = None) -> int:
        """How many rows the filter expression admits (all rows for None)."""
        if mask is None:
            return len(self)
        rows = self._call("query", self.collection, filter=mask.expr, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def cosines(self, query: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Exact cosine of the query with these papers' stored vectors (papers without one left out)."""
        matrix, have = self.vectors_of(ids)
        if not have:
            return {}
        scores = matrix @ np.asarray(query, np.float32).reshape(-1)
        return {pid: float(s) for pid, s in zip(have, scores, strict=True)}

    def search(self, query: np.ndarray, k: int, mask: MilvusFilter | None = None,
               exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
        """Top-k (id, cosine) with the filter expression applied inside Milvus's search."""
        if k <= 0:
            return []
        expr = mask.expr if mask is not None else ""
        if exclude:
            expr = f"({expr}) and not (id in {_literal(exclude)})" if expr else f"not (id in {_literal(exclude)})"
        q = np.asarray(query, np.float32).reshape(-1).tolist()
        result = self._call("search", self.collection, [q], limit=min(k, 16384), filter=expr, output_fields=["id"],
                            search_params={"metric_type": "IP", "params": {"ef": max(self.ef, k)}})
        return [(hit["id"], float(hit["distance"])) for hit in result[0]]

    def size_bytes(self) -> int:
        """Bytes on disk for Milvus Lite; for a server, the raw float vectors it holds (an estimate)."""
        path = Path(self.uri)
        if path.exists():
            if path.is_dir():
                return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            return path.stat().st_size
        return len(self) * self.dim * 4

    @property
    def lite(self) -> bool:
        """A Milvus Lite file rather than a server (a server seals and indexes on its own)."""
        return _is_lite(self.uri)

    def close(self) -> None:
        """Release the client and, for Milvus Lite, this process's hold on the file (another may open it)."""
        self.client.close()
        if self.lite:
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.uri)

    def drop(self) -> None:
        """Delete this model's collection and its progress (for a full rebuild)."""
        self._call("drop_collection", self.collection)
        self._call("delete", META, ids=[self.collection])
        _create(self.client, self.collection, self.dim, self.model, self.lite)
        self._call("load_collection", self.collection)
        self.last_seq = 0


def _cats(paper: Paper) -> list[str]:
    """Exactly MAX_CATS category slots, empty strings past the paper's own (no category is empty)."""
    cats = [c for c in paper.categories if c][:MAX_CATS]
    return cats + [""] * (MAX_CATS - len(cats))


def _ensure_meta(client: Any, lite: bool) -> None:
    if client.has_collection(META):
        client.load_collection(META)
        return
    pm = _pymilvus()
    schema = pm.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", pm.DataType.VARCHAR, is_primary=True, max_length=255)
    schema.add_field("model", pm.DataType.VARCHAR, max_length=255)
    schema.add_field("last_seq", pm.DataType.INT64)
    schema.add_field("v", pm.DataType.FLOAT_VECTOR, dim=2)  # Milvus needs a vector field in every collection
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="L2")
    _create_indexed(client, META, schema, params, wait=not lite)


def _create(client: Any, name: str, dim: int, model: str, lite: bool) -> None:
    pm = _pymilvus()
    schema = pm.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False,
                                           description=f"paperscope vectors of {model}"[:250])
    schema.add_field("id", pm.DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
    schema.add_field("vector", pm.DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("day", pm.DataType.INT32)
    # categories as MAX_CATS plain fields, not an ARRAY: `cat0 in [...] or …` runs on scalar indexes
    # (Milvus Lite evaluated ARRAY_CONTAINS_ANY row by row in Python: 10x slower at 20k rows)
    for j in range(MAX_CATS):
        schema.add_field(f"cat{j}", pm.DataType.VARCHAR, max_length=MAX_CAT)
    params = client.prepare_index_params()
    params.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    for field in ("day", *(f"cat{j}" for j in range(MAX_CATS))):
        params.add_index(field, index_type="INVERTED")
    _create_indexed(client, name, schema, params, wait=not lite)


def _create_indexed(client: Any, name: str, schema: Any, params: Any, wait: bool = False) -> None:
    """Create a collection and its indexes; on Milvus Lite (indexes ready at once) without pymilvus's fixed
    half-second sleep per index, which cost 3.5 s for every new collection."""
    client.create_collection(name, schema=schema)
    client.create_index(name, params, sync=wait)
    client.load_collection(name)


def _is_lite(uri: str) -> bool:
    return Path(uri).suffix == ".db" and not uri.startswith(("http", "tcp", "grpc", "unix"))
