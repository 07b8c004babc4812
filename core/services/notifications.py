"""In-app notifications, with a hook for other channels."""
from flask import current_app, g, has_app_context
from flask_babel import gettext

from core.extensions import db
from core.models import Notification


def N_(msgid):
    """Mark a notification message for extraction; it is translated when shown."""
    return msgid


def notify(user_id, community, kind, message, params=None, url=None):
    """Queue a notification for ``user_id`` in the current transaction."""
    if user_id is None:
        return None
    note = Notification(
        user_id=user_id, community_id=getattr(community, "id", community), kind=kind,
        message=message, params=params or {}, url=url,
    )
    db.session.add(note)
    registry = current_app.extensions["linli.plugins"]
    for group in registry.pm.hook.notification_channels():
        for send in group or ():
            send(note)
    return note


def _state_labels():
    """Parameters that hold a state's key, by the kind's prefix, with the labels to show them by."""
    from core.models.proposal import STATES

    return {"proposal": {"state": STATES, "from": STATES, "to": STATES}}


def render(note: Notification) -> str:
    """The notification's text in the current language.

    A state is stored as its key (the reader's language is unknown when the notification is sent,
    and notifications stored earlier hold keys too): it is shown by its translated label."""
    params = dict(note.params or {})
    for name, labels in _state_labels().get((note.kind or "").split(".", 1)[0], {}).items():
        if isinstance(params.get(name), str) and params[name] in labels:
            params[name] = str(labels[params[name]])
    return gettext(note.message, **params)


def unread_count(user) -> int:
    return Notification.query.filter_by(user_id=user.id, read_at=None).count()


def module_off(note: Notification):
    """The label of the module a notification comes from when that module is now switched off in
    its community (its link would lead nowhere), else None."""
    registry = current_app.extensions["linli.plugins"]
    name = (note.kind or "").split(".", 1)[0]
    if name not in registry.modules or note.community_id is None:
        return None
    cache = g.setdefault("_notification_modules", {}) if has_app_context() else {}
    key = (note.community_id, name)
    if key not in cache:
        from core.models import Community

        community = db.session.get(Community, note.community_id)
        cache[key] = community is not None and not registry.is_enabled(community, name)
    return registry.manifests[name].label if cache[key] else None
