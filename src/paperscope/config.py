"""Settings declared once as a table; the only reader of `PAPERSCOPE_*` and the config file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One setting as the docs, `--help` and validation see it (derived from `Settings`' fields)."""

    name: str
    kind: Callable[[str], Any]
    default: Any
    help: str
    choices: tuple[str, ...] = ()


def _s(default: Any, help: str, choices: tuple[str, ...] = ()) -> Any:
    """Declare a setting's default, help line and allowed values once, as a dataclass field."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class Settings:
    """The one declaration of every setting; build once in the CLI or web app and pass down."""

    home: Path = _s(Path(), "data directory (SQLite database and index files); default: the user's data dir")
    database_url: str = _s("", "empty: the embedded SQLite database in the data dir; postgresql://user:pw@host/db: "
                               "everything the store holds lives in PostgreSQL (pip install 'paperscope[postgres]')")
    vector_backend: str = _s("auto", "vector index: 'faiss' (local files), 'pgvector' (HNSW in the database) or "
                                     "'milvus'; 'auto': pgvector when database_url is set, else faiss",
                             ("auto", "faiss", "pgvector", "milvus"))
    batch_size: int = _s(500, "records committed per transaction during ingest")
    read_process_mib: float = _s(16.0, "`ingest snapshot`/`ingest file`: a file this many MiB or bigger is read "
                                       "(parsed, cleaned, LaTeX converted) by other processes, one a core up to "
                                       "three, while the ingest writes; negative: never")
    arxiv_oai_url: str = _s("https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint")
    arxiv_oai_delay: float = _s(3.0, "seconds between OAI-PMH page requests (politeness)")
    arxiv_api_url: str = _s("https://export.arxiv.org/api/query", "arXiv API (Atom) endpoint")
    arxiv_api_delay: float = _s(3.0, "seconds between arXiv API requests (arXiv asks for 3)")
    hf_api_url: str = _s("https://huggingface.co", "Hugging Face base URL for /api/daily_papers")
    hf_delay: float = _s(1.0, "seconds between Hugging Face API requests")
    openalex_api_url: str = _s("https://api.openalex.org", "OpenAlex API base URL (`/works`), for `ingest openalex`")
    openalex_mailto: str = _s("", "an email address sent with OpenAlex requests (its polite pool: faster, fewer "
                                  "refusals); empty: none")
    openalex_delay: float = _s(0.2, "seconds between OpenAlex requests (it allows 10 a second)")
    s2_api_url: str = _s("https://api.semanticscholar.org/graph/v1", "Semantic Scholar Graph API base URL, for "
                         "`ingest semantic-scholar`")
    s2_api_key: str = _s("", "Semantic Scholar API key (sent as x-api-key); empty: the shared, slower public pool")
    s2_delay: float = _s(1.0, "seconds between Semantic Scholar requests (one a second with a key)")
    citations_stale_days: float = _s(7.0, "a paper's citations are fetched again from a source once its last fetch "
                                          "there is this many days old (a re-run sooner fetches nothing)")
    http_timeout: float = _s(60.0, "seconds before an HTTP request is abandoned")
    http_retries: int = _s(3, "retries on 503/429/5xx (honouring Retry-After) and broken bodies")
    max_retry_after: float = _s(600.0, "longest Retry-After paperscope will wait, in seconds")
    model: str = _s("default", "embedding model: 'default' (all-MiniLM-L6-v2 as int8 ONNX, no torch), "
                               "'default-torch' (the same through sentence-transformers: the [torch] extra) "
                               "or a local sentence-transformers dir")
    embed_batch: int = _s(64, "papers embedded and committed per batch")
    embed_threads: int = _s(2, "compute threads for bulk embedding")
    query_threads: int = _s(1, "compute threads for query embedding (one is fastest on a shared 2-core box)")
    fusion: str = _s("zscore", "hybrid fusion: 'zscore' or 'minmax' (convex combination of normalised BM25 and "
                     "cosine over both lists' candidates) or 'rrf' (reciprocal rank)", ("zscore", "minmax", "rrf"))
    rrf_k: int = _s(60, "the k of reciprocal-rank fusion")
    keyword_weight: float = _s(0.7, "weight of the keyword (BM25) list in hybrid fusion (for an 8-word query "
                               "when `length_slope` is set)")
    semantic_weight: float = _s(0.3, "weight of the semantic (vector) list in hybrid fusion (for an 8-word query "
                                "when `length_slope` is set)")
    length_slope: float = _s(0.15, "zscore/minmax fusion: the semantic share grows by this per doubling of the "
                             "query's words past 8 (and shrinks below), within 0.1..0.9; 0 keeps it fixed")
    candidates: int = _s(150, "fixed depth of each list: every page is a slice of one ranking this deep")
    signup: str = _s("admin", "who creates accounts: 'open' (anyone signs up) or 'admin' (`paperscope user add`)",
                     ("open", "admin"))
    base_url: str = _s("http://127.0.0.1:8000", "public URL of this instance, for links in mails and feeds")
    smtp_host: str = _s("localhost", "SMTP server for digests")
    smtp_port: int = _s(587, "SMTP port")
    smtp_security: str = _s("starttls", "SMTP transport security: 'starttls', 'tls' or 'none'",
                            ("starttls", "tls", "none"))
    smtp_user: str = _s("", "SMTP login (empty: no authentication)")
    smtp_password: str = _s("", "SMTP password")
    mail_from: str = _s("paperscope <paperscope@localhost>", "From: address of digests")
    session_idle_hours: float = _s(168.0, "a session unused this long ends (hours)")
    session_max_days: float = _s(30.0, "a session ends this long after sign-in, used or not (days)")
    login_limit: int = _s(5, "failed sign-ins per account per minute before HTTP 429 (the wait doubles each time)")
    login_address_limit: int = _s(20, "failed sign-ins per client address per minute before HTTP 429")
    hash_workers: int = _s(1, "password hashes computed at once per worker process (the rest wait their turn)")
    api_rate: int = _s(120, "API and private-feed requests per minute per member, whichever token they carry "
                            "(HTTP 429 with Retry-After past it)")
    signup_per_address_per_hour: int = _s(5, "accounts one client address may open per hour with open sign-up "
                                              "(HTTP 429 past it); 0: unlimited")
    api_anon_rate: int = _s(0, "anonymous API requests per minute per client address; 0: unlimited")
    webhook_allow: str = _s("", "comma-separated hosts, addresses or networks (CIDR) webhooks may reach although "
                                "private or loopback, e.g. '10.1.2.3,hooks.lab.internal'")
    milvus_uri: str = _s("", "Milvus for vector_backend=milvus: a file path ending in .db = Milvus Lite (relative "
                             "to the data dir; empty: index/milvus.db), http://host:19530 = a server or cluster")
    ray_address: str = _s("", "embedding fan-out: empty = in this process; 'local' = start a local Ray runtime; "
                              "ray://host:10001 or host:6379 = a Ray cluster (needs paperscope[ray])")
    ray_workers: int = _s(0, "Ray embedding workers (one model copy each); 0 = one per CPU Ray reports")
    log_format: str = _s("text", "log lines: 'text' or 'json' (one JSON object a line, for log collectors)",
                         ("text", "json"))
    lab_submissions_per_day: int = _s(10, "papers one member may submit to the lab's daily list per day")
    lab_comments_per_day: int = _s(100, "comments one member may write per day")
    max_body_bytes: int = _s(1_000_000, "largest request body the web accepts (forms, JSON); larger: HTTP 413, "
                                        "refused before it is read")
    max_import_bytes: int = _s(10_000_000, "largest library import (BibTeX/CSV upload) the web accepts; larger: "
                                           "HTTP 413, refused before it is read")
    update_schedule: str = _s("", "run `paperscope update` inside `serve`: 'daily HH:MM' (UTC), 'every 6h', "
                                  "'every 30m', or '' for never (use cron instead)")
    update_args: str = _s("", "what a scheduled update ingests, as `update`'s arguments, e.g. "
                              "'arxiv-oai --set cs --category cs.CL,cs.IR' ('': only embed and index)")
    topics_fine: int = _s(0, "fine topics found by `paperscope topics --rebuild`; 0: about the square root of the "
                             "papers (24 for the 564-paper sample, 316 at 100k, at most 400)")
    topics_broad: int = _s(0, "broad topics (each fine topic belongs to one); 0: about 1.6 x the square root of "
                              "the fine ones (8 ... 30)")
    topics_rebuild_days: float = _s(7.0, "`update` rebuilds the topics and the map once the last rebuild is this many "
                                         "days old (new papers join their nearest topic in between); 0: only "
                                         "`paperscope topics --rebuild`")

    @property
    def db_path(self) -> Path:
        """Where the SQLite database lives inside the data directory."""
        return self.home / "paperscope.sqlite3"

    def index_paths(self, model_name: str) -> tuple[Path, Path]:
        """Where the keyword index and this model's vector index live in the data directory."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_name)
        return self.home / "index" / "keyword", self.home / "index" / f"vectors-{safe}"


_KINDS: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "str": str, "Path": Path}
SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, _KINDS[str(f.type)], "" if f.name == "home" else f.default, f.metadata["help"],
            f.metadata["choices"])
    for f in fields(Settings)
)


def settings_markdown() -> str:
    """The settings table for docs/settings.md, generated from the one declaration."""
    rows = [f"| `{s.name}` | `PAPERSCOPE_{s.name.upper()}` | `{s.default!r}` | {s.help} |" for s in SETTINGS]
    return "| setting | environment | default | meaning |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"


def resolve_home(data_dir: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The data directory: `--data-dir`, else `PAPERSCOPE_HOME`, else the user's data directory (the one place)."""
    env = os.environ if environ is None else environ
    return Path(data_dir or env.get("PAPERSCOPE_HOME") or default_home()).expanduser()


def default_home() -> Path:
    """The per-user data directory used when neither `--data-dir` nor `PAPERSCOPE_HOME` is given."""
    import platformdirs

    return Path(platformdirs.user_data_dir("paperscope", appauthor=False))


def _convert(setting: Setting, raw: Any, origin: str) -> Any:
    try:
        return setting.kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{origin}: {setting.name}={raw!r} is not a valid {setting.kind.__name__} ({setting.help})"
        ) from None


def export_home(home: Path) -> None:
    """Hand the data directory to worker processes started after this (multi-worker `serve`)."""
    os.environ["PAPERSCOPE_HOME"] = str(home)


def export_database_url(url: str) -> None:
    """Hand the database URL to worker processes started after this (multi-worker `serve` on PostgreSQL)."""
    if url:
        os.environ["PAPERSCOPE_DATABASE_URL"] = url


def _warn_unknown_env(env: Mapping[str, str], known: Mapping[str, Setting]) -> None:
    """A misspelt `PAPERSCOPE_*` variable would be silently ignored: name the closest real setting."""
    import difflib
    import warnings

    for key in env:
        if key.startswith("PAPERSCOPE_TESTS_"):  # the test harness's own variables (CONTRIBUTING.md), not settings
            continue
        if key.startswith("PAPERSCOPE_") and key[11:].lower() not in known:
            close = difflib.get_close_matches(key[11:].lower(), list(known), n=1)
            hint = f"; did you mean PAPERSCOPE_{close[0].upper()}?" if close else ""
            warnings.warn(f"unknown setting {key} is ignored{hint}", UserWarning, stacklevel=3)


def load_settings(
    data_dir: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: defaults < `<home>/paperscope.toml` < `PAPERSCOPE_*` env < explicit overrides."""
    env = os.environ if environ is None else environ
    known = {s.name: s for s in SETTINGS}
    home = resolve_home(data_dir or (overrides or {}).get("home"), env)
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    config_file = home / "paperscope.toml"
    if config_file.exists():
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file} is not valid TOML: {exc}; fix or delete it") from None
        for name, raw in file_values.items():
            if name not in known:
                raise ConfigError(f"{config_file}: unknown setting {name!r}; known: {', '.join(sorted(known))}")
            values[name] = _convert(known[name], raw, str(config_file))
    _warn_unknown_env(env, known)
    for name, setting in known.items():
        raw = env.get(f"PAPERSCOPE_{name.upper()}")
        if raw is not None and name != "home":
            values[name] = _convert(setting, raw, f"PAPERSCOPE_{name.upper()}")
    for name, raw in (overrides or {}).items():
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
        if name != "home" and raw is not None:
            values[name] = _convert(known[name], raw, "override")
    values["home"] = home
    for s in SETTINGS:
        if s.choices and values[s.name] not in s.choices:
            raise ConfigError(f"{s.name}={values[s.name]!r}: use one of {', '.join(s.choices)}")
    _check_backends(values)
    return Settings(**{f.name: values[f.name] for f in fields(Settings)})


def _check_backends(values: Mapping[str, Any]) -> None:
    """A database URL must name PostgreSQL, and pgvector needs one: say so before anything opens."""
    url = values["database_url"]
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"database_url must start with postgresql:// (or be empty for the embedded SQLite "
                          f"database), not {url.split('://')[0]!r}")
    if values["vector_backend"] == "pgvector" and not url:
        raise ConfigError("vector_backend=pgvector keeps vectors in PostgreSQL: set database_url to a "
                          "postgresql:// URL, or use vector_backend=faiss")
    if values["vector_backend"] == "faiss" and url:
        raise ConfigError("with database_url set, vectors live in the database: use vector_backend=pgvector "
                          "(or auto, or milvus); faiss files would tie every worker to one data directory")
