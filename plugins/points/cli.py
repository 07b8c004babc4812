"""`linli points ...`: expiry, balances and a ledger check for operators."""
from datetime import datetime, timezone

import click
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask.cli import with_appcontext

from core.cli.support import community as find_community
from core.cli.support import fail, transaction


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
            fail(_("Give the time as ISO 8601, e.g. 2027-01-31T00:00:00+08:00."))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
    done = []
    for lot_id in services.due_lots(when, find_community(community, required=False)):
        with transaction():  # one lot at a time: its resident's account is locked only that long
            transfer = services.expire_lot(lot_id, when)
            if transfer is not None:
                done.append(transfer.amount)
    click.echo(_("%(lots)d earning lots expired, %(points)d points in all.", lots=len(done), points=sum(done)))


@points_group.command("balance", help=_l("Show a resident's balance."))
@click.argument("login")
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def balance_command(login, community):
    from core.services.accounts import find_user
    from plugins.points import ledger

    c = find_community(community)
    user = find_user(login)
    if user is None:
        fail(_("No account %(login)s.", login=login))
    click.echo(str(ledger.balance_of(c.id, user.id)))


@points_group.command("check", help=_l("Check the ledger: every transfer sums to zero, balances equal their entries."))
@click.option("--community", default=None, help=_l("Short name of the community (default: all)."))
@with_appcontext
def check_command(community):
    from plugins.points import ledger

    c = find_community(community, required=False)
    problems = ledger.check(c.id if c else None)
    for p in problems:
        click.echo(p, err=True)
    if problems:
        fail(_("The ledger has %(n)d problems.", n=len(problems)))
    click.echo(_("The ledger is consistent."))
