"""Copy an embedded install (its SQLite database) into PostgreSQL: resumable, counts checked at the end.

Papers and vectors go in change order, a batch per transaction together with a checkpoint in the target's
`checkpoints` table, so an interrupted copy resumes where it stopped. Users and their libraries, digests
and ingest bookkeeping are small: each table is copied whole in one transaction, skipping rows already there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import StoreError
from ..store import Store
from ..store.papers import _COLUMNS
from . import PgStore
from .db import LOCK_PAPERS

# (table, columns, primary key) of the small tables, parents before children; ids are kept as they are
SMALL_TABLES: tuple[tuple[str, str, str], ...] = (
    ("checkpoints", "source, state, updated_at", "source"),
    ("ingest_runs", "id, source, started_at, finished_at, status, added, updated, unchanged, problems, message", "id"),
    ("ingest_problems", "id, run_id, record, reason", "id"),
    ("users", "id, email, password_hash, role, created_at, api_token_hash, feed_token, unsubscribe_token,"
              " digest_frequency, digest_tags, digest_size, digest_trending, webhook_url, last_digest_at, disabled,"
              " api_token_hint", "id"),
    ("sessions", "id_hash, user_id, data, created_at, seen_at", "id_hash"),
    ("tokens", "hash, user_id, kind, hint, created_at, expires_at", "hash"),
    ("instance_settings", "name, value", "name"),
    ("private_papers", "user_id, id, record, created_at", "user_id, id"),
    ("private_library", "user_id, paper_id, tag, saved_at", "user_id, tag, paper_id"),
    ("library", "user_id, paper_id, tag, saved_at", "user_id, tag, paper_id"),
    ("paper_state", "user_id, paper_id, note, read_at, hidden, vote", "user_id, paper_id"),
    ("saved_searches", "id, user_id, name, query, created_at", "id"),
    ("digest_outbox", "id, user_id, created_at, message, status, attempts, last_error, sent_at", "id"),
    ("digest_sent", "user_id, paper_id, outbox_id", "user_id, paper_id"),
    ("lab_members", "user_id, display_name", "user_id"),
    ("lab_submissions", "day, paper_id, user_id, submitted_at", "day, paper_id"),
    ("lab_upvotes", "user_id, paper_id, created_at", "user_id, paper_id"),
    ("lab_comments", "id, paper_id, user_id, parent_id, body, created_at, edited_at, deleted, hidden, html,"
                     " html_version", "id"),
    ("lab_pending", "id, arxiv_id, user_id, day, state, reason, attempts, not_before, created_at, updated_at", "id"),
    ("import_jobs", "id, user_id, tag, fmt, data, state, done, report, created_at, updated_at", "id"),
    ("lab_follows", "user_id, paper_id, created_at", "user_id, paper_id"),
    ("citation_works", "id, title, doi, arxiv_id, year, source, fetched_at", "id"),
    ("citations", "citing, cited, source, fetched_at", "citing, cited, source"),
    ("citation_fetches", "paper_id, source, fetched_at, external_id, cited_by, influential",
     "paper_id, source, fetched_at"),
    ("topic_builds", "id, model, built_at, params, stats, placed", "id"),
    ("topics", "id, level, parent, label, terms, papers, size, centroid, x, y, active, build_id", "id"),
    ("paper_topics", "paper_id, broad, fine, x, y, placed", "paper_id"),
    ("topic_follows", "user_id, topic_id, created_at", "user_id, topic_id"),
)
IDENTITY_TABLES = ("ingest_runs", "ingest_problems", "users", "saved_searches", "digest_outbox", "embedding_models",
                   "lab_comments", "lab_pending", "import_jobs")
CHECKED = ("papers", "paper_authors", "embedding_models", "embeddings") + tuple(t for t, _, _ in SMALL_TABLES)
PAPERS_KEY = "migrate:papers"
VECTORS_KEY = "migrate:embeddings"


def _copy_papers(src: Store, dst: PgStore, batch: int, step: Callable[[str, int], None]) -> None:
    state = dst.get_checkpoint(PAPERS_KEY)
    if state is None and dst.paper_count():
        raise StoreError(f"the target already holds {dst.paper_count()} papers that `migrate` did not copy; "
                         "migrate into an empty database")
    seq = int(state["seq"]) if state else 0
    marks = ", ".join(["%s"] * (len(_COLUMNS.split(",")) + 1))
    while True:
        rows = src.conn.execute(f"SELECT seq, {_COLUMNS} FROM papers WHERE seq > ? ORDER BY seq LIMIT ?",
                                (seq, batch)).fetchall()
        if not rows:
            break
        ids = [r[1] for r in rows]
        authors = src.conn.execute(
            "SELECT paper_id, position, name, name_key FROM paper_authors"
            f" WHERE paper_id IN ({','.join('?' * len(ids))})",
            ids).fetchall()
        seq = int(rows[-1][0])
        with dst.transaction(LOCK_PAPERS):
            dst.conn.executemany(f"INSERT INTO papers ({_COLUMNS}, seq) VALUES ({marks}) ON CONFLICT (id) DO NOTHING",
                                 [tuple(r[1:]) + (r[0],) for r in rows])
            dst.conn.executemany("INSERT INTO paper_authors VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", authors)
            dst._set_checkpoint(PAPERS_KEY, {"seq": seq})
            dst.conn.execute("SELECT setval('paper_seq', greatest((SELECT max(seq) FROM papers), 1))")
        step("papers", len(rows))


def _copy_vectors(src: Store, dst: PgStore, batch: int, step: Callable[[str, int], None]) -> None:
    for mid, name, dim in src.conn.execute("SELECT id, name, dim FROM embedding_models ORDER BY id").fetchall():
        dst.conn.execute("INSERT INTO embedding_models (id, name, dim) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                         (mid, name, dim))
        if dst.model_id(name, dim) != mid:
            raise StoreError(f"the target numbers model {name!r} differently; migrate into an empty database")
    state = dst.get_checkpoint(VECTORS_KEY) or {"model": 0, "seq": 0}
    model, seq = int(state["model"]), int(state["seq"])
    while True:
        rows = src.conn.execute(
            "SELECT model_id, paper_id, seq, text_hash, vector FROM embeddings WHERE (model_id, seq) > (?, ?)"
            " ORDER BY model_id, seq LIMIT ?", (model, seq, batch)).fetchall()
        if not rows:
            break
        with dst.transaction():
            for mid in sorted({r[0] for r in rows}):
                dst.save_embeddings(mid, [(r[1], r[2], r[3], bytes(r[4])) for r in rows if r[0] == mid])
            model, seq = int(rows[-1][0]), int(rows[-1][2])
            dst._set_checkpoint(VECTORS_KEY, {"model": model, "seq": seq})
        step("embeddings", len(rows))


def _copy_small(src: Store, dst: PgStore, step: Callable[[str, int], None]) -> None:
    for table, columns, key in SMALL_TABLES:
        rows = src.conn.execute(f"SELECT {columns} FROM {table} ORDER BY {key}").fetchall()  # parents first
        marks = ", ".join(["%s"] * len(columns.split(",")))
        with dst.transaction():
            dst.conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({key}) DO NOTHING",
                                 rows)
        step(table, len(rows))
    for table in IDENTITY_TABLES:  # new rows made on PostgreSQL must not reuse a copied id
        dst.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                         f" greatest((SELECT max(id) FROM {table}), 1))")


def counts(src: Store, dst: PgStore) -> dict[str, tuple[int, int]]:
    """(rows in the embedded store, rows in PostgreSQL) for every copied table."""
    out = {}
    for table in CHECKED:
        n_src = int(src.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        mine = " WHERE left(source, 8) <> 'migrate:'" if table == "checkpoints" else ""  # this copy's own
        n_dst = int(dst.conn.execute(f"SELECT count(*) FROM {table}{mine}").fetchone()[0])
        out[table] = (n_src, n_dst)
    return out


def migrate(src: Store, dst: PgStore, batch: int = 2000,
            on_step: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Copy everything; re-running continues an interrupted copy. Raises StoreError if counts differ."""
    step = on_step or (lambda table, n: None)
    _copy_papers(src, dst, batch, step)
    _copy_vectors(src, dst, batch, step)
    _copy_small(src, dst, step)
    found = counts(src, dst)
    wrong = {t: c for t, c in found.items() if c[0] != c[1]}
    if wrong:
        detail = ", ".join(f"{t}: {a} embedded vs {b} in PostgreSQL" for t, (a, b) in wrong.items())
        raise StoreError(f"the copy is incomplete ({detail}); run `paperscope migrate` again to resume")
    return {"tables": {t: c[1] for t, c in found.items()}}
