"""The `paperscope` command: builds the services once from the settings and turns errors into messages."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from .config import SETTINGS, Settings, load_settings
from .errors import PaperscopeError
from .models import Batch, IngestReport, Paper
from .pipeline import SOURCES, SourceOptions, ingest
from .store import Store


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class _Group(click.Group):
    """Turn any PaperscopeError into `error: …` on stderr and its exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PaperscopeError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; what was committed is kept and the next run resumes", err=True)
            ctx.exit(130)


@click.group(cls=_Group, epilog="Settings (env PAPERSCOPE_<NAME> or <data-dir>/paperscope.toml):\n\n"
             + "\n\n".join(f"  {s.name} = {s.default!r}: {s.help}" for s in SETTINGS))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="PAPERSCOPE_HOME",
              help="Data directory (default: PAPERSCOPE_HOME or the user's data dir).")
@click.version_option(package_name="paperscope")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """paperscope: a self-hosted research-paper discovery engine."""
    ctx.obj = load_settings(data_dir)


def _store(ctx: click.Context) -> Store:
    settings: Settings = ctx.obj
    store = Store(settings.db_path)
    ctx.call_on_close(store.close)
    return store


def _progress(source: str) -> tuple[Callable[[Batch], None], Callable[[], None]]:
    from tqdm import tqdm

    bytes_based = source in ("snapshot", "file", "sample")
    unit = {"hf-daily": "day"}.get(source, "B" if bytes_based else "rec")
    bar = tqdm(desc=f"ingest {source}", unit=unit, unit_scale=bytes_based, file=sys.stderr,
               disable=None, dynamic_ncols=True)

    def on_batch(batch: Batch) -> None:
        if batch.total is not None and bar.total != batch.total:
            bar.total = batch.total
            bar.refresh()
        bar.update(batch.done)

    return on_batch, bar.close


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        _echo_json({**dataclasses.asdict(report), "changed": report.changed})
        return
    click.echo(f"{report.source}: {report.added} added, {report.updated} updated, "
               f"{report.unchanged} unchanged{' (resumed)' if report.resumed else ''}")
    if report.problems:
        click.echo(f"{len(report.problems)} record(s) skipped:", err=True)
        for p in report.problems[:20]:
            click.echo(f"  {p.record}: {p.reason}", err=True)
        if len(report.problems) > 20:
            click.echo(f"  … and {len(report.problems) - 20} more (use --json for all)", err=True)


@main.command("ingest")
@click.argument("source", type=click.Choice(SOURCES))
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "bibtex"]), help="File format (default: by extension).")
@click.option("--set", "set_spec", help="OAI-PMH set, e.g. cs or physics:hep-th.")
@click.option("--prefix", default="arXiv", type=click.Choice(["arXiv", "arXivRaw"]), help="OAI-PMH metadata prefix.")
@click.option("--from", "--since", "since", help="First date YYYY-MM-DD (default: where the last run ended).")
@click.option("--until", help="Last date YYYY-MM-DD (default: today).")
@click.option("--query", help="arXiv API search_query, e.g. 'cat:cs.IR AND abs:retrieval'.")
@click.option("--id", "ids", multiple=True, help="arXiv id for the API's id_list (repeatable).")
@click.option("--max-results", type=int, help="Stop the arXiv API after this many results.")
@click.option("--restart", is_flag=True, help="Ignore the saved checkpoint and start from the beginning.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest_cmd(ctx: click.Context, source: str, path: Path | None, fmt: str | None, set_spec: str | None,
               prefix: str, since: str | None, until: str | None, query: str | None, ids: tuple[str, ...],
               max_results: int | None, restart: bool, as_json: bool) -> None:
    """Ingest papers from SOURCE (arxiv-oai, arxiv-api, snapshot FILE, hf-daily, file FILE, sample)."""
    opts = SourceOptions(path=path, fmt=fmt, set_spec=set_spec, prefix=prefix, since=since, until=until,
                         query=query, ids=ids, max_results=max_results)
    on_batch, close = _progress(source)
    try:
        report = ingest(_store(ctx), ctx.obj, source, opts, restart=restart, on_batch=on_batch)
    finally:
        close()
    _print_report(report, as_json)


def _paper_text(p: Paper) -> str:
    lines = [p.title, f"id: {p.id}"]
    if p.withdrawn:
        lines.append(f"WITHDRAWN: arXiv reported this paper deleted ({p.withdrawn[:10]}); hidden from lists and search")
    if p.authors:
        lines.append("authors: " + ", ".join(
            a.name + (f" ({'; '.join(a.affiliations)})" if a.affiliations else "") for a in p.authors))
    for label, value in (("categories", " ".join(p.categories)), ("published", p.published),
                         ("updated", p.updated), ("first seen", p.first_seen), ("doi", p.doi),
                         ("journal", p.journal_ref), ("comments", p.comments), ("license", p.license)):
        if value:
            lines.append(f"{label}: {value}")
    if p.versions:
        lines.append("versions: " + ", ".join(f"{v.version} ({(v.created or '?')[:10]})" for v in p.versions))
    lines += [f"{k}: {v}" for k, v in p.links.items()]
    lines += [f"{k}: {s.value:g} (from {s.source})" for k, s in p.signals.items()]
    lines.append("sources: " + ", ".join(p.sources))
    if p.abstract:
        lines += ["", p.abstract]
    return "\n".join(lines)


@main.command()
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Print the paper as JSON.")
@click.pass_context
def show(ctx: click.Context, paper_id: str, as_json: bool) -> None:
    """Show one paper by id (arxiv:…, a bare arXiv id or URL, doi:…, local:…)."""
    paper = _store(ctx).get_paper(paper_id)
    if as_json:
        _echo_json(dataclasses.asdict(paper))
    else:
        click.echo(_paper_text(paper))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count papers per source and show each source's last successful ingest."""
    from .pipeline import index_paths, model_identity

    store = _store(ctx)
    data = store.stats()
    settings: Settings = ctx.obj
    name, _ = model_identity(settings)
    data["models"] = [{"name": n, "dim": d, "vectors": c} for n, d, c in store.models()]
    data["index_bytes"] = {p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
                           for p in index_paths(settings, name) if p.exists()}
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{data['papers']} papers in {data['database']}")
    for source, n in sorted(data["papers_by_source"].items()):
        click.echo(f"  {source}: {n}")
    for key, at in sorted(data["last_successful_ingest"].items()):
        click.echo(f"  last ok {key}: {at}")
    for m in data["models"]:
        click.echo(f"  model {m['name']} ({m['dim']}-d): {m['vectors']} vectors")
    for index_name, size in data["index_bytes"].items():
        click.echo(f"  index {index_name}: {size / 2**20:.1f} MiB")


@main.command()
@click.option("--query", default="compressing the key-value cache for long contexts", help="A first search to show.")
@click.option("--serve/--no-serve", "serve_after", default=True, help="Serve the web UI afterwards (default: yes).")
@click.option("--port", default=8000, type=int, help="Port for the web UI.")
@click.pass_context
def demo(ctx: click.Context, query: str, serve_after: bool, port: int) -> None:
    """The main job on the embedded default: ingest the bundled sample, embed, index, search and serve it."""
    on_batch, close = _progress("sample")
    try:
        report = ingest(_store(ctx), ctx.obj, "sample", SourceOptions(), on_batch=on_batch)
    finally:
        close()
    _print_report(report, False)
    click.echo(f"embedded {_embed(ctx)} paper(s)")
    _index(ctx, False)
    ctx.invoke(stats)
    click.echo(f"\npaperscope search {query!r}")
    ctx.invoke(search_cmd, query=query, mode="hybrid", k=5, offset=0, as_json=False)
    if serve_after:
        ctx.invoke(serve, host="127.0.0.1", port=port, workers=1)


def _bar(desc: str, unit: str = "paper") -> Any:
    from tqdm import tqdm

    return tqdm(desc=desc, unit=unit, file=sys.stderr, disable=None, dynamic_ncols=True)


def _progress_fn(bar: Any) -> Callable[[int, int], None]:
    def update(n: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(n)
    return update


def _embed(ctx: click.Context) -> int:
    from .embed import load_embedder
    from .pipeline import embed_papers

    settings: Settings = ctx.obj
    embedder = load_embedder(settings.model, settings.embed_threads)
    bar = _bar(f"embed ({embedder.name})")
    try:
        return embed_papers(_store(ctx), embedder, settings.embed_batch, _progress_fn(bar))
    finally:
        bar.close()


def _index(ctx: click.Context, rebuild: bool) -> dict[str, int]:
    from .pipeline import model_identity, update_indexes

    settings: Settings = ctx.obj
    name, dim = model_identity(settings)
    bar = _bar("index")
    try:
        return update_indexes(_store(ctx), settings, name, dim, rebuild, _progress_fn(bar))
    finally:
        bar.close()


@main.command()
@click.pass_context
def embed(ctx: click.Context) -> None:
    """Embed papers that have no vector for the configured model yet (resumable; batches commit)."""
    n = _embed(ctx)
    click.echo(f"embedded {n} paper(s)")


@main.command("index")
@click.option("--rebuild", is_flag=True, help="Delete the index files and build them again from the store.")
@click.pass_context
def index_cmd(ctx: click.Context, rebuild: bool) -> None:
    """Bring the keyword and vector indexes up to date with the store."""
    counts = _index(ctx, rebuild)
    click.echo(f"indexed {counts['keyword']} paper(s) for keywords, {counts['vectors']} vector(s)")


@main.command()
@click.argument("source", type=click.Choice(SOURCES), required=False)
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def update(ctx: click.Context, source: str | None, path: Path | None) -> None:
    """Ingest (if SOURCE is given) → embed → index. Exits 1 when nothing changed, so later steps can skip."""
    changed = False
    if source:
        on_batch, close = _progress(source)
        try:
            report = ingest(_store(ctx), ctx.obj, source, SourceOptions(path=path), on_batch=on_batch)
        finally:
            close()
        _print_report(report, False)
        changed = report.changed
    embedded = _embed(ctx)
    counts = _index(ctx, False)
    click.echo(f"embedded {embedded}, indexed {counts['keyword']} paper(s) and {counts['vectors']} vector(s)")
    if not (changed or embedded or counts["keyword"] or counts["vectors"]):
        ctx.exit(1)


def _engine(ctx: click.Context) -> Any:
    from .search import open_engine

    return open_engine(_store(ctx), ctx.obj)


def _hit_json(hit: Any) -> dict[str, Any]:
    p = hit.paper
    return {"id": p.id, "title": p.title, "score": round(hit.score, 6), "reason": hit.reason,
            "authors": [a.name for a in p.authors], "published": p.published, "categories": list(p.categories),
            "snippet": "".join(f"**{t}**" if m else t for t, m in hit.snippet),
            "keyword_rank": hit.keyword_rank, "semantic_rank": hit.semantic_rank}


def _print_hits(hits: Any) -> None:
    for i, hit in enumerate(hits, 1):
        p = hit.paper
        meta = " · ".join(x for x in ((p.published or "")[:10], " ".join(p.categories[:2]),
                                      ", ".join(a.name for a in p.authors[:3])) if x)
        click.echo(f"{i:>2}. {click.style(p.title, bold=True)}  [{p.id}]")
        click.echo(f"    {hit.reason} {hit.score:.4f}" + (f" · {meta}" if meta else ""))
        snippet = "".join(click.style(t, fg="yellow", bold=True) if m else t for t, m in hit.snippet)
        if snippet:
            click.echo(f"    {snippet}")


@main.command("search")
@click.argument("query")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default="hybrid")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 200), default=10)
@click.option("--offset", type=click.IntRange(0, 10000), default=0)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search_cmd(ctx: click.Context, query: str, mode: str, k: int, offset: int, as_json: bool) -> None:
    """Search by meaning and keyword: "phrases", author:, cat:, year:2020..2023, since:, until:, -term."""
    from .search import search

    result = search(_engine(ctx), query, k, mode, offset)
    if as_json:
        _echo_json({"query": query, "mode": mode, "total": result.total, "took_ms": round(result.took_ms, 2),
                    "notes": list(result.query.notes), "hits": [_hit_json(h) for h in result.hits]})
        return
    for note in result.query.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{result.total} result(s) in {result.took_ms:.0f} ms ({mode})")
    _print_hits(result.hits)


@main.command("similar")
@click.argument("paper_ids", nargs=-1, required=True)
@click.option("--not", "negatives", multiple=True, help="A paper to steer away from (repeatable).")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 200), default=10)
@click.option("--filter", "filter_text", default="", help="Filters in query syntax, e.g. 'cat:cs.CL since:2024'.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def similar_cmd(ctx: click.Context, paper_ids: tuple[str, ...], negatives: tuple[str, ...], k: int,
                filter_text: str, as_json: bool) -> None:
    """Papers like these (more-like-these when several ids are given)."""
    from .search import similar
    from .text import parse_query

    hits = similar(_engine(ctx), paper_ids, negatives, parse_query(filter_text).filters, k)
    if as_json:
        _echo_json([_hit_json(h) for h in hits])
    else:
        _print_hits(hits)


@main.command("eval")
@click.argument("beir_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--split", default="test")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def eval_cmd(ctx: click.Context, beir_dir: Path, split: str, as_json: bool) -> None:
    """Run a BEIR dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) through the real pipeline."""
    from .evaluate import evaluate

    settings: Settings = ctx.obj
    on_batch, close = _progress("file")
    try:
        ingest(_store(ctx), settings, "file", SourceOptions(path=beir_dir / "corpus.jsonl"), on_batch=on_batch)
    finally:
        close()
    _embed(ctx)
    _index(ctx, False)
    results = evaluate(_engine(ctx), beir_dir, split)
    if as_json:
        _echo_json(results)
        return
    click.echo(f"{'mode':<10} {'nDCG@10':>8} {'R@100':>8} {'MRR@10':>8}   ({results['queries']} queries)")
    for mode, m in results["modes"].items():
        click.echo(f"{mode:<10} {m['ndcg@10']:>8.4f} {m['recall@100']:>8.4f} {m['mrr@10']:>8.4f}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Processes, each with its own engine (use the number of cores for throughput).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web UI and the JSON API (OpenAPI docs at /docs)."""
    from .web.app import serve as run

    click.echo(f"paperscope serving {ctx.obj.home} on http://{host}:{port}/ (API docs at /docs)", err=True)
    run(ctx.obj, host, port, workers)


@main.group()
def user() -> None:
    """Manage accounts on this instance (admins create users when sign-up is closed)."""


@user.command("add")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (prompted when not given; at least 8 characters).")
@click.pass_context
def user_add(ctx: click.Context, email: str, admin: bool, password: str) -> None:
    """Create an account."""
    from .auth import hash_password

    created = _store(ctx.find_root()).users.create(email, hash_password(password), "admin" if admin else "user")
    click.echo(f"created {created.role} {created.email} (id {created.id})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts with their digest settings."""
    users = _store(ctx.find_root()).users.all()
    if as_json:
        _echo_json([{"id": u.id, "email": u.email, "role": u.role, "digest": u.digest_frequency} for u in users])
        return
    for u in users:
        click.echo(f"{u.id:>4}  {u.email:<32} {u.role:<5} digest {u.digest_frequency}")


@user.command("token")
@click.argument("email")
@click.pass_context
def user_token(ctx: click.Context, email: str) -> None:
    """Issue a new API token for an account (printed once)."""
    from .auth import new_api_token
    from .errors import NotFoundError

    store = _store(ctx.find_root())
    found = store.users.by_email(email)
    if found is None:
        raise NotFoundError(f"no account {email}; create it with `paperscope user add {email}`")
    click.echo(new_api_token(store, found.id))


@main.group()
def digest() -> None:
    """Email digests of new papers ranked for each user."""


@digest.command("send")
@click.option("--dry-run", "dry_run", type=click.Path(file_okay=False, path_type=Path),
              help="Write the mails as .eml files to this folder instead of sending (nothing is marked sent).")
@click.pass_context
def digest_send(ctx: click.Context, dry_run: Path | None) -> None:
    """Compose digests for every due user and send them (and retry earlier failures)."""
    from .digest import run

    root = ctx.find_root()
    report = run(_engine(root), root.obj, dry_run=dry_run)
    click.echo(f"composed {report.composed}, sent {report.sent}, failed {report.failed} (kept for retry), "
               f"empty {report.skipped_empty}")
    for path in report.written:
        click.echo(f"  wrote {path}")
    for error in report.errors:
        click.echo(f"  {error}", err=True)
    if report.failed:
        ctx.exit(1)
