"""Cases checked against the legal text (DOMAIN_RULES §6: R7, R11–R14), not against the code: the
outcomes a 社区 office (or a court) expects, through the services and the recount of the file, so
that the server and `linli ballots recount` agree."""
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.plugins.voting.conftest import refused

from core import dates
from core.errors import ServiceError
from core.extensions import db
from core.models import Building, Grid, Household, HouseholdMember, Unit
from core.services import persons
from plugins.voting import convening, counting, integrity, residents_meeting, services
from plugins.voting.models import Ballot, Voter

pytestmark = pytest.mark.plugins("voting")


def member(world, name, born, household, **kw):
    m = HouseholdMember(household_id=household.id, name=name, relation=kw.pop("relation", "resident"), **kw)
    db.session.add(m)
    db.session.flush()
    m.person.birth_date = born
    db.session.commit()
    return m


def grown_ups(world):
    for user in (world.resident, world.resident2, world.building_head, world.grid_worker):
        persons.of_user(world.community, user.id).birth_date = date(1980, 5, 1)
    db.session.commit()


def meeting(world, mode, **data):
    return services.create(world.community, world.staff, {"title": "小区停车收费方案", "days": 7,
                                                          "rule": "residents_meeting", "electorate_mode": mode,
                                                          **data})


def close_and_recount(world, b):
    services.close(b, world.staff, "投票结束")
    b = db.session.get(Ballot, b.id)
    out = integrity.recount(json.loads(json.dumps(services.export(b))))
    assert out["ok"], out["problems"]
    assert out["result"] == b.result
    return b


# ── R12: a residents' meeting is made up of residents aged 18 or over (Organic Law Art. 9) ─────────
def test_a_household_is_represented_by_an_adult_and_a_household_of_minors_sends_nobody(world):
    """A household's representative takes part in a meeting of residents aged 18 or over: a
    child marked as its representative does not speak for it (an adult of the household does),
    and a household whose only member turns 18 during voting is not in the electorate on the
    day voting opens — the quorum base is the households that can send a representative."""
    grown_ups(world)
    today = dates.today(world.community)
    child = member(world, "小明", date(today.year - 10, 6, 1), world.households[0], is_representative=True)
    lone = Household(community_id=world.community.id, unit_id=world.unit.id, room="105", floor_area=Decimal("50.00"))
    db.session.add(lone)
    db.session.flush()
    nearly = member(world, "快满十八", persons.adult_cutoff(today) + timedelta(days=3), lone)
    b = meeting(world, "households")
    services.open_ballot(b, world.staff)
    roll = {v.household_id: v for v in Voter.query.filter_by(ballot_id=b.id)}
    assert lone.id not in roll, "a household whose only member is 17 on the opening day sends nobody"
    assert b.heads_total == 4
    assert roll[world.households[0].id].name != child.name
    assert roll[world.households[0].id].user_id == world.resident.id
    # 2 of 4 present is exactly half: no quorum (strict, 过半数); the recount says the same
    for user in (world.resident, world.resident2):
        services.cast(b, user, "yes")
    b = close_and_recount(world, b)
    quorum = next(t for t in b.result["tests"] if t["id"] == "quorum")
    assert (quorum["value"], quorum["total"], quorum["met"]) == ("2", "4", False)
    assert b.result["passed"] is False
    assert nearly.person_id not in {int(v.key.split(":")[1]) for v in Voter.query.filter_by(ballot_id=b.id)
                                    if v.key.startswith("person:")}


def test_a_child_cannot_be_chosen_as_a_residents_group_representative(world):
    grown_ups(world)
    today = dates.today(world.community)
    child = member(world, "小明", date(today.year - 10, 6, 1), world.households[0])
    adult_ids = [persons.of_user(world.community, u.id).id for u in (world.resident, world.resident2)]
    b = meeting(world, "groups")
    with refused(ServiceError) as err:
        residents_meeting.set_representatives(b, world.staff, {str(world.grid.id): adult_ids + [child.person_id]})
    assert f"group-{world.grid.id}" in err.value.fields
    db.session.rollback()
    b = db.session.get(Ballot, b.id)
    residents_meeting.set_representatives(b, world.staff, {str(world.grid.id): adult_ids})
    services.open_ballot(b, world.staff)
    assert b.heads_total == 2


def test_age_is_taken_on_the_community_s_calendar_day_at_a_year_boundary(world):
    """00:30 on 1 January in Beijing is still 31 December in UTC: someone born on 1 January 18
    years earlier is 18 that day; someone whose register holds only the year of that birth is not
    known to be (kept as 31 December), and is listed as unknown, never counted."""
    moment = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)  # 2027-01-01 00:30 in Asia/Shanghai
    assert dates.local_date(moment, world.community) == date(2027, 1, 1)
    full = member(world, "元旦生", date(2009, 1, 1), world.households[0])
    year = member(world, "只知年份", date(2009, 12, 31), world.households[1])
    year.person.birth_year_only = True
    older = member(world, "早一年", date(2008, 12, 31), world.households[2])
    older.person.birth_year_only = True
    db.session.commit()
    adults = {p.id for p in persons.adults(world.community, moment)}
    assert full.person_id in adults and older.person_id in adults and year.person_id not in adults
    assert year.person_id in {p.id for p in persons.birth_date_unknown(world.community, moment)}


# ── R11: the challenge window (SPC Interpretation Art. 12) ───────────────────────────────────────
def test_the_challenge_window_of_a_ballot_closed_at_23_30_on_31_december(world):
    b = Ballot(community_id=world.community.id, title="换物业", unit="owners", state="closed",
               closed_at=datetime(2026, 12, 31, 15, 30, tzinfo=timezone.utc))  # 23:30 Beijing time
    b.community = world.community
    assert services.challenge_until(b) == date(2027, 12, 31)
    b.closed_at = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)  # 00:30 on 1 January
    assert services.challenge_until(b) == date(2028, 1, 1)


# ── R13: convening on request (Organic Law Art. 10) ──────────────────────────────────────────────
def test_a_supporter_who_moved_out_no_longer_counts_towards_the_fifth(world):
    """Residents propose; someone whose entry left the register before the threshold was reached
    is no longer a resident of the community: their support stays on record but does not count."""
    grown_ups(world)
    for i in range(6):  # 10 adults: a fifth is 2
        member(world, f"居民{i}", date(1970, 1, 1), world.households[i % 4])
    req = convening.start(world.community, world.resident, {"subject": "讨论停车", "reason": "停车位太少需要商量办法",
                                                             "base": "adults"})
    assert req.base_total == 10 and convening.needed("adults", 10) == 2
    gone = persons.of_user(world.community, world.resident.id)
    for m in list(gone.members):
        db.session.delete(m)
    db.session.commit()
    req = convening.support(req, world.resident2)
    assert req.state == "collecting" and req.progress == 1
    req = convening.support(req, world.building_head)
    assert req.state == "reached" and req.progress == 2


# ── R7: every interested owner (Civil Code Art. 279; SPC Interpretation Art. 9–11) ───────────────
def test_unanimity_counts_heads_as_the_law_does_and_silence_is_not_consent(world, estate, runner, tmp_path):
    """赵老伯 owns two flats of this building and one of the building staff added: one head that
    must consent. The developer's unsold flats: one head that must consent. A flat without a
    registered owner: a head whose consent is missing until someone signs for it. A proxy's yes is
    the owner's consent. Server and recount agree on who did not consent."""
    from tests.plugins.voting.test_unanimity import _household, unanimity_ballot

    zhao = estate[0].members[0].person_id
    other = _household(world, "2号楼", "101", [])
    db.session.add(HouseholdMember(household_id=other.id, name="赵老伯", relation="owner", person_id=zhao))
    db.session.commit()
    b = unanimity_ballot(world, interested_buildings=[other.unit.building_id], confirm_duplicates=True)
    roll = Voter.query.filter_by(ballot_id=b.id).order_by(Voter.id).all()
    # 4 owners with accounts, 赵老伯 (three flats, two buildings), the developer, flat 401
    assert b.heads_total == 7 and len(roll) == 7
    by_key = {v.key: v for v in roll}
    zhao_voter = by_key[f"owner:{zhao}"]
    assert zhao_voter.heads == 1 and counting.area_to_int(zhao_voter.area) == 7000 + 5550 + 8000
    assert by_key["developer"].heads == 1
    for who in ("resident", "resident2", "building_head", "grid_worker"):
        services.cast(b, getattr(world, who), "yes")
    proxy = services.record_proxy(b, world.grid_worker, {"voter_id": zhao_voter.id, "proxy_user_id": world.resident.id,
                                                         "witness": "楼长", "instructions": "同意"})
    services.cast(b, world.resident, "yes", voter=zhao_voter, source="proxy", proxy=proxy)
    services.cast(b, world.grid_worker, "yes", voter=by_key["developer"], source="paper", witness="开发商代表")
    b = close_and_recount(world, b)
    assert b.result["passed"] is False
    assert b.result["not_consenting"] == [{"voter": by_key[k].ref, "reason": "not_voted"}
                                          for k in by_key if k.startswith("unit:")]
    unanimity = b.result["tests"][0]
    assert (unanimity["id"], unanimity["value"], unanimity["total"]) == ("unanimity", "6", "7")
    path = tmp_path / "zhugaishang.json"
    path.write_text(json.dumps(services.export(b), ensure_ascii=False), encoding="utf-8")
    out = runner.invoke(args=["ballots", "recount", str(path)])
    assert out.exit_code == 0 and json.loads(out.output)["result"]["not_consenting"] == b.result["not_consenting"]


def test_a_person_registered_in_two_households_represents_one_of_them(world):
    """One household, one representative, one person, one vote: someone on the register of two
    households speaks for one of them at a residents' meeting (the first in roll order); the other
    is represented by another of its adults, or, if it has none, is not a second vote of theirs."""
    grown_ups(world)
    resident = persons.of_user(world.community, world.resident.id)
    second = Household(community_id=world.community.id, unit_id=world.unit.id, room="105", floor_area=Decimal("50.00"))
    third = Household(community_id=world.community.id, unit_id=world.unit.id, room="106", floor_area=Decimal("50.00"))
    db.session.add_all([second, third])
    db.session.flush()
    for h in (second, third):
        db.session.add(HouseholdMember(household_id=h.id, name="居民甲", relation="owner", person_id=resident.id,
                                       is_representative=True))
    spouse = member(world, "居民甲的爱人", date(1981, 1, 1), third)
    b = meeting(world, "households")
    services.open_ballot(b, world.staff)
    roll = {v.household_id: v for v in Voter.query.filter_by(ballot_id=b.id)}
    assert second.id not in roll and b.heads_total == 5
    assert roll[world.households[0].id].user_id == world.resident.id
    assert roll[third.id].name == spouse.name


# ── R14: elections (Organic Law Art. 7–8; an owners' committee by Civil Code Art. 278) ────────────
def test_an_owners_committee_candidate_with_the_heads_but_not_the_area_is_not_elected():
    """Four owners (heads) of 60 m² and two of 150 m²: candidate 0 has four of six owners but only
    240 of 540 m²; candidate 1 has both. Three seats: one filled, two unfilled, never by a
    candidate who did not pass both."""  # 4 of 6 owners each; 240 of 540 m² and 420 of 540 m²
    spec = counting.Spec(method="election", n_options=4, unit="owners", matter_class="ordinary", heads_total=6,
                         area_total=54000, tie_seed="ab", seats=3)
    ballots = [((0,), 1, 6000)] * 2 + [((0, 1), 1, 6000)] * 2 + [((1,), 1, 15000)] * 2
    r = counting.count(spec, ballots)
    c0, c1 = r["candidates"][0], r["candidates"][1]
    assert {t["id"]: t["met"] for t in c0["tests"]} == {"approval_area": False, "approval_heads": True}
    assert c0["status"] == "not_approved" and c1["status"] == "elected"
    assert r["elected"] == [1] and r["unfilled"] == 2


def test_an_election_exactly_half_taking_part_is_not_valid_and_elects_nobody():
    spec = counting.Spec(method="election", n_options=6, unit="person", heads_total=10, tie_seed="ab", seats=5)
    r = counting.count(spec, [((0, 1, 2, 3), 1, 0)] * 4 + [((), 1, 0)])  # 5 of 10, one blank
    assert r["tests"][0]["met"] is False and r["passed"] is False and r["elected"] == [] and r["unfilled"] == 5
    r = counting.count(spec, [((0, 1, 2, 3), 1, 0)] * 4 + [((), 1, 0), (None, 1, 0)])  # 6 of 10
    assert r["passed"] and r["elected"] == [0, 1, 2, 3] and r["unfilled"] == 1  # 4 of 6 each; 4 and 5 none


def test_a_child_owner_is_not_nominated_for_the_owners_committee(world):
    """An owners' committee member must be of full civil capacity (18 or over): a child who
    co-owns a flat is an owner, but is not among those who may be nominated."""
    from plugins.voting import elections

    child = member(world, "小业主", date(dates.today(world.community).year - 8, 3, 1), world.households[0],
                   relation="owner")
    b = services.create(world.community, world.staff, {"title": "第一届业主委员会选举", "method": "election", "seats": 5,
                                                       "unit": "owners", "days": 7})
    eligible = {pid for pid, _n, _u in elections.eligible_candidates(b)}
    assert persons.of_user(world.community, world.resident.id).id in eligible
    assert child.person_id not in eligible
    with refused(ServiceError):
        elections.nominate(b, world.staff, child.person_id)


# ── R13: supporters' age and persons ─────────────────────────────────────────────────────────────
def test_a_request_counts_a_person_once_and_an_adult_from_their_eighteenth_birthday(world):
    grown_ups(world)
    today = dates.today(world.community)
    for i in range(4):  # 8 adults, and two more below: a fifth of 10 is 2
        member(world, f"居民{i}", date(1970, 1, 1), world.households[i % 4])
    eighteen = member(world, "今天满十八", persons.adult_cutoff(today), world.households[0])
    member(world, "明天满十八", persons.adult_cutoff(today) + timedelta(days=1), world.households[1])
    req = convening.start(world.community, world.resident, {"subject": "讨论停车", "reason": "停车位太少需要商量办法",
                                                             "base": "adults"})
    assert req.base_total == 9 and convening.needed("adults", 9) == 2
    # the starter's second register entry does not make a second support
    db.session.add(HouseholdMember(household_id=world.households[2].id, name="居民甲", relation="resident",
                                   person_id=persons.of_user(world.community, world.resident.id).id))
    db.session.commit()
    with refused(Exception):
        convening.support(req, world.resident)
    db.session.rollback()
    req = db.session.get(type(req), req.id)
    assert req.progress == 1 and req.state == "collecting"
    req = convening.support(req, world.staff, person_id=eighteen.person_id, reason="本人不会用手机，楼长代为登记")
    assert req.progress == 2 and req.state == "reached"  # 2 of 9 ≥ 1/5 (以上)


def test_a_residents_committee_election_does_not_leave_people_of_unknown_age_off_its_roll_silently(world):
    """The election's roll is the residents 18 or over (Art. 8); someone whose age the register
    does not tell is left off only when staff confirm it, as for a residents' meeting."""
    from core.errors import Conflict
    from plugins.voting import elections

    grown_ups(world)
    unknown = member(world, "没登生日", None, world.households[0])
    people = [member(world, f"候选人{i}", date(1970, 1, 1), world.households[i % 4]).person_id for i in range(6)]
    supporters = [member(world, f"推荐人{i}", date(1975, 1, 1), world.households[i % 4]).person_id for i in range(10)]
    b = services.create(world.community, world.staff, {"title": "第十二届居民委员会选举", "method": "election",
                                                       "seats": 5, "unit": "person", "days": 7})
    for pid in people:
        n = elections.nominate(b, world.staff, pid)
        for sid in supporters:
            elections.support(b, world.grid_worker, n, sid)
        elections.consent(b, world.staff, n)
    elections.publish_candidates(b, world.staff)
    with refused(Conflict) as err:
        services.open_ballot(b, world.staff)
    assert err.value.code == "ages_unknown"
    assert [p["person_id"] for p in err.value.details["people"]] == [unknown.person_id]
    db.session.rollback()
    b = db.session.get(Ballot, b.id)
    services.open_ballot(b, world.staff, confirm_duplicates=True)
    assert b.heads_total == 4 + 6 + 10


def test_households_base_counts_each_supporter_for_one_household_only():
    """R13 on the households base: a person on the register of two households is one resident,
    and their support stands for one household; the count is the largest number of distinct
    households the supporters stand for, one each, whatever the order of supporting."""
    from plugins.voting.convening import progress_of

    both = {"households": [1, 2], "grids": [1]}
    assert progress_of("households", [both]) == 1
    # A supports for 1 or 2, B only for 1: A stands for 2, B for 1 — in either order.
    only_one = {"households": [1], "grids": [1]}
    assert progress_of("households", [both, only_one]) == 2
    assert progress_of("households", [only_one, both]) == 2
    # Two people of the same single household are one household.
    assert progress_of("households", [only_one, dict(only_one)]) == 1
