"""R15: the people's mediation committee has 3–9 members in term, at least one a woman, each
for a three-year term (人民调解法 Art. 8–9). A committee that fails it is a warning to mediation
staff, never a block on their work."""
from datetime import date, timedelta

import pytest

from core.errors import Conflict, Forbidden, ServiceError

pytestmark = pytest.mark.plugins("mediation")


def _add(world, n, sex="male", start=None, **kw):
    from plugins.mediation import services as svc

    start = start or svc.dates.today(world.community) - timedelta(days=100)
    return [svc.add_committee_member(world.community, world.mediator,
                                     {"name": f"委员{sex}{i}", "sex": sex, "term_start": start, **kw})
            for i in range(n)]


def _status(world):
    from plugins.mediation import services as svc

    return svc.committee_status(world.community)


def test_term_is_three_years_and_29_february_becomes_28(app, world):
    from plugins.mediation import services as svc

    m = _add(world, 1, start=date(2026, 3, 1))[0]
    assert m.term_end == date(2029, 3, 1)
    assert svc.add_years(date(2028, 2, 29), 3) == date(2031, 2, 28)


def test_two_members_are_too_few_three_are_enough(app, world):
    _add(world, 1, "female")
    _add(world, 1)
    s = _status(world)
    assert not s["ok"] and s["count"] == 2
    assert [str(r) for r in s["reasons"]] == ["The committee has 2 members in term; it needs at least 3."]
    _add(world, 1)
    assert _status(world)["ok"]


def test_nine_members_are_allowed_ten_are_too_many(app, world):
    _add(world, 1, "female")
    _add(world, 8)
    assert _status(world)["ok"] and _status(world)["count"] == 9
    _add(world, 1)
    s = _status(world)
    assert not s["ok"]
    assert [str(r) for r in s["reasons"]] == ["The committee has 10 members in term; it may have at most 9."]


def test_a_committee_without_a_woman_fails(app, world):
    _add(world, 5)
    s = _status(world)
    assert not s["ok"] and s["women"] == 0
    assert [str(r) for r in s["reasons"]] == [
        "No woman is among the members in term; the committee needs at least one."]


def test_ended_terms_do_not_count_and_terms_ending_soon_are_flagged(app, world):
    from plugins.mediation import services as svc

    today = svc.dates.today(world.community)
    expired = _add(world, 1, "female", start=svc.add_years(today, -3) - timedelta(days=1))[0]
    ending = _add(world, 1, start=svc.add_years(today, -3) + timedelta(days=30))[0]
    _add(world, 2)
    s = _status(world)
    assert expired.term_end < today and expired in s["ended"] and expired not in s["current"]
    assert s["ending"] == [ending]
    assert s["count"] == 3 and not s["ok"]  # the only woman's term has ended
    assert [str(r) for r in s["reasons"]] == [
        "No woman is among the members in term; the committee needs at least one."]
    # The last day of the term still counts; the day after does not.
    last_day = _add(world, 1, "female", start=svc.add_years(today, -3))[0]
    assert last_day.term_end == today and _status(world)["ok"] and last_day in _status(world)["ending"]


def test_ending_a_membership_and_the_rules_of_adding(app, world):
    from plugins.mediation import services as svc

    chair = _add(world, 1, "female", role="chair", login="mediator", name="")[0]
    assert chair.name == "调解员" and chair.user_id == world.mediator.id
    with pytest.raises(Conflict):
        _add(world, 1, role="chair")
    with pytest.raises(Conflict):
        _add(world, 1, login="mediator")
    with pytest.raises(ServiceError) as err:
        svc.add_committee_member(world.community, world.mediator, {"sex": "x", "term_start": "soon"})
    assert {"name", "sex", "term_start"} <= set(err.value.fields)
    with pytest.raises(Forbidden):
        svc.add_committee_member(world.community, world.admin, {"name": "甲", "sex": "male",
                                                                "term_start": "2026-01-01"})
    svc.end_committee_member(world.community, world.mediator, chair.id)
    assert not chair.active and chair.ended_on == svc.dates.today(world.community)
    assert _status(world)["count"] == 0
    with pytest.raises(Conflict):
        svc.end_committee_member(world.community, world.mediator, chair.id)
    _add(world, 1, role="chair")  # the chair's seat is free again


def test_page_warns_mediation_staff_without_blocking_them(app, world, login):
    m = login(world.mediator)
    home = m.get("/c/test/mediation/").get_data(as_text=True)
    assert 'id="committee-warning"' in home and "R15" not in home  # what is missing, in words
    assert m.get("/c/test/mediation/new").status_code == 200  # work goes on
    r = m.post("/c/test/mediation/committee", data={"cm-name": "王秀兰", "cm-sex": "female", "cm-role": "chair",
                                                    "cm-term_start": "2026-01-05"})
    assert r.status_code == 302
    for name in ("陈建国", "刘芳"):
        m.post("/c/test/mediation/committee", data={"cm-name": name, "cm-sex": "male", "cm-role": "member",
                                                    "cm-term_start": "2026-01-05"})
    page = m.get("/c/test/mediation/committee").get_data(as_text=True)
    assert '<span class="badge ok">' in page and "badge off" not in page and "2029-01-05" in page
    assert 'id="committee-warning"' not in m.get("/c/test/mediation/").get_data(as_text=True)
    r = m.post("/c/test/mediation/committee", data={"cm-name": "x", "cm-sex": "female"})
    assert r.status_code == 200 and "cm-term_start-err" in r.get_data(as_text=True)
    # Residents neither see the warning nor the roster.
    res = login(world.resident)
    assert res.get("/c/test/mediation/committee").status_code == 403
    assert "committee-warning" not in res.get("/c/test/mediation/").get_data(as_text=True)


def test_committee_api(app, world, api):
    m = api(world.mediator)
    r = m.post("/api/v1/c/test/mediation/committee", json={"name": "甲", "sex": "female", "role": "chair",
                                                           "term_start": "2026-02-01"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["meets_r15"] is False and body["members_in_term"] == 1 and body["women_in_term"] == 1
    assert body["items"][0]["term_end"] == "2029-02-01"
    assert len(body["reasons"]) == 1 and "3" in body["reasons"][0] and "R15" not in body["reasons"][0]
    r = m.post("/api/v1/c/test/mediation/committee", json={"sex": "male"})
    assert r.status_code == 400 and {"name", "term_start"} <= set(r.get_json()["error"]["fields"])
    r = m.post(f"/api/v1/c/test/mediation/committee/{body['id']}/end", json={})
    assert r.status_code == 200 and r.get_json()["items"][0]["active"] is False
    assert api(world.resident).get("/api/v1/c/test/mediation/committee").status_code == 403
    assert api(world.outsider).get("/api/v1/c/test/mediation/committee").status_code == 404


def test_demo_data_has_a_valid_committee(app, world):
    from plugins.mediation import demo
    from plugins.mediation.models import MediationCommitteeMember

    users = {"wanggeyuan": world.grid_worker, "tiaojieyuan": world.mediator, "resident1": world.resident,
             "resident2": world.resident2, "resident3": world.newbie, "loudongzhang": world.building_head}
    demo.load(world.community, users)
    s = _status(world)
    assert s["ok"] and s["count"] == 5 and s["women"] >= 1, s["reasons"]
    assert MediationCommitteeMember.query.filter_by(role="chair").count() == 1
