"""The community structure: communities, grids, buildings, units, households and their register."""
import re
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, NotFound, ServiceError
from core.extensions import db
from core.models import (Building, Community, CommunityPlugin, Grid, Household, HouseholdMember,
                         Membership, Unit)
from core.models.community import AREA_SOURCES, RELATIONS
from core.phones import normalise_mobile
from core.services import audit

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MAX_AREA = Decimal("100000")
# Digits with an optional thousands separator (1,234.56) and decimal point; nothing else.
AREA_RE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d*)?$")
AREA_UNITS = ("平方米", "平米", "㎡", "m²", "m2", "sqm")


def create_community(slug, name, *, street=None, default_locale="zh_Hans", seconds_threshold=5,
                     actor=None, enable_all=None):
    """Create a community; installed plugins start as their manifests say (or all, if asked)."""
    slug = (slug or "").strip().lower()
    name = (name or "").strip()
    errors = {}
    if not SLUG_RE.match(slug):
        errors["slug"] = _("Use 2–40 lower-case letters, digits and hyphens.")
    if not 1 <= len(name) <= 120:
        errors["name"] = _("Give a name of up to 120 characters.")
    if default_locale not in current_app.config["LANGUAGES"]:
        errors["default_locale"] = _("Unknown language.")
    if errors:
        raise ServiceError("invalid_community", _("Please correct the marked fields."), fields=errors)
    if Community.query.filter_by(slug=slug).first():
        raise Conflict("slug_taken", _("A community with this short name exists."), fields={"slug": _("Taken.")})
    community = Community(slug=slug, name=name, street=street, default_locale=default_locale,
                          seconds_threshold=seconds_threshold)
    db.session.add(community)
    db.session.flush()
    registry = current_app.extensions["linli.plugins"]
    for plugin in registry.names:
        enabled = registry.manifests[plugin].default_enabled if enable_all is None else enable_all
        db.session.add(CommunityPlugin(community_id=community.id, plugin=plugin, enabled=enabled))
    audit.record("community.created", community=community, obj=community, actor=actor,
                 after={"slug": slug, "name": name})
    return community


def update_community(community, actor, *, name, seconds_threshold, default_locale, timezone=None):
    """Name, seconds threshold, default language and (when given) the time zone of ``community``."""
    from core import dates
    from core.services import settings

    errors = {}
    if timezone is not None and timezone not in dates.ZONES:
        errors["timezone"] = _("Choose a time zone from the list.")
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        errors["name"] = _("Give a name of up to 120 characters.")
    if not isinstance(seconds_threshold, int) or not 1 <= seconds_threshold <= 10000:
        errors["seconds_threshold"] = _("Enter a whole number from 1 to 10,000.")
    if default_locale not in current_app.config["LANGUAGES"]:
        errors["default_locale"] = _("Unknown language.")
    if errors:
        raise ServiceError("invalid_settings", _("Please correct the marked fields."), fields=errors)
    before = {"name": community.name, "seconds_threshold": community.seconds_threshold,
              "default_locale": community.default_locale}
    community.name, community.seconds_threshold, community.default_locale = name, seconds_threshold, default_locale
    audit.record("community.updated", community=community, obj=community, actor=actor, before=before,
                 after={"name": name, "seconds_threshold": seconds_threshold, "default_locale": default_locale})
    if timezone is not None and timezone != settings.get(community, "core", "timezone"):
        settings.set(community, "core", "timezone", timezone, actor=actor)
        dates.forget_zone(community)


def _name(value, field="name", max_len=80):
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a room number sent as a JSON number
    value = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(value) <= max_len:
        raise ServiceError("invalid_name", _("Enter a name of up to %(n)d characters.", n=max_len),
                           fields={field: _("Enter a name of up to %(n)d characters.", n=max_len)})
    return value


def _save(obj, community, action, actor, after):
    db.session.add(obj)
    try:
        db.session.flush()
    except IntegrityError:  # messages lazy: read once the request has rolled back
        raise Conflict("duplicate", _l("This name is already used here."), fields={"name": _l("Already used.")})
    audit.record(action, community=community, obj=obj, actor=actor, after=after)
    return obj


def add_grid(community, name, actor):
    return _save(Grid(community_id=community.id, name=_name(name)), community, "grid.created", actor,
                 {"name": name})


def add_building(community, grid, name, actor):
    if grid is None or grid.community_id != community.id:
        raise ServiceError("invalid_grid", _("Choose a grid of this community."),
                           fields={"grid_id": _("Choose a grid of this community.")})
    return _save(Building(community_id=community.id, grid_id=grid.id, name=_name(name)), community,
                 "building.created", actor, {"name": name, "grid": grid.name})


def add_unit(community, building, name, actor):
    if building is None or building.community_id != community.id:
        raise ServiceError("invalid_building", _("Choose a building of this community."),
                           fields={"building_id": _("Choose a building of this community.")})
    return _save(Unit(building_id=building.id, name=_name(name, max_len=40)), community, "unit.created",
                 actor, {"name": name, "building": building.name})


def rename(community, obj, name, actor):
    before = {"name": obj.name}
    obj.name = _name(name, max_len=40 if isinstance(obj, Unit) else 80)
    try:
        db.session.flush()
    except IntegrityError:  # messages lazy: read once the request has rolled back
        raise Conflict("duplicate", _l("This name is already used here."), fields={"name": _l("Already used.")})
    audit.record(f"{obj.__tablename__}.renamed", community=community, obj=obj, actor=actor, before=before,
                 after={"name": obj.name})


def delete_empty(community, obj, actor):
    """Delete a grid, building or unit that has nothing in it."""
    busy = {
        Grid: lambda: Building.query.filter_by(grid_id=obj.id).count(),
        Building: lambda: Unit.query.filter_by(building_id=obj.id).count(),
        Unit: lambda: Household.query.filter_by(unit_id=obj.id).count(),
    }[type(obj)]()
    if busy:
        raise Conflict("not_empty", _("Only empty grids, buildings and units can be deleted."))
    audit.record(f"{obj.__tablename__}.deleted", community=community, obj=obj, actor=actor,
                 before={"name": obj.name})
    db.session.delete(obj)
    try:
        db.session.flush()
    except IntegrityError:  # still the scope of a proposal, a ballot, ...
        raise Conflict("in_use", _l("This is still used (for example as the scope of a proposal) and cannot be deleted."))


def parse_area(value):
    """A floor area in m² as an exact Decimal with at most two places, or a ServiceError.

    Accepts "89.5", "89.50 ㎡", "1,234.56" and whole numbers; refuses "89,5" (is it 895 or 89.5?),
    more than two decimals, negative or absurd areas, and anything else. Never goes through float."""
    if isinstance(value, float):
        value = format(value, ".15g")  # as a spreadsheet shows it: 89.5, not 89.50000000000001
    elif isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        value = "" if value is None or isinstance(value, bool) else str(value)
    text = str(value).strip().translate(str.maketrans("０１２３４５６７８９．，", "0123456789.,"))
    for unit in AREA_UNITS:
        if text.lower().endswith(unit):
            text = text[: -len(unit)].rstrip()
    message = _("Enter the floor area in m², e.g. 89.5.")
    if not AREA_RE.match(text) or not any(ch.isdigit() for ch in text):
        raise ServiceError("invalid_area", message, fields={"floor_area": message})
    try:
        area = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ServiceError("invalid_area", message, fields={"floor_area": message})
    if area < 0 or area > MAX_AREA or area != area.quantize(Decimal("0.01")):
        message = _("Enter an area from 0 to 100,000 m² with at most two decimals.")
        raise ServiceError("invalid_area", message, fields={"floor_area": message})
    return area.quantize(Decimal("0.01")) + 0  # + 0 turns -0.00 into 0.00


def save_household(community, actor, *, unit, room, floor_area, area_source="register", developer_held=False,
                   note=None, household=None):
    """Create or edit a household (户)."""
    if unit is None or unit.building.community_id != community.id:
        raise ServiceError("invalid_unit", _("Choose a unit of this community."),
                           fields={"unit_id": _("Choose a unit of this community.")})
    room = _name(room, "room", 20)
    area = parse_area(floor_area)
    note = note.strip() if isinstance(note, str) else None
    if note and len(note) > 200:
        raise ServiceError("invalid_note", _("Keep the note under 200 characters."),
                           fields={"note": _("Keep the note under 200 characters.")})
    if area_source not in AREA_SOURCES:
        raise ServiceError("invalid_source", _("Choose where the area comes from."),
                           fields={"area_source": _("Choose where the area comes from.")})
    creating = household is None
    before = None if creating else {"unit_id": household.unit_id, "room": household.room,
                                    "floor_area": household.floor_area, "area_source": household.area_source,
                                    "developer_held": household.developer_held}
    if creating:
        household = Household(community_id=community.id)
        db.session.add(household)
    household.unit_id, household.room, household.floor_area = unit.id, room, area
    household.area_source, household.developer_held, household.note = area_source, bool(developer_held), note or None
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict("duplicate_room", _l("This unit already has that room."), fields={"room": _l("Already exists.")})
    audit.record("household.created" if creating else "household.updated", community=community, obj=household,
                 actor=actor, before=before,
                 after={"unit_id": unit.id, "room": room, "floor_area": area, "area_source": area_source,
                        "developer_held": bool(developer_held)})
    return household


def add_household_member(community, household, actor, *, name, phone=None, relation="resident",
                         is_representative=False):
    if household is None or household.community_id != community.id:
        raise NotFound("not_found", _("No such household."))
    name = _name(name)
    phone = normalise_mobile(phone)
    if relation not in RELATIONS:
        raise ServiceError("invalid_relation", _("Choose owner, resident or tenant."),
                           fields={"relation": _("Choose owner, resident or tenant.")})
    if is_representative:
        for m in household.members:
            m.is_representative = False
    member = HouseholdMember(household=household, name=name, phone=phone, relation=relation,
                             is_representative=bool(is_representative))
    db.session.add(member)
    db.session.flush()
    audit.record("household_member.added", community=community, obj=member, actor=actor,
                 after={"household_id": household.id, "name": name, "relation": relation})
    return member


def remove_household_member(community, member, actor):
    if member is None or member.household.community_id != community.id:
        raise NotFound("not_found", _("No such person."))
    audit.record("household_member.removed", community=community, obj=member, actor=actor,
                 before={"household_id": member.household_id, "name": member.name, "relation": member.relation})
    if member.user_id:
        Membership.query.filter_by(user_id=member.user_id, community_id=community.id,
                                   household_id=member.household_id).update(
            {"household_id": None, "verified_at": None, "verified_by_id": None})
    person_id = member.person_id
    db.session.delete(member)
    db.session.flush()
    from core.services import persons

    persons.forget_if_empty(person_id)  # a person is someone on the register


def set_representative(community, member, actor):
    household = member.household
    if household.community_id != community.id:
        raise NotFound("not_found", _("No such person."))
    for m in household.members:
        m.is_representative = m.id == member.id
    audit.record("household.representative", community=community, obj=household, actor=actor,
                 after={"representative": member.name})
