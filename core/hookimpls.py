"""The core's own hook implementations: its permissions, events and menu entries."""
from flask_babel import lazy_gettext as _l

from core.events import EventType
from core.hookspecs import hookimpl
from core.permissions import Permission
from core.ui import NavItem

STAFF = ("staff", "admin")


@hookimpl
def register_permissions():
    return [
        Permission("core.proposals.manage", _l("Move proposals between stages"), STAFF),
        Permission("core.proposals.assist", _l("Submit and second for a resident"),
                   ("building_head", "grid_worker", "staff", "admin")),
        Permission("core.structure.manage", _l("Manage grids, buildings and households"), STAFF),
        Permission("core.members.manage", _l("Verify residents and manage members"), STAFF),
        Permission("core.members.view", _l("See the member list"), ("building_head", "grid_worker", "staff", "admin")),
        Permission("core.roles.grant_staff", _l("Grant the staff, admin and mediator roles"), ("admin",)),
        Permission("core.plugins.manage", _l("Enable and disable modules"), ("admin",)),
        Permission("core.settings.manage", _l("Change community settings"), ("admin",)),
        Permission("core.audit.view", _l("Read the audit log"), STAFF),
    ]


@hookimpl
def register_event_types():
    return [
        EventType("resident.registered", _l("A resident registered")),
        EventType("resident.verified", _l("Staff verified a resident")),
        EventType("proposal.submitted", _l("A proposal was submitted for comment")),
        EventType("proposal.seconded", _l("A resident seconded a proposal")),
        EventType("proposal.commented", _l("A resident commented on a proposal")),
        EventType("proposal.transitioned", _l("A proposal moved to another stage")),
        EventType("proposal.accepted", _l("A proposal was accepted")),
        EventType("proposal.rejected", _l("A proposal was rejected")),
        EventType("proposal.completed", _l("A proposal was carried out")),
        EventType("proposal.withdrawn", _l("A proposal was withdrawn")),
    ]


@hookimpl
def register_audit_events():
    from core.audit_texts import EVENTS, FIELDS

    return EVENTS + FIELDS


@hookimpl
def nav_items(community, user):
    return [
        NavItem("c.proposals.index", _l("Proposals"), order=10, icon="list"),
        NavItem("c.community.home", _l("Home"), order=0, icon="home"),
        NavItem("c.structure.index", _l("Households"), order=10, area="admin",
                permission="core.members.view"),
        NavItem("c.community.members", _l("Members"), order=20, area="admin", permission="core.members.view"),
        NavItem("c.admin.modules", _l("Modules"), order=80, area="admin", permission="core.plugins.manage"),
        NavItem("c.admin.settings", _l("Settings"), order=85, area="admin", permission="core.settings.manage"),
        NavItem("c.admin.audit", _l("Audit log"), order=90, area="admin", permission="core.audit.view"),
    ]
