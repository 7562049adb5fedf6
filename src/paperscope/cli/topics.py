"""`paperscope topics`: list the topics found in the papers, or find them again (`--rebuild`)."""

from __future__ import annotations

import dataclasses

import click

from ..config import Settings
from .common import echo_json, open_store


def _identity(ctx: click.Context) -> tuple[str, int]:
    from ..embed import model_identity

    return model_identity(ctx.find_root().obj)


@click.command("topics")
@click.option("--rebuild", is_flag=True, help="Find the topics again: cluster every vector, label, lay out the map.")
@click.option("--level", type=click.Choice(["broad", "fine", "all"]), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the topics as JSON.")
@click.pass_context
def topics_cmd(ctx: click.Context, rebuild: bool, level: str, as_json: bool) -> None:
    """Topics found in the papers (broad ones and the fine ones inside them), with their labels.

    Ids are kept across rebuilds where the clusters match; search with `topic:ID`."""
    settings: Settings = ctx.find_root().obj
    store = open_store(ctx, create=rebuild)
    built = None
    if rebuild:
        from ..topics.build import rebuild as run

        name, dim = _identity(ctx)
        built = run(store, name, dim, settings.topics_fine, settings.topics_broad,
                    on_step=lambda step: click.echo(f"topics: {step} done", err=True))
    topics = store.topics.topics(None if level == "all" else 0 if level == "broad" else 1)
    if as_json:
        echo_json({"build": dataclasses.asdict(built) if built else store.topics.topic_build(),
                   "topics": [dataclasses.asdict(t) for t in topics]})
        return
    if built:
        click.echo(f"{built.broad} broad and {built.fine} fine topics over {built.papers} papers "
                   f"({sum(built.seconds.values()):.1f} s; NPMI {built.stats['npmi_fine']:.3f}, "
                   f"diversity {built.stats['diversity_fine']:.2f})")
    if not topics:
        click.echo("no topics yet: run `paperscope topics --rebuild`")
    for t in topics:
        kind = "broad" if t.level == 0 else f"fine in {t.parent}"
        click.echo(f"topic:{t.id}  [{kind}, {t.size} papers]  {t.label}")


def topics_after_update(ctx: click.Context) -> dict[str, int]:
    """`update`'s topic step: rebuild when the last rebuild is older than `topics_rebuild_days`, else give new
    papers their nearest topic and a place on the map. Nothing before a first `topics --rebuild`."""
    from ..topics.build import place_new, rebuild, stale

    settings: Settings = ctx.find_root().obj
    store = open_store(ctx)
    if store.topics.topic_build() is None:
        return {"placed": 0, "rebuilt": 0}
    name, dim = _identity(ctx)
    if stale(store, settings.topics_rebuild_days):
        built = rebuild(store, name, dim, settings.topics_fine, settings.topics_broad)
        return {"placed": 0, "rebuilt": built.papers}
    from ..search import open_engine

    engine = open_engine(store, settings)
    return {"placed": place_new(store, engine.vectors, name, dim), "rebuilt": 0}
