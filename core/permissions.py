"""Permissions: named rights granted to membership roles, with a hook for plugins to decide.

Roles on a community membership: resident, building_head, grid_worker, mediator, staff, admin.
"""
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any

from flask import abort, current_app, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select

ROLES = ("resident", "building_head", "grid_worker", "mediator", "staff", "admin")
ROLE_LABELS = {
    "resident": _l("Resident"),
    "building_head": _l("Building head"),
    "grid_worker": _l("Grid worker"),
    "mediator": _l("Mediator"),
    "staff": _l("Community staff"),
    "admin": _l("Community admin"),
}
STAFF_ROLES = ("staff", "admin")
# Roles that open more than a staff member's own rights (the mediator reads confidential mediation
# cases, plugins/mediation/access.py): only a community admin or a site administrator gives or
# takes them away (core.roles.grant_staff). admin_granted_roles() adds any role that a module's
# permission gives without giving it to staff.
ADMIN_GRANTED_ROLES = ("mediator", "staff", "admin")


@dataclass(frozen=True)
class Permission:
    """A named right (``<module>.<thing>.<verb>``) with the roles that have it by default."""

    name: str
    label: Any
    default_roles: tuple[str, ...]


@cache
def _membership_stmt():
    from core.models import Membership

    return select(Membership).where(Membership.user_id == bindparam("u"), Membership.community_id == bindparam("c"))


def membership_of(user, community):
    """The user's membership in ``community`` or None (cached on ``g`` for the request)."""
    if user is None or not getattr(user, "is_authenticated", False) or community is None:
        return None
    cache = g.setdefault("_memberships", {})
    key = (user.id, community.id)
    if key not in cache:
        from core.extensions import db

        cache[key] = db.session.execute(_membership_stmt(), {"u": user.id, "c": community.id}).scalar()
    return cache[key]


def note_membership(user, community, membership):
    """Remember ``user``'s membership of ``community`` (or None), read along with the user."""
    g.setdefault("_memberships", {})[(user.id, community.id)] = membership


def can(permission: str, community=None, obj=None, user=None) -> bool:
    """Whether ``user`` (default: the current user) has ``permission`` in ``community``."""
    user = current_user if user is None else user
    community = community if community is not None else g.get("community")
    if not getattr(user, "is_authenticated", False):
        return False
    registry = current_app.extensions["linli.plugins"]
    perm = registry.permissions.get(permission)
    if perm is None:
        raise LookupError(f"undeclared permission {permission!r}")
    if community is None:
        return bool(getattr(user, "is_superadmin", False))
    answers = registry.hooks_for(community).check_permission(
        user=user, community=community, permission=permission, obj=obj
    )
    if False in answers:  # a module's veto binds everyone, site administrators included
        return False
    if getattr(user, "is_superadmin", False) or True in answers:
        return True
    membership = membership_of(user, community)
    if membership is None:
        return False
    return bool(set(membership.role_list) & set(perm.default_roles))


def require(permission: str):
    """View decorator: log in first if anonymous; 403 without the permission."""

    def deco(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return deco


def admin_granted_roles() -> tuple[str, ...]:
    """The roles only a community admin or a site administrator may give or take away:
    ADMIN_GRANTED_ROLES and every role holding a declared permission that staff do not hold by
    default (a module's confidential right), so a new module's right cannot be handed out by staff."""
    registry = current_app.extensions["linli.plugins"]
    beyond_staff = {r for p in registry.permissions.values() if "staff" not in p.default_roles
                    for r in p.default_roles}
    chosen = set(ADMIN_GRANTED_ROLES) | beyond_staff
    return tuple(r for r in ROLES if r in chosen)


def grantable_roles(actor, community) -> tuple[str, ...]:
    """The roles ``actor`` may give or take away in ``community``: every role for a community
    admin or a site administrator (core.roles.grant_staff); the resident-level ones for other
    staff (core.members.manage); none for anyone else. ``actor`` None is the operator at the
    command line, who may grant every role."""
    if actor is None or can("core.roles.grant_staff", community, user=actor):
        return ROLES
    if can("core.members.manage", community, user=actor):
        admin_only = set(admin_granted_roles())
        return tuple(r for r in ROLES if r not in admin_only)
    return ()

