"""`linli meetings ...`: operator commands of the meetings module."""
import sys

import click
from flask import g
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


def _community(slug):
    from core.models import Community

    community = Community.query.filter_by(slug=slug).first()
    if community is None:
        raise click.ClickException(_("No community with the short name %(slug)s.", slug=slug))
    g.community = community  # dates are read in its time zone (core.dates)
    return community


def _meeting(meeting_id, slug=None):
    from core.extensions import db
    from plugins.meetings.models import Meeting

    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or (slug and meeting.community.slug != slug):
        raise click.ClickException(_("No such meeting."))
    return meeting


@click.group("meetings", help=_l("Joint meetings: list meetings, announce overdue action items, export iCalendar."))
def meetings_group():
    pass


@meetings_group.command("list", help=_l("Meetings of a community, latest first."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def list_command(community):
    from plugins.meetings import services as svc
    from plugins.meetings.models import Meeting

    c = _community(community)
    rows = Meeting.query.filter_by(community_id=c.id).order_by(Meeting.starts_at.desc()).all()
    if not rows:
        click.echo(_("No meetings."))
    for m in rows:
        click.echo(f"{m.id:>5}  {svc.local_str(m.starts_at)}  {m.status:<10} {m.minutes_state:<10} {m.title}")


@meetings_group.command("overdue", help=_l("Mark action items past their due date as overdue, announce each once and "
                                           "carry it onto the body's next meeting. Safe to run again (e.g. daily)."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def overdue_command(community):
    from plugins.meetings import services as svc

    c = _community(community)
    announced = svc.mark_overdue(c)
    for item in announced:
        click.echo(f"{item.id:>5}  {item.due_date.isoformat()}  {item.title}")
    click.echo(_("%(n)d action items newly overdue.", n=len(announced)))


@meetings_group.command("ics", help=_l("Print a meeting's iCalendar invitation (or cancellation)."))
@click.argument("meeting_id", type=int)
@click.option("--community", default=None, help=_l("Short name of the community."))
@with_appcontext
def ics_command(meeting_id, community):
    from plugins.meetings import services as svc

    meeting = _meeting(meeting_id, community)
    sys.stdout.buffer.write(svc.meeting_ics(meeting).encode("utf-8"))
    sys.stdout.flush()
