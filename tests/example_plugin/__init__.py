"""A small example plugin, used by the tests and explained in docs/plugins.md.

It adds a page with a menu entry, a panel on every proposal page, one permission and one event,
and it keeps every event it hears so tests can see what reached it."""
from flask import Blueprint, g, render_template
from flask_babel import lazy_gettext as _l

from core.events import EventType
from core.hookspecs import hookimpl
from core.permissions import Permission
from core.plugins import PluginManifest
from core.ui import NavItem, Panel

manifest = PluginManifest(name="example", label=_l("Example"), description=_l("An example module."))

bp = Blueprint("example", __name__, url_prefix="/example")
heard = []  # events received, in order (tests clear it)


@bp.route("/")
def index():
    return render_template("example/index.html", count=len(heard))


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def register_permissions():
    return [Permission("example.see", _l("See the example"), ("resident", "staff", "admin"))]


@hookimpl
def register_event_types():
    return [EventType("example.happened", _l("Something happened"))]


@hookimpl
def nav_items(community, user):
    return [NavItem("c.example.index", _l("Example"), order=50)]


@hookimpl
def proposal_panels(proposal, user):
    return [Panel("example/_panel.html", _l("Example panel"), {"proposal_id": proposal.id})]


@hookimpl
def proposal_transition_blocked(proposal, new_state, actor):
    if proposal.title.startswith("BLOCK") and new_state == "coordinating":
        return "blocked by the example"
    return None


@hookimpl
def on_event(event):
    heard.append(event)
