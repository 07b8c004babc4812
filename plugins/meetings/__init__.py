"""The meetings module of linli: Joint meetings (联席会议)."""
from flask_babel import lazy_gettext as _l

from core.events import EventType
from core.hookspecs import hookimpl
from core.permissions import Permission
from core.plugins import PluginManifest
from core.ui import NavItem, Panel
from plugins.meetings import models  # noqa: F401  (register the tables with the plugin)

manifest = PluginManifest(
    name="meetings",
    label=_l("Joint meetings (联席会议)"),
    description=_l("Standing meeting bodies, rotating chair, agendas, attendance and quorum, minutes, resolutions and action items; iCalendar invitations."),
    namespaces=("meeting", "resolution", "action_item"),
)

STAFF = ("staff", "admin")
MEMBERS = ("resident", "building_head", "grid_worker", "mediator", "staff", "admin")


@hookimpl
def register_blueprints():
    from plugins.meetings.views import bp

    return [bp]


@hookimpl
def register_api_blueprints():
    from plugins.meetings.api import api_bp

    return [api_bp]


@hookimpl
def register_cli_commands():
    from plugins.meetings.cli import meetings_group

    return [meetings_group]


@hookimpl
def register_permissions():
    return [
        Permission("meetings.bodies.manage", _l("Set up meeting bodies, organisations and delegates"), STAFF),
        Permission("meetings.meetings.manage", _l("Schedule and run meetings: agenda, attendance, resolutions"), STAFF),
        Permission("meetings.minutes.write", _l("Write, submit and publish minutes"), STAFF),
        Permission("meetings.actions.manage", _l("Follow up action items"), STAFF),
        Permission("meetings.topics.submit", _l("Submit topics for a meeting's agenda"), MEMBERS),
    ]


@hookimpl
def register_audit_events():
    """The sentences of the audit keys this module writes (the core's audit log shows them)."""
    from plugins.meetings.audit_texts import EVENTS, FIELDS

    return EVENTS + FIELDS


@hookimpl
def register_event_types():
    return [
        EventType("meeting.held", _l("A joint meeting was held")),
        EventType("meeting.attended", _l("A delegate or resident attended a meeting")),
        EventType("resolution.adopted", _l("A meeting adopted a resolution")),
        EventType("action_item.overdue", _l("An action item is overdue")),
    ]


@hookimpl
def nav_items(community, user):
    return [NavItem("c.meetings.index", _l("Meetings"), order=30, icon="calendar")]


@hookimpl
def proposal_panels(proposal, user):
    from plugins.meetings.views import proposal_panel_context

    ctx = proposal_panel_context(proposal)
    if not ctx["items"]:
        return []
    return [Panel("meetings/_panel_proposal.html", _l("Joint meetings"), ctx, order=40)]


@hookimpl
def dashboard_widgets(community, user):
    from plugins.meetings.views import upcoming_widget_context

    ctx = upcoming_widget_context(community)
    if not ctx["meetings"]:
        return []
    return [Panel("meetings/_widget_upcoming.html", _l("Upcoming meetings"), ctx, order=40)]


@hookimpl
def load_demo_data(community, users):
    from plugins.meetings.demo import load

    load(community, users)


@hookimpl
def on_proposal_transition(proposal, old_state, new_state, actor, reason):
    """A withdrawn proposal leaves the agendas of meetings still to come (inside the same transaction)."""
    if new_state == "withdrawn":
        from plugins.meetings.services import drop_withdrawn

        drop_withdrawn(proposal)


@hookimpl
def open_business(community):
    """Meetings still to come and action items not done (asked before switching off)."""
    from core.extensions import db
    from core.models import utcnow
    from plugins.meetings.models import ActionItem, Meeting

    meetings = (db.session.query(Meeting.id).filter(Meeting.community_id == community.id,
                                                    Meeting.status == "scheduled", Meeting.ends_at > utcnow()).count())
    actions = (db.session.query(ActionItem.id).filter(ActionItem.community_id == community.id,
                                                      ActionItem.status != "done").count())
    return [{"key": "meetings_to_come", "label": _l("Meetings still to come"), "count": meetings},
            {"key": "open_actions", "label": _l("Action items not yet done"), "count": actions}]


from plugins.meetings.personal_data import personal_data_erase, personal_data_export  # noqa: E402,F401  (PIPL hooks)
