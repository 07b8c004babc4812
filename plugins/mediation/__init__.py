"""The mediation module of linli: Dispute mediation (矛盾调解)."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.events import EventType
from core.hookspecs import hookimpl
from core.permissions import Permission
from core.plugins import PluginManifest
from core.ui import AgendaCandidate, NavItem, Panel
from plugins.mediation import models  # noqa: F401  (register the tables)

manifest = PluginManifest(
    name="mediation",
    label=_l("Dispute mediation (矛盾调解)"),
    description=_l("Confidential dispute cases from grid report to follow-up visit: tiers, mediators, sessions, agreements, deadlines and statistics."),
    settings_defaults={
        "weekends_are_holidays": False,  # R19: count Saturdays and Sundays as 法定休假日 too
        "followup_delay_days": 3,  # follow-up visit this many days after a performance date
        "urge_days": 7,  # after urging a party, visit again this many days later
        "staff_user_ids": [],  # members without the mediator role who are mediation staff
        "retention_years": 3,  # R22: closed cases' personal details are erased this many years after closing
    },
)

MEDIATOR = ("mediator",)


@hookimpl
def register_blueprints():
    from plugins.mediation.views import bp

    return [bp]


@hookimpl
def register_api_blueprints():
    from plugins.mediation.api import api_bp

    return [api_bp]


@hookimpl
def register_cli_commands():
    from plugins.mediation.cli import mediation_group

    return [mediation_group]


@hookimpl
def register_permissions():
    # Case-level access is decided by plugins.mediation.access (assignment, party); these
    # are the community-wide rights of mediation staff, held by the mediator role and by the
    # users in the staff_user_ids setting (check_permission below).
    everyone = ("resident", "building_head", "grid_worker", "mediator", "staff", "admin")
    return [
        Permission("mediation.case.apply", _l("Apply for mediation or report a dispute"), everyone),
        Permission("mediation.case.manage", _l("See and work every mediation case"), MEDIATOR),
        Permission("mediation.stats.view", _l("See mediation statistics and export the register"), MEDIATOR),
        Permission("mediation.calendar.manage", _l("Keep the holiday calendar and the duty roster"), MEDIATOR),
        Permission("mediation.log.view", _l("Read the mediation access log"), MEDIATOR),
    ]


@hookimpl
def check_permission(user, community, permission, obj):
    if not permission.startswith("mediation.") or permission == "mediation.case.apply":
        return None
    from plugins.mediation import access

    return True if access.is_staff(user, community) else None


@hookimpl
def register_audit_events():
    """The sentences of the audit keys this module writes (the core's audit log shows them)."""
    from plugins.mediation.audit_texts import EVENTS, FIELDS

    return EVENTS + FIELDS


@hookimpl
def register_event_types():
    return [
        EventType("mediation.case_opened", _l("A mediation case was opened")),
        EventType("mediation.case_resolved", _l("A mediation case was resolved")),
        EventType("mediation.followup_done", _l("A follow-up visit was recorded")),
    ]


@hookimpl
def nav_items(community, user):
    from plugins.mediation import access

    if not access.is_member(user, community):
        return []
    if access.is_staff(user, community):
        return [
            NavItem("c.mediation.index", _l("Mediation"), order=40),
            NavItem("c.mediation.stats", _l("Mediation statistics"), order=60, area="admin"),
            NavItem("c.mediation.holidays", _l("Holiday calendar"), order=61, area="admin"),
            NavItem("c.mediation.committee", _l("Mediation committee"), order=63, area="admin"),
            NavItem("c.mediation.access_log", _l("Mediation access log"), order=62, area="admin"),
        ]
    return [
        NavItem("c.mediation.index", _l("My cases"), order=40),
        NavItem("c.mediation.new", _l("Apply for mediation"), order=41, area="more"),
        NavItem("c.mediation.roster", _l("Mediators on duty"), order=42, area="more"),
    ]


@hookimpl
def dashboard_widgets(community, user):
    from plugins.mediation import access

    if not access.is_staff(user, community):
        return []
    from core import dates
    from plugins.mediation import reports

    s = reports.stats(community)
    return [Panel("mediation/_widget.html", _l("Mediation"),
                  {"open": s["open"], "overdue": len(s["overdue"]), "rate": s["resolution_rate"],
                   "today": dates.today(community)}, order=40)]


@hookimpl
def agenda_sources(community, user):
    """Cases mediation staff handed to the joint meeting, with a title that names no one."""
    from core.permissions import membership_of
    from plugins.mediation.models import MediationCase

    m = membership_of(user, community)
    if m is None or not m.has_role("staff", "admin", "mediator"):
        return []
    rows = (MediationCase.query.filter_by(community_id=community.id, for_joint_meeting=True, status="open")
            .order_by(MediationCase.id).all())
    return [AgendaCandidate(ref=f"mediation:case:{c.id}",
                            title=_("Mediation case %(number)s (handed over by the mediation committee)",
                                    number=c.number),
                            url=url_for("c.mediation.case", community=community.slug, case_id=c.id))
            for c in rows]


@hookimpl
def load_demo_data(community, users):
    from plugins.mediation.demo import load

    load(community, users)


@hookimpl
def open_business(community):
    """Cases still open (asked before switching off): the parties could no longer follow them."""
    from core.extensions import db
    from plugins.mediation.models import MediationCase

    cases = db.session.query(MediationCase.id).filter(MediationCase.community_id == community.id,
                                                      MediationCase.status != "closed").count()
    return [{"key": "open_cases", "label": _l("Cases not yet closed"), "count": cases}]


from plugins.mediation.personal_data import personal_data_erase, personal_data_export  # noqa: E402,F401  (PIPL hooks)
