"""Filters by grid and building (网格, 楼栋) for lists of households and voters.

The household register and a ballot's electorate take ``?grid_id=`` and ``?building_id=`` (the
API's names too). A value is typed: on a page a wrong one (not a whole number, not a grid or
building of this community, a building outside the chosen grid) is left out and the page says so;
the API answers 400 ``invalid_parameter`` naming the field. Never a 500.
"""
from dataclasses import dataclass, field

from flask_babel import gettext as _

from core.errors import ServiceError
from core.extensions import db
from core.inputs import whole_number
from core.models import Building, Grid, Household, Unit
from core.sorting import natural_key, natural_sorted


@dataclass
class Place:
    """Where a list is narrowed to: a grid, a building (of that grid), or everywhere."""

    grid: Grid | None = None
    building: Building | None = None
    notes: list = field(default_factory=list)  # why a value sent was left out (pages show them)

    @property
    def anywhere(self):
        return self.grid is None and self.building is None

    def args(self):
        """The query-string arguments that give this place again."""
        return {k: v for k, v in (("grid_id", self.grid and self.grid.id),
                                  ("building_id", self.building and self.building.id)) if v}


def _refuse(name, message, strict):
    if strict:
        raise ServiceError("invalid_parameter", message, fields={name: message})
    return message


def place_from(community, args, strict=False):
    """The Place in ``args`` (a request's query string). ``strict`` (the API) raises ServiceError
    400 on a wrong value; otherwise it is left out with a note."""
    place = Place()
    for name, model in (("grid_id", Grid), ("building_id", Building)):
        try:
            number = whole_number(args.get(name), name)
        except ServiceError as err:
            if strict:
                raise
            place.notes.append(err.message)
            continue
        if number is None:
            continue
        obj = db.session.get(model, number)
        if obj is None or obj.community_id != community.id:
            message = (_("There is no grid number %(n)d here: the list is not narrowed by grid.", n=number)
                       if model is Grid else
                       _("There is no building number %(n)d here: the list is not narrowed by building.", n=number))
            place.notes.append(_refuse(name, message, strict))
        elif model is Grid:
            place.grid = obj
        else:
            place.building = obj
    if place.grid is not None and place.building is not None and place.building.grid_id != place.grid.id:
        message = _("%(building)s is not in %(grid)s: the list shows %(building)s.", building=place.building.name,
                    grid=place.grid.name)
        place.notes.append(_refuse("building_id", message, strict))
        place.grid = None
    return place


def household_ids(community, place):
    """Ids of the community's households in ``place`` (all of them when it is anywhere)."""
    q = (db.session.query(Household.id).join(Unit, Household.unit_id == Unit.id)
         .join(Building, Unit.building_id == Building.id).filter(Household.community_id == community.id))
    if place.building is not None:
        q = q.filter(Building.id == place.building.id)
    elif place.grid is not None:
        q = q.filter(Building.grid_id == place.grid.id)
    return {i for (i,) in q}


def choices(community):
    """(grids, buildings) of the community in natural order, for the filters' lists."""
    grids = natural_sorted(Grid.query.filter_by(community_id=community.id).all(), key=lambda x: x.name)
    buildings = natural_sorted(Building.query.filter_by(community_id=community.id).all(), key=lambda x: x.name)
    return grids, buildings


def unit_choices(community):
    """The community's units as a picker's choices ("1号楼 2单元"), in natural order, after a blank
    entry: for a household's unit and for where a resident registering lives."""
    rows = (db.session.query(Unit.id, Building.name, Unit.name).join(Building, Unit.building_id == Building.id)
            .filter(Building.community_id == community.id).all())
    return [(0, "—")] + [(uid, f"{b} {u}") for uid, b, u in natural_sorted(rows, key=lambda r: r[1:])]


def household_order(household):
    """A household's place in natural order: building, unit, room (1号楼 2单元 201 before 10号楼)."""
    unit = household.unit
    return natural_key(unit.building.name), natural_key(unit.name), natural_key(household.room)
