"""Who may see a mediation case, and the access log of every read.

The rule (docs/mediation.md):

* **Mediation staff** of a community are its members with the ``mediator`` role (the mediation
  committee) and the users listed in the community setting ``mediation.staff_user_ids``. They
  see every case of their community, the access log, statistics and the register.
* **Assigned mediators** (any member, for example a grid worker handling a case at grid tier)
  see the cases assigned to them.
* **A party** who is a registered user sees the status of their own case and its agreement.
* **The reporter** (the grid worker or building head who reported it) sees its number and status.
* Nobody else: not community staff or admins without the mediator role, not site
  administrators, not members of another community.
"""
from flask import g, has_request_context, request

from core.extensions import db
from core.permissions import membership_of
from core.db import record_log, record_now
from core.services import settings

FULL, PARTY, REPORTER = "full", "party", "reporter"


def is_member(user, community):
    return membership_of(user, community) is not None


def is_staff(user, community) -> bool:
    """Mediation staff: the mediator role, or listed in the staff_user_ids setting."""
    if not getattr(user, "is_authenticated", False):
        return False
    m = membership_of(user, community)
    if m is None:
        return False
    if m.has_role("mediator"):
        return True
    cache = g.setdefault("_mediation_staff_ids", {})
    if community.id not in cache:
        cache[community.id] = set(settings.get(community, "mediation", "staff_user_ids") or [])
    return user.id in cache[community.id]


def forget(community):
    """Drop the request's copy of the staff list after it changed."""
    g.setdefault("_mediation_staff_ids", {}).pop(community.id, None)


def is_assigned(user, case) -> bool:
    return any(a.user_id == user.id for a in case.assignments)


def level(user, case):
    """FULL, PARTY, REPORTER or None for ``user`` on ``case``."""
    if not getattr(user, "is_authenticated", False) or not is_member(user, case.community):
        return None
    if is_staff(user, case.community) or is_assigned(user, case):
        return FULL
    if any(p.user_id == user.id for p in case.parties):
        return PARTY
    if case.reported_by_id == user.id:
        return REPORTER
    return None


def visible_case_ids_query(user, community):
    """A query of the ids of the cases ``user`` may see at all (any level)."""
    from plugins.mediation.models import MediationAssignment, MediationCase, MediationParty

    q = db.session.query(MediationCase.id).filter(MediationCase.community_id == community.id)
    if is_staff(user, community):
        return q
    return q.filter(db.or_(
        MediationCase.reported_by_id == user.id,
        MediationCase.id.in_(db.session.query(MediationAssignment.case_id).filter_by(user_id=user.id)),
        MediationCase.id.in_(db.session.query(MediationParty.case_id).filter_by(user_id=user.id)),
    ))


def log_now(community_id, user_id, action):
    """Record a read of many cases (a page of the case list served from the cache) at once."""
    from plugins.mediation.models import MediationAccessLog

    record_now(MediationAccessLog, community_id=community_id, case_id=None, user_id=user_id, action=action,
               ip=request.remote_addr if has_request_context() else None)


def log(community, case, user, action):
    """Record a read of ``case`` (or of many, case None) by ``user`` in the current transaction."""
    from plugins.mediation.models import MediationAccessLog

    # A log (core.db.record_log): no page shows it, so it leaves the cached pages as they are.
    record_log(MediationAccessLog, community_id=community.id, case_id=getattr(case, "id", case),
               user_id=getattr(user, "id", user), action=action,
               ip=request.remote_addr if has_request_context() else None)
