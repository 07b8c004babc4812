"""Decisions that need every interested owner (R7, Civil Code Art. 279; SPC Interpretation on
Building Ownership Art. 10–11) and the challenge window of an owners' decision (R11, SPC Art. 12):
counting, services, pages, API and recount."""
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ServiceError
from core.extensions import db
from core.models import Building, Household, HouseholdMember, Person, Unit, utcnow
from plugins.voting import counting, integrity, services
from plugins.voting.models import Ballot, Voter

pytestmark = pytest.mark.plugins("voting")

YES, NO, ABSTAIN = (0,), (1,), (2,)


# ── counting (pure) ───────────────────────────────────────────────────────────────────────
def _spec(heads):
    return counting.Spec(method="majority", n_options=3, unit="owners", rule=counting.UNANIMOUS, heads_total=heads,
                         area_total=heads * 10000)


@pytest.mark.parametrize("votes,missing", [
    ({"V1": YES, "V2": YES, "V3": YES}, []),
    ({"V1": YES, "V2": NO, "V3": YES}, [("V2", "no")]),
    ({"V1": YES, "V3": YES}, [("V2", "not_voted")]),
    ({"V1": YES, "V2": ABSTAIN, "V3": YES}, [("V2", "abstain")]),
    ({"V1": None, "V2": YES, "V3": YES}, [("V1", "spoiled")]),
    ({}, [("V1", "not_voted"), ("V2", "not_voted"), ("V3", "not_voted")]),
])
def test_unanimity_passes_only_when_every_interested_owner_says_yes(votes, missing):
    roll = [("V1", 1, 10000), ("V2", 1, 10000), ("V3", 1, 10000)]
    result = counting.count_unanimous(_spec(3), roll, {ref: (c, 1, 10000) for ref, c in votes.items()})
    assert result["passed"] is (not missing)
    assert [(m["voter"], m["reason"]) for m in result["not_consenting"]] == missing
    test = result["tests"][0]
    assert test["id"] == "unanimity" and test["threshold"] == "1/1" and test["met"] is (not missing)
    # Two of three said yes: a majority, even two thirds, is never enough.
    assert result["winner"] == (0 if not missing else 1)


@given(st.lists(st.sampled_from([YES, NO, ABSTAIN, None, "absent"]), min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_unanimity_property_passed_exactly_when_every_roll_entry_says_yes(marks):
    roll = [(f"V{i + 1}", 1, 5000 + i) for i in range(len(marks))]
    counted = {ref: (m, 1, a) for (ref, _h, a), m in zip(roll, marks) if m != "absent"}
    result = counting.count_unanimous(_spec(len(roll)), roll, counted)
    missing = [ref for (ref, _h, _a), m in zip(roll, marks) if m != YES]
    assert [m["voter"] for m in result["not_consenting"]] == missing
    assert result["passed"] is (not missing)
    # The count without names decides the same (the test on heads alone).
    assert counting.count(_spec(len(roll)), list(counted.values()))["passed"] is (not missing)


def test_the_count_alone_agrees_with_the_unanimity_count():
    spec = _spec(3)
    assert counting.count(spec, [(YES, 1, 10000), (YES, 1, 10000), (NO, 1, 10000)])["passed"] is False
    assert counting.count(spec, [(YES, 1, 10000)] * 3)["passed"] is True


# ── the estate ──────────────────────────────────────────────────────────────────────────────
def _household(world, building_name, room, owners, area="80.00"):
    building = Building.query.filter_by(community_id=world.community.id, name=building_name).first()
    if building is None:
        building = Building(community_id=world.community.id, grid_id=world.grid.id, name=building_name)
        db.session.add(building)
        db.session.flush()
        db.session.add(Unit(building_id=building.id, name="1单元"))
        db.session.flush()
    unit = Unit.query.filter_by(building_id=building.id).first()
    h = Household(community_id=world.community.id, unit_id=unit.id, room=room, floor_area=Decimal(area))
    db.session.add(h)
    db.session.flush()
    for name in owners:
        person = Person(community_id=world.community.id)
        db.session.add(person)
        db.session.flush()
        db.session.add(HouseholdMember(household_id=h.id, name=name, relation="owner", person_id=person.id))
    db.session.commit()
    return h


def unanimity_ballot(world, open_=True, **data):
    data = {"title": "101室改为小卖部（住改商）", "unit": "owners", "rule": "unanimous", "scope": "building",
            "building_id": world.building.id, "days": 7, **data}
    b = services.create(world.community, world.staff, data)
    if open_:
        services.publish_notice(b, world.staff, at=utcnow() - timedelta(days=16))
        services.open_ballot(b, world.staff)
    return b


def _voter(b, user):
    return Voter.query.filter_by(ballot_id=b.id, user_id=user.id).one()


OWNERS = ("resident", "resident2", "building_head", "grid_worker")


def _vote(world, b, choices):
    for who, choice in choices.items():
        services.cast(b, getattr(world, who), choice)


def test_every_owner_of_the_building_must_agree_one_no_fails_it(world):
    b = unanimity_ballot(world)
    assert b.manifest["rule"] == "unanimous" and b.manifest["interested"] == {"buildings": [], "households": []}
    assert b.matter_class is None and b.secret is False and b.heads_total == 4
    _vote(world, b, {"resident": "yes", "resident2": "yes", "building_head": "no", "grid_worker": "yes"})
    services.count_and_close(b, world.staff)
    assert b.result["passed"] is False  # three of four: 3/4 of heads and area, still not enough
    dissent = _voter(b, world.building_head)
    assert b.result["not_consenting"] == [{"voter": dissent.ref, "reason": "no"}]
    staff_view = services.not_consenting(b, names=True)
    assert staff_view == [{"voter": dissent.ref, "units": dissent.units, "reason": "no", "name": dissent.name}]
    assert "name" not in services.not_consenting(b)[0]


@pytest.mark.parametrize("last,reason", [("yes", None), ("abstain", "abstain"), (None, "not_voted")])
def test_abstaining_or_not_voting_is_no_consent(world, last, reason):
    b = unanimity_ballot(world)
    _vote(world, b, {"resident": "yes", "resident2": "yes", "building_head": "yes"})
    if last:
        services.cast(b, world.grid_worker, last)
    services.count_and_close(b, world.staff)
    assert b.result["passed"] is (reason is None)
    expected = [] if reason is None else [{"voter": _voter(b, world.grid_worker).ref, "reason": reason}]
    assert b.result["not_consenting"] == expected


def test_a_widened_interested_set_and_a_co_owned_unit(world):
    """Staff add the adjoining building and one unit of a third; a couple co-owns a flat there:
    one head, and one co-owner's ballot gives the unit's consent."""
    next_door = _household(world, "2号楼", "101", ["钱先生", "钱太太"])  # co-owned: one head
    facing = _household(world, "3号楼", "102", ["孙阿姨"])
    _household(world, "3号楼", "103", ["李老师"])  # the rest of building 3 is not interested
    building2 = next_door.unit.building_id
    b = unanimity_ballot(world, interested_buildings=[building2], interested_households=[facing.id])
    assert b.manifest["interested"] == {"buildings": [{"id": building2, "name": "2号楼"}],
                                        "households": [{"id": facing.id, "label": "3号楼 1单元 102"}]}
    roll = Voter.query.filter_by(ballot_id=b.id).all()
    assert b.heads_total == 6 and sorted(v.units for v in roll if v.user_id is None) == [
        "2号楼 1单元 101", "3号楼 1单元 102"]
    _vote(world, b, {w: "yes" for w in OWNERS})
    couple = next(v for v in roll if v.units == "2号楼 1单元 101")
    services.cast(b, world.grid_worker, "yes", voter=couple, source="paper", witness="楼长")
    services.count_and_close(b, world.staff)
    sun = next(v for v in roll if v.units == "3号楼 1单元 102")
    assert b.result["passed"] is False
    assert b.result["not_consenting"] == [{"voter": sun.ref, "reason": "not_voted"}]
    assert services.not_consenting(b, names=True)[0]["name"] == "孙阿姨"
    # The ballot file recounts to the same result, with who did not consent.
    out = integrity.recount(json.loads(json.dumps(services.export(b))))
    assert out["ok"] and out["matches_published_result"] and out["result"]["not_consenting"] == b.result[
        "not_consenting"]


def test_a_co_owned_unit_consents_by_one_ballot_and_the_decision_passes(world):
    flat = _household(world, "1号楼", "105", ["周先生", "周太太"])
    b = unanimity_ballot(world)
    assert b.heads_total == 5
    couple = Voter.query.filter_by(ballot_id=b.id, household_id=flat.id).one()
    _vote(world, b, {w: "yes" for w in OWNERS})
    services.cast(b, world.grid_worker, "yes", voter=couple, source="paper", witness="楼长")
    services.count_and_close(b, world.staff)
    assert b.result["passed"] is True and b.result["not_consenting"] == []


@pytest.mark.parametrize("data,field", [
    ({"secret": True}, "secret"),
    ({"unit": "household"}, "rule"),
    ({"scope": "community"}, "rule"),
    ({"interested_buildings": [999999]}, "interested_buildings"),
    ({"interested_households": ["x"]}, "interested_households"),
    ({"method": "approval", "options": ["同意", "不同意"]}, "method"),
])
def test_unanimity_terms_that_cannot_work_are_refused(world, data, field):
    with pytest.raises(ServiceError) as err:
        unanimity_ballot(world, open_=False, **data)
    assert field in err.value.fields
    db.session.rollback()
    assert Ballot.query.count() == 0


def test_recount_refuses_a_file_that_makes_a_unanimity_ballot_secret(world):
    b = unanimity_ballot(world)
    _vote(world, b, {w: "yes" for w in OWNERS})
    services.count_and_close(b, world.staff)
    data = services.export(b)
    assert integrity.recount(data)["ok"] is True
    data["result"]["not_consenting"] = []
    data["result"]["passed"] = False
    assert integrity.recount(data)["matches_published_result"] is False
    data = services.export(b)
    data["manifest"]["secret"] = True
    problems = integrity.recount(data)["problems"]
    assert any("not secret" in p for p in problems)


def test_an_old_owners_file_without_interested_owners_recounts(world, owners_ballot):
    b = owners_ballot()
    services.cast(b, world.resident, "yes")
    services.count_and_close(b, world.staff)
    data = services.export(b)
    assert "interested" not in data["manifest"] and "not_consenting" not in data["result"]
    assert integrity.recount(data)["ok"] is True


# ── pages and API ────────────────────────────────────────────────────────────────────────────
def test_staff_set_up_a_unanimity_ballot_in_the_browser_and_see_who_did_not_agree(world, login):
    next_door = _household(world, "2号楼", "101", ["钱先生"])
    building2 = next_door.unit.building_id
    c = login(world.staff)
    form = c.get("/c/test/voting/new").get_data(as_text=True)
    assert "every interested owner must agree" in form and "2号楼 1单元 101" in form
    closes = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    base = {"title": "102室开设托管班（住改商）", "method": "majority", "unit": "owners", "matter_class": "",
            "rule": "unanimous", "quorum": "none", "scope": "building", "grid_id": "0",
            "building_id": str(world.building.id), "closes_at": closes, "paper_rule": "refuse"}
    r = c.post("/c/test/voting/new", data={**base, "secret": "y"})
    assert r.status_code == 200 and "cannot be secret" in r.get_data(as_text=True)
    assert Ballot.query.count() == 0
    r = c.post("/c/test/voting/new", data={**base, "interested_buildings": [str(building2)]})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    b = Ballot.query.one()
    assert b.rule == "unanimous" and b.interested == {"buildings": [building2], "households": []}
    page = c.get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "Also the owners of: 2号楼." in page and "Matter class not given yet" not in page
    # The notice shows who must agree; then voting opens.
    services.publish_notice(b, world.staff, at=utcnow() - timedelta(days=16))
    b.opens_at = utcnow()
    db.session.commit()
    assert "Also the owners of: 2号楼." in c.get(f"/c/test/voting/{b.id}/print/call").get_data(as_text=True)
    services.open_ballot(b, world.staff)
    sheets = c.get(f"/c/test/voting/{b.id}/print/ballots").get_data(as_text=True)
    assert "every interested owner must agree" in sheets and "钱先生" in sheets
    _vote(world, b, {"resident": "yes", "resident2": "no", "building_head": "yes", "grid_worker": "yes"})
    services.count_and_close(b, world.staff)
    dissent = _voter(b, world.resident2)
    staff_page = c.get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "Not passed" in staff_page and "2 interested owners did not agree" in staff_page
    assert dissent.units in staff_page and dissent.name in staff_page and "did not vote" in staff_page
    assert "钱先生" in staff_page
    resident_page = login(world.resident).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert dissent.units in resident_page and dissent.ref in resident_page
    assert dissent.name not in resident_page and "钱先生" not in resident_page
    notice = c.get(f"/c/test/voting/{b.id}/print/notice").get_data(as_text=True)
    assert dissent.units in notice and dissent.name not in notice and "钱先生" not in notice
    assert "court to set it aside" in notice, notice


def test_api_sets_up_and_reports_a_unanimity_decision(world, api):
    staff = api(world.staff)
    r = staff.post("/api/v1/c/test/voting/ballots", json={
        "title": "103室改为美甲店（住改商）", "unit": "owners", "rule": "unanimous", "scope": "building",
        "building_id": world.building.id, "secret": True, "days": 7})
    assert r.status_code == 400 and "secret" in r.get_json()["error"]["fields"]
    r = staff.post("/api/v1/c/test/voting/ballots", json={
        "title": "103室改为美甲店（住改商）", "unit": "owners", "rule": "unanimous", "scope": "building",
        "building_id": world.building.id, "days": 7})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["rule"] == "unanimous" and body["interested"] == {"buildings": [], "households": []}
    b = db.session.get(Ballot, body["id"])
    services.publish_notice(b, world.staff, at=utcnow() - timedelta(days=16))
    services.open_ballot(b, world.staff)
    for who in ("resident", "resident2", "building_head"):
        assert api(getattr(world, who)).post(f"/api/v1/c/test/voting/ballots/{b.id}/votes",
                                             json={"choice": "yes"}).status_code == 201
    r = staff.post(f"/api/v1/c/test/voting/ballots/{b.id}/close", json={"reason": "提前结束"})
    assert r.status_code == 200
    ref = _voter(b, world.grid_worker).ref
    for client, named in ((staff, True), (api(world.resident), False)):
        out = client.get(f"/api/v1/c/test/voting/ballots/{b.id}/result").get_json()
        assert out["result"]["passed"] is False
        assert out["result"]["not_consenting"] == [{"voter": ref, "reason": "not_voted"}]
        assert [m["voter"] for m in out["not_consenting"]] == [ref]
        assert ("name" in out["not_consenting"][0]) is named
        assert out["challenge_until"] == services.challenge_until(db.session.get(Ballot, b.id)).isoformat()


def test_staff_widen_the_interested_owners_before_the_notice_only(world, api):
    next_door = _household(world, "2号楼", "101", ["钱先生"])
    b = unanimity_ballot(world, open_=False)
    staff = api(world.staff)
    r = staff.put(f"/api/v1/c/test/voting/ballots/{b.id}", json={"interested_households": [next_door.id]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["interested"]["households"] == [{"id": next_door.id, "label": "2号楼 1单元 101"}]
    services.publish_notice(b, world.staff, at=utcnow() - timedelta(days=16))
    r = staff.put(f"/api/v1/c/test/voting/ballots/{b.id}", json={"interested_households": []})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "agenda_frozen"
    services.open_ballot(db.session.get(Ballot, b.id), world.staff)
    assert Voter.query.filter_by(ballot_id=b.id, household_id=next_door.id).count() == 1


def test_the_command_line_recounts_a_unanimity_file(world, runner, tmp_path):
    b = unanimity_ballot(world)
    _vote(world, b, {"resident": "yes", "resident2": "abstain", "building_head": "yes", "grid_worker": "yes"})
    services.count_and_close(b, world.staff)
    path = tmp_path / "ballot.json"
    assert runner.invoke(args=["ballots", "export", str(b.id), "-o", str(path)]).exit_code == 0
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["matches_published_result"] is True and out["result"]["passed"] is False
    assert out["result"]["not_consenting"] == [{"voter": _voter(b, world.resident2).ref, "reason": "abstain"}]
    # A file that turns the abstention into a yes no longer matches its chain.
    data = json.loads(path.read_text(encoding="utf-8"))
    for e in data["entries"]:
        if e["choice"] == [2]:
            e["choice"] = [0]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert runner.invoke(args=["ballots", "recount", str(path)]).exit_code == 1


# ── the challenge window (R11) ───────────────────────────────────────────────────────────────
@pytest.mark.parametrize("closed_at,until", [
    # 29 February: a year later has no 29 February, so the last day is 28 February (Art. 202).
    (datetime(2028, 2, 29, 2, 0, tzinfo=timezone.utc), "2029-02-28"),
    # 16:30 UTC on 31 December is 00:30 on 1 January in Beijing: the local day counts.
    (datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc), "2028-01-01"),
    (datetime(2026, 12, 31, 15, 59, tzinfo=timezone.utc), "2027-12-31"),
    # A month end with a day to spare: 31 January → 31 January.
    (datetime(2027, 1, 31, 1, 0, tzinfo=timezone.utc), "2028-01-31"),
])
def test_challenge_window_one_year_from_publication_in_the_community_calendar(world, owners_ballot, api, login,
                                                                              closed_at, until):
    b = owners_ballot()
    services.cast(b, world.resident, "yes")
    services.count_and_close(b, world.staff)
    b.closed_at = closed_at
    db.session.commit()
    assert services.challenge_until(b).isoformat() == until
    assert api(world.resident).get(f"/api/v1/c/test/voting/ballots/{b.id}").get_json()["challenge_until"] == until
    page = login(world.resident).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    day = datetime.fromisoformat(until)
    shown = f"{day:%B} {day.day}, {day.year}"
    assert 'id="challenge-window"' in page and shown in page
    assert shown in login(world.staff).get(f"/c/test/voting/{b.id}/print/notice").get_data(as_text=True)


def test_no_challenge_window_for_a_residents_poll(world, voting_proposal, api):
    b = Ballot.query.filter_by(proposal_id=voting_proposal.id).one()
    services.cast(b, world.resident, "yes")
    services.count_and_close(b, world.staff)
    assert services.challenge_until(b) is None
    assert "challenge_until" not in api(world.resident).get(f"/api/v1/c/test/voting/ballots/{b.id}/result").get_json()
