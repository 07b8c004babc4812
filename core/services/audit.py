"""The audit log (操作日志): record who changed what, before and after; say it in words.

Every key written with ``record`` has a sentence (``AuditEvent``): the core's in
``core.hookimpls``, a module's from its ``register_audit_events`` hook. The log page shows the
sentence and the changed fields as a table (``describe``); a key nobody declared still reads as a
sentence (``GENERIC``)."""
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import gettext as _, pgettext
from flask_login import current_user

from core.models import AuditEntry
from core.db import insert_row


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


@dataclass(frozen=True)
class AuditEvent:
    """What an audit key means, as a sentence about the act (the log shows who did it beside it)."""

    name: str
    sentence: Any


@dataclass(frozen=True)
class AuditField:
    """The label of a field that audit entries hold in ``before`` / ``after``. ``name`` is the
    field's key, or ``<first part of the audit key>:<field>`` for one family of keys only
    (``proposal:state``); ``values`` translates its raw values (a state key to its label)."""

    name: str
    label: Any
    values: Any = None


@dataclass(frozen=True)
class Described:
    """One log entry in words: the sentence and (label, before, after) of each field."""

    sentence: str
    known: bool
    rows: list


def _readable_key(key):
    return (key or "").replace(".", " · ").replace("_", " ")


def sentence(key):
    """The sentence of an audit key; a key nobody declared reads as a generic sentence naming it."""
    ev = _registry_attr("audit_events").get(key)
    if ev is not None:
        return str(ev.sentence), True
    return _("A change was recorded (%(what)s).", what=_readable_key(key)), False


def _registry_attr(name):
    ext = current_app.extensions.get("linli.plugins")
    return getattr(ext, name, {}) if ext is not None else {}


def _field(name, family=None):
    fields = _registry_attr("audit_fields")
    return fields.get(f"{family}:{name}") or fields.get(name)


def _value(v, field=None):
    """A value of ``before`` / ``after`` as a person reads it."""
    if v is None or v == "" or v == [] or v == {}:
        return "—"
    if v is True:
        return pgettext("audit value", "Yes")
    if v is False:
        return pgettext("audit value", "No")
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x, field) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{field_label(k)}: {_value(x)}" for k, x in v.items())
    if field is not None and field.values and isinstance(v, str) and v in field.values:
        return str(field.values[v])
    return str(v)


def field_label(name, family=None):
    """The translated label of a field, or the field's name made readable."""
    f = _field(name, family)
    return str(f.label) if f is not None else _readable_key(name)


def describe(entry):
    """The sentence of ``entry`` and its fields as rows (label, before, after), in the field order of
    ``after`` then ``before``. A value that is not a mapping is shown as one row without a label."""
    text, known = sentence(entry.action)
    family = (entry.action or "").split(".", 1)[0]
    before, after = entry.before, entry.after
    rows = []
    if isinstance(before, dict) or isinstance(after, dict):
        b = before if isinstance(before, dict) else {}
        a = after if isinstance(after, dict) else {}
        for name in list(a) + [k for k in b if k not in a]:
            f = _field(name, family)
            rows.append((field_label(name, family), _value(b[name], f) if name in b else "",
                         _value(a[name], f) if name in a else ""))
    elif before is not None or after is not None:
        rows.append(("", _value(before) if before is not None else "", _value(after) if after is not None else ""))
    return Described(text, known, rows)
