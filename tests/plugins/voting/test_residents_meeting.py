"""A residents' meeting (居民会议, Organic Law of Urban Residents' Committees Art. 9, R12): the
electorate fixed for the ballot (residents 18 or over on the day voting opens, one representative
per household, or two or three representatives per residents' group), quorum more than half of
it present, a decision by yes from more than half of those PRESENT — abstentions, blank and
spoiled ballots are present and count against. Services, pages, API and `linli ballots recount`."""
import copy
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.plugins.voting.conftest import refused

from core import dates
from core.errors import Conflict, ServiceError
from core.extensions import db
from core.models import Building, Grid, Household, HouseholdMember, Unit
from core.services import persons
from plugins.voting import counting, integrity, residents_meeting, services
from plugins.voting.models import Ballot, Voter

pytestmark = pytest.mark.plugins("voting")
BALLOTS = "/api/v1/c/test/voting/ballots"
WITNESS = "楼长"


def spec(total, spoiled_participates=True, rule=counting.RESIDENTS_MEETING):
    return counting.Spec(method="majority", n_options=3, unit="person", rule=rule, quorum="half",
                         heads_total=total, spoiled_participates=spoiled_participates)


def ballots(yes=0, no=0, abstain=0, spoiled=0):
    return [((0,), 1, 0)] * yes + [((1,), 1, 0)] * no + [((2,), 1, 0)] * abstain + [(None, 1, 0)] * spoiled


# ── the count: each threshold exactly at it, one over, one under ───────────────────────────────
@pytest.mark.parametrize("total, votes, quorum, decision", [
    # quorum: present > 1/2 of the electorate (strict)
    (10, dict(yes=3, no=1, abstain=1), False, True),             # 5 of 10 present: exactly half, no quorum
    (10, dict(yes=4, no=1, abstain=1), True, True),              # 6: one over
    (10, dict(yes=3, abstain=1), False, True),                   # 4: one under
    (10, dict(yes=2, no=1, spoiled=2), False, False),            # spoiled ballots are present: still 5
    # decision: yes > 1/2 of those present (strict); abstaining, blank and spoiled count against
    (10, dict(yes=3, abstain=2, spoiled=1), True, False),        # 3 of 6: exactly half
    (10, dict(yes=4, abstain=1, spoiled=1), True, True),         # 4 of 6: one over
    (10, dict(yes=2, no=1, abstain=2, spoiled=1), True, False),  # 2 of 6: one under
    (9, dict(yes=3, no=0, abstain=2), True, True),               # 5 of 9 present; 3 of 5
])
def test_quorum_and_decision_on_the_present_base(total, votes, quorum, decision):
    result = counting.count(spec(total), ballots(**votes))
    tests = {t["id"]: t for t in result["tests"]}
    present = sum(votes.values())
    assert tests["quorum"]["met"] is quorum and tests["quorum"]["comparison"] == ">"
    assert (tests["quorum"]["value"], tests["quorum"]["total"]) == (str(present), str(total))
    assert tests["approval_present"]["met"] is decision
    assert (tests["approval_present"]["value"], tests["approval_present"]["total"]) == (str(votes.get("yes", 0)),
                                                                                        str(present))
    assert result["passed"] is (quorum and decision)
    assert result["turnout"]["heads"] == present


def test_ordinary_polls_keep_the_votes_cast_base_and_spoiled_ballots_are_always_present():
    votes = ballots(yes=3, abstain=2, spoiled=1)
    ordinary = counting.count(spec(10, rule="simple"), votes)
    assert ordinary["passed"] and ordinary["tests"][-1]["total"] == "4"  # RONR: yes + no + spoiled
    assert not counting.count(spec(10), votes)["passed"]  # the meeting: 3 of the 6 present
    # a community that does not count spoiled ballots as taking part: at a meeting they are present
    meeting = counting.count(spec(10, spoiled_participates=False), ballots(yes=3, no=1, spoiled=2))
    assert meeting["turnout"]["heads"] == 6 and meeting["tests"][0]["met"]
    assert meeting["tests"][1]["total"] == "6" and not meeting["passed"]


# ── the register ───────────────────────────────────────────────────────────────────────────────
def adult(world, name, born, household=None):
    m = HouseholdMember(household_id=(household or world.households[0]).id, name=name, relation="resident")
    db.session.add(m)
    db.session.flush()
    m.person.birth_date = born
    db.session.commit()
    return m.person


def born(world, user, day):
    p = persons.of_user(world.community, user.id)
    p.birth_date = day
    db.session.commit()
    return p


@pytest.fixture
def register(world):
    """The four verified residents are adults; ten more adults without accounts; a minor; someone
    18 exactly today; someone 18 tomorrow; and one person without a date of birth."""
    today = dates.today(world.community)
    cutoff = persons.adult_cutoff(today)
    for user in (world.resident, world.resident2, world.building_head, world.grid_worker):
        born(world, user, date(1980, 5, 1))
    extra = [adult(world, f"居民{i}", date(1960 + i, 1, 1), world.households[i % 4]) for i in range(10)]
    minor = adult(world, "小明", date(today.year - 10, 6, 1), world.households[0])
    today18 = adult(world, "今天满十八", cutoff, world.households[1])
    tomorrow18 = adult(world, "明天满十八", cutoff + timedelta(days=1), world.households[1])
    unknown = adult(world, "没登生日", None, world.households[2])
    return {"extra": extra, "minor": minor, "today18": today18, "tomorrow18": tomorrow18, "unknown": unknown}


def meeting(world, mode="adults", **data):
    return services.create(world.community, world.staff, {"title": "小区停车收费方案", "days": 7,
                                                          "rule": "residents_meeting", "electorate_mode": mode,
                                                          **data})


def roll_people(ballot):
    return {int(v.key.split(":")[1]) for v in Voter.query.filter_by(ballot_id=ballot.id)}


def test_adults_on_the_day_voting_opens_make_up_the_meeting(world, register):
    b = meeting(world)
    assert (b.unit, b.quorum, b.electorate_mode) == ("person", "half", "adults")
    # someone's age unknown: listed, and the ballot does not open without staff's confirmation
    with refused(Conflict) as err:
        services.open_ballot(b, world.staff)
    assert err.value.code == "ages_unknown"
    assert [p["person_id"] for p in err.value.details["people"]] == [register["unknown"].id]
    db.session.rollback()
    b = db.session.get(Ballot, b.id)
    services.open_ballot(b, world.staff, confirm_duplicates=True)
    on_roll = roll_people(b)
    assert register["today18"].id in on_roll and {p.id for p in register["extra"]} <= on_roll
    assert not {register["minor"].id, register["tomorrow18"].id, register["unknown"].id} & on_roll
    assert b.heads_total == 4 + 10 + 1
    m = b.manifest
    assert (m["rule"], m["electorate_mode"], m["unit"], m["quorum"]) == ("residents_meeting", "adults", "person",
                                                                          "half")
    assert m["adults_on"] == dates.today(world.community).isoformat() and m["ages_unknown"] == 1
    assert m["legal_basis"] == residents_meeting.LEGAL_BASIS and m["format"] == "linli-ballot/2"


def test_a_register_with_every_age_known_opens_at_once(world, register):
    register["unknown"].birth_date = date(1990, 1, 1)
    db.session.commit()
    b = meeting(world)
    services.open_ballot(b, world.staff)
    assert register["unknown"].id in roll_people(b) and b.manifest["ages_unknown"] == 0


def paper(b, world, voter, choice):
    return services.cast(b, world.grid_worker, choice, voter=voter, source="paper", witness=WITNESS,
                         spoiled=choice is None)


@pytest.mark.parametrize("votes, passed", [
    # an electorate of 16: quorum more than 8 present
    (dict(yes=6, no=1, abstain=1), False),             # 8 present: exactly half, no quorum (6 yes or not)
    (dict(yes=5, no=1, abstain=2, spoiled=1), True),   # 9 present (one over); 5 of 9 yes
    (dict(yes=7), False),                              # 7 present: one under
    # decision, 10 present: more than 5 yes
    (dict(yes=5, no=2, abstain=2, spoiled=1), False),  # exactly half
    (dict(yes=6, no=1, abstain=2, spoiled=1), True),   # one over
    (dict(yes=4, no=3, abstain=2, spoiled=1), False),  # one under
])
def test_the_count_through_the_services_the_file_and_recount(world, register, votes, passed, runner, tmp_path, api):
    register["unknown"].birth_date = date(1990, 1, 1)
    register["unknown"].birth_year_only = True
    db.session.commit()
    b = meeting(world)
    services.open_ballot(b, world.staff)
    assert b.heads_total == 16
    roll = Voter.query.filter_by(ballot_id=b.id).order_by(Voter.id).all()
    choices = ["yes"] * votes.get("yes", 0) + ["no"] * votes.get("no", 0) + ["abstain"] * votes.get("abstain", 0) \
        + [None] * votes.get("spoiled", 0)
    for voter, choice in zip(roll, choices):
        paper(b, world, voter, choice)
    services.close(b, world.staff, "投票结束")
    b = db.session.get(Ballot, b.id)
    tests = {t["id"]: t for t in b.result["tests"]}
    present = len(choices)
    assert tests["quorum"]["met"] is (present * 2 > 16)
    assert tests["approval_present"]["total"] == str(present)
    assert b.result["passed"] is passed
    data = services.export(b)
    assert data["format"] == "linli-ballot/2"
    out = integrity.recount(data)
    assert out["ok"], out["problems"]
    assert out["result"] == b.result
    path = tmp_path / "meeting.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exit_code == 0 and json.loads(r.output)["result"]["passed"] is passed
    # the published result as the API gives it
    assert api(None).get(f"{BALLOTS}/{b.id}/result").get_json()["result"]["passed"] is passed


def test_recount_catches_a_file_that_changes_the_rule_or_its_electorate(world, register):
    register["unknown"].birth_date = date(1990, 1, 1)
    db.session.commit()
    b = meeting(world)
    services.open_ballot(b, world.staff)
    roll = Voter.query.filter_by(ballot_id=b.id).order_by(Voter.id).all()
    for voter, choice in zip(roll, ["yes"] * 6 + ["abstain"] * 3):
        paper(b, world, voter, choice)
    services.close(b, world.staff, "投票结束")
    data = services.export(b)
    assert data["result"]["passed"] and integrity.recount(data)["ok"]  # 9 of 16 present, 6 of 9 yes
    for change in ({"rule": "simple"}, {"electorate_mode": "everyone"}, {"electorate_mode": "households"},
                   {"format": "linli-ballot/1"}):
        forged = copy.deepcopy(data)
        forged["manifest"].update(change)
        assert not integrity.recount(forged)["ok"], change
    poll = copy.deepcopy(data)
    poll["manifest"]["rule"] = "simple"
    assert any("electorate mode" in p for p in integrity.recount(poll)["problems"])


def test_one_representative_per_household(world, register, api):
    r = api(world.staff).post(BALLOTS, json={"title": "楼道堆物清理", "days": 7, "rule": "residents_meeting",
                                            "electorate_mode": "households", "open": True})
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    assert (data["unit"], data["rule"], data["electorate_mode"], data["electorate"]["voters"]) == (
        "household", "residents_meeting", "households", 4)
    for user, choice in ((world.resident, "yes"), (world.resident2, "yes"), (world.building_head, "abstain")):
        assert api(user).post(f"{BALLOTS}/{data['id']}/votes", json={"choice": choice}).status_code == 201
    b = db.session.get(Ballot, data["id"])
    services.close(b, world.staff, "投票结束")
    result = api(None).get(f"{BALLOTS}/{b.id}/result").get_json()["result"]
    tests = {t["id"]: t for t in result["tests"]}
    assert tests["quorum"]["met"] and tests["quorum"]["value"] == "3" and tests["quorum"]["total"] == "4"
    assert tests["approval_present"]["met"] and tests["approval_present"]["ratio"] == "2/3"
    assert result["passed"]


def test_the_api_refuses_a_meeting_without_its_electorate_and_says_whose_age_is_unknown(world, register, api):
    client = api(world.staff)
    r = client.post(BALLOTS, json={"title": "楼道堆物清理", "days": 7, "rule": "residents_meeting"})
    assert r.status_code == 400 and "electorate_mode" in r.get_json()["error"]["fields"]
    r = client.post(BALLOTS, json={"title": "楼道堆物清理", "days": 7, "rule": "residents_meeting",
                                   "electorate_mode": "adults", "method": "approval", "options": ["甲", "乙"]})
    assert r.status_code == 400 and "method" in r.get_json()["error"]["fields"]
    r = client.post(BALLOTS, json={"title": "楼道堆物清理", "days": 7, "rule": "residents_meeting",
                                   "electorate_mode": "adults"})
    assert r.status_code == 201
    bid = r.get_json()["id"]
    r = client.post(f"{BALLOTS}/{bid}/open", json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ages_unknown"
    assert r.get_json()["error"]["details"]["people"][0]["person_id"] == register["unknown"].id
    r = client.post(f"{BALLOTS}/{bid}/open", json={"confirm_duplicates": True})
    assert r.status_code == 200
    data = r.get_json()
    assert data["ages_unknown"] == 1 and data["adults_on"] and data["electorate"]["voters"] == 15


# ── representatives of the residents' groups ───────────────────────────────────────────────────
@pytest.fixture
def two_groups(world, register):
    grid2 = Grid(community_id=world.community.id, name="第二网格")
    db.session.add(grid2)
    db.session.flush()
    building = Building(community_id=world.community.id, grid_id=grid2.id, name="5号楼")
    db.session.add(building)
    db.session.flush()
    unit = Unit(building_id=building.id, name="1单元")
    db.session.add(unit)
    db.session.flush()
    h = Household(community_id=world.community.id, unit_id=unit.id, room="501", floor_area=Decimal("80.00"))
    db.session.add(h)
    db.session.flush()
    people = [adult(world, name, date(1970, 1, 1), h) for name in ("钱一", "钱二", "钱三", "钱四")]
    return world.grid, grid2, people


def test_two_or_three_representatives_of_each_group(world, two_groups, api, login):
    grid1, grid2, second = two_groups
    b = meeting(world, "groups")
    first = [persons.of_user(world.community, u.id).id for u in (world.resident, world.resident2)]
    with refused(Conflict) as err:  # nobody chosen yet
        services.open_ballot(b, world.staff)
    assert err.value.code == "representatives_missing" and "第二网格" in err.value.message
    db.session.rollback()
    b = db.session.get(Ballot, b.id)
    for groups, field in (({str(grid1.id): first[:1]}, f"group-{grid1.id}"),                      # one is too few
                          ({str(grid2.id): [p.id for p in second]}, f"group-{grid2.id}"),           # four too many
                          ({str(grid1.id): [first[0], second[0].id]}, f"group-{grid1.id}"),         # not of the group
                          ({str(grid1.id): [first[0], first[0]]}, f"group-{grid1.id}")):            # twice
        with refused(ServiceError) as err:
            residents_meeting.set_representatives(b, world.staff, groups)
        assert field in err.value.fields
    db.session.rollback()
    b = db.session.get(Ballot, b.id)
    # the API chooses them; the page shows them to staff
    r = api(world.staff).put(f"{BALLOTS}/{b.id}/representatives",
                             json={"groups": {str(grid1.id): first, str(grid2.id): [p.id for p in second[:3]]}})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["representatives"] == {str(grid1.id): sorted(first),
                                               str(grid2.id): sorted(p.id for p in second[:3])}
    assert api(world.resident).put(f"{BALLOTS}/{b.id}/representatives", json={"groups": {}}).status_code == 404  # a draft: not even seen
    page = login(world.staff).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "钱一" in page and "Representatives of the residents" in page
    db.session.expire_all()
    b = db.session.get(Ballot, b.id)
    services.open_ballot(b, world.staff)
    assert roll_people(b) == set(first) | {p.id for p in second[:3]}
    assert b.manifest["electorate_mode"] == "groups" and b.manifest["groups"] == 2
    with refused(Conflict):  # the electorate is fixed once open
        residents_meeting.set_representatives(b, world.staff, {str(grid1.id): first})


def test_the_page_form_chooses_the_representatives(world, two_groups, login):
    grid1, grid2, second = two_groups
    b = meeting(world, "groups")
    c = login(world.staff)
    first = [persons.of_user(world.community, u.id).id for u in (world.resident, world.building_head)]
    r = c.post(f"/c/test/voting/{b.id}/representatives",
               data={f"group-{grid1.id}": [str(first[0]), str(first[1]), ""],
                     f"group-{grid2.id}": [str(second[0].id), "", ""]}, follow_redirects=True)
    assert "Choose two or three representatives" in r.get_data(as_text=True)
    assert db.session.get(Ballot, b.id).group_representatives is None
    c.post(f"/c/test/voting/{b.id}/representatives",
           data={f"group-{grid1.id}": [str(first[0]), str(first[1]), ""],
                 f"group-{grid2.id}": [str(second[0].id), str(second[1].id), ""]})
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).group_representatives == {
        str(grid1.id): sorted(first), str(grid2.id): sorted([second[0].id, second[1].id])}


# ── the ballot form ────────────────────────────────────────────────────────────────────────────
def test_staff_choose_the_meeting_on_the_ballot_form_and_see_whose_age_is_unknown(world, register, login):
    c = login(world.staff)
    page = c.get("/c/test/voting/new").get_data(as_text=True)
    assert 'value="residents_meeting"' in page and 'name="electorate_mode"' in page
    closes = (dates.local(services.utcnow(), world.community) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    form = {"title": "小区停车收费方案", "method": "majority", "unit": "owners", "rule": "residents_meeting",
            "quorum": "none", "scope": "community", "closes_at": closes, "paper_rule": "refuse", "grid_id": "0",
            "building_id": "0"}
    r = c.post("/c/test/voting/new", data=form)
    assert "Say who makes up the residents" in r.get_data(as_text=True) and not Ballot.query.count()
    r = c.post("/c/test/voting/new", data={**form, "electorate_mode": "adults"})
    assert r.status_code == 302
    b = Ballot.query.one()
    assert (b.rule, b.electorate_mode, b.unit, b.quorum, b.state) == ("residents_meeting", "adults", "person",
                                                                       "half", "draft")
    page = c.get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "没登生日" in page and "will not be on the roll" in page
    # opening asks first, naming them; confirming opens
    r = c.post(f"/c/test/voting/{b.id}/open", data={})
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "没登生日" in text and "Open anyway" in text
    assert db.session.get(Ballot, b.id).state == "draft"
    c.post(f"/c/test/voting/{b.id}/open", data={"confirm_duplicates": "1"})
    db.session.expire_all()
    b = db.session.get(Ballot, b.id)
    assert b.state == "open" and b.manifest["ages_unknown"] == 1
    # residents vote on the page; a minor is not on the roll
    assert login(world.resident).post(f"/c/test/voting/{b.id}/vote", data={"choice": "0"}).status_code == 302
    services.close(b, world.staff, "测试")
    page = login(world.resident).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "yes from more than half of those present" in page and "Quorum (of the electorate)" in page
    # the edit form keeps the mode
    assert residents_meeting.is_meeting(b)


def test_the_command_line_opens_a_meeting_only_when_told_to_leave_unknown_ages_off(world, register, runner):
    b = meeting(world)
    r = runner.invoke(args=["ballots", "open", str(b.id)])
    assert r.exit_code != 0 and "没登生日" in r.output
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).state == "draft"
    r = runner.invoke(args=["ballots", "open", str(b.id), "--confirm-duplicates"])
    assert r.exit_code == 0, r.output
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).manifest["ages_unknown"] == 1
