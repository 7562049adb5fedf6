"""Settings declared once as a table; the only reader of `PAPERSCOPE_*` and the config file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One setting: its name, type, default and the help line that docs and `--help` show."""

    name: str
    kind: Callable[[str], Any]
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("home", str, "", "data directory (SQLite database and index files); default: the user's data dir"),
    Setting("batch_size", int, 500, "records committed per transaction during ingest"),
    Setting("arxiv_oai_url", str, "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint"),
    Setting("arxiv_oai_delay", float, 3.0, "seconds between OAI-PMH page requests (politeness)"),
    Setting("arxiv_api_url", str, "https://export.arxiv.org/api/query", "arXiv API (Atom) endpoint"),
    Setting("arxiv_api_delay", float, 3.0, "seconds between arXiv API requests (arXiv asks for 3)"),
    Setting("hf_api_url", str, "https://huggingface.co", "Hugging Face base URL for /api/daily_papers"),
    Setting("hf_delay", float, 1.0, "seconds between Hugging Face API requests"),
    Setting("http_timeout", float, 60.0, "seconds before an HTTP request is abandoned"),
    Setting("http_retries", int, 3, "retries on 503/429/5xx (honouring Retry-After) and broken bodies"),
    Setting("max_retry_after", float, 600.0, "longest Retry-After paperscope will wait, in seconds"),
    Setting("model", str, "default", "embedding model: 'default' (bundled all-MiniLM-L6-v2) or a local sentence-transformers dir"),
    Setting("embed_batch", int, 64, "papers embedded and committed per batch"),
    Setting("embed_threads", int, 2, "compute threads for bulk embedding"),
    Setting("query_threads", int, 1, "compute threads for query embedding (one is fastest on a shared 2-core box)"),
    Setting("fusion", str, "minmax", "hybrid fusion: 'minmax' (weighted normalised scores) or 'rrf' (reciprocal rank)"),
    Setting("rrf_k", int, 60, "the k of reciprocal-rank fusion"),
    Setting("keyword_weight", float, 0.55, "weight of the keyword (BM25) list in hybrid fusion"),
    Setting("semantic_weight", float, 0.45, "weight of the semantic (vector) list in hybrid fusion"),
    Setting("candidates", int, 100, "candidates taken from each list before fusion"),
    Setting("signup", str, "admin", "who creates accounts: 'open' (anyone signs up) or 'admin' (`paperscope user add`)"),
    Setting("base_url", str, "http://127.0.0.1:8000", "public URL of this instance, for links in mails and feeds"),
    Setting("smtp_host", str, "localhost", "SMTP server for digests"),
    Setting("smtp_port", int, 587, "SMTP port"),
    Setting("smtp_security", str, "starttls", "SMTP transport security: 'starttls', 'tls' or 'none'"),
    Setting("smtp_user", str, "", "SMTP login (empty: no authentication)"),
    Setting("smtp_password", str, "", "SMTP password"),
    Setting("mail_from", str, "paperscope <paperscope@localhost>", "From: address of digests"),
)


@dataclass(frozen=True)
class Settings:
    """The resolved settings; build once in the CLI or web app and pass down."""

    home: Path
    batch_size: int
    arxiv_oai_url: str
    arxiv_oai_delay: float
    arxiv_api_url: str
    arxiv_api_delay: float
    hf_api_url: str
    hf_delay: float
    http_timeout: float
    http_retries: int
    max_retry_after: float
    model: str
    embed_batch: int
    embed_threads: int
    query_threads: int
    fusion: str
    rrf_k: int
    keyword_weight: float
    semantic_weight: float
    candidates: int
    signup: str
    base_url: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password: str
    mail_from: str

    @property
    def db_path(self) -> Path:
        """Where the SQLite database lives inside the data directory."""
        return self.home / "paperscope.sqlite3"


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


def load_settings(
    data_dir: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: defaults < `<home>/paperscope.toml` < `PAPERSCOPE_*` env < explicit overrides."""
    env = os.environ if environ is None else environ
    known = {s.name: s for s in SETTINGS}
    home_raw = data_dir or (overrides or {}).get("home") or env.get("PAPERSCOPE_HOME") or default_home()
    home = Path(home_raw).expanduser()
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
    for name, allowed in (("fusion", ("minmax", "rrf")), ("signup", ("open", "admin")),
                          ("smtp_security", ("starttls", "tls", "none"))):
        if values[name] not in allowed:
            raise ConfigError(f"{name}={values[name]!r}: use one of {', '.join(allowed)}")
    return Settings(**{f.name: values[f.name] for f in fields(Settings)})
