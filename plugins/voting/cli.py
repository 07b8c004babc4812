"""`linli ballots ...`: list, export, recount, close the ballots whose time is up."""
import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.cli.support import community as community_of
from core.cli.support import fail, service_fail, transaction
from core.errors import ServiceError


@click.group("ballots", help=_l("Ballots of the voting module: list, open, close, export, recount."))
def ballots_group():
    pass


def _ballot(ballot_id):
    from core.extensions import db
    from plugins.voting.models import Ballot

    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        fail(_("No such ballot."))
    return ballot


@ballots_group.command("list", help=_l("List ballots with their state."))
@click.option("--community", default=None, help=_l("Short name of the community."))
@with_appcontext
def list_command(community):
    from plugins.voting.models import Ballot

    q = Ballot.query
    c = community_of(community, required=False)
    if c is not None:
        q = q.filter_by(community_id=c.id)
    for b in q.order_by(Ballot.id):
        click.echo(f"{b.id:>5}  {b.state:<9} {b.method:<8} {b.unit:<9} {b.title}")


@ballots_group.command("export", help=_l("Write a closed ballot as JSON (to stdout or --output)."))
@click.argument("ballot_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help=_l("File to write."))
@with_appcontext
def export_command(ballot_id, output):
    from plugins.voting import services

    try:
        data = services.export(_ballot(ballot_id))
    except ServiceError as err:
        service_fail(err)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(_("Wrote %(path)s.", path=output), err=True)
    else:
        click.echo(text)


@ballots_group.command("recount", help=_l("Check an exported ballot file and recount it; prints JSON with every "
                                           "problem found, exit status 1 if there is any."))
@click.argument("file", type=click.File("r", encoding="utf-8"))
@with_appcontext
def recount_command(file):
    from plugins.voting import integrity

    try:
        data = json.load(file)
        out = integrity.recount(data)
    except (ValueError, RecursionError) as err:  # not JSON, not UTF-8, nested too deep, not a ballot file
        raise click.ClickException(_("This is not a ballot file: %(error)s", error=str(err)[:200]))
    click.echo(json.dumps(_translated(out), ensure_ascii=False, indent=1))
    if not out["ok"]:
        sys.exit(1)


def _translated(out):
    """The recount's report with every problem in the user's language."""
    from plugins.voting.integrity import Problem

    def tr(problems):
        return [_(p.msgid, **p.params) if isinstance(p, Problem) else str(p) for p in problems]

    chain = {**out["chain"], "problems": tr(out["chain"]["problems"])}
    if chain.get("proxies"):
        chain["proxies"] = {**chain["proxies"], "problems": tr(chain["proxies"]["problems"])}
    return {**out, "problems": tr(out["problems"]), "chain": chain}


@ballots_group.command("open", help=_l("Publish a ballot's electorate and open it (its proposal moves to voting)."))
@click.argument("ballot_id", type=int)
@click.option("--confirm-duplicates", is_flag=True,
              help=_l("Open the ballot as the register stands: an owners' ballot even though some owners may be "
                      "one person entered twice, a residents' meeting even though the register does not tell some "
                      "people's age (they are left off the roll)."))
@with_appcontext
def open_command(ballot_id, confirm_duplicates=False):
    from plugins.voting import services

    ballot = _ballot(ballot_id)
    try:
        with transaction():  # an operator's command: no permission to ask (actor None, the platform)
            services.start_voting(ballot, None, confirm_duplicates=confirm_duplicates)
    except ServiceError as err:
        service_fail(err)
    click.echo(_("Opened ballot %(id)d: %(title)s", id=ballot.id, title=ballot.title))


@ballots_group.command("close", help=_l("Close and count a ballot now, with a reason (its proposal is decided)."))
@click.argument("ballot_id", type=int)
@click.option("--reason", required=True, help=_l("Why the ballot closes before its closing time."))
@with_appcontext
def close_command(ballot_id, reason):
    from plugins.voting import services

    ballot = _ballot(ballot_id)
    if not reason.strip():
        fail(_("Say why the ballot closes before its closing time."))
    try:
        with transaction():
            services.count_and_close(ballot, None, reason)
    except ServiceError as err:
        service_fail(err)
    click.echo(_("Closed ballot %(id)d: %(title)s", id=ballot.id, title=ballot.title))


@ballots_group.command("proxies", help=_l("List the proxy authorisations of a ballot and how many each person holds."))
@click.argument("ballot_id", type=int)
@with_appcontext
def proxies_command(ballot_id):
    from plugins.voting import services

    ballot = _ballot(ballot_id)
    proxies = services.proxies_of(ballot).all()
    held = {}
    for p in proxies:
        state = _("revoked") if p.revoked_at else _("in force")
        if not p.revoked_at:
            held[p.name] = held.get(p.name, 0) + 1
        click.echo(f"{p.ref:<5} {p.voter.ref:<6} {services.voter_name(p.voter)} → {p.name}  [{state}]")
    limit = services.proxy_limit(ballot)
    for name, n in sorted(held.items()):
        click.echo(_("%(name)s holds %(n)d of at most %(limit)d.", name=name, n=n, limit=limit))


@ballots_group.command("close-due", help=_l("Close and count every ballot whose closing time has passed (run from "
                                            "cron every minute; safe to run twice at once)."))
@click.option("--community", default=None, help=_l("Short name of the community (default: all)."))
@with_appcontext
def close_due_command(community):
    from core.extensions import db
    from core.models import utcnow
    from plugins.voting import services
    from plugins.voting.models import Ballot

    c = community_of(community, required=False)
    now = utcnow()
    failed = 0
    for ballot_id in services.due_ballots(now, c):
        # Each ballot in a transaction of its own: one that fails leaves the others closed. A
        # ballot another run (or staff) closed meanwhile is skipped: it is counted once.
        try:
            with transaction():
                ballot = db.session.get(Ballot, ballot_id)
                closed = services.close_when_due(ballot, now)
        except ServiceError as err:
            failed += 1
            click.echo(_("Ballot %(id)d was not closed: %(error)s", id=ballot_id, error=str(err.message)), err=True)
            continue
        if closed:
            click.echo(_("Closed ballot %(id)d: %(title)s", id=ballot.id, title=ballot.title))
    if failed:
        sys.exit(1)


@ballots_group.command("convening-overdue",
                       help=_l("List the requests for a residents' meeting the committee has not answered in time, and "
                               "tell staff of each once (run from cron)."))
@with_appcontext
def convening_overdue_command():
    from plugins.voting import convening

    with transaction():
        overdue = convening.flag_overdue()
    for req in overdue:
        click.echo(_("Request %(id)d (%(community)s) overdue since %(day)s: %(subject)s", id=req.id,
                     community=req.community.slug, day=convening.last_day(req).isoformat(), subject=req.subject))
