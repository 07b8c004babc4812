"""A resident verified after a ballot's roll was fixed is told the truth, and staff add a resident
the roll missed to an open ballot with a reason (issue 17). The addition is audited, chained and
published with the roll: the ballot file recounts with it. Services, pages, the API and
`linli ballots recount`."""
import json
from decimal import Decimal

import pytest

from tests.plugins.voting.conftest import refused

from core.errors import Conflict, Forbidden, ServiceError
from core.extensions import db
from core.models import AuditEntry, Household, HouseholdMember, Membership, Notification
from core.services import accounts
from plugins.voting import integrity, services
from plugins.voting.models import Ballot, Entry, Voter

pytestmark = pytest.mark.plugins("voting")
BALLOTS = "/api/v1/c/test/voting/ballots"


def open_ballot(world, **data):
    return services.create(world.community, world.staff, {"title": "垃圾分类亭选址", "days": 7, **data}, open_now=True)


def verify_late(world, user, household=None):
    m = Membership.query.filter_by(user_id=user.id, community_id=world.community.id).one()
    accounts.verify_resident(m, household or world.households[0], "resident", world.staff, reason="核实身份证")
    return m


def test_a_resident_verified_after_the_roll_was_fixed_is_told_so(world, login, api):
    b = open_ballot(world)
    verify_late(world, world.newbie)
    told = Notification.query.filter_by(user_id=world.newbie.id, kind="voting.roll_fixed").one()
    assert told.params["title"] == b.title
    page = login(world.newbie).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "roll was fixed on" in page and "before your residence was verified" in page
    assert "Ask staff" in page and 'name="choice"' not in page
    r = api(world.newbie).post(f"{BALLOTS}/{b.id}/votes", json={"choice": "yes"})
    assert r.status_code == 403 and "roll was fixed on" in r.get_json()["error"]["message"]
    me = api(world.newbie).get(f"{BALLOTS}/{b.id}").get_json()["me"]
    assert me["in_electorate"] is False and me["verified_after_roll"] is True and me["roll_fixed_at"]
    # Someone on the roll is not told anything of the kind; a ballot opened later has them on it.
    assert "roll was fixed" not in login(world.resident).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    later = open_ballot(world, title="楼道堆物清理")
    assert Voter.query.filter_by(ballot_id=later.id, user_id=world.newbie.id).count() == 1


def test_staff_add_a_missed_resident_with_a_reason_and_the_file_recounts(world, login, api, runner, tmp_path):
    b = open_ballot(world)
    before = db.session.get(Ballot, b.id)
    heads, voters = before.heads_total, services.roll_size(before)
    verify_late(world, world.newbie)
    c = login(world.staff)
    page = c.get(f"/c/test/voting/{b.id}/roll").get_data(as_text=True)
    assert "新居民" in page and "Add to the roll" in page
    token = services.missed_voters(b)[0]["token"]
    # No reason: refused, nothing written.
    html = c.post(f"/c/test/voting/{b.id}/roll", data={"token": token, "reason": " "},
                  follow_redirects=True).get_data(as_text=True)
    assert "why this voter is added" in html and Voter.query.filter_by(ballot_id=b.id).count() == voters
    # Nobody but staff.
    with refused(Forbidden):
        services.add_to_roll(b, world.grid_worker, token, "漏登")
    r = c.post(f"/c/test/voting/{b.id}/roll", data={"token": token, "reason": "开票后才完成实名核实"},
               follow_redirects=True)
    assert "is on the roll as" in r.get_data(as_text=True)
    db.session.expire_all()
    b = db.session.get(Ballot, b.id)
    added = Voter.query.filter_by(ballot_id=b.id, user_id=world.newbie.id).one()
    assert added.ref == f"V{voters + 1}" and b.heads_total == heads + 1 and services.roll_size(b) == voters + 1
    roll_entry = Entry.query.filter_by(ballot_id=b.id, source="roll").one()
    assert (roll_entry.voter_tag, roll_entry.counted, roll_entry.note) == (added.ref, False, "开票后才完成实名核实")
    assert b.head_hash == roll_entry.hash and b.voted_count == 0
    audit = AuditEntry.query.filter_by(action="voting.roll_added").one()
    assert audit.reason == "开票后才完成实名核实" and audit.actor_id == world.staff.id
    assert Notification.query.filter_by(user_id=world.newbie.id, kind="voting.roll_added").count() == 1
    # Twice: refused (they are on it now).
    with refused(Conflict):
        services.add_to_roll(b, world.staff, token, "再加一次")
    # Published with the roll: the ballot page and the electorate list say so.
    page = login(world.resident).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "Added to the roll after it was fixed" in page and "开票后才完成实名核实" in page
    assert f"of {voters + 1} have voted" in page
    assert "added" in login(world.grid_worker).get(f"/c/test/voting/{b.id}/electorate").get_data(as_text=True)
    # They vote; the count and the file take them in.
    assert api(world.newbie).post(f"{BALLOTS}/{b.id}/votes", json={"choice": "yes"}).status_code == 201
    services.cast(b, world.resident, "no")
    services.close(b, world.staff, "测试")
    b = db.session.get(Ballot, b.id)
    assert b.result["turnout"]["heads_total"] == heads + 1 and b.result["turnout"]["heads"] == 2
    data = api(None).get(f"{BALLOTS}/{b.id}/export").get_json()
    assert {"voter": added.ref, "heads": 1, "area": "0.00", "added": roll_entry.seq} in data["roll"]
    chained = [e for e in data["entries"] if e["source"] == "roll"]
    assert chained == [{**chained[0], "reason": "开票后才完成实名核实", "counted": False, "choice": None}]
    out = integrity.recount(data)
    assert out["ok"], out["problems"]
    path = tmp_path / "ballot.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(args=["ballots", "recount", str(path)]).exit_code == 0
    # The reason is in the chain: changing it breaks the hashes.
    data["entries"][chained[0]["seq"] - 1]["reason"] = "随便加的"
    assert not integrity.recount(data)["chain"]["ok"]


def test_the_api_lists_the_missed_and_adds_them(world, api):
    b = open_ballot(world)
    verify_late(world, world.newbie)
    staff = api(world.staff)
    missed = staff.get(f"{BALLOTS}/{b.id}/roll/missed").get_json()
    assert [(m["name"], m["has_account"]) for m in missed["items"]] == [("新居民", True)] and missed["roll_fixed_at"]
    assert "key" not in missed["items"][0]  # the roll's key stays on the server
    r = staff.post(f"{BALLOTS}/{b.id}/roll", json={"token": missed["items"][0]["token"]})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "reason_required"
    r = staff.post(f"{BALLOTS}/{b.id}/roll", json={"token": "0" * 16, "reason": "漏登"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_missed"
    r = staff.post(f"{BALLOTS}/{b.id}/roll", json={"token": missed["items"][0]["token"], "reason": "漏登"})
    assert r.status_code == 201 and r.get_json()["ref"].startswith("V")
    assert staff.get(f"{BALLOTS}/{b.id}").get_json()["roll_voters"] == services.roll_size(b)
    assert api(world.resident).get(f"{BALLOTS}/{b.id}/roll/missed").status_code == 403
    services.close(b, world.staff, "测试")
    r = staff.post(f"{BALLOTS}/{b.id}/roll", json={"token": missed["items"][0]["token"], "reason": "漏登"})
    assert r.status_code == 409


def test_an_owner_whose_unit_already_counts_is_not_offered(world, estate, owners_ballot):
    """A new owner registered in a unit already on an owners' roll would count its area twice;
    a unit added to the register after the roll was fixed is offered, with its area."""
    b = owners_ballot()
    h = world.households[0]
    db.session.add(HouseholdMember(household_id=h.id, name="共有人丙", relation="owner"))
    new = Household(community_id=world.community.id, unit_id=world.unit.id, room="501", floor_area=Decimal("77.70"))
    db.session.add(new)
    db.session.flush()
    db.session.add(HouseholdMember(household_id=new.id, name="新业主", relation="owner"))
    db.session.commit()
    missed = services.missed_voters(db.session.get(Ballot, b.id))
    assert [(m["name"], m["area"]) for m in missed] == [("新业主", "77.70")]
    area = Decimal(str(db.session.get(Ballot, b.id).area_total))
    services.add_to_roll(b, world.staff, missed[0]["token"], "新交付房屋")
    b = db.session.get(Ballot, b.id)
    assert Decimal(str(b.area_total)) == area + Decimal("77.70")
    assert services.spec_of(b).area_total == int((area + Decimal("77.70")) * 100)
    with refused(ServiceError):
        services.add_to_roll(b, world.staff, missed[0]["token"], "")
