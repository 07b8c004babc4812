"""Declared events: how the core and modules announce what people did.

A plugin reacts to another's events by matching ``event.name`` in its ``on_event`` hookimpl; it
never imports the emitter. ``emit`` refuses undeclared names, so a typo fails loudly in tests.
"""
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from flask import current_app


@dataclass(frozen=True)
class EventType:
    """A kind of event a module emits; ``name`` is ``<module>.<verb>``."""

    name: str
    label: Any
    description: Any = ""


@dataclass(frozen=True)
class Event:
    """Something a person did. ``ref`` is a stable idempotency key (``proposal:42:accepted``)
    so a consumer such as the points store pays an event once, whatever happens."""

    name: str
    community_id: int
    actor_id: int | None
    user_ids: tuple[int, ...]
    ref: str
    data: Mapping[str, Any] = field(default_factory=dict)
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class UndeclaredEvent(LookupError):
    pass


def event_types():
    """All declared event types, by name, from the core and every installed plugin."""
    return current_app.extensions["linli.plugins"].event_types


def emit(community, event: Event):
    """Announce ``event`` to the plugins enabled for ``community`` (inside the caller's transaction)."""
    registry = current_app.extensions["linli.plugins"]
    if event.name not in registry.event_types:
        raise UndeclaredEvent(event.name)
    registry.hooks_for(community).on_event(event=event)
