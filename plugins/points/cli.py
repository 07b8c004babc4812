"""`linli points ...`: expiry, balances and a ledger check for operators."""
from datetime import datetime, timezone

import click
from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask.cli import with_appcontext


def _community(slug):
    from core.models import Community

    if slug is None:
        return None
    community = Community.query.filter_by(slug=slug).first()
    if community is None:
        raise click.ClickException(_("No community with the short name %(slug)s.", slug=slug))
    g.community = community  # dates are read in its time zone (core.dates)
    return community


@click.group("points", help=_l("Points store: expire points, show balances, check the ledger."))
def points_group():
    pass


@points_group.command("expire", help=_l("Expire earning lots past their date, oldest first (safe to run twice)."))
@click.option("--community", default=None, help=_l("Short name of the community (default: all)."))
@click.option("--now", "now", default=None, help=_l("Pretend it is this time (ISO 8601), for testing."))
@with_appcontext
def expire_command(community, now):
    from plugins.points import services

    when = None
    if now:
        try:
            when = datetime.fromisoformat(now)
        except ValueError:
            raise click.ClickException(_("Give the time as ISO 8601, e.g. 2027-01-31T00:00:00+08:00."))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
    done = services.expire(when, _community(community))
    total = sum(t.amount for t in done)
    click.echo(_("%(lots)d earning lots expired, %(points)d points in all.", lots=len(done), points=total))


@points_group.command("balance", help=_l("Show a resident's balance."))
@click.argument("login")
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def balance_command(login, community):
    from core.services.accounts import find_user
    from plugins.points import ledger

    c = _community(community)
    user = find_user(login)
    if user is None:
        raise click.ClickException(_("No account %(login)s.", login=login))
    click.echo(str(ledger.balance_of(c.id, user.id)))


@points_group.command("check", help=_l("Check the ledger: every transfer sums to zero, balances equal their entries."))
@click.option("--community", default=None, help=_l("Short name of the community (default: all)."))
@with_appcontext
def check_command(community):
    from plugins.points import ledger

    c = _community(community)
    problems = ledger.check(c.id if c else None)
    for p in problems:
        click.echo(p, err=True)
    if problems:
        raise click.ClickException(_("The ledger has %(n)d problems.", n=len(problems)))
    click.echo(_("The ledger is consistent."))
