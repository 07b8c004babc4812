"""A ballot's published electorate (选民名册) as grid workers and staff read it: in roll order
(V1, V2 … V10, core.sorting), narrowed to those who have not voted yet, to a grid or to a building
(core.places) for the worker who walks one building with paper ballots."""
from sqlalchemy.orm import joinedload

from core.models import Household, Unit
from core.places import household_ids
from core.sorting import natural_sorted
from plugins.voting.models import Voter

UNIT_SEPARATOR = "、"  # between the room labels of one roll entry (services.open_ballot)


def voters(ballot, place, not_voted=False):
    """The roll entries of ``ballot`` with a unit in ``place`` (core.places.Place), in roll order.

    An entry belongs to a building by its household and by every room label on the roll (an owner
    of rooms in two buildings is on both buildings' lists); the labels are matched whole against the
    register's labels of the building's rooms, never searched as text."""
    q = Voter.query.filter_by(ballot_id=ballot.id)
    if not_voted:
        q = q.filter(Voter.voted_at.is_(None))
    rows = q.all()
    if not place.anywhere:
        ids = household_ids(ballot.community, place)
        labels = {h.label for h in Household.query.options(
            joinedload(Household.unit).joinedload(Unit.building)).filter(Household.id.in_(ids))} if ids else set()
        rows = [v for v in rows if v.household_id in ids or labels.intersection(v.units.split(UNIT_SEPARATOR))]
    return natural_sorted(rows, key=lambda v: v.ref)
