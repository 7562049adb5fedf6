"""The schema as an ordered list of migrations: each runs once, in order, recorded in `schema_migrations`.

A migration is SQL, or a function of the connection for what SQL cannot say (re-deriving text in Python).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..text import latex_to_text


def retext(title: str, title_source: str | None, abstract: str, abstract_source: str | None
           ) -> tuple[str, str | None, str, str | None] | None:
    """A stored row's title and abstract derived again from their sources (the stored text when it has none);
    None when nothing changes. Both backends' migrations call it when the conversion improves."""
    src_title, src_abstract = title_source or title, abstract_source or abstract
    new_title, new_abstract = latex_to_text(src_title) or src_title, latex_to_text(src_abstract)
    row = (new_title, src_title if new_title != src_title else None,
           new_abstract, src_abstract if new_abstract != src_abstract else None)
    return None if row == (title, title_source, abstract, abstract_source) else row


# Rows whose title or abstract has (or had) LaTeX in it, one page at a time (a whole catalogue never sits in memory).
RETEXT_PAGE = 1000
_RETEXT_SELECT = ("SELECT id, title, title_source, abstract, abstract_source FROM papers WHERE id > {mark} AND ("
                  "abstract_source IS NOT NULL OR title_source IS NOT NULL OR {latexish}) ORDER BY id LIMIT {page}")


def _retext_rows(conn: sqlite3.Connection) -> None:
    """Titles and abstracts read again by the one-pass reader (`%` is a percent sign, an unknown macro stays as
    written) and each title's original kept; a changed row gets a new `seq`, so `update` re-indexes and re-embeds it."""
    seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0])
    sql = _RETEXT_SELECT.format(mark="?", page=RETEXT_PAGE,
                                latexish="abstract GLOB '*[$\\{}^_~]*' OR title GLOB '*[$\\{}^_~]*'")
    last = ""
    while rows := conn.execute(sql, (last,)).fetchall():
        last = rows[-1][0]
        for pid, *texts in rows:
            row = retext(*texts)
            if row is not None:
                seq += 1
                conn.execute("UPDATE papers SET title = ?, title_source = ?, abstract = ?, abstract_source = ?,"
                             " seq = ? WHERE id = ?", (*row, seq, pid))


def _convert_abstracts(conn: sqlite3.Connection) -> None:
    """Derive every abstract's text from its LaTeX source again (add a new step when the conversion improves)."""
    seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0])
    rows = conn.execute("SELECT id, abstract, abstract_source FROM papers"
                        " WHERE abstract_source IS NOT NULL OR abstract GLOB '*[$\\{}^_~]*'").fetchall()
    for pid, abstract, source in rows:
        source = source if source is not None else abstract
        text = latex_to_text(source)
        if text != abstract:
            seq += 1  # a changed text is re-indexed and re-embedded by the next `update`
            conn.execute("UPDATE papers SET abstract = ?, abstract_source = ?, seq = ? WHERE id = ?",
                         (text, source if source != text else None, seq, pid))


def _clean_private_records(conn: sqlite3.Connection) -> None:
    """Private records imported before imports were cleaned like the catalogue: cleaned now (links, dates,
    lengths, control characters)."""
    from .records import clean_stored_records

    clean_stored_records(conn, "?")


MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    """
    CREATE TABLE papers (
        id TEXT PRIMARY KEY,
        arxiv_id TEXT UNIQUE,
        doi TEXT,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        published TEXT,
        updated TEXT,
        first_seen TEXT NOT NULL,
        versions TEXT NOT NULL DEFAULT '[]',
        journal_ref TEXT,
        comments TEXT,
        license TEXT,
        links TEXT NOT NULL DEFAULT '{}',
        signals TEXT NOT NULL DEFAULT '{}',
        sources TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX papers_doi ON papers(doi);
    CREATE INDEX papers_published ON papers(published);
    CREATE TABLE paper_authors (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        PRIMARY KEY (paper_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX paper_authors_key ON paper_authors(name_key);
    CREATE TABLE checkpoints (
        source TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE ingest_runs (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        added INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        problems INTEGER NOT NULL DEFAULT 0,
        message TEXT
    );
    CREATE TABLE ingest_problems (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES ingest_runs(id),
        record TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE papers ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    UPDATE papers SET seq = rowid;
    CREATE INDEX papers_seq ON papers(seq);
    CREATE TABLE embedding_models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        dim INTEGER NOT NULL
    );
    CREATE TABLE embeddings (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES embedding_models(id),
        seq INTEGER NOT NULL,
        text_hash TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (paper_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX embeddings_seq ON embeddings(model_id, seq);
    """,
    """
    CREATE INDEX papers_day ON papers(substr(coalesce(published, first_seen), 1, 10));
    """,
    """
    CREATE INDEX papers_title ON papers(lower(title));
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT,
        role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
        created_at TEXT NOT NULL,
        api_token_hash TEXT UNIQUE,
        feed_token TEXT NOT NULL UNIQUE,
        unsubscribe_token TEXT NOT NULL UNIQUE,
        digest_frequency TEXT NOT NULL DEFAULT 'weekly' CHECK (digest_frequency IN ('daily', 'weekly', 'off')),
        digest_tags TEXT NOT NULL DEFAULT '[]',
        digest_size INTEGER NOT NULL DEFAULT 10,
        digest_trending INTEGER NOT NULL DEFAULT 0,
        webhook_url TEXT,
        last_digest_at TEXT
    );
    CREATE TABLE library (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        PRIMARY KEY (user_id, tag, paper_id)
    ) WITHOUT ROWID;
    CREATE INDEX library_paper ON library(user_id, paper_id);
    CREATE TABLE paper_state (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        note TEXT,
        read_at TEXT,
        hidden INTEGER NOT NULL DEFAULT 0,
        vote INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, paper_id)
    ) WITHOUT ROWID;
    CREATE TABLE digest_sent (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL,
        outbox_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, paper_id)
    ) WITHOUT ROWID;
    CREATE TABLE digest_outbox (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        message BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at TEXT
    );
    CREATE TABLE saved_searches (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        query TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # OAI-PMH deletions: the paper stays (users' libraries point at it) but leaves lists and search.
    "ALTER TABLE papers ADD COLUMN withdrawn TEXT",
    """
    CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        data TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        seen_at REAL NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE INDEX sessions_seen ON sessions(seen_at);
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('feed', 'unsubscribe', 'reset')),
        hint TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        expires_at TEXT
    );
    CREATE INDEX tokens_user ON tokens(user_id, kind);
    INSERT INTO tokens (hash, user_id, kind, hint, created_at)
        SELECT sha256_hex(feed_token), id, 'feed', substr(feed_token, 1, 4), created_at FROM users;
    INSERT INTO tokens (hash, user_id, kind, hint, created_at)
        SELECT sha256_hex(unsubscribe_token), id, 'unsubscribe', substr(unsubscribe_token, 1, 4), created_at FROM users;
    UPDATE users SET feed_token = 'moved:' || sha256_hex(feed_token),
                     unsubscribe_token = 'moved:' || sha256_hex(unsubscribe_token);
    ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN api_token_hint TEXT;
    CREATE TABLE private_papers (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        record TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, id)
    ) WITHOUT ROWID;
    CREATE TABLE private_library (
        user_id INTEGER NOT NULL,
        paper_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        PRIMARY KEY (user_id, tag, paper_id),
        FOREIGN KEY (user_id, paper_id) REFERENCES private_papers(user_id, id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE TABLE instance_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE lab_members (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        display_name TEXT NOT NULL UNIQUE COLLATE NOCASE
    );
    CREATE TABLE lab_submissions (
        day TEXT NOT NULL,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        submitted_at TEXT NOT NULL,
        PRIMARY KEY (day, paper_id)
    ) WITHOUT ROWID;
    CREATE INDEX lab_submissions_user ON lab_submissions(user_id, day);
    CREATE INDEX lab_submissions_paper ON lab_submissions(paper_id);
    CREATE TABLE lab_upvotes (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
    ) WITHOUT ROWID;
    CREATE INDEX lab_upvotes_paper ON lab_upvotes(paper_id);
    CREATE TABLE lab_comments (
        id INTEGER PRIMARY KEY,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        parent_id INTEGER REFERENCES lab_comments(id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        edited_at TEXT,
        deleted INTEGER NOT NULL DEFAULT 0,
        hidden INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX lab_comments_paper ON lab_comments(paper_id, id);
    CREATE INDEX lab_comments_user ON lab_comments(user_id, created_at);
    CREATE TABLE lab_follows (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
    ) WITHOUT ROWID;
    """,
    # The day a paper is shown on: its Hugging Face listing day, else its announcement; undated papers
    # (no date from any source) are on no day, so they never take over the daily page or trending.
    """
    ALTER TABLE papers ADD COLUMN featured TEXT;
    ALTER TABLE papers ADD COLUMN abstract_source TEXT;
    DROP INDEX papers_day;
    CREATE INDEX papers_day ON papers(substr(coalesce(featured, published), 1, 10));
    """,
    _convert_abstracts,
    "ALTER TABLE papers ADD COLUMN title_source TEXT",
    _retext_rows,
    # Slow work out of requests: a submission of an unknown arXiv id waits here for the one fetcher (one row per
    # member, id and day; a failed fetch still counts toward the day's limit). Comments keep their rendered,
    # sanitised HTML with the renderer's version, rendered once when written.
    """
    CREATE TABLE lab_pending (
        id INTEGER PRIMARY KEY,
        arxiv_id TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (arxiv_id, user_id, day)
    );
    CREATE INDEX lab_pending_state ON lab_pending(state, not_before);
    CREATE INDEX lab_pending_user ON lab_pending(user_id, day);
    ALTER TABLE lab_comments ADD COLUMN html TEXT;
    ALTER TABLE lab_comments ADD COLUMN html_version INTEGER NOT NULL DEFAULT 0;
    """,
    _clean_private_records,
    # Fields one source has and the others lack, as JSON under the source's own names: Hugging Face's
    # ai_summary, ai_keywords and organization (read back into Paper's typed fields).
    "ALTER TABLE papers ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'",
    # A member's library import waits here for the server's worker (the upload, at most max_import_bytes, is
    # dropped once done); the member sees its progress and report on /library.
    """
    CREATE TABLE import_jobs (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        fmt TEXT NOT NULL,
        data BLOB,
        state TEXT NOT NULL DEFAULT 'queued',
        done INTEGER NOT NULL DEFAULT 0,
        report TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX import_jobs_state ON import_jobs(state, id);
    CREATE INDEX import_jobs_user ON import_jobs(user_id, id)
    """,
    # Citations (issue 27): an edge is citing → cited, by this store's paper ids; a work the store lacks is named
    # as the store would name it (arxiv:…, doi:…) or by its source's id (openalex:W…, s2:…), with its title and DOI
    # in citation_works. Edges are only ever added (a re-run leaves them as they are). citation_fetches keeps every
    # fetch of a paper per source (its id there, or NULL: no match; the counts then): the history trending reads
    # and what staleness is judged by; papers.signals holds the latest count.
    """
    CREATE TABLE citations (
        citing TEXT NOT NULL,
        cited TEXT NOT NULL,
        source TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (citing, cited, source)
    ) WITHOUT ROWID;
    CREATE INDEX citations_cited ON citations(cited, citing);
    CREATE TABLE citation_works (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        doi TEXT,
        arxiv_id TEXT,
        year INTEGER,
        source TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    );
    CREATE TABLE citation_fetches (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        external_id TEXT,
        cited_by INTEGER,
        influential INTEGER,
        PRIMARY KEY (paper_id, source, fetched_at)
    ) WITHOUT ROWID;
    CREATE INDEX citation_fetches_at ON citation_fetches(source, fetched_at)
    """,
    # Topics found in the papers' vectors (`paperscope topics --rebuild`, topics/): two levels (0 broad, 1 fine, a
    # fine topic's `parent` is broad), labelled by class-based tf-idf, ids kept across rebuilds where the clusters
    # match; a topic no rebuild kept stays as an inactive row so links and follows still resolve. paper_topics holds
    # each paper's topics and place on the map, written by a rebuild or, for a new paper, by `update` (placed = 1).
    """
    CREATE TABLE topic_builds (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        built_at TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        stats TEXT NOT NULL DEFAULT '{}',
        placed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE topics (
        id INTEGER PRIMARY KEY,
        level INTEGER NOT NULL,
        parent INTEGER,
        label TEXT NOT NULL,
        terms TEXT NOT NULL DEFAULT '[]',
        papers TEXT NOT NULL DEFAULT '[]',
        size INTEGER NOT NULL DEFAULT 0,
        centroid BLOB,
        x REAL NOT NULL DEFAULT 0,
        y REAL NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        build_id INTEGER NOT NULL
    );
    CREATE INDEX topics_active ON topics(active, level);
    CREATE TABLE paper_topics (
        paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
        broad INTEGER NOT NULL,
        fine INTEGER NOT NULL,
        x REAL NOT NULL,
        y REAL NOT NULL,
        placed INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX paper_topics_broad ON paper_topics(broad);
    CREATE INDEX paper_topics_fine ON paper_topics(fine);
    CREATE TABLE topic_follows (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        topic_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, topic_id)
    ) WITHOUT ROWID;
    CREATE INDEX topic_follows_topic ON topic_follows(topic_id)
    """,
)
