"""Enabling and disabling modules for a community."""
from flask import current_app
from flask_babel import gettext as _

from core.errors import Conflict, NotFound
from core.extensions import db
from core.models import CommunityPlugin, utcnow
from core.services import audit


def _registry(name):
    registry = current_app.extensions["linli.plugins"]
    if name not in registry.modules:
        raise NotFound("unknown_plugin", _("No module called %(name)s is installed.", name=name))
    return registry


def open_business(community, name):
    """What people still have open in module ``name`` of ``community`` (hook ``open_business``):
    [{"key", "label", "count"}], only items with a count; empty when the module is off."""
    registry = _registry(name)
    if not registry.is_enabled(community, name):
        return []
    items = []
    for answer in registry.hooks_for_plugin(name).open_business(community=community):
        items += [{"key": str(i["key"]), "label": str(i["label"]), "count": int(i["count"])}
                  for i in answer or () if int(i["count"]) > 0]
    return items


def set_enabled(community, name, enabled: bool, actor=None, confirm=False):
    """Switch plugin ``name`` on or off for ``community``; effective on the next request everywhere.

    Switching off a module in which people still have business open (orders not collected, open
    ballots, open cases, meetings to come) is refused unless ``confirm``: the admin must have seen
    what is open (the error's ``details``), so that residents are not stranded without warning."""
    registry = _registry(name)
    was = registry.is_enabled(community, name)
    still_open = open_business(community, name) if was and not enabled else []
    if still_open and not confirm:
        raise Conflict("open_business", _("People still have business open in this module. Look at what is open "
                                          "and confirm to switch it off."), details=still_open)
    row = db.session.get(CommunityPlugin, (community.id, name))
    if row is None:
        row = CommunityPlugin(community_id=community.id, plugin=name, enabled=enabled)
        db.session.add(row)
    row.enabled = enabled
    row.changed_at = utcnow()
    row.changed_by_id = getattr(actor, "id", None)
    audit.record("plugin.enabled" if enabled else "plugin.disabled", community=community, actor=actor,
                 object_type="plugin", object_id=name, before={"enabled": was, "open": still_open},
                 after={"enabled": enabled})
    db.session.flush()
    registry.forget(community)
    if was != enabled:
        hooks = registry.hooks_for_plugin(name)
        if enabled:
            hooks.on_plugin_enabled(community=community, actor=actor)
        else:
            hooks.on_plugin_disabled(community=community, actor=actor)
    registry.forget(community)
