"""The points module of linli: Points store (积分兑换超市)."""
from flask_babel import lazy_gettext as _l

from core.events import EventType
from core.hookspecs import hookimpl
from core.permissions import ROLES, Permission
from core.plugins import PluginManifest
from core.ui import NavItem, Panel
from plugins.points import models  # noqa: F401  (register the tables)

manifest = PluginManifest(
    name="points",
    label=_l("Points store (积分兑换超市)"),
    description=_l("Volunteer hours and participation earn points in an append-only ledger; residents redeem them in the community store."),
    settings_defaults={
        "points_per_hour": 1,          # R26 (海林): 1 point per verified hour
        "max_hours_per_activity": 2,   # R26: at most 2 hours credited per activity
        "expiry_months": 0,            # R27: 0 = never (金昌); N = each earning lot expires after N months
        "max_balance": 0,              # R25: flag accounts holding more than this (0 = no limit)
        "certificate_head": "",        # 办法: the issuer's responsible person, printed on certificates
        "certificate_contact": "",     # 办法: the issuer's contact, printed on certificates
    },
)

STAFF = ("staff", "admin")


@hookimpl
def register_blueprints():
    from plugins.points.views import bp

    return [bp]


@hookimpl
def register_api_blueprints():
    from plugins.points.api import api_bp

    return [api_bp]


@hookimpl
def register_cli_commands():
    from plugins.points.cli import points_group

    return [points_group]


@hookimpl
def register_permissions():
    return [
        Permission("points.store.redeem", _l("Redeem points in the store"), ROLES),
        Permission("points.activities.signup", _l("Sign up for volunteer activities"), ROLES),
        Permission("points.activities.manage", _l("Publish volunteer activities and sign up residents"), STAFF),
        Permission("points.hours.verify", _l("Verify volunteer hours"), STAFF),
        Permission("points.certificates.issue", _l("Issue volunteer-service certificates for residents"), STAFF),
        Permission("points.accounts.view", _l("See any resident's points account"), STAFF),
        Permission("points.accounts.adjust", _l("Adjust and correct points, with a written reason"), STAFF),
        Permission("points.rules.manage", _l("Change the earning rules"), ("admin",)),
        Permission("points.store.manage", _l("Manage the store catalogue"), STAFF),
        Permission("points.orders.manage", _l("Hand over and cancel store orders"), STAFF),
        Permission("points.orders.assist", _l("Redeem for a resident at the counter"), STAFF),
        Permission("points.reports.view", _l("See points reports"), STAFF),
    ]


@hookimpl
def register_audit_events():
    """The sentences of the audit keys this module writes (the core's audit log shows them)."""
    from plugins.points.audit_texts import EVENTS, FIELDS

    return EVENTS + FIELDS


@hookimpl
def register_event_types():
    return [
        EventType("points.earned", _l("A resident earned points")),
        EventType("points.redeemed", _l("A resident redeemed points in the store")),
    ]


@hookimpl
def nav_items(community, user):
    return [
        # One entry in the main bar (the phone's bottom bar stays short); the store and volunteering
        # are linked from "My points" and listed under "More" on the community home.
        NavItem("c.points.index", _l("My points"), order=35),  # after Meetings (30) in every language
        NavItem("c.points.store", _l("Store"), order=31, area="more"),
        NavItem("c.points.activities", _l("Volunteering"), order=32, area="more"),
        NavItem("c.points.counter", _l("Store counter"), order=40, area="admin", permission="points.orders.manage"),
        NavItem("c.points.manage_items", _l("Store catalogue"), order=41, area="admin",
                permission="points.store.manage"),
        NavItem("c.points.accounts", _l("Points accounts"), order=42, area="admin", permission="points.accounts.view"),
        NavItem("c.points.rules", _l("Earning rules"), order=43, area="admin", permission="points.rules.manage"),
        NavItem("c.points.reports", _l("Points reports"), order=44, area="admin", permission="points.reports.view"),
    ]


@hookimpl
def dashboard_widgets(community, user):
    if not getattr(user, "is_authenticated", False):
        return []
    from plugins.points import ledger

    return [Panel("points/_widget.html", _l("My points"),
                  {"balance": ledger.balance_of(community.id, user.id)}, order=20)]


@hookimpl
def on_event(event):
    if not event.name or event.name.startswith("points."):
        return
    from plugins.points import services

    services.handle_event(event)


@hookimpl
def load_demo_data(community, users):
    from plugins.points.demo import load

    load(community, users)


@hookimpl
def open_business(community):
    """Orders waiting to be collected and hours waiting for verification (asked before switching off)."""
    from core.extensions import db
    from plugins.points.models import PointsOrder, PointsRecord

    orders = db.session.query(PointsOrder.id).filter_by(community_id=community.id, status="reserved").count()
    claims = db.session.query(PointsRecord.id).filter_by(community_id=community.id, status="claimed").count()
    return [{"key": "orders_to_collect", "label": _l("Orders not yet collected"), "count": orders},
            {"key": "hours_to_verify", "label": _l("Volunteer hours waiting for verification"), "count": claims}]


from plugins.points.personal_data import personal_data_erase, personal_data_export  # noqa: E402,F401  (PIPL hooks)
from plugins.points.persons import on_persons_merged  # noqa: E402,F401  (one person on the register, R5)
