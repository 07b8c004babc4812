"""Enabling and disabling modules for a community."""
from flask import current_app
from flask_babel import gettext as _

from core.errors import NotFound
from core.extensions import db
from core.models import CommunityPlugin, utcnow
from core.services import audit


def set_enabled(community, name, enabled: bool, actor=None):
    """Switch plugin ``name`` on or off for ``community``; effective on the next request everywhere."""
    registry = current_app.extensions["linli.plugins"]
    if name not in registry.modules:
        raise NotFound("unknown_plugin", _("No module called %(name)s is installed.", name=name))
    was = registry.is_enabled(community, name)
    row = db.session.get(CommunityPlugin, (community.id, name))
    if row is None:
        row = CommunityPlugin(community_id=community.id, plugin=name, enabled=enabled)
        db.session.add(row)
    row.enabled = enabled
    row.changed_at = utcnow()
    row.changed_by_id = getattr(actor, "id", None)
    audit.record("plugin.enabled" if enabled else "plugin.disabled", community=community, actor=actor,
                 object_type="plugin", object_id=name, before={"enabled": was}, after={"enabled": enabled})
    db.session.flush()
    registry.forget(community)
    if was != enabled:
        hooks = registry.hooks_for_plugin(name)
        if enabled:
            hooks.on_plugin_enabled(community=community, actor=actor)
        else:
            hooks.on_plugin_disabled(community=community, actor=actor)
    db.session.commit()
    registry.forget(community)
