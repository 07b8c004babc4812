"""`linli mediation ...`: overdue cases, follow-ups due, the holiday calendar, the register."""
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import dates
from core.cli.support import community as find_community
from core.cli.support import fail, service_fail
from core.db import transaction
from core.errors import ServiceError
from plugins.mediation import dates as rule_dates


@click.group("mediation", help=_l("Dispute mediation: overdue cases, follow-ups, holidays, the case register."))
def mediation_group():
    pass


@mediation_group.command("overdue", help=_l("List open cases older than one month."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def overdue(community):
    from plugins.mediation import reports

    c = find_community(community)
    today = dates.today(c)
    rows = [x for x in reports.cases(c) if rule_dates.is_overdue(x, today)]
    for x in rows:
        click.echo(_("%(number)s  opened %(date)s  %(days)d days", number=x.number,
                     date=dates.local_date(x.opened_at, c).isoformat(), days=rule_dates.days_open(x, today)))
    click.echo(_("%(n)d open cases over one month.", n=len(rows)))


@mediation_group.command("followups", help=_l("List follow-up visits that are due."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def followups(community):
    from plugins.mediation.models import MediationCase, MediationFollowup

    c = find_community(community)
    rows = (MediationFollowup.query.join(MediationCase, MediationFollowup.case_id == MediationCase.id)
            .filter(MediationCase.community_id == c.id, MediationFollowup.done_at.is_(None),
                    MediationFollowup.due_on <= dates.today(c)).order_by(MediationFollowup.due_on).all())
    for f in rows:
        click.echo(_("%(number)s  follow-up due %(date)s", number=f.case.number, date=f.due_on.isoformat()))
    click.echo(_("%(n)d follow-up visits due.", n=len(rows)))


@mediation_group.group("holidays", help=_l("The holiday calendar used for judicial-confirmation deadlines."))
def holidays_group():
    pass


@holidays_group.command("add", help=_l("Add a holiday, or several days with --until."))
@click.argument("day")
@click.option("--until", default=None, help=_l("Last day (YYYY-MM-DD)."))
@click.option("--name", required=True, help=_l("Name of the holiday."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def holidays_add(day, until, name, community):
    from plugins.mediation import services as svc

    c = find_community(community)
    try:
        with transaction():
            added = svc.add_holidays(c, None, day, until, name)
    except ServiceError as err:
        service_fail(err)
    click.echo(_("%(n)d days added.", n=len(added)))


@holidays_group.command("list", help=_l("List the holidays."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def holidays_list(community):
    from plugins.mediation.models import MediationHoliday

    c = find_community(community)
    for h in MediationHoliday.query.filter_by(community_id=c.id).order_by(MediationHoliday.day):
        click.echo(f"{h.day.isoformat()}  {h.name}")


@mediation_group.command("deadline", help=_l("Show the judicial-confirmation deadline for an effective date."))
@click.argument("effective_on")
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def deadline(effective_on, community):
    from datetime import date

    try:
        day = date.fromisoformat(effective_on)
    except ValueError:
        fail(_("Enter a date as YYYY-MM-DD."))
    click.echo(rule_dates.deadline_for(find_community(community), day).isoformat())


@mediation_group.command("export", help=_l("Write the case register (without personal data) to .xlsx."))
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def export(file, community):
    from plugins.mediation import reports

    Path(file).write_bytes(reports.register_xlsx(find_community(community)))
    click.echo(_("Wrote %(path)s.", path=file))


@mediation_group.command("staff", help=_l("Grant or take back mediation-staff access for a member."))
@click.argument("login")
@click.option("--community", required=True, help=_l("Short name of the community."))
@click.option("--remove", is_flag=True, help=_l("Take the access back."))
@with_appcontext
def staff(login, community, remove):
    from plugins.mediation import services as svc

    c, user = find_community(community), svc.user_by_login(login)
    try:
        with transaction():
            svc.set_staff(c, None, user, add=not remove)
    except ServiceError as err:
        service_fail(err)
    click.echo(_("Saved."))


@mediation_group.command("purge", help=_l("Erase the personal details of closed cases past the retention period."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@click.option("--dry-run", is_flag=True, help=_l("Only list what would be erased."))
@with_appcontext
def purge(community, dry_run):
    from plugins.mediation import services as svc

    c = find_community(community)
    with transaction():  # the erased cases' files go once it has committed
        report = svc.purge(c, None, dry_run=dry_run)
    for number, counts in report:
        click.echo(_("%(number)s  %(parties)d parties, %(sessions)d sessions, %(documents)d documents, "
                     "%(agreements)d agreements, %(followups)d follow-up visits",
                     number=number, **counts))
    if dry_run:
        click.echo(_("%(n)d cases would be erased (closed more than %(years)d years ago). Nothing was changed.",
                     n=len(report), years=svc.retention_years(c)))
    else:
        click.echo(_("%(n)d cases erased (closed more than %(years)d years ago).", n=len(report),
                     years=svc.retention_years(c)))
