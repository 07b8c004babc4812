"""What the pages can do, the API can do: editing and cancelling an activity, refusing hours,
the hours rule and expiry, an item's picture. Each: success, a refusal, bad input that saves nothing."""
import base64
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import AuditEntry, utcnow

pytestmark = pytest.mark.plugins("points")
BASE = "/api/v1/c/test/points"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _error(r, status, code, field=None):
    assert r.status_code == status, r.json
    assert r.json["error"]["code"] == code, r.json
    if field:
        assert field in r.json["error"]["fields"], r.json


def _activity_body(**kw):
    start = utcnow() + timedelta(days=2)
    return {"title": "楼道清理", "location": "3号楼", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(), "places": 5} | kw


def test_edit_activity(world, api, pts):
    a = pts.activity(past=False, places=5)
    staff, resident = api(world.staff), api(world.resident)
    r = staff.put(f"{BASE}/activities/{a.id}", json=_activity_body(title="楼道清理（改期）", places=8))
    assert r.status_code == 200, r.json
    assert r.json["title"] == "楼道清理（改期）" and r.json["places"] == 8
    _error(resident.put(f"{BASE}/activities/{a.id}", json=_activity_body(title="改掉它")), 403, "forbidden")
    bad = _activity_body(title="x", ends_at=(utcnow() - timedelta(days=9)).isoformat())
    r = staff.put(f"{BASE}/activities/{a.id}", json=bad)
    _error(r, 400, "invalid_activity", "title")
    assert "ends_at" in r.json["error"]["fields"]
    db.session.expire_all()
    assert a.title == "楼道清理（改期）" and a.places == 8
    assert staff.put(f"{BASE}/activities/999999", json=_activity_body()).status_code == 404


def test_cancel_activity(world, api, pts):
    a = pts.activity(past=False)
    staff, resident = api(world.staff), api(world.resident)
    assert resident.post(f"{BASE}/activities/{a.id}/signup", json={}).status_code == 201
    _error(resident.post(f"{BASE}/activities/{a.id}/cancel", json={"reason": "不想去了"}), 403, "forbidden")
    _error(staff.post(f"{BASE}/activities/{a.id}/cancel", json={"reason": "  "}), 400, "reason_required", "reason")
    db.session.expire_all()
    assert a.cancelled_at is None
    h = {"Idempotency-Key": "cancel-1"}
    r1 = staff.post(f"{BASE}/activities/{a.id}/cancel", json={"reason": "暴雨预警"}, headers=h)
    r2 = staff.post(f"{BASE}/activities/{a.id}/cancel", json={"reason": "暴雨预警"}, headers=h)
    assert r1.status_code == 200 and r1.json["cancelled"] is True
    assert r2.headers.get("Idempotent-Replayed") == "true"
    assert AuditEntry.query.filter_by(action="points.activity_cancelled").count() == 1
    _error(resident.post(f"{BASE}/activities/{a.id}/signup", json={}), 409, "activity_cancelled")


def test_reject_reported_hours(world, api, pts):
    from tests.plugins.points.conftest import SERVICES as svc
    from plugins.points.models import PointsRecord

    a = pts.activity(past=True)
    pts.signup_past(a, world.resident)
    rec = svc.claim_hours(a, world.resident, hours="2", content="清理楼道杂物")
    staff, resident = api(world.staff), api(world.resident)
    _error(resident.post(f"{BASE}/hours/{rec.id}/reject", json={"reason": "自己驳回"}), 403, "forbidden")
    _error(staff.post(f"{BASE}/hours/{rec.id}/reject", json={}), 400, "reason_required", "reason")
    db.session.expire_all()
    assert db.session.get(PointsRecord, rec.id).status == "claimed"
    r = staff.post(f"{BASE}/hours/{rec.id}/reject", json={"reason": "当天未到场"})
    assert r.status_code == 200 and r.json["status"] == "rejected" and r.json["points"] == 0
    assert pts.balance(world.resident) == 0
    _error(staff.post(f"{BASE}/hours/{rec.id}/reject", json={"reason": "再次"}), 409, "already_verified")
    assert staff.post(f"{BASE}/hours/999999/reject", json={"reason": "没有"}).status_code == 404


def test_hours_rule_and_expiry(world, api, pts):
    from tests.plugins.points.conftest import SERVICES as svc

    admin, staff = api(world.admin), api(world.staff)
    r = admin.put(f"{BASE}/rules/hours", json={"points_per_hour": 2, "expiry_months": 12})
    assert r.status_code == 200, r.json
    assert r.json == {"points_per_hour": 2, "max_hours_per_activity": 2, "expiry_months": 12, "max_balance": 0}
    _error(staff.put(f"{BASE}/rules/hours", json={"points_per_hour": 5}), 403, "forbidden")
    r = admin.put(f"{BASE}/rules/hours", json={"points_per_hour": 0, "expiry_months": 6, "max_balance": "多"})
    _error(r, 400, "invalid_rule", "points_per_hour")
    assert "max_balance" in r.json["error"]["fields"]
    assert svc.hours_rule(world.community) == {"points_per_hour": 2, "max_hours_per_activity": 2,
                                               "expiry_months": 12, "max_balance": 0}
    assert api(world.resident).get(f"{BASE}/rules").json["hours"]["expiry_months"] == 12


def test_item_picture(world, api, pts):
    it = pts.item()
    staff, resident = api(world.staff), api(world.resident)
    body = {"picture": base64.b64encode(PNG).decode()}
    _error(resident.put(f"{BASE}/items/{it.id}/picture", json=body), 403, "forbidden")
    for bad in ({"picture": base64.b64encode(b"GIF89a not allowed").decode()}, {"picture": "%%% not base64"}, {}):
        _error(staff.put(f"{BASE}/items/{it.id}/picture", json=bad), 400, "picture_type", "picture")
    db.session.expire_all()
    assert it.picture is None
    r = staff.put(f"{BASE}/items/{it.id}/picture", json=body)
    assert r.status_code == 200 and r.json["picture_url"]
    assert api(None).get(r.json["picture_url"]).status_code == 200


def test_new_routes_are_documented(client):
    doc = client.get("/api/v1/openapi.json").json
    ops = {(path, method) for path, item in doc["paths"].items() for method in item}
    for path, method in (("activities/{activity_id}", "put"), ("activities/{activity_id}/cancel", "post"),
                         ("hours/{record_id}/reject", "post"), ("rules/hours", "put"),
                         ("items/{item_id}/picture", "put")):
        assert (f"/api/v1/c/{{community}}/points/{path}", method) in ops
