"""A resident whose register entry was on a ballot's roll before their account was verified is
told their roll number (they vote on paper), and is not offered to staff as missing: the roll
knows people by their person on the register (core.services.persons), so verifying an account
changes no roll key (issue 17)."""
import pytest

from core.extensions import db
from core.models import HouseholdMember, Membership
from plugins.voting import services
from plugins.voting.models import Ballot, Voter

pytestmark = pytest.mark.plugins("voting")


def open_ballot(world, **data):
    return services.create(world.community, world.staff, {"title": "垃圾分类亭选址", "days": 7, **data}, open_now=True)


def test_one_on_the_roll_without_an_account_is_told_their_number(world, login):
    """Registered before the roll was fixed, their account verified after it: on the roll, on paper."""
    h = world.households[1]
    db.session.add(HouseholdMember(household_id=h.id, name="新居民", relation="resident"))
    db.session.commit()
    b = open_ballot(world)
    member = HouseholdMember.query.filter_by(household_id=h.id, name="新居民").one()
    voter = Voter.query.filter_by(ballot_id=b.id, key=f"person:{member.person_id}").one()
    assert voter.user_id is None
    m = Membership.query.filter_by(user_id=world.newbie.id, community_id=world.community.id).one()
    from core.services import persons

    persons.link_account(member, world.newbie)
    m.household_id, m.verified_at, m.verified_by_id = h.id, services.utcnow(), world.staff.id
    db.session.commit()
    page = login(world.newbie).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert f"you are on it as {voter.ref}, without your account" in page
    assert services.missed_voters(db.session.get(Ballot, b.id)) == []  # no second entry for them
