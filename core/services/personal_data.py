"""Personal data: a person's copy of it (PIPL 个人信息保护法 Art. 45) and its erasure (Art. 47).

``export(user)`` gathers everything linli holds about one person: the account, memberships,
household register entries, proposals, comments, seconds, notifications, API tokens (names only)
and every enabled module's section (hook ``personal_data_export``).

``erase(user, actor, reason)`` handles an erasure request. The rule (docs/deploy.md):

* the account stays as an anonymous shell (so ledgers and ballots keep their counts): user name
  and display name become the anonymous id ``anonymous_label(user)``, the phone number is
  dropped, the password can never match again, every session and API token ends;
* household register entries linked to the account keep their household, relation and role in
  the register, with the name replaced by the anonymous id and no phone number; their person
  keeps its entries (heads stay as counted) but loses its identity document (hash and last four);
* proposals and comments stay (they are the community's deliberation record) under the
  anonymous id; seconds stay (counts do not change); notifications and stored API answers go;
* in the audit log, the name recorded for the person when someone acted for them, and the name
  fields of entries about the person's own account, memberships and register entries;
* each enabled module erases or anonymises its own records (hook ``personal_data_erase``):
  ballots keep every vote and weight, ledgers every amount, case files their facts — each under
  the anonymous id.

Everything is found by key (the account's id, or the id of a record of the person's), never by
searching text: a name is not unique, and a search for "00" or "的" would rewrite other people's
rows, password hashes, tokens and ballot chains. So what other people wrote that mentions the
person (a comment, minutes, a session note, a notification to someone else) is not rewritten;
PIPL lets the controller handle a request by the records it holds about the person, and staff
can edit a specific record if the person asks. Hashes, tokens of other people, timestamps and
published ballot files are never touched.

Who may erase (``check_may_erase``): a site administrator, or staff of every community the person
belongs to; an account that holds staff or admin in one of them only a community admin there (or
a site administrator); and nobody the last active admin of a community.

The anonymous id is derived from the account id with the secret key, so it is the same every
time (a second run changes nothing) and cannot be traced back without the key. Every erasure is
written to the audit log with its reason and counts (no names)."""
import hashlib
import hmac
import json
import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from core.dates import iso
from core.errors import Conflict, Forbidden, ServiceError
from core.extensions import db
from core.models import (ApiToken, Community, Household, HouseholdMember, Membership, Notification,
                         PasswordResetCode, Person, Proposal, ProposalComment, ProposalSecond, User, utcnow)
from core.models.audit import AuditEntry, IdempotentRequest
from core.permissions import STAFF_ROLES, can
from core.services import audit
from core.services.persons import birth_label

FORMAT = "linli-personal-data/1"
ERASED_ACTION = "personal_data.erased"


def anonymous_label(user):
    """The stable anonymous id that replaces ``user``'s name: ``anon-`` and 10 hex digits."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return "anon-" + hmac.new(key, f"user:{user.id}".encode(), hashlib.sha256).hexdigest()[:10]


def is_erased(user):
    return user.username == anonymous_label(user) and not user.is_active_account


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
        "exported_at": iso(utcnow()),
        "account": {"id": user.id, "username": user.username, "phone": user.phone,
                    "display_name": user.display_name, "locale": user.locale, "large_text": user.large_text,
                    "active": user.is_active_account, "created_at": iso(user.created_at),
                    "privacy_consent": {"at": iso(user.privacy_consent_at), "notice_version": user.privacy_notice_version}
                    if user.privacy_consent_at else None},
        "api_tokens": [{"name": t.name, "prefix": t.prefix, "created_at": iso(t.created_at),
                        "last_used_at": iso(t.last_used_at), "revoked_at": iso(t.revoked_at)}
                       for t in ApiToken.query.filter_by(user_id=user.id).order_by(ApiToken.id)],
        # kind and link only: a notification's parameters name the other people involved
        "notifications": [{"kind": n.kind, "url": n.url, "read_at": iso(n.read_at), "created_at": iso(n.created_at)}
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
                       "verified_at": iso(m.verified_at), "joined_at": iso(m.created_at),
                       "household": _household_label(m.household_id),
                       "address_given_at_registration": m.claimed_address},
        "household_register": [{"household": _household_label(r.household_id), "name": r.name, "phone": r.phone,
                                "relation": r.relation, "representative": r.is_representative}
                               for r in register],
        # The register's person: its number, identity document as held (type, last four) and date of birth.
        "register_person": [{"number": p.id, "identity_document": {"type": p.id_type, "last4": p.id_last4}
                             if p.id_hash else None, "birth_date": birth_label(p) or None}
                            for p in Person.query.filter_by(community_id=community.id, user_id=user.id)],
        "proposals": [{"id": p.id, "title": p.title, "body": p.body, "category": p.category, "state": p.state,
                       "created_at": iso(p.created_at)} for p in proposals],
        "comments": [{"proposal_id": c.proposal_id, "body": c.body, "created_at": iso(c.created_at)}
                     for c in comments],
        "seconds": [{"proposal_id": s.proposal_id, "created_at": iso(s.created_at)} for s in seconds],
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
    """Raise unless ``actor`` may erase ``user`` (None: the command line, an operator on the
    server). A site administrator, or staff of every community the person belongs to; where the
    person holds staff or admin, only an admin of that community (erasure ends the account, so a
    staff member could otherwise remove their own admin); never a community's last active admin."""
    _check_may_erase(user, actor, lock=False)


def _check_may_erase(user, actor, lock):
    if actor is not None and actor.id == user.id:
        raise ServiceError("erase_self", _("You cannot erase your own account here; ask the community office."))
    memberships = (Membership.query.filter_by(user_id=user.id).order_by(Membership.community_id).all())
    if actor is not None and not actor.is_superadmin:
        if not memberships or not all(can("core.members.manage", m.community, user=actor) for m in memberships):
            raise Forbidden("forbidden",
                            _("Only the staff of every community this person belongs to can erase their data."))
        for m in memberships:
            if m.has_role(*STAFF_ROLES):
                mine = Membership.query.filter_by(user_id=actor.id, community_id=m.community_id).first()
                if mine is None or not mine.has_role("admin"):
                    raise Forbidden("erase_staff", _("Only a community administrator can erase the personal "
                                                     "data of a community staff member or administrator."))
    if not user.is_active_account:  # erased already: no longer anyone's admin
        return
    for m in memberships:
        if m.has_role("admin") and not _other_admins(m.community_id, user.id, lock):
            raise Conflict("last_admin", _("This is the last administrator of %(community)s: make someone "
                                           "else administrator first.", community=m.community.name))


def _other_admins(community_id, user_id, lock):
    """The ids of the community's other active admins. With ``lock`` the community's row is
    locked first (a no-op UPDATE, until the transaction ends): two admins erasing each other at
    once take turns, and the second then reads the first erased (PostgreSQL: a row lock, each
    statement reads what is committed; SQLite: the one writer lock)."""
    if lock:
        db.session.execute(update(Community).where(Community.id == community_id)
                           .values(config_version=Community.config_version))
    stmt = (select(User.id).join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community_id, Membership.roles.like("%admin%"),
                   User.is_active_account.is_(True)).order_by(User.id))
    return [uid for (uid,) in db.session.execute(stmt) if uid != user_id]


def own_names(user):
    """The person's names as stored in their own rows: the account's display name and the names
    on their household register entries. A module compares a name it copied into a row keyed to
    the person against these (equality, never a text search) where the row may name someone else
    (a household's roll entry names its representative)."""
    names = {user.display_name}
    names |= {n for (n,) in db.session.query(HouseholdMember.name).filter(HouseholdMember.user_id == user.id)}
    return {n for n in names if n}


def erase_audit_fields(user, object_type, object_ids, fields, owner_field=None):
    """In audit entries about ``object_type`` rows ``object_ids`` (records of the person's own,
    found by key), replace the values under ``fields`` of ``before``/``after`` with the anonymous
    id (a field whose name contains "phone" is emptied). With ``owner_field``, only in a dict
    whose ``owner_field`` holds the person's id. Nothing else in the entry changes. Returns how
    many entries changed."""
    label = anonymous_label(user)
    ids = sorted({str(i) for i in object_ids})
    changed = 0
    for start in range(0, len(ids), 500):
        rows = db.session.execute(select(AuditEntry.id, AuditEntry.before, AuditEntry.after).where(
            AuditEntry.object_type == object_type, AuditEntry.object_id.in_(ids[start:start + 500]))).all()
        for entry_id, before, after in rows:
            values = {}
            for column, data in (("before", before), ("after", after)):
                new = _without_name(data, fields, owner_field, user.id, label)
                if new is not None:
                    values[column] = new
            if values:
                db.session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(values))
                changed += 1
    return changed


def _without_name(data, fields, owner_field, user_id, label):
    """A copy of ``data`` with the person's name fields replaced, or None if nothing changes."""
    if not isinstance(data, dict) or (owner_field is not None and data.get(owner_field) != user_id):
        return None
    new = dict(data)
    for field in fields:
        if new.get(field) is not None:
            new[field] = None if "phone" in field else label
    return new if new != data else None


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
    _check_may_erase(user, actor, lock=True)  # a refusal rolls back, which releases the locks
    label = anonymous_label(user)
    already = is_erased(user)
    names = own_names(user) | {label}
    entry_ids = [i for (i,) in db.session.query(HouseholdMember.id).filter(HouseholdMember.user_id == user.id)]
    membership_ids = [i for (i,) in db.session.query(Membership.id).filter(Membership.user_id == user.id)]
    summary = {"modules": {}}
    # The modules first: they may read the person's names (to match copies in their own rows).
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
    core["identity_documents"] = Person.query.filter(Person.user_id == user.id, Person.id_hash.isnot(None)).update(
        {"id_type": None, "id_hash": None, "id_last4": None}, synchronize_session=False)
    core["birth_dates"] = Person.query.filter(Person.user_id == user.id, Person.birth_date.isnot(None)).update(
        {"birth_date": None, "birth_year_only": False}, synchronize_session=False)
    core["proposals"] = Proposal.query.filter(Proposal.author_id == user.id, Proposal.author_name != label).update(
        {"author_name": label}, synchronize_session=False)
    core["comments"] = ProposalComment.query.filter(
        ProposalComment.author_id == user.id, ProposalComment.author_name != label).update(
        {"author_name": label}, synchronize_session=False)
    core["addresses_given"] = Membership.query.filter(
        Membership.user_id == user.id, Membership.claimed_address.isnot(None)).update(
        {"claimed_address": None, "claimed_household_id": None}, synchronize_session=False)
    PasswordResetCode.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    core["notifications"] = Notification.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    core["api_tokens"] = ApiToken.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    IdempotentRequest.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    # The audit log: the name written down when someone acted for the person (only where it is one
    # of their own names: a household's roll entry may name its representative), and the name
    # fields of entries about their account, memberships and register entries.
    core["audit_entries"] = AuditEntry.query.filter(
        AuditEntry.on_behalf_of_id == user.id, AuditEntry.on_behalf_of_name.in_(names - {label})).update(
        {"on_behalf_of_name": label}, synchronize_session=False) if names - {label} else 0
    core["audit_entries"] += erase_audit_fields(user, "user", [user.id], ("username", "login", "display_name",
                                                                          "name", "phone"))
    core["audit_entries"] += erase_audit_fields(user, "membership", membership_ids, ("login", "display_name",
                                                                                      "address"))
    core["audit_entries"] += erase_audit_fields(user, "household_member", entry_ids, ("name", "phone"))
    if not already:
        user.username, user.phone, user.display_name, user.locale = label, None, label, None
        user.password_hash = generate_password_hash(secrets.token_urlsafe(32), method="pbkdf2:sha256:1000")
        user.is_active_account = False
        user.session_version = (user.session_version or 1) + 1
        core["account"] = 1
    db.session.flush()
    changed = sum(core.values()) + sum(v for counts in summary["modules"].values() for v in counts.values())
    summary["changed"] = changed
    summary["anonymous_id"] = label
    if changed:
        audit.record(ERASED_ACTION, actor=actor, object_type="user", object_id=str(user.id), reason=reason,
                     after={"anonymous_id": label, "core": core, "modules": summary["modules"],
                            "repeat": already})
    return summary


def erasures(user):
    """The audit entries of erasures of ``user`` (newest first)."""
    return (AuditEntry.query.filter_by(action=ERASED_ACTION, object_type="user", object_id=str(user.id))
            .order_by(AuditEntry.id.desc()).all())
