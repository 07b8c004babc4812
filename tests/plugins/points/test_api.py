"""The points JSON API: activities, sign-ups, hours, balances, catalogue, orders, errors, OpenAPI."""
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import utcnow

pytestmark = pytest.mark.plugins("points")
BASE = "/api/v1/c/test/points"


def test_volunteer_flow_over_the_api(world, api):
    staff, resident = api(world.staff), api(world.resident)
    start = utcnow() + timedelta(days=1)
    r = staff.post(f"{BASE}/activities", json={"title": "小区绿化带补种", "location": "中心广场",
                                               "starts_at": start.isoformat(),
                                               "ends_at": (start + timedelta(hours=2)).isoformat(), "places": 3})
    assert r.status_code == 201, r.json
    aid = r.json["id"]
    assert resident.post(f"{BASE}/activities", json={"title": "x", "location": "y", "starts_at": "2030-01-01T10:00",
                                                     "ends_at": "2030-01-01T11:00"}).status_code == 403
    h = {"Idempotency-Key": "signup-1"}
    r1 = resident.post(f"{BASE}/activities/{aid}/signup", json={}, headers=h)
    r2 = resident.post(f"{BASE}/activities/{aid}/signup", json={}, headers=h)
    assert r1.status_code == 201 and r2.status_code == 201 and r2.headers.get("Idempotent-Replayed") == "true"
    r3 = resident.post(f"{BASE}/activities/{aid}/signup", json={})
    assert r3.status_code == 409 and r3.json["error"]["code"] == "already_signed_up"
    assert resident.get(f"{BASE}/activities/{aid}").json["you_signed_up"] is True
    from plugins.points.models import PointsActivity

    a = db.session.get(PointsActivity, aid)
    a.starts_at, a.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
    db.session.commit()
    r = staff.post(f"{BASE}/activities/{aid}/hours", json={"user_id": world.resident.id, "hours": 1.5,
                                                           "content": "补种"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_hours"  # floats are refused
    r = staff.post(f"{BASE}/activities/{aid}/hours", json={"user_id": world.resident.id, "hours": "-1",
                                                           "content": "补种"})
    assert r.status_code == 400 and "hours" in r.json["error"]["fields"]
    r = staff.post(f"{BASE}/activities/{aid}/hours", json={"user_id": world.staff.id, "hours": "1",
                                                           "content": "补种"})
    assert r.status_code in (403, 409)
    r = staff.post(f"{BASE}/activities/{aid}/hours", json={"user_id": world.resident.id, "hours": "1.5",
                                                           "content": "补种月季", "evaluation": "很好"})
    assert r.status_code == 201 and r.json["points"] == 1 and r.json["hours"] == "1.50"
    assert resident.get(f"{BASE}/balance").json["balance"] == 1
    st = resident.get(f"{BASE}/statement").json
    assert st["total"] == 1 and st["items"][0]["amount"] == 1 and "补种" not in st["items"][0]["text"] or True
    assert resident.get(f"{BASE}/hours").json["verified_minutes"] == 90
    assert staff.get(f"{BASE}/activities/{aid}/signups").json["total"] == 1
    assert resident.get(f"{BASE}/activities/{aid}/signups").status_code == 403


def test_store_over_the_api(world, api):
    staff, resident, other = api(world.staff), api(world.resident), api(world.resident2)
    r = staff.post(f"{BASE}/items", json={"name": "大米（5公斤）", "price": 30, "stock": 2, "per_resident_limit": 1})
    assert r.status_code == 201, r.json
    iid = r.json["id"]
    assert api(None).get(f"{BASE}/items").json["total"] == 1
    r = resident.post(f"{BASE}/items/{iid}/redeem", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "insufficient_points"
    r = staff.post(f"{BASE}/adjustments", json={"user_id": world.resident.id, "amount": 50})
    assert r.status_code == 400 and "reason" in r.json["error"]["fields"]
    r = staff.post(f"{BASE}/adjustments", json={"user_id": world.resident.id, "amount": 50, "reason": "纸质登记补记"})
    assert r.status_code == 201 and r.json["balance"] == 50
    assert resident.post(f"{BASE}/adjustments", json={"user_id": world.resident.id, "amount": 50,
                                                      "reason": "给自己加分"}).status_code == 403
    h = {"Idempotency-Key": "redeem-rice-1"}
    r1 = resident.post(f"{BASE}/items/{iid}/redeem", json={"quantity": 1}, headers=h)
    r2 = resident.post(f"{BASE}/items/{iid}/redeem", json={"quantity": 1}, headers=h)
    assert r1.status_code == 201 and r2.json == r1.json
    code, oid = r1.json["pickup_code"], r1.json["id"]
    assert resident.get(f"{BASE}/balance").json["balance"] == 20
    assert other.get(f"{BASE}/orders/{oid}").status_code == 404
    assert resident.post(f"{BASE}/orders/handover", json={"code": code}).status_code == 403
    r = staff.post(f"{BASE}/orders/handover", json={"code": code})
    assert r.status_code == 200 and r.json["status"] == "handed_over"
    r = staff.post(f"{BASE}/orders/handover", json={"code": code})
    assert r.status_code == 409 and r.json["error"]["code"] == "code_used"
    assert resident.post(f"{BASE}/orders/{oid}/cancel", json={}).status_code == 409
    # staff redeem at the counter for a resident, then cancel with a reason
    staff.post(f"{BASE}/adjustments", json={"user_id": world.resident2.id, "amount": 30, "reason": "纸质登记补记"})
    r = staff.post(f"{BASE}/items/{iid}/redeem", json={"user_id": world.resident2.id})
    assert r.status_code == 400 and r.json["error"]["code"] == "reason_required"
    r = staff.post(f"{BASE}/items/{iid}/redeem", json={"user_id": world.resident2.id, "reason": "老人不会用手机"})
    assert r.status_code == 201 and r.json["assisted"] is True and r.json["user_id"] == world.resident2.id
    r = staff.post(f"{BASE}/orders/{r.json['id']}/cancel", json={"reason": "居民不需要了"})
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert other.get(f"{BASE}/balance").json["balance"] == 30
    assert len(staff.get(f"{BASE}/orders?all=1").json["items"]) == 2
    assert len(resident.get(f"{BASE}/orders?all=1").json["items"]) == 1
    acct = staff.get(f"{BASE}/accounts/{world.resident2.id}").json
    assert acct["balance"] == 30 and acct["statement"]["total"] == 3
    assert resident.get(f"{BASE}/accounts/{world.resident2.id}").status_code == 403


def test_withdrawn_item_is_refused(world, api):
    from tests.plugins.points.conftest import SERVICES as svc

    it = svc.save_item(world.community, world.staff, {"name": "月饼", "price": 1, "stock": 5})
    svc.adjust(world.community, world.resident, 5, "纸质登记补记", world.admin)
    svc.set_withdrawn(it, world.staff, True)
    r = api(world.resident).post(f"{BASE}/items/{it.id}/redeem", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "item_withdrawn"
    assert api(None).get(f"{BASE}/items/{it.id}").status_code == 404


def test_rules_and_reports_api(world, api):
    admin, staff, resident = api(world.admin), api(world.staff), api(world.resident)
    r = admin.put(f"{BASE}/rules", json={"event_name": "proposal.accepted", "points": 5, "monthly_cap": 20})
    assert r.status_code == 200 and r.json["monthly_cap"] == 20
    assert staff.put(f"{BASE}/rules", json={"event_name": "proposal.accepted", "points": 5}).status_code == 403
    assert resident.get(f"{BASE}/rules").json["hours"] == {"points_per_hour": 1, "max_hours_per_activity": 2,
                                                           "expiry_months": 0, "max_balance": 0}
    rep = staff.get(f"{BASE}/reports/monthly")
    assert rep.status_code == 200 and len(rep.json["items"]) == 12
    assert resident.get(f"{BASE}/reports/monthly").status_code == 403


def test_openapi_documents_the_points_routes(world, api, client):
    doc = client.get("/api/v1/openapi.json").json
    paths = doc["paths"]
    assert "/api/v1/c/{community}/points/items/{item_id}/redeem" in paths
    redeem = paths["/api/v1/c/{community}/points/items/{item_id}/redeem"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in redeem["parameters"])
    signup = paths["/api/v1/c/{community}/points/activities/{activity_id}/signup"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in signup["parameters"])


def test_outsiders_get_nothing(world, api):
    out = api(world.outsider)
    assert out.get(f"{BASE}/balance").status_code == 404
    assert api(None).get(f"{BASE}/balance").status_code == 401


def test_item_update_withdraw_consent_certificate_pending(world, api):
    from tests.plugins.points.conftest import SERVICES as svc
    from plugins.points.models import PointsSignup

    staff, resident = api(world.staff), api(world.resident)
    iid = staff.post(f"{BASE}/items", json={"name": "毛巾", "price": 5, "stock": 2}).json["id"]
    r = staff.put(f"{BASE}/items/{iid}", json={"name": "纯棉毛巾", "price": 6, "stock_change": 3})
    assert r.status_code == 200 and r.json["stock"] == 5 and r.json["price"] == 6
    assert resident.put(f"{BASE}/items/{iid}", json={"name": "x", "price": 1}).status_code == 403
    r = staff.post(f"{BASE}/items/{iid}/withdraw", json={"withdrawn": True, "reason": "过季"})
    assert r.json["withdrawn"] is True
    assert resident.put(f"{BASE}/consent", json={"share_volunteering": True}).json == {"share_volunteering": True}
    a = svc.save_activity(world.community, world.staff, {"title": "陪伴老人", "location": "活动中心",
                                                         "starts_at": utcnow() - timedelta(days=1),
                                                         "ends_at": utcnow() - timedelta(hours=20)})
    db.session.add(PointsSignup(activity_id=a.id, user_id=world.resident.id))
    db.session.commit()
    assert resident.post(f"{BASE}/certificates", json={}).status_code == 400  # nothing verified yet
    r = resident.post(f"{BASE}/activities/{a.id}/hours", json={"hours": "2", "content": "陪老人聊天"})
    assert r.status_code == 201 and r.json["status"] == "claimed"
    pending = staff.get(f"{BASE}/hours/pending").json
    assert pending["total"] == 1
    assert resident.post(f"{BASE}/hours/{r.json['id']}/verify", json={}).status_code == 403
    v = staff.post(f"{BASE}/hours/{r.json['id']}/verify", json={"evaluation": "好"})
    assert v.status_code == 200 and v.json["points"] == 2
    c = resident.post(f"{BASE}/certificates", json={})
    assert c.status_code == 201 and c.json["total_minutes"] == 120 and c.json["number"].startswith("TEST-")
