"""`linli meetings ...`: operator commands of the meetings module."""
import sys

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.cli.support import community as find_community
from core.cli.support import fail
from core.db import transaction


def _meeting(meeting_id, slug=None):
    from core.extensions import db
    from plugins.meetings.models import Meeting

    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or (slug and meeting.community.slug != slug):
        fail(_("No such meeting."))
    return meeting


@click.group("meetings", help=_l("Joint meetings: list meetings, announce overdue action items, export iCalendar."))
def meetings_group():
    pass


@meetings_group.command("list", help=_l("Meetings of a community, latest first."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def list_command(community):
    from core.dates import format_local
    from plugins.meetings.models import Meeting

    c = find_community(community)
    rows = Meeting.query.filter_by(community_id=c.id).order_by(Meeting.starts_at.desc()).all()
    if not rows:
        click.echo(_("No meetings."))
    for m in rows:
        click.echo(f"{m.id:>5}  {format_local(m.starts_at)}  {m.status:<10} {m.minutes_state:<10} {m.title}")


@meetings_group.command("overdue", help=_l("Mark action items past their due date as overdue, announce each once and "
                                           "carry it onto the body's next meeting. Safe to run again (e.g. daily)."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def overdue_command(community):
    from plugins.meetings import services as svc

    c = find_community(community)
    with transaction():
        announced = [(item.id, item.due_date, item.title) for item in svc.mark_overdue(c)]
    for item_id, due_date, title in announced:
        click.echo(f"{item_id:>5}  {due_date.isoformat()}  {title}")
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
