"""In-app notifications, with a hook for other channels."""
from flask import current_app
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


def render(note: Notification) -> str:
    """The notification's text in the current language."""
    return gettext(note.message, **(note.params or {}))


def unread_count(user) -> int:
    return Notification.query.filter_by(user_id=user.id, read_at=None).count()
