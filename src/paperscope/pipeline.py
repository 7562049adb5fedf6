"""Ingest runs: pick a source, resume from its checkpoint, commit batch by batch, report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clean import clean_paper
from .config import Settings
from .errors import StoreError, UsageError
from .models import Batch, IngestReport, Paper, Problem, Share
from .store.runs import recorded_run

if TYPE_CHECKING:
    from .backends import AnyStore
    from .embed import Embedder
    from .sources._http import Client

SOURCES = ("arxiv-oai", "arxiv-api", "snapshot", "hf-daily", "file", "sample")
ARXIV_SOURCES = ("arxiv-oai", "arxiv-api", "snapshot")
# the offline sample: the seed listing pages' 564 papers (title + abstract; no ids, authors or dates)
SAMPLE = Path(__file__).parent / "sample" / "listing-papers.jsonl"


@dataclass(frozen=True)
class SourceOptions:
    """Everything a user can say about one ingest, whatever the source (unused fields are ignored)."""

    path: Path | None = None
    fmt: str | None = None
    set_spec: str | None = None
    prefix: str = "arXiv"
    since: str | None = None
    until: str | None = None
    query: str | None = None
    ids: tuple[str, ...] = ()
    max_results: int | None = None
    categories: tuple[str, ...] = ()  # keep only papers in any of these arXiv categories (`cs.CL`, or `cs` for all cs.*)
    share: Share | None = None  # snapshot and JSON Lines files: this reader's share of the file (`readahead`)
    extra: dict[str, Any] = field(default_factory=dict)


def _client(settings: Settings, delay: float) -> Client:
    from .sources._http import Client

    return Client(delay=delay, retries=settings.http_retries, timeout=settings.http_timeout,
                  max_retry_after=settings.max_retry_after)


def parse_categories(value: str | None) -> tuple[str, ...]:
    """`cs.CL,cs.IR` → ('cs.CL', 'cs.IR'); a malformed name is a UsageError that shows the expected form."""
    import re

    names = tuple(dict.fromkeys(c.strip() for c in (value or "").replace(" ", ",").split(",") if c.strip()))
    for name in names:
        if not re.fullmatch(r"[a-z-]+(\.[A-Za-z-]+)?", name):
            raise UsageError(f"category {name!r} is not an arXiv category; use names such as cs.CL,cs.IR or cs")
    return names


def in_categories(categories: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """True when a paper is in any wanted category (`cs` matches every `cs.*`)."""
    return any(c == w or c.startswith(w + ".") for c in categories for w in wanted)


def _only(batches: Iterator[Batch], wanted: tuple[str, ...]) -> Iterator[Batch]:
    for batch in batches:
        yield dataclasses.replace(batch, papers=tuple(p for p in batch.papers if in_categories(p.categories, wanted)))


def plan(source: str, settings: Settings, opts: SourceOptions) -> tuple[str, Callable[[dict[str, Any] | None], Iterator[Batch]]]:
    """The checkpoint key and the batch generator for one source and its options (narrowed to --category)."""
    if opts.categories and source not in ARXIV_SOURCES:
        raise UsageError(f"--category filters the arXiv sources ({', '.join(ARXIV_SOURCES)}); {source} has no categories")
    key, batches = _plan(source, settings, opts)
    if not opts.categories:
        return key, batches
    wanted = opts.categories
    return f"{key}:{','.join(sorted(wanted))}", lambda cp: _only(batches(cp), wanted)


def _plan(source: str, settings: Settings, opts: SourceOptions) -> tuple[str, Callable[[dict[str, Any] | None], Iterator[Batch]]]:
    # each branch imports its own source: a no-op update imports none, and a reader process only the file's
    if source == "arxiv-oai":
        from .sources import arxiv_oai

        key = f"arxiv_oai:{opts.set_spec or 'all'}:{opts.prefix}"
        client = _client(settings, settings.arxiv_oai_delay)
        return key, lambda cp: arxiv_oai.harvest(
            client, settings.arxiv_oai_url, cp, opts.set_spec, opts.prefix, opts.since, opts.until)
    if source == "arxiv-api":
        from .sources import arxiv_api

        client = _client(settings, settings.arxiv_api_delay)
        return "arxiv_api", lambda cp: arxiv_api.harvest(
            client, settings.arxiv_api_url, cp, opts.query, list(opts.ids),
            page_size=int(opts.extra.get("page_size", 100)), max_results=opts.max_results)
    if source == "hf-daily":
        from .sources import hf_daily

        client = _client(settings, settings.hf_delay)
        return "hf_daily", lambda cp: hf_daily.harvest(client, settings.hf_api_url, cp, opts.since, opts.until)
    if source == "sample":
        from .sources import files

        return "sample", lambda cp: files.harvest(SAMPLE, cp, settings.batch_size, "jsonl")
    if source in ("snapshot", "file"):
        path = opts.path
        if path is None:
            raise UsageError(f"`ingest {source}` needs a file path")
        path = path.resolve()
        from .sources import arxiv_snapshot, files

        if source == "snapshot":
            return f"arxiv_snapshot:{path}", lambda cp: arxiv_snapshot.harvest(path, cp, settings.batch_size,
                                                                                   opts.share)
        return f"files:{path}", lambda cp: files.harvest(path, cp, settings.batch_size, opts.fmt, opts.share)
    raise UsageError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")


def clean_batch(batch: Batch) -> tuple[Batch, list[Problem]]:
    """The batch with every paper cleaned (unusable ones moved to its problems) and one note per dropped field."""
    papers, problems, notes = [], list(batch.problems), list(batch.notes)
    for paper in batch.papers:
        try:
            cleaned, changes = clean_paper(paper)
        except ValueError as exc:
            problems.append(Problem(paper.id[:200], str(exc)))
            continue
        papers.append(cleaned)
        notes += [Problem(cleaned.id[:200], change) for change in changes]
    return dataclasses.replace(batch, papers=tuple(papers), problems=tuple(problems), cleaned=True), notes


def _cleaned(source: str, settings: Settings, opts: SourceOptions,
             batches: Callable[[dict[str, Any] | None], Iterator[Batch]], checkpoint: dict[str, Any] | None,
             ) -> Iterator[tuple[list[Batch], list[Problem]]]:
    """Consecutive cleaned batches to commit together, with their notes: a big file is read by other processes
    (`readahead`, which hands over what is waiting), the rest here, one batch at a time."""
    if source in ("snapshot", "file") and opts.path is not None and settings.read_process_mib >= 0:
        try:
            big = opts.path.stat().st_size >= settings.read_process_mib * 2**20
        except OSError:
            big = False  # the source itself says what is wrong with the path
        if big:
            from .readahead import cleaned_batches

            yield from cleaned_batches(read_cleaned, source, settings, opts, checkpoint)
            return
    for batch in batches(checkpoint):
        batch, notes = clean_batch(batch)
        yield [batch], notes


def read_cleaned(source: str, settings: Settings, opts: SourceOptions, checkpoint: dict[str, Any] | None,
                 ) -> Iterator[tuple[Batch, list[Problem]]]:
    """The source's batches from the checkpoint on, each cleaned, with its notes: what a reader process runs."""
    _, batches = plan(source, settings, opts)
    for batch in batches(checkpoint):
        yield clean_batch(batch)


def ingest(
    store: AnyStore,
    settings: Settings,
    source: str,
    opts: SourceOptions,
    restart: bool = False,
    on_batch: Callable[[Batch], None] | None = None,
) -> IngestReport:
    """Run one source to the end, committing each batch with its checkpoint; re-running resumes."""
    key, batches = plan(source, settings, opts)
    checkpoint = None if restart else store.get_checkpoint(key)
    totals = {"added": 0, "updated": 0, "unchanged": 0}
    problems: list[Problem] = []
    cleaned: list[Problem] = []
    with recorded_run(store, key) as run, store.bulk_writes():
        for parts, notes in _cleaned(source, settings, opts, batches, checkpoint):
            cleaned += notes
            counts = store.commit_batches(key, run.id, parts)
            for name, n in counts.items():
                totals[name] += n
            for batch in parts:
                problems.extend(batch.problems)
                if on_batch:
                    on_batch(batch)
    if source == "sample":
        from .sample_vectors import load_sample_vectors

        load_sample_vectors(store, settings)
    return IngestReport(key, problems=tuple(problems), resumed=checkpoint is not None, cleaned=tuple(cleaned),
                        **totals)


# --- embed and index ----------------------------------------------------------------------------

def embed_papers(
    store: AnyStore, embedder: Embedder, batch_size: int = 64, on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Embed papers with no vector for this model (or whose text changed); each batch commits on its own."""
    import numpy as np

    from .text import paper_text, text_hash

    model_id = store.model_id(embedder.name, embedder.dim)
    total = store.count_to_embed(model_id)
    done = embedded = cursor = 0
    while True:
        rows = store.papers_to_embed(model_id, cursor, batch_size)
        if not rows:
            return embedded
        cursor = rows[-1][1]
        texts = [paper_text(title, abstract) for _, _, title, abstract, _ in rows]
        hashes = [text_hash(t) for t in texts]
        todo = [i for i, (row, h) in enumerate(zip(rows, hashes, strict=True)) if row[4] != h]
        vectors = embedder.embed([texts[i] for i in todo]) if todo else np.zeros((0, embedder.dim), np.float32)
        blobs: dict[int, bytes] = {i: vectors[j].astype(np.float16).tobytes() for j, i in enumerate(todo)}
        store.save_embeddings(model_id, [(r[0], r[1], hashes[i], blobs.get(i)) for i, r in enumerate(rows)])
        embedded += len(todo)
        done += len(rows)
        if on_progress:
            on_progress(len(rows), max(total, done))


def update_indexes(
    store: AnyStore, settings: Settings, name: str, dim: int, rebuild: bool = False,
    on_progress: Callable[[int, int], None] | None = None, chunk: int = 5000,
) -> dict[str, int]:
    """Bring both indexes up to date in a new generation and publish it (a rebuild starts from empty).

    Nothing to do means no new generation (a cheap no-op); a failure leaves the live generation serving."""
    if settings.database_url:
        return _update_server(store, settings, name, dim, rebuild)
    try:
        return _update_generation(store, settings, name, dim, rebuild, on_progress, chunk)
    except OSError as exc:  # e.g. ENOSPC: the new generation was abandoned, the live one is untouched
        raise StoreError(f"could not write the index ({exc.strerror or exc}); the previous index still serves. "
                         "Free disk space, then run `paperscope update` again") from None


def _update_server(store: AnyStore, settings: Settings, name: str, dim: int, rebuild: bool) -> dict[str, int]:
    """On PostgreSQL the database is the index: build the model's HNSW index if missing, record progress
    (each worker's keyword mirror follows the papers table by itself)."""
    from .backends import MirroredKeywordIndex, drop_milvus_vectors, open_vectors, uses_milvus

    keyword = MirroredKeywordIndex(store).catch_up(rebuild)
    if uses_milvus(settings):  # vectors outside the database: copy the new ones into Milvus
        if rebuild:
            drop_milvus_vectors(settings, name, dim)
        vectors = open_vectors(store, settings, name, dim)
        return {"keyword": keyword, "vectors": _copy_vectors(store, vectors, store.model_id(name, dim), dim, 5000)}
    vectors = open_vectors(store, settings, name, dim)
    return {"keyword": keyword, "vectors": vectors.catch_up(rebuild)}  # type: ignore[attr-defined]


def _copy_vectors(store: AnyStore, vectors: Any, model_id: int, dim: int, chunk: int,
                  on_progress: Callable[[int], None] | None = None) -> int:
    """Upsert the store's embeddings newer than the index's progress into it, chunk by chunk; how many."""
    import numpy as np

    done = 0
    while True:
        rows = store.embeddings_since(model_id, vectors.last_seq, chunk)
        if not rows:
            return done
        last = max(r[1] for r in rows)
        papers = store.papers_by_ids([r[0] for r in rows])
        rows = [r for r in rows if r[0] in papers]
        matrix = np.frombuffer(b"".join(r[2] for r in rows), np.float16).reshape(len(rows), dim).astype(np.float32)
        vectors.upsert([r[0] for r in rows], matrix, [papers[r[0]] for r in rows], last)
        done += len(rows)
        if on_progress:
            on_progress(len(rows))


def _update_generation(
    store: AnyStore, settings: Settings, name: str, dim: int, rebuild: bool,
    on_progress: Callable[[int, int], None] | None, chunk: int,
) -> dict[str, int]:
    from .backends import drop_milvus_vectors, open_vector_index, vector_progress
    from .generations import writing
    from .index import KeywordIndex, keyword_last_seq

    kw_rel, vec_rel = (p.name for p in settings.index_paths(name))
    if rebuild:
        drop_milvus_vectors(settings, name, dim)
    model_id = store.model_id(name, dim)
    counts = {"keyword": 0, "vectors": 0}
    with writing(settings.home / "index") as gen:
        live = gen.base.path if gen.base is not None and not rebuild else None
        seq = keyword_last_seq(live / kw_rel) if live else 0
        vec_seq = vector_progress(settings, name, dim, live / vec_rel if live else None)
        total = store.max_seq() - seq + store.count_embeddings_since(model_id, vec_seq)
        if live is not None and total <= 0:
            return counts
        path = gen.start(copy_live=live is not None)
        keyword = KeywordIndex(path / kw_rel)
        vectors = open_vector_index(settings, name, dim, path / vec_rel)  # Milvus: outside the generation
        while True:
            changed = store.papers_changed_since(seq, chunk)
            if not changed:
                break
            seq = changed[-1][0]
            keyword.upsert([p for _, p in changed], seq)
            counts["keyword"] += len(changed)
            if on_progress:
                on_progress(len(changed), total)
        if counts["keyword"] == 0 and live is None:
            keyword.upsert([], 0)  # an empty store still gets a readable keyword index
        counts["vectors"] = _copy_vectors(store, vectors, model_id, dim, chunk,
                                          (lambda n: on_progress(n, total)) if on_progress else None)
        gen.publish()
    return counts


# --- single papers named by members (the lab's submissions) ---------------------------------------

LIVE_BACKLOG = 500  # past this many unembedded/unindexed papers, a submission waits for the operator's update


def fetch_arxiv_papers(settings: Settings, ids: list[str]) -> list[Paper]:
    """Fetch named arXiv papers through the arXiv API (network only: the caller stores them).

    The lab's fetcher runs it outside any request; one round retries at most once and times out in 20 s, so
    an unreachable arXiv never holds the queue for long (the ids are tried again later).
    """
    from .sources import arxiv_api
    from .sources._http import Client

    client = Client(delay=0.0, retries=min(settings.http_retries, 1), timeout=min(settings.http_timeout, 20.0),
                    max_retry_after=min(settings.max_retry_after, 10.0))
    papers: list[Paper] = []
    for batch in arxiv_api.harvest(client, settings.arxiv_api_url, None, id_list=list(ids)):
        papers.extend(batch.papers)
    return papers


def embed_and_index(store: AnyStore, settings: Settings, embedder: Embedder) -> dict[str, int]:
    """Embed what is new and bring the indexes up to date, if the backlog is small enough to do it now.

    Returns the counts of `update_indexes` plus `embedded`; an empty dict when the backlog is left to
    the operator's next `paperscope update` (a member's request must not embed a whole catalogue).
    """
    from .generations import current_name
    from .index import keyword_last_seq

    model_id = store.model_id(embedder.name, embedder.dim)
    root, live = settings.home / "index", current_name(settings.home / "index")
    behind = store.max_seq() - (keyword_last_seq(root / live / settings.index_paths(embedder.name)[0].name)
                                if live else 0)
    if store.count_to_embed(model_id) > LIVE_BACKLOG or behind > LIVE_BACKLOG:
        return {}
    embedded = embed_papers(store, embedder, batch_size=16)
    return {"embedded": embedded, **update_indexes(store, settings, embedder.name, embedder.dim)}
