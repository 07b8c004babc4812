"""Acting for a resident (代办): who an assisted action is for, picked by key from the register.

A building head, grid worker or staff member may second, comment, submit a proposal or sign a
resident up for them, typically an elderly resident without a phone. The action is recorded as
that resident's: their person on the register (core.models.person) always, their account when
they have one, and the helper (actor) and the reason beside it. The resident is picked by key —
a person of the register, or an account by phone number or user name — never matched by a typed
name (R5: two 张桂兰 are two people); a name alone is refused and nothing is saved.

Who may be picked: staff anyone of the community; a building head the people of their building;
a grid worker those of the buildings of their grid (the people they look after)."""
from dataclasses import dataclass

from flask_babel import gettext as _

from core.errors import Forbidden, ServiceError
from core.extensions import db
from core.models import Building, Household, HouseholdMember, Person, Unit
from core.permissions import membership_of
from core.sorting import natural_key, natural_sorted


@dataclass(frozen=True)
class Resident:
    """Whom an action is for: the person on the register (None only for a member not on it,
    acting for themselves), their account (None for a resident without one) and the name the
    action shows."""

    person: Person | None
    user: object | None
    name: str

    @property
    def person_id(self):
        return self.person.id if self.person is not None else None

    @property
    def user_id(self):
        return self.user.id if self.user is not None else None


def person_name(person) -> str:
    """The name a person's actions show: the first name they were entered under."""
    names = person.names
    return names[0] if names else person.label


def own(community, user) -> Resident:
    """``user`` acting for themselves, with their person on the register if they have one."""
    from core.services import persons

    return Resident(persons.of_user(community, getattr(user, "id", None)), user, user.display_name)


def _building_ids_in_reach(community, actor):
    """None for everyone of the community (staff, site administrators); else the buildings whose
    people ``actor`` looks after (their building as building head, their grid's as grid worker)."""
    if getattr(actor, "is_superadmin", False):
        return None
    membership = membership_of(actor, community)
    if membership is None:
        return set()
    if membership.is_staff:
        return None
    ids = set()
    if membership.has_role("building_head") and membership.building_id:
        ids.add(membership.building_id)
    if membership.has_role("grid_worker") and membership.grid_id:
        ids |= {b for (b,) in db.session.query(Building.id).filter_by(community_id=community.id,
                                                                        grid_id=membership.grid_id)}
    return ids


def people_in_reach(community, actor):
    """The people ``actor`` may act for, for a picker: ``[(building, [(person_id, label), ...]), ...]``
    by building, unit, room and name in natural order. A person with several entries is listed
    under each of their rooms (the same key)."""
    reach = _building_ids_in_reach(community, actor)
    if reach is not None and not reach:
        return []
    query = (db.session.query(HouseholdMember.person_id, HouseholdMember.name, HouseholdMember.user_id,
                              Building.name, Unit.name, Household.room)
             .join(Household, Household.id == HouseholdMember.household_id)
             .join(Unit, Unit.id == Household.unit_id).join(Building, Building.id == Unit.building_id)
             .filter(Household.community_id == community.id))
    if reach is not None:
        query = query.filter(Building.id.in_(reach))
    no_account = _("no account")
    groups = {}
    for person_id, name, user_id, building, unit, room in query:
        label = f"{unit} {room} · {name}" + ("" if user_id else f" ({no_account})")
        groups.setdefault(building, {})[(person_id, label)] = (unit, room, name)
    return [(b, [entry for entry, _where in natural_sorted(groups[b].items(), key=lambda kv: kv[1])])
            for b in sorted(groups, key=natural_key)]


def _refuse(code, message, field="person_id"):
    raise ServiceError(code, message, fields={field: message})


def acting_for(community, actor, *, person_id=None, login=None, account=None, name=None, reason=None,
               permission="core.proposals.assist", refused=None):
    """The resident an assisted action names, checked, or None when it names nobody (the actor
    acts for themselves).

    ``person_id`` picks a person of the register; ``login`` (phone number or user name) an account
    holder; ``account`` an account already looked up by its key (an API's user id). ``name`` is
    what a form or client typed as a name: never looked up, so a name without a key is refused
    ("not on the register"). ``permission`` is the right to act for others;
    ``reason`` (why they act for the resident) is required. Raises ServiceError, so nothing is
    saved."""
    from core.permissions import can
    from core.services import accounts, persons

    person_id = None if person_id in (None, "", 0, "0") else person_id
    login = (login or "").strip()
    name = (name or "").strip()
    if person_id is None and not login and account is None and not name:
        if (reason or "").strip():  # a reason without a resident: they forgot to pick them
            _refuse("resident_required", _("Choose the resident you are acting for."))
        return None
    if not can(permission, community, user=actor):
        raise Forbidden("forbidden", refused or _("You may not act for other residents."))
    if person_id is None and not login and account is None:
        _refuse("not_on_register", _("“%(name)s” was typed, not picked from the register. Choose the resident "
                                     "from the list (by room); if they are not on it, ask community staff to "
                                     "add them to the register first.", name=name[:80]))
    person = user = None
    if person_id is not None:
        try:
            person = persons.get(community, int(person_id))
        except (TypeError, ValueError, ServiceError):
            _refuse("not_on_register", _("Choose a resident on this community's register."))
        if person.user_id is not None:
            user = person.user
    if login or account is not None:
        found = account if account is not None else accounts.find_user(login)
        if found is None or membership_of(found, community) is None:
            _refuse("invalid_resident", _("No member of this community has that phone number or user name."),
                    "on_behalf_of")
        if user is not None and found.id != user.id:
            _refuse("two_residents", _("The phone number or user name and the resident chosen from the register "
                                       "are two different people: give one of them."), "on_behalf_of")
        user = found
        person = person or persons.of_user(community, found.id)
    if user is not None and user.id == actor.id:
        _refuse("self", _("That is you: to act for yourself, leave the resident empty."),
                "person_id" if person_id is not None else "on_behalf_of")
    reach = _building_ids_in_reach(community, actor)
    if reach is not None and (person is None or not (reach & _buildings_of(person))):
        _refuse("out_of_reach", _("You can act only for the residents of the buildings you look after."),
                "person_id" if person_id is not None else "on_behalf_of")
    if not (reason or "").strip():
        _refuse("reason_required", _("Say why you are acting for this resident."), "reason")
    return Resident(person, user, person_name(person) if person is not None else user.display_name)


def _buildings_of(person):
    return {b for (b,) in db.session.query(Unit.building_id)
            .join(Household, Household.unit_id == Unit.id)
            .join(HouseholdMember, HouseholdMember.household_id == Household.id)
            .filter(HouseholdMember.person_id == person.id)}
