"""Staff merge two people on the register who are one (R5): their nominations, supports of
nominations and of convening requests, and proxies they hold become the kept person's, one per
person; a nomination survives; counts drop by the duplicate; the audit entry says what moved."""
import pytest

from tests.plugins.voting.conftest import refused

from core.errors import Conflict
from core.extensions import db
from core.models import AuditEntry, Person
from core.services import persons
from core.services.plugins import set_enabled
from plugins.voting import convening, elections
from plugins.voting.models import ConveningRequest, ConveningSupport, Nomination, NominationSupport
from tests.plugins.voting.test_convening import add_people, adults_in_world, assist, start
from tests.plugins.voting.test_elections import Town

pytestmark = pytest.mark.plugins("voting")


@pytest.fixture
def town(world):
    return Town(world)


def merge(world, keep_id, other_id):
    from core.db import transaction

    with transaction():  # as the merge's page or command runs it: one transaction, committed
        return persons.merge(world.community, db.session.get(Person, keep_id), db.session.get(Person, other_id),
                             world.staff, reason="同一人两条登记")


def audit_after():
    return AuditEntry.query.filter_by(action="person.merged").order_by(AuditEntry.id.desc()).first().after


def supporters(nomination_id):
    return sorted(s.person_id for s in NominationSupport.query.filter_by(nomination_id=nomination_id))


def test_two_supports_of_one_person_count_once_and_the_earliest_stays(town):
    world = town.world
    b = town.election()
    n = elections.nominate(b, world.staff, town.reps[0])
    keep, other, third = town.others[0], town.others[1], town.others[2]
    first = elections.support(b, world.grid_worker, n, other)  # the merged-away person's is the earlier
    elections.support(b, world.grid_worker, n, keep)
    elections.support(b, world.grid_worker, n, third)
    assert elections.tally(n)["voters"] == 3
    merge(world, keep, other)
    n = db.session.get(Nomination, n.id)
    assert elections.tally(n)["voters"] == 2 and supporters(n.id) == sorted([keep, third])
    assert db.session.get(NominationSupport, first.id).person_id == keep
    assert audit_after()["removed"] == {"voting_nomination_support": 1}
    # Supporting again is refused: the kept person already supports it.
    with refused(Conflict):
        elections.support(b, world.grid_worker, n, keep)


def test_a_nomination_of_the_merged_away_person_survives_on_the_kept_one(town):
    world = town.world
    b = town.election()
    keep, other = town.others[3], town.others[4]
    n = elections.nominate(b, world.staff, other)
    for sid in town.reps[:3]:
        elections.support(b, world.grid_worker, n, sid)
    elections.consent(b, world.staff, n)
    merge(world, keep, other)
    n = db.session.get(Nomination, n.id)
    assert n.person_id == keep and n.consented_at is not None and elections.tally(n)["voters"] == 3
    assert [x.person_id for x, _t in elections.nominations(b)] == [keep]
    assert audit_after()["moved"]["voting_nomination"] == 1


def test_both_nominated_once_makes_one_nomination_with_everyones_support(town):
    world = town.world
    b = town.election()
    keep, other = town.others[5], town.others[6]
    earlier = elections.nominate(b, world.staff, other)
    later = elections.nominate(b, world.staff, keep)
    for sid in town.reps[:2]:
        elections.support(b, world.grid_worker, earlier, sid)
    for sid in town.reps[1:4]:  # reps[1] supports both
        elections.support(b, world.grid_worker, later, sid)
    elections.consent(b, world.staff, later)
    merge(world, keep, other)
    [(n, tally)] = elections.nominations(b)
    assert n.id == earlier.id and n.person_id == keep  # the earliest, now the kept person's
    assert tally["voters"] == 4 and tally["consented"]  # reps 0–3 once each; the consent carried over
    assert audit_after()["removed"] == {"voting_nomination": 1, "voting_nomination_support": 1}


def test_two_candidates_on_a_published_list_are_not_merged(town):
    world = town.world
    b = town.election()
    town.nominate(b, town.reps[:6])
    elections.publish_candidates(b, world.staff)
    with refused(Conflict) as err:
        merge(world, town.reps[0], town.reps[1])
    assert err.value.code == "two_candidates"
    assert db.session.get(Person, town.reps[1]) is not None
    assert Nomination.query.filter_by(ballot_id=b.id).count() == 6


def test_convening_supports_of_one_person_count_once_and_the_request_is_recounted(world):
    adults_in_world(world)
    keep, other, third = add_people(world, 30)[:3]
    req = start(world, "adults")
    for p in (other, keep, third):
        assist(req, world, p)
    req = db.session.get(ConveningRequest, req.id)
    assert (req.state, req.supporters, req.progress) == ("collecting", 4, 4)
    merge(world, keep.id, other.id)
    req = db.session.get(ConveningRequest, req.id)
    assert (req.supporters, req.progress) == (3, 3)
    assert sorted(s.person_id for s in convening.active_supports(req)) == sorted(
        [keep.id, third.id, persons.of_user(world.community, world.resident.id).id])
    assert audit_after()["removed"] == {"voting_convening_support": 1}
    with refused(Conflict):
        assist(req, world, db.session.get(Person, keep.id))  # already supports it


def test_a_household_request_keeps_the_households_of_both_entries_but_counts_the_person_once(world):
    """Two supporters found to be one person: the support records both households, and stands
    for one of them (a person speaks for one household)."""
    adults_in_world(world)
    keep, other = add_people(world, 30)[:2]
    req = start(world, "households")
    assist(req, world, keep)
    assist(req, world, other)
    progress = db.session.get(ConveningRequest, req.id).progress
    merge(world, keep.id, other.id)
    req = db.session.get(ConveningRequest, req.id)
    [kept] = ConveningSupport.query.filter_by(request_id=req.id, person_id=keep.id).all()
    assert len(kept.households) == 2 and req.progress == progress - 1 and req.supporters == 2


def test_a_withdrawn_support_moves_too_and_voting_switched_off_still_moves(world):
    adults_in_world(world)
    keep, other = add_people(world, 30)[:2]
    req = start(world, "adults")
    assist(req, world, other)
    convening.withdraw(req, world.staff, person_id=other.id, reason="本人撤回，楼长代为登记")
    set_enabled(world.community, "voting", False, world.admin, confirm=True)
    merge(world, keep.id, other.id)
    [row] = ConveningSupport.query.filter_by(request_id=req.id, person_id=keep.id).all()
    assert row.withdrawn_at is not None


def test_a_request_past_its_threshold_keeps_the_count_it_reached(world):
    adults_in_world(world)
    keep, other = add_people(world, 30)[:2]
    req = start(world, "adults")
    db.session.execute(ConveningRequest.__table__.update().values(base_total=15))  # 3 supports reach it
    db.session.commit()
    assist(req, world, other)
    assist(req, world, keep)
    req = db.session.get(ConveningRequest, req.id)
    assert req.state == "reached" and req.supporters == 3
    merge(world, keep.id, other.id)
    req = db.session.get(ConveningRequest, req.id)
    assert req.state == "reached" and req.supporters == 3 and len(convening.active_supports(req)) == 2


def test_a_proxy_held_by_the_merged_away_person_counts_for_the_kept_one(world, owners_ballot, estate):
    from plugins.voting import services
    from plugins.voting.models import Proxy, Voter

    b = owners_ballot()
    keep, other = add_people(world, 30)[:2]
    voter = Voter.query.filter_by(ballot_id=b.id, user_id=world.resident.id).one()
    services.record_proxy(b, world.staff, {"voter_id": voter.id, "proxy_person_id": other.id, "witness": "网格员"})
    merge(world, keep.id, other.id)
    assert Proxy.query.filter_by(ballot_id=b.id).one().holder_key == f"person:{keep.id}"
    assert audit_after()["moved"]["voting_proxy"] == 1


def test_the_log_says_what_moved_in_words(town, login):
    world = town.world
    b = town.election()
    n = elections.nominate(b, world.staff, town.reps[0])
    for sid in town.others[:2]:
        elections.support(b, world.grid_worker, n, sid)
    merge(world, town.others[0], town.others[1])
    client = login(world.staff)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/c/test/admin/audit").get_data(as_text=True)
    assert "Supports of nominations: 1" in page and "voting_nomination_support" not in page
