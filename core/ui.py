"""Small value types plugins return from hooks."""
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class NavItem:
    """A menu entry. ``area`` is ``main`` (bottom/top bar), ``more`` or ``admin``."""

    endpoint: str
    label: Any
    order: int = 100
    area: str = "main"
    permission: str | None = None
    icon: str = ""
    url_kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Panel:
    """A partial template rendered into a core page (proposal detail, community home)."""

    template: str
    title: Any
    context: Mapping[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class AgendaCandidate:
    """Something another module offers for a meeting agenda, referred to by a stable ``ref``."""

    ref: str
    title: str
    url: str | None = None
