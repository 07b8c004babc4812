"""The JSON API: tokens, errors, pagination, idempotency, proposals, structure, OpenAPI."""
import pytest

from core.extensions import db
from core.models import ApiToken, Household, Proposal, ProposalSecond

GOOD = {"title": "增设单元门禁", "body": "部分单元门禁损坏，陌生人随意进出，建议维修更换。", "category": "safety"}


def test_token_required_for_writes(world, api):
    r = api(None).post("/api/v1/c/test/proposals", json=GOOD)
    assert r.status_code == 401
    body = r.get_json()["error"]
    assert body["code"] == "unauthorized" and body["message"] and body["fields"] == {}


def test_bad_token_is_401(world, client):
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer lnl_nope"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"


def test_session_cookie_does_not_authenticate_api(world, login):
    c = login(world.resident)
    assert c.post("/api/v1/c/test/proposals", json=GOOD).status_code == 401
    assert Proposal.query.count() == 0


def test_create_get_list_proposal(world, api):
    a = api(world.resident)
    r = a.post("/api/v1/c/test/proposals", json=GOOD)
    assert r.status_code == 201
    data = r.get_json()
    assert data["state"] == "open" and data["author_name"] == "居民甲"
    assert data["created_at"].endswith("+00:00")
    got = a.get(f"/api/v1/c/test/proposals/{data['id']}").get_json()
    assert [h["to"] for h in got["history"]] == ["draft", "open"]
    listing = api(None).get("/api/v1/c/test/proposals?per_page=1000").get_json()
    assert listing["total"] == 1 and listing["per_page"] == 100 and listing["items"][0]["id"] == data["id"]


def test_validation_errors_are_json_with_fields(world, api):
    r = api(world.resident).post("/api/v1/c/test/proposals", json={"title": "x", "body": "", "category": "?"})
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "invalid_proposal" and set(err["fields"]) >= {"title", "body", "category"}
    assert Proposal.query.count() == 0


def test_non_json_body_is_refused(world, api):
    r = api(world.resident).post("/api/v1/c/test/proposals", data="title=x",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"


def test_error_message_is_translated(world, api):
    a = api(world.resident)
    zh = a.post("/api/v1/c/test/proposals", json={}, headers={"Accept-Language": "zh-CN"}).get_json()
    en = a.post("/api/v1/c/test/proposals", json={}, headers={"Accept-Language": "en"}).get_json()
    assert zh["error"]["code"] == en["error"]["code"]
    assert zh["error"]["message"] != en["error"]["message"]


def test_second_comment_transition(world, api):
    p = api(world.mediator).post("/api/v1/c/test/proposals", json=GOOD).get_json()
    r = api(world.resident).post(f"/api/v1/c/test/proposals/{p['id']}/second")
    assert r.status_code == 201 and r.get_json()["seconds"] == 1
    r = api(world.resident).post(f"/api/v1/c/test/proposals/{p['id']}/second")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_seconded"
    r = api(world.resident2).post(f"/api/v1/c/test/proposals/{p['id']}/comments", json={"body": "支持"})
    assert r.status_code == 201
    assert api(None).get(f"/api/v1/c/test/proposals/{p['id']}/comments").get_json()["total"] == 1
    r = api(world.resident).post(f"/api/v1/c/test/proposals/{p['id']}/transition", json={"state": "coordinating"})
    assert r.status_code == 403
    r = api(world.staff).post(f"/api/v1/c/test/proposals/{p['id']}/transition", json={"state": "coordinating"})
    assert r.status_code == 400 and "reason" in r.get_json()["error"]["fields"]
    r = api(world.staff).post(f"/api/v1/c/test/proposals/{p['id']}/transition",
                              json={"state": "coordinating", "reason": "物业回应"})
    assert r.status_code == 200 and r.get_json()["state"] == "coordinating"


def test_idempotency_key_returns_first_answer(world, api):
    a = api(world.resident)
    h = {"Idempotency-Key": "abc-123"}
    first = a.post("/api/v1/c/test/proposals", json=GOOD, headers=h)
    again = a.post("/api/v1/c/test/proposals", json=GOOD, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert Proposal.query.count() == 1
    other = a.post("/api/v1/c/test/proposals", json=GOOD, headers={"Idempotency-Key": "xyz"})
    assert other.get_json()["id"] != first.get_json()["id"]


def test_revoked_token_stops_working(world, api, login):
    a = api(world.resident)
    assert a.get("/api/v1/me").status_code == 200
    token = ApiToken.query.filter_by(user_id=world.resident.id).one()
    web = login(world.resident)
    r = web.post("/auth/account", data={"form": "revoke", "token_id": token.id}, headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "cannot be undone" in r.get_data(as_text=True)  # asked first
    assert a.get("/api/v1/me").status_code == 200
    web.post("/auth/account", data={"form": "revoke", "token_id": token.id, "confirm": "1"})
    assert a.get("/api/v1/me").status_code == 401


def test_structure_endpoints_are_staff_only(world, api):
    assert api(world.resident).get("/api/v1/c/test/households").status_code == 403
    assert api(world.outsider).get("/api/v1/c/test/households").status_code == 403
    data = api(world.staff).get("/api/v1/c/test/households").get_json()
    assert data["total"] == 4 and data["items"][0]["floor_area"] == "89.50"
    r = api(world.staff).post("/api/v1/c/test/households", json={"unit_id": world.unit.id, "room": "201",
                                                                  "floor_area": "77.05"})
    assert r.status_code == 201 and r.get_json()["floor_area"] == "77.05"
    r = api(world.staff).post("/api/v1/c/test/households", json={"unit_id": world.unit.id, "room": "202",
                                                                  "floor_area": 77.05})
    assert r.status_code == 400  # floats are refused: areas are exact
    r = api(world.staff).post("/api/v1/c/test/households", json={"unit_id": world.unit.id, "room": "201",
                                                                  "floor_area": "80"})
    assert r.status_code == 409
    assert Household.query.count() == 5


def test_verify_member_via_api(world, api):
    from core.models import Membership

    m = Membership.query.filter_by(user_id=world.newbie.id).one()
    r = api(world.staff).post(f"/api/v1/c/test/members/{m.id}/verify",
                              json={"household_id": world.households[1].id, "relation": "resident"})
    assert r.status_code == 200 and r.get_json()["verified"] is True
    r = api(world.resident).post(f"/api/v1/c/test/members/{m.id}/verify",
                                 json={"household_id": world.households[1].id, "relation": "resident"})
    assert r.status_code == 403


def test_cross_community_ids_are_404(world, api):
    p = api(world.resident).post("/api/v1/c/test/proposals", json=GOOD).get_json()
    assert api(world.outsider).get(f"/api/v1/c/other/proposals/{p['id']}").status_code == 404
    assert api(world.outsider).post(f"/api/v1/c/other/proposals/{p['id']}/second").status_code == 404


def test_pagination_parameters_validated(world, api):
    r = api(None).get("/api/v1/c/test/proposals?page=abc")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_page"
    r = api(None).get("/api/v1/c/test/proposals?state=nonsense")
    assert r.status_code == 400


def test_unknown_routes_and_methods_are_json(world, api):
    r = api(None).get("/api/v1/c/test/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = api(None).get("/api/v1/c/nowhere/proposals")
    assert r.status_code == 404 and r.is_json


def test_openapi_lists_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    import re

    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "openapi":
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            for m in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((path, m.lower()))
    assert served == documented
    op = spec["paths"]["/api/v1/c/{community}/proposals"]["post"]
    assert "title" in op["requestBody"]["content"]["application/json"]["schema"]["required"]


def test_the_second_that_reaches_the_threshold_answers_with_the_new_state(world, api):
    # The answer is built from what the transaction wrote (no re-read after the commit): it must
    # still show the count and the state the proposal moved to.
    p = api(world.mediator).post("/api/v1/c/test/proposals", json=GOOD).get_json()
    answers = [api(u).post(f"/api/v1/c/test/proposals/{p['id']}/second").get_json()
               for u in (world.resident, world.resident2, world.grid_worker)]
    assert [a["seconds"] for a in answers] == [1, 2, 3]
    assert [a["state"] for a in answers] == ["open", "open", "coordinating"]
    assert answers[2]["updated_at"] > p["updated_at"]
    assert api(None).get(f"/api/v1/c/test/proposals/{p['id']}").get_json()["state"] == "coordinating"


def test_token_use_is_recorded_for_reads_writes_and_refused_writes(world, api):
    from datetime import timedelta

    from core.models import utcnow

    client = api(world.resident)
    token = ApiToken.query.filter_by(user_id=world.resident.id).one()
    assert token.last_used_at is None

    def used_at():
        db.session.expire_all()
        return db.session.get(ApiToken, token.id).last_used_at

    def age(minutes):
        db.session.get(ApiToken, token.id).last_used_at = utcnow() - timedelta(minutes=minutes)
        db.session.commit()
        return used_at()

    assert client.get("/api/v1/c/test/proposals").status_code == 200  # a read commits nothing itself
    assert used_at() is not None
    before = age(5)
    assert client.post("/api/v1/c/test/proposals", json={}).status_code == 400  # refused, rolled back
    assert used_at() > before
    before = age(5)
    assert client.post("/api/v1/c/test/proposals", json=GOOD).status_code == 201  # with the write's commit
    assert used_at() > before
    assert Proposal.query.filter_by(title=GOOD["title"]).count() == 1
    recent = age(0)  # used within the minute: not written again
    assert client.get("/api/v1/c/test/proposals").status_code == 200
    assert used_at() == recent
