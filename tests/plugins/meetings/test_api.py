"""The JSON API under /api/v1/c/<community>/meetings/..."""
import pytest

from core.extensions import db
from core.models import Proposal
from core.services import proposals
from plugins.meetings.models import Body, Meeting
from tests.plugins.meetings.conftest import delegates, future

pytestmark = pytest.mark.plugins("meetings")
BASE = "/api/v1/c/test/meetings"


def test_a_meeting_through_the_api(world, api):
    staff = api(world.staff)
    r = staff.post(f"{BASE}/bodies", json={"name": "物业联席会", "orgs": ["居委会", "业委会", "物业公司"],
                                          "quorum_rule": "all_orgs", "topic_deadline_days": 2})
    assert r.status_code == 201, r.json
    body = r.json
    assert [o["name"] for o in body["organisations"]] == ["居委会", "业委会", "物业公司"]
    assert body["next_chair_org_id"] == body["organisations"][0]["id"]
    ids = [o["id"] for o in body["organisations"]]
    admin = api(world.admin)  # a delegate's account is linked by someone else (the staff member here)
    for org_id, login in zip(ids, ("staff", "resident", "resident2")):
        r = (admin if login == "staff" else staff).post(f"{BASE}/bodies/{body['id']}/delegates",
                                                        json={"org_id": org_id, "login": login})
        assert r.status_code == 201
    p = proposals.create(world.community, world.resident, {
        "title": "更换垃圾投放点位置", "body": "垃圾投放点离2号楼太近，夏天有异味。", "category": "property"})
    proposals.transition(p, "coordinating", world.staff, "附议足够")
    starts = future(7).isoformat()
    r = staff.post(f"{BASE}/bodies/{body['id']}/meetings", json={"starts_at": starts, "place": "居委会会议室"},
                   headers={"Idempotency-Key": "m-1"})
    assert r.status_code == 201, r.json
    meeting = r.json
    assert meeting["starts_at"].endswith("+08:00") and meeting["sequence"] == 0
    again = staff.post(f"{BASE}/bodies/{body['id']}/meetings", json={"starts_at": starts, "place": "居委会会议室"},
                       headers={"Idempotency-Key": "m-1"})
    assert again.json["id"] == meeting["id"] and Meeting.query.count() == 1
    url = f"{BASE}/{meeting['id']}"
    item = staff.post(f"{url}/agenda", json={"kind": "proposal", "proposal_id": p.id}).json
    for d in delegates(db.session.get(Body, body["id"])).values():
        assert staff.post(f"{url}/attendance", json={"delegate_id": d.id, "status": "present"}).status_code == 201
    assert staff.post(f"{url}/attendance", json={"login": "newbie"}).status_code == 201
    r = staff.post(f"{url}/agenda/{item['id']}/resolution", json={
        "outcome": "decided", "text": "迁移投放点，交居民表决。", "proposal_to": "voting", "votes_for": 3,
        "actions": [{"title": "物业提出迁移方案", "owner_org_id": ids[2], "due_date": "2030-06-30"}]})
    assert r.status_code == 201, r.json
    assert r.json["action_items"][0]["owner_org_id"] == ids[2]
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "voting"
    assert staff.post(f"{url}/held").json["status"] == "held"
    assert staff.put(f"{url}/minutes", json={"minutes": "## 决定\n迁移投放点"}).status_code == 200
    assert staff.post(f"{url}/minutes/submit", json={}).json["minutes_state"] == "review"
    anon = api(None)
    assert anon.get(url).json["minutes"] is None
    # Each organisation's own delegate approves: staff only for the residents' committee they sit on.
    r = staff.post(f"{url}/minutes/approve", json={"org_id": ids[1]})
    assert r.status_code == 400 and r.json["error"]["code"] == "delegate_required"
    for who, org_id in ((staff, ids[0]), (api(world.resident), ids[1]), (api(world.resident2), ids[2])):
        r = who.post(f"{url}/minutes/approve", json={"org_id": org_id})
        assert r.status_code == 200, r.json
    r = staff.post(f"{url}/minutes/approve", json={"org_id": ids[0]})
    assert r.status_code == 409 and r.json["error"]["code"] == "already_approved"
    approvals = anon.get(url).json["minutes_approvals"]
    assert [(a["org_id"], a["user_id"], a["on_behalf"]) for a in approvals] == [
        (ids[0], world.staff.id, False), (ids[1], world.resident.id, False), (ids[2], world.resident2.id, False)]
    assert staff.post(f"{url}/minutes/publish", json={}).json["minutes_state"] == "published"
    full = anon.get(url).json
    assert full["minutes"].startswith("## 决定") and full["quorum"]["met"] is True
    assert [a["status"] for a in full["attendance"]] == ["present"] * 4
    listing = anon.get(f"{BASE}/bodies/{body['id']}/meetings").json
    assert listing["total"] == 1
    actions = anon.get(f"{BASE}/bodies/{body['id']}/action-items").json["items"]
    assert actions[0]["title"] == "物业提出迁移方案" and actions[0]["overdue"] is False


def test_api_errors(world, api):
    staff, resident = api(world.staff), api(world.resident)
    r = resident.post(f"{BASE}/bodies", json={"name": "居民议事会"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    body = staff.post(f"{BASE}/bodies", json={"name": "居民议事会", "orgs": ["一网格", "二网格"]}).json
    r = staff.post(f"{BASE}/bodies/{body['id']}/meetings", json={"starts_at": "2020-01-01T19:00:00+08:00",
                                                               "place": "活动室"})
    assert r.status_code == 400 and "starts_at" in r.json["error"]["fields"]
    assert Meeting.query.count() == 0
    r = staff.post(f"{BASE}/bodies/{body['id']}/meetings", json={"starts_at": "tomorrow", "place": "活动室"})
    assert r.status_code == 400
    assert staff.get(f"{BASE}/999").status_code == 404
    assert staff.post(f"{BASE}/bodies", data="x").status_code == 400
    assert api(None).get(f"{BASE}/bodies").json["total"] == 1


def test_openapi_documents_the_routes(client, world):
    doc = client.get("/api/v1/openapi.json").json
    paths = [p for p in doc["paths"] if p.startswith("/api/v1/c/{community}/meetings")]
    assert "/api/v1/c/{community}/meetings/bodies/{body_id}/meetings" in paths
    assert "/api/v1/c/{community}/meetings/{meeting_id}/agenda/{item_id}/resolution" in paths
