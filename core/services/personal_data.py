"""Personal data: a person's copy of it (PIPL 个人信息保护法 Art. 45) and its erasure (Art. 47).

``export(user)`` gathers everything linli holds about one person: the account, memberships,
household register entries, proposals, comments, seconds, notifications, API tokens (names only)
and every enabled module's section (hook ``personal_data_export``).

``erase(user, actor, reason)`` handles an erasure request. The rule (docs/deploy.md):

* the account stays as an anonymous shell (so ledgers and ballots keep their counts): user name
  and display name become the anonymous id ``anonymous_label(user)``, the phone number is
  dropped, the password can never match again, every session and API token ends;
* household register entries linked to the account keep their household, relation and role in
  the register, with the name replaced by the anonymous id and no phone number;
* proposals and comments stay (they are the community's deliberation record) under the
  anonymous id; seconds stay (counts do not change); notifications and stored API answers go;
* each enabled module erases or anonymises its own records (hook ``personal_data_erase``):
  ballots keep every vote and weight, ledgers every amount, case files their facts — each under
  the anonymous id;
* finally the person's name and phone number are replaced by the anonymous id wherever they still
  appear as text (free text, the audit log, import files kept for review).

The anonymous id is derived from the account id with the secret key, so it is the same every
time (a second run changes nothing) and cannot be traced back without the key. Every erasure is
written to the audit log with its reason and counts (no names)."""
import hashlib
import hmac
import json
import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import JSON, String, Text, func, select, update
from werkzeug.security import generate_password_hash

from core.errors import Forbidden, ServiceError
from core.extensions import db
from core.models import (ApiToken, Community, Household, HouseholdMember, Membership, Notification,
                         Proposal, ProposalComment, ProposalSecond, utcnow)
from core.models.audit import AuditEntry, IdempotentRequest
from core.permissions import can
from core.services import audit

FORMAT = "linli-personal-data/1"
ERASED_ACTION = "personal_data.erased"


def anonymous_label(user):
    """The stable anonymous id that replaces ``user``'s name: ``anon-`` and 10 hex digits."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return "anon-" + hmac.new(key, f"user:{user.id}".encode(), hashlib.sha256).hexdigest()[:10]


def is_erased(user):
    return user.username == anonymous_label(user) and not user.is_active_account


def _iso(value):
    return value.isoformat() if value is not None else None


def _communities(user):
    return (Community.query.join(Membership, Membership.community_id == Community.id)
            .filter(Membership.user_id == user.id).order_by(Community.id).all())


def _registry():
    return current_app.extensions["linli.plugins"]


# ── Art. 45: a copy ─────────────────────────────────────────────────────────────────────────
def export(user):
    """Everything about ``user`` as a JSON-serialisable dict (see the module docstring)."""
    data = {
        "format": FORMAT,
        "exported_at": _iso(utcnow()),
        "account": {"id": user.id, "username": user.username, "phone": user.phone,
                    "display_name": user.display_name, "locale": user.locale, "large_text": user.large_text,
                    "active": user.is_active_account, "created_at": _iso(user.created_at)},
        "api_tokens": [{"name": t.name, "prefix": t.prefix, "created_at": _iso(t.created_at),
                        "last_used_at": _iso(t.last_used_at), "revoked_at": _iso(t.revoked_at)}
                       for t in ApiToken.query.filter_by(user_id=user.id).order_by(ApiToken.id)],
        # kind and link only: a notification's parameters name the other people involved
        "notifications": [{"kind": n.kind, "url": n.url, "read_at": _iso(n.read_at), "created_at": _iso(n.created_at)}
                          for n in Notification.query.filter_by(user_id=user.id).order_by(Notification.id)],
        "communities": [],
    }
    for community in _communities(user):
        data["communities"].append(_community_section(user, community))
    return data


def _community_section(user, community):
    m = Membership.query.filter_by(user_id=user.id, community_id=community.id).one()
    register = (HouseholdMember.query.join(Household, Household.id == HouseholdMember.household_id)
                .filter(HouseholdMember.user_id == user.id, Household.community_id == community.id)
                .order_by(HouseholdMember.id).all())
    proposals = Proposal.query.filter_by(community_id=community.id, author_id=user.id).order_by(Proposal.id).all()
    comments = (ProposalComment.query.join(Proposal, Proposal.id == ProposalComment.proposal_id)
                .filter(Proposal.community_id == community.id, ProposalComment.author_id == user.id)
                .order_by(ProposalComment.id).all())
    seconds = (ProposalSecond.query.join(Proposal, Proposal.id == ProposalSecond.proposal_id)
               .filter(Proposal.community_id == community.id, ProposalSecond.user_id == user.id)
               .order_by(ProposalSecond.id).all())
    modules = {}
    for section in _registry().hooks_for(community).personal_data_export(user=user, community=community):
        if section:
            section = dict(section)
            modules[str(section.pop("module", "?"))] = section
    return {
        "community": {"slug": community.slug, "name": community.name},
        "membership": {"roles": m.role_list,
                       "verified_at": _iso(m.verified_at), "joined_at": _iso(m.created_at),
                       "household": _household_label(m.household_id)},
        "household_register": [{"household": _household_label(r.household_id), "name": r.name, "phone": r.phone,
                                "relation": r.relation, "representative": r.is_representative}
                               for r in register],
        "proposals": [{"id": p.id, "title": p.title, "body": p.body, "category": p.category, "state": p.state,
                       "created_at": _iso(p.created_at)} for p in proposals],
        "comments": [{"proposal_id": c.proposal_id, "body": c.body, "created_at": _iso(c.created_at)}
                     for c in comments],
        "seconds": [{"proposal_id": s.proposal_id, "created_at": _iso(s.created_at)} for s in seconds],
        "modules": modules,
    }


def _household_label(household_id):
    if household_id is None:
        return None
    h = db.session.get(Household, household_id)
    unit = h.unit
    return f"{unit.building.name} {unit.name} {h.room}"


def export_json(user):
    """The export as UTF-8 JSON bytes (the file a person downloads)."""
    return json.dumps(export(user), ensure_ascii=False, indent=2, default=str).encode("utf-8")


# ── Art. 47: erasure ────────────────────────────────────────────────────────────────────────
def check_may_erase(user, actor):
    """Raise unless ``actor`` may erase ``user``: a site administrator, or staff/admin of every
    community the person belongs to."""
    if actor is None:  # the command line (an operator on the server)
        return
    if actor.id == user.id:
        raise ServiceError("erase_self", _("You cannot erase your own account here; ask the community office."))
    if actor.is_superadmin:
        return
    communities = _communities(user)
    if not communities or not all(can("core.members.manage", c, user=actor) for c in communities):
        raise Forbidden("forbidden", _("Only the staff of every community this person belongs to can erase their data."))


def erase(user, actor, reason):
    """Erase ``user``'s personal data (see the module docstring). Returns a summary of counts.
    Running it again changes nothing more and writes no second audit entry."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give the reason for the erasure (e.g. the request's date and reference)."),
                           fields={"reason": _("Required.")})
    if len(reason) > 500:
        raise ServiceError("reason_too_long", _("The reason is too long (500 characters at most)."),
                           fields={"reason": _("Too long.")})
    if user.is_superadmin:
        raise ServiceError("erase_admin", _("A site administrator's account cannot be erased; remove the administrator right first."))
    check_may_erase(user, actor)
    label = anonymous_label(user)
    already = is_erased(user)
    names = _identifying_strings(user)
    summary = {"modules": {}}
    for community in _communities(user):
        for part in _registry().hooks_for(community).personal_data_erase(user=user, community=community, actor=actor):
            if part:
                part = dict(part)
                name = str(part.pop("module", "?"))
                counts = summary["modules"].setdefault(name, {})
                for k, v in part.items():
                    counts[k] = counts.get(k, 0) + int(v or 0)
    db.session.flush()
    core = summary["core"] = {}
    core["register_entries"] = HouseholdMember.query.filter(
        HouseholdMember.user_id == user.id,
        (HouseholdMember.name != label) | HouseholdMember.phone.isnot(None)).update(
        {"name": label, "phone": None}, synchronize_session=False)
    core["proposals"] = Proposal.query.filter(Proposal.author_id == user.id, Proposal.author_name != label).update(
        {"author_name": label}, synchronize_session=False)
    core["comments"] = ProposalComment.query.filter(
        ProposalComment.author_id == user.id, ProposalComment.author_name != label).update(
        {"author_name": label}, synchronize_session=False)
    core["notifications"] = Notification.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    core["api_tokens"] = ApiToken.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    IdempotentRequest.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    if not already:
        user.username, user.phone, user.display_name, user.locale = label, None, label, None
        user.password_hash = generate_password_hash(secrets.token_urlsafe(32), method="pbkdf2:sha256:1000")
        user.is_active_account = False
        user.session_version = (user.session_version or 1) + 1
        core["account"] = 1
    db.session.flush()
    core["text_mentions"] = scrub_text(names, label) if names else 0
    changed = sum(core.values()) + sum(v for counts in summary["modules"].values() for v in counts.values())
    summary["changed"] = changed
    summary["anonymous_id"] = label
    if changed:
        audit.record(ERASED_ACTION, actor=actor, object_type="user", object_id=str(user.id), reason=reason,
                     after={"anonymous_id": label, "core": core, "modules": summary["modules"],
                            "repeat": already})
    db.session.commit()
    return summary


def _identifying_strings(user):
    """The person's name(s) and phone number(s) as stored, longest first (a short name inside a
    longer one is replaced after it). One-character names are left alone (they match everywhere)."""
    values = {user.display_name, user.phone}
    for r in HouseholdMember.query.filter_by(user_id=user.id):
        values |= {r.name, r.phone}
    label = anonymous_label(user)
    return sorted((v for v in values if v and len(v) >= 2 and v != label), key=lambda v: (-len(v), v))


def _replace(value, names, label):
    if isinstance(value, str):
        for name in names:
            value = value.replace(name, label)
        return value
    if isinstance(value, list):
        return [_replace(v, names, label) for v in value]
    if isinstance(value, dict):
        return {_replace(k, names, label): _replace(v, names, label) for k, v in value.items()}
    return value


def scrub_text(names, label):
    """Replace each of ``names`` by ``label`` in every text and JSON column of every table.
    Returns how many rows changed."""
    changed = 0
    for table in db.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if not pk:
            continue
        for column in table.columns:
            if isinstance(column.type, (String, Text)) and not column.primary_key:
                for name in names:
                    result = db.session.execute(
                        update(table).where(column.contains(name, autoescape=True))
                        .values({column.name: func.replace(column, name, label)}))
                    changed += result.rowcount or 0
            elif isinstance(column.type, JSON):
                # JSON may be stored with \\u escapes: compare decoded values, in Python.
                for row in db.session.execute(select(*pk, column).where(column.isnot(None))):
                    value = row[-1]
                    new = _replace(value, names, label)
                    if new != value:
                        db.session.execute(update(table).where(*[c == v for c, v in zip(pk, row[:-1])])
                                           .values({column.name: new}))
                        changed += 1
    return changed


def erasures(user):
    """The audit entries of erasures of ``user`` (newest first)."""
    return (AuditEntry.query.filter_by(action=ERASED_ACTION, object_type="user", object_id=str(user.id))
            .order_by(AuditEntry.id.desc()).all())
