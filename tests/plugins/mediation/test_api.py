"""The API: documented in OpenAPI, idempotent case creation, errors as JSON."""
import pytest

pytestmark = pytest.mark.plugins("mediation")


def test_every_mediation_route_is_in_the_openapi_document(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = [p for p in doc["paths"] if "/mediation/" in p]
    assert "/api/v1/c/{community}/mediation/cases" in paths
    assert "/api/v1/c/{community}/mediation/cases/{case_id}/agreements/{agreement_id}/signatures" in paths
    served = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("api_c.mediation_api.")}
    assert len(paths) == len(served)


def test_idempotent_case_creation(app, world, api):
    from plugins.mediation.models import MediationCase

    client = api(world.grid_worker)
    body = {"source": "grid_report", "category": "parking", "description": "占用消防通道停车",
            "parties": [{"role": "respondent", "name": "车主"}]}
    first = client.post("/api/v1/c/test/mediation/cases", json=body, headers={"Idempotency-Key": "k1"})
    again = client.post("/api/v1/c/test/mediation/cases", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert MediationCase.query.count() == 1


def test_whole_case_through_the_api(app, world, api):
    m = api(world.mediator)
    r = m.post("/api/v1/c/test/mediation/cases", json={
        "source": "committee", "category": "shared_space", "description": "楼道堆物纠纷", "rights_notified": True,
        "parties": [{"role": "applicant", "login": "resident"}, {"role": "respondent", "name": "王某"}]})
    assert r.status_code == 201
    case = r.get_json()
    cid = case["id"]
    assert m.post(f"/api/v1/c/test/mediation/cases/{cid}/assign", json={"login": "mediator"}).status_code == 200
    from core import dates

    today = dates.today(world.community).isoformat()
    # R22: no session before every party's consent to processing their personal information
    r = m.post(f"/api/v1/c/test/mediation/cases/{cid}/sessions",
               json={"held_on": today, "place": "调解室", "attendees": "双方"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "pi_consent_missing"
    r = m.post(f"/api/v1/c/test/mediation/cases/{cid}/parties/{case['parties'][0]['id']}/pi-consent", json={})
    assert r.status_code == 200 and r.get_json()["parties"][0]["pi_consent_method"] == "form"
    r = m.post(f"/api/v1/c/test/mediation/cases/{cid}/pi-consent-paper", json={"on": today})
    assert r.status_code == 200 and r.get_json()["parties"][1]["pi_consent_method"] == "paper"
    assert m.post(f"/api/v1/c/test/mediation/cases/{cid}/pi-consent-paper", json={}).status_code == 409
    assert m.post(f"/api/v1/c/test/mediation/cases/{cid}/sessions",
                  json={"held_on": today, "place": "调解室", "attendees": "双方"}).status_code == 201
    agreement = {"form": "written", "facts": "堆物", "terms": "三日内清理",
                 "obligations": [{"party_id": case["parties"][1]["id"], "description": "清理", "due_on": today}]}
    # R16: nobody has agreed to mediation yet
    r = m.post(f"/api/v1/c/test/mediation/cases/{cid}/agreements", json=agreement)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "agreement_preconditions"
    assert set(r.get_json()["error"]["fields"]) == {"consent"}
    for p in case["parties"]:
        r = m.post(f"/api/v1/c/test/mediation/cases/{cid}/parties/{p['id']}/consent", json={"consent": "agreed"})
        assert r.status_code == 200
    r = m.post(f"/api/v1/c/test/mediation/cases/{cid}/agreements", json=agreement)
    assert r.status_code == 201
    ag = r.get_json()["agreement"]
    assert ag["effective_on"] is None and set(ag["missing"]) >= {"mediator", "seal"}
    for who in [p["id"] for p in case["parties"]] + ["mediator", "seal"]:
        r = m.post(f"/api/v1/c/test/mediation/cases/{cid}/agreements/{ag['id']}/signatures", json={"who": str(who)})
        assert r.status_code == 200, r.get_json()
    full = r.get_json()
    assert full["agreement"]["effective_on"] == today and full["agreement"]["copies"] == 3
    fu = full["followups"][0]
    r = m.post(f"/api/v1/c/test/mediation/cases/{cid}/followups/{fu['id']}",
               json={"result": "performed", "findings": "已清理"})
    assert r.status_code == 200
    assert m.post(f"/api/v1/c/test/mediation/cases/{cid}/close", json={"outcome": "resolved"}).status_code == 200
    stats = m.get("/api/v1/c/test/mediation/stats").get_json()
    assert stats["resolved"] == 1 and stats["resolution_rate_percent"] == 100
    log = m.get(f"/api/v1/c/test/mediation/cases/{cid}/access-log").get_json()
    assert log["total"] >= 1


def test_bad_json_and_unknown_filters(app, world, api):
    m = api(world.mediator)
    r = m.client.post("/api/v1/c/test/mediation/cases", data="x", headers={"Authorization": f"Bearer {m.token}",
                                                                           "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"
    r = m.get("/api/v1/c/test/mediation/cases?status=bogus")
    assert r.status_code == 400 and "status" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("field,value", [("grid_id", "abc"), ("building_id", "1.5"), ("grid_id", True)])
def test_an_id_that_is_no_whole_number_is_refused_not_ignored(app, world, api, field, value):
    """A grid or building that is not a whole number is refused (400), never taken as none given."""
    from plugins.mediation.models import MediationCase

    body = {"source": "grid_report", "category": "parking", "description": "占用消防通道停车",
            "parties": [{"role": "respondent", "name": "车主"}], field: value}
    r = api(world.grid_worker).post("/api/v1/c/test/mediation/cases", json=body)
    assert r.status_code == 400 and field in r.get_json()["error"]["fields"]
    assert MediationCase.query.count() == 0


def test_a_partys_mistyped_mobile_number_is_refused_and_a_good_one_stored_as_eleven_digits(app, world, api):
    from plugins.mediation.models import MediationCase

    client = api(world.grid_worker)
    body = {"source": "grid_report", "category": "parking", "description": "占用消防通道停车",
            "parties": [{"role": "respondent", "name": "车主", "phone": "1391234567"}]}
    r = client.post("/api/v1/c/test/mediation/cases", json=body, headers={"Accept-Language": "en"})
    assert r.status_code == 400
    assert "has 10" in r.get_json()["error"]["fields"]["parties.0.phone"]
    assert MediationCase.query.count() == 0
    body["parties"][0]["phone"] = "139 1234 5678"
    r = client.post("/api/v1/c/test/mediation/cases", json=body)
    assert r.status_code == 201
    assert MediationCase.query.one().parties[0].phone == "13912345678"
