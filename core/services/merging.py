"""Linking, merging and splitting people of the register (R5), called through
``core.services.persons`` (``persons.merge``, ``persons.split``, ...): staff decide who is the same
person, every module's rows follow (hook ``on_persons_merged``) and each decision is audited."""
from itertools import combinations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from core.db import insert_row
from core.errors import Conflict, NotFound, ServiceError
from core.extensions import db
from core.models import HouseholdMember, Membership, Person, PersonDistinct
from core.services import audit


def _lock(*ids):
    """Row locks on the people being changed, in id order (two staff merging the same people
    at once wait for each other); the ids still there."""
    return set(db.session.execute(select(Person.id).where(Person.id.in_(ids)).order_by(Person.id)
                                  .with_for_update()).scalars())


def _merge_into(keep, other, actor=None):
    """Move every entry, the account and the document of ``other`` to ``keep`` and delete
    ``other`` (no commit). Refused for two accounts or two documents: two different people.
    What each module keyed by ``other`` becomes ``keep``'s too (hook ``on_persons_merged``);
    returns what moved, ``{"moved": {table: n}, "removed": {table: n}}`` (see ``_modules_merged``)."""
    if keep.user_id and other.user_id and keep.user_id != other.user_id:
        raise Conflict("two_accounts", _("Both have an account of their own, so they are two people. If one person "
                                         "has two accounts, end the verification of one of them first."))
    if keep.id_hash and other.id_hash and keep.id_hash != other.id_hash:
        raise Conflict("two_documents", _("Different identity documents are recorded for them, so they are two "
                                          "people. Correct the wrong document first if they are one."))
    user_id = keep.user_id or other.user_id
    document = (keep.id_type, keep.id_hash, keep.id_last4) if keep.id_hash else \
        (other.id_type, other.id_hash, other.id_last4)
    # The other's account and document first leave it (unique per community), then go to keep.
    db.session.execute(update(_P).where(_P.c.id == other.id).values(user_id=None, id_type=None, id_hash=None,
                                                                       id_last4=None))
    entries = db.session.execute(update(_M).where(_M.c.person_id == other.id).values(person_id=keep.id)).rowcount
    summary = _move_actions(keep.id, other.id)
    summary["moved"]["household_member"] = entries
    db.session.execute(update(_P).where(_P.c.id == keep.id).values(
        user_id=user_id, id_type=document[0], id_hash=document[1], id_last4=document[2]))
    if user_id:
        db.session.execute(update(_M).where(_M.c.person_id == keep.id).values(user_id=user_id))
    summary["removed"]["person_distinct"] = db.session.execute(delete(PersonDistinct.__table__).where(or_(
        PersonDistinct.person_id.in_((keep.id, other.id)) & PersonDistinct.other_id.in_((keep.id, other.id)),
        PersonDistinct.person_id == other.id, PersonDistinct.other_id == other.id))).rowcount
    summary["moved"]["person_distinct"] = 0
    modules = _modules_merged(keep.community_id, keep.id, other.id, actor)
    db.session.execute(delete(_P).where(_P.c.id == other.id))
    for obj in list(db.session.identity_map.values()):  # what the statements above changed
        if isinstance(obj, (Person, HouseholdMember)):
            db.session.expire(obj)
    return _add_counts(summary, *modules)


def _modules_merged(community_id, keep_id, other_id, actor):
    """Every installed module's answer to ``on_persons_merged`` (also a module switched off in
    the community: its rows must not cascade away with ``other``). A module's Conflict refuses
    the whole merge."""
    from core.models import Community

    registry = current_app.extensions["linli.plugins"]
    community = db.session.get(Community, community_id)
    return [answer for answer in registry.pm.hook.on_persons_merged(
        community=community, keep_id=keep_id, other_id=other_id, actor=actor) if answer]


def _add_counts(total, *summaries):
    """``total`` with the ``moved`` and ``removed`` counts of ``summaries`` added, by table."""
    for part in summaries:
        for kind in ("moved", "removed"):
            for table, n in (part.get(kind) or {}).items():
                total.setdefault(kind, {})[table] = total.setdefault(kind, {}).get(table, 0) + int(n or 0)
    return total


def _nonzero(summary):
    """What a merge moved and removed, the tables with a count only (the audit entry's)."""
    return {kind: {t: n for t, n in sorted(summary.get(kind, {}).items()) if n} for kind in ("moved", "removed")}


def _move_actions(keep_id, other_id):
    """What was recorded for ``other`` (proposals, comments, seconds, also those a helper recorded
    for them) becomes ``keep``'s. A second both gave to one proposal stays counted (the count was
    true when it was given) but no longer names the merged person."""
    from core.models import Proposal, ProposalComment, ProposalSecond

    moved = {}
    for column in (Proposal.__table__.c.author_person_id, ProposalComment.__table__.c.author_person_id):
        moved[column.table.name] = db.session.execute(
            update(column.table).where(column == other_id).values({column.name: keep_id})).rowcount
    seconds = ProposalSecond.__table__
    kept = select(seconds.c.proposal_id).where(seconds.c.person_id == keep_id)
    db.session.execute(update(seconds).where(seconds.c.person_id == other_id, seconds.c.proposal_id.in_(kept))
                       .values(person_id=None))
    moved[seconds.name] = db.session.execute(
        update(seconds).where(seconds.c.person_id == other_id).values(person_id=keep_id)).rowcount
    return {"moved": moved, "removed": {}}


def merge(community, keep, other, actor, reason=None):
    """``other`` is the same person as ``keep``: their entries, account and document become
    ``keep``'s and ``other`` is gone (staff, audited)."""
    return merge_all(community, [keep, other], actor, reason=reason, keep=keep)


def merge_all(community, people, actor, reason=None, keep=None):
    """These people are one: everyone's entries, the account and the document go to ``keep``
    (by default the one with an account, else with a document, else the first entered), in one
    transaction; refused as a whole for two accounts or two documents. What the core and every
    module had recorded for the others becomes ``keep``'s (a duplicate of one person is
    removed: one support per person); the audit entry says how many rows of each table moved
    (``moved``) and were removed as duplicates (``removed``)."""
    people = list({p.id: p for p in people if p is not None}.values())
    for p in people:
        _check(community, p)
    if len(people) < 2:
        raise ServiceError("same_person", _("Choose two different people."))
    keep = keep or sorted(people, key=lambda p: (p.user_id is None, p.id_hash is None, p.id))[0]
    before = [{"person": p.id, "entries": [m.id for m in p.members], "user_id": p.user_id, "names": p.names}
              for p in people]
    ids = {p.id for p in people}
    if _lock(*ids) != ids:
        raise Conflict("person_gone", _("One of them is no longer on the register (merged meanwhile?). Look again."))
    summary = {}
    for other in people:
        if other.id != keep.id:
            db.session.refresh(keep)
            db.session.refresh(other)
            _add_counts(summary, _merge_into(keep, other, actor))
    keep = db.session.get(Person, keep.id)
    audit.record("person.merged", community=community, obj=keep, actor=actor, before={"people": before},
                 reason=reason,
                 after={"person": keep.id, "entries": [m.id for m in keep.members], "user_id": keep.user_id,
                        **_nonzero(summary)})
    return keep


def split(community, member, actor, reason=None):
    """The register entry ``member`` is someone else than the other entries of its person: it
    becomes a person of its own, without the account or document, and the two are recorded as
    different people. The entry through which the account was verified stays with the account."""
    if member is None or member.household.community_id != community.id:
        raise NotFound("not_found", _("No such person."))
    person = member.person
    if len(person.members) < 2:
        raise Conflict("already_alone", _("This entry is already a person of its own."))
    if person.user_id:
        verified = Membership.query.filter_by(user_id=person.user_id, community_id=community.id).first()
        others = [m for m in person.members if m.id != member.id and m.household_id == member.household_id]
        if verified is not None and verified.household_id == member.household_id and not others:
            raise Conflict("verified_entry", _(
                "The account of this person was verified through this entry; split off the other entries instead."))
    if _lock(person.id) != {person.id}:
        raise Conflict("person_gone", _("One of them is no longer on the register (merged meanwhile?). Look again."))
    new = Person(community_id=community.id)
    db.session.add(new)
    db.session.flush()
    member.person = new
    member.user_id = None
    db.session.add(PersonDistinct(community_id=community.id, person_id=min(person.id, new.id),
                                  other_id=max(person.id, new.id), decided_by_id=getattr(actor, "id", None)))
    db.session.flush()
    audit.record("person.split", community=community, obj=new, actor=actor, reason=reason,
                 before={"person": person.id, "entry": member.id},
                 after={"person": new.id, "entry": member.id, "left": [m.id for m in person.members]})
    return new


def mark_distinct(community, people, actor, reason=None):
    """Staff checked these people of the same name: they are different people. Every pair is
    recorded once (a unique constraint), so they are no longer possible duplicates."""
    people = list({p.id: p for p in people if p is not None}.values())
    for p in people:
        _check(community, p)
    if len(people) < 2:
        raise ServiceError("choose_two", _("Choose at least two people."))
    known = {(a, b) for a, b in db.session.query(PersonDistinct.person_id, PersonDistinct.other_id)
             .filter(PersonDistinct.person_id.in_([p.id for p in people]))}
    added = []
    for a, b in combinations(sorted(p.id for p in people), 2):
        # A pair that someone else recorded meanwhile is not written again: their decision stands.
        if (a, b) not in known and insert_row(PersonDistinct, if_free=True, community_id=community.id, person_id=a,
                                              other_id=b, decided_by_id=getattr(actor, "id", None)):
            added.append([a, b])
    if added:
        audit.record("person.distinct", community=community, actor=actor, object_type="person",
                     object_id=str(people[0].id), reason=reason, after={"pairs": added})
    return added


def link_account(member, user, actor=None):
    """Staff verified ``user`` as the register entry ``member`` (accounts.verify_resident): the
    entry's person is the account's person. If the account already had a person in the
    community, the entry's person joins it (the verification says they are one); every entry of
    the person carries the account."""
    community_id = member.household.community_id
    with db.session.no_autoflush:
        owner = Person.query.filter_by(community_id=community_id, user_id=user.id).first()
        person = member.person
        if person is None:
            person = owner or Person(community_id=community_id, user_id=user.id)
            db.session.add(person)
            member.person = person
        elif owner is None and person.user_id in (None, user.id):
            person.user_id = user.id
        elif owner is None:  # the entry was someone else's (another account): a person of its own
            person = Person(community_id=community_id, user_id=user.id)
            db.session.add(person)
            member.person = person
        elif owner.id != person.id and person.user_id not in (None, user.id):
            member.person = person = owner  # only this entry: the rest are another account's
        elif owner.id != person.id:
            db.session.flush()
            _merge_into(owner, person, actor)
            person = db.session.get(Person, owner.id)
        member.user_id = user.id
        for m in person.members:
            m.user_id = user.id


def unlink_account(community_id, user_id):
    """The account is no longer verified in the community (accounts.unverify): its person
    stays on the register without it."""
    db.session.execute(update(_P).where(_P.c.community_id == community_id, _P.c.user_id == user_id)
                       .values(user_id=None))


def forget_if_empty(person_id):
    """Delete a person none of whose entries is left (after an entry is removed)."""
    if person_id is None:
        return
    if not db.session.query(HouseholdMember.id).filter_by(person_id=person_id).first():
        db.session.execute(delete(_P).where(_P.c.id == person_id))


# The register's basics, imported last so that either module may be imported first.
from core.services.persons import _M, _P, _check  # noqa: E402
