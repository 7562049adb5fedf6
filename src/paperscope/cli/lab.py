"""The lab's daily list from the command line: `paperscope submit ID --as EMAIL`."""

from __future__ import annotations

import click

from ..errors import NotFoundError, SourceError
from .common import echo_json, open_engine


@click.command("submit")
@click.argument("paper")
@click.option("--as", "email", required=True,
              help="The member who submits (their display name is shown, never the email).")
@click.option("--withdraw", is_flag=True, help="Take this member's submission of today off the list instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def submit_cmd(ctx: click.Context, paper: str, email: str, withdraw: bool, as_json: bool) -> None:
    """Submit a paper (arXiv id or URL) to today's lab list; an unknown one is fetched from the arXiv API."""
    from .. import community

    engine = open_engine(ctx)
    user = engine.store.users.by_email(email)
    if user is None:
        raise NotFoundError(f"no account for {email}; create it with `paperscope user add {email}`")
    if withdraw:
        community.withdraw(engine, user, f"arxiv:{community.parse_ref(paper)}")
        click.echo(f"withdrew {paper} from today's lab list")
        return
    result = community.submit(engine, user, paper)
    if isinstance(result, community.Queued):  # the CLI is its own fetcher: fetch now, then read the list
        community.fetch_pending(engine)
        result = community.submit(engine, user, paper)
        if isinstance(result, community.Queued):
            reasons = [p.reason for p in engine.store.community.pending_of(user.id, result.day)
                       if p.arxiv_id == result.arxiv_id]
            raise SourceError(f"arXiv {result.arxiv_id} could not be fetched: {reasons[0] if reasons else 'queued'}")
        result = community.SubmitResult(result.paper, result.submission, True, True, True)
    s = result.submission
    if as_json:
        echo_json({"id": result.paper.arxiv_id or result.paper.id, "title": result.paper.title, "day": s.day,
                   "submittedBy": s.submitted_by, "submittedOnDailyAt": s.submitted_at, "created": result.created,
                   "fetched": result.fetched})
        return
    where = "fetched from arXiv and " if result.fetched else ""
    if result.created:
        click.echo(f"{where}submitted {result.paper.id} “{result.paper.title}” to the lab list of {s.day}")
    else:
        click.echo(f"{result.paper.id} is already on the lab list of {s.day} (submitted by {s.submitted_by})")
