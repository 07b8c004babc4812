"""The audit log: record who changed what, before and after."""
from decimal import Decimal

from flask import has_request_context, request
from flask_login import current_user

from core.models import AuditEntry
from core.services import insert_row


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record(action, *, community=None, obj=None, before=None, after=None, reason=None,
           actor=None, on_behalf_of=None, on_behalf_of_name=None, object_type=None, object_id=None):
    """Add an audit entry to the current transaction (the caller commits)."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id or str(getattr(obj, "id", "") or "")
    return insert_row(
        AuditEntry,
        community_id=getattr(community, "id", community),
        actor_id=getattr(actor, "id", actor),
        on_behalf_of_id=getattr(on_behalf_of, "id", on_behalf_of),
        on_behalf_of_name=on_behalf_of_name or getattr(on_behalf_of, "display_name", None),
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
        ip=request.remote_addr if has_request_context() else None,
    )
