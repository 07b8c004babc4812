"""Domain rules R16–R21 and bad input: a clear error, and nothing saved."""
from datetime import timedelta

import pytest

from core.errors import Conflict, Forbidden, ServiceError
from core.extensions import db

pytestmark = pytest.mark.plugins("mediation")


def _sign_all(svc, ag, actor):
    for who in [str(p.id) for p in ag.case.parties if p.consent != "refused"] + ["mediator", "seal"]:
        svc.sign(ag, actor, who)


def test_agreement_without_parties_is_refused_and_nothing_is_saved(app, world, login):
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationAgreement

    c = svc.open_case(world.community, world.mediator, {"source": "committee", "category": "other",
                                                        "description": "只有一方的案件", "rights_notified": True,
                                                        "parties": [{"name": "甲"}]})
    r = login(world.mediator).post(f"/c/test/mediation/cases/{c.id}/agreements",
                                   data={"ag-form": "written", "ag-facts": "f", "ag-terms": "t",
                                         "ag-ob1_party": "0", "ag-ob2_party": "0"})
    assert r.status_code == 400
    assert "调解协议至少需要两名当事人" in r.get_data(as_text=True)
    assert MediationAgreement.query.count() == 0


def test_opening_needs_a_party_and_a_category(app, world, api):
    from plugins.mediation.models import MediationCase

    r = api(world.grid_worker).post("/api/v1/c/test/mediation/cases",
                                    json={"source": "grid_report", "category": "nonsense", "description": "x"})
    assert r.status_code == 400
    fields = r.get_json()["error"]["fields"]
    assert {"category", "description", "parties"} <= set(fields)
    assert MediationCase.query.count() == 0


def test_a_resident_applies_for_themselves_and_cannot_pose_as_the_police(app, world, api):
    r = api(world.resident).post("/api/v1/c/test/mediation/cases",
                                 json={"source": "police", "category": "noise", "description": "楼上太吵了"})
    assert r.status_code == 400 and "source" in r.get_json()["error"]["fields"]
    r = api(world.resident).post("/api/v1/c/test/mediation/cases",
                                 json={"source": "application", "category": "noise", "description": "楼上太吵了"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "open" and "description" not in body  # they see their case as a party
    mine = api(world.resident).get("/api/v1/c/test/mediation/cases").get_json()
    assert [c["number"] for c in mine["items"]] == [body["number"]]


def test_session_before_the_case_was_opened_is_refused(app, world, case, api):
    from core import dates
    from plugins.mediation.models import MediationSession

    day = dates.local_date(case.opened_at, world.community) - timedelta(days=1)
    r = api(world.mediator).post(f"/api/v1/c/test/mediation/cases/{case.id}/sessions",
                                 json={"held_on": day.isoformat(), "place": "调解室", "attendees": "双方"})
    assert r.status_code == 400 and "held_on" in r.get_json()["error"]["fields"]
    assert MediationSession.query.count() == 0


def test_a_session_needs_the_rights_notice_first(app, world, api):
    from plugins.mediation import services as svc

    c = svc.open_case(world.community, world.mediator, {"source": "committee", "category": "parking",
                                                        "description": "车位争议", "parties": [{"name": "甲"}]})
    today = svc.dates.today(world.community).isoformat()
    r = api(world.mediator).post(f"/api/v1/c/test/mediation/cases/{c.id}/sessions",
                                 json={"held_on": today, "place": "调解室", "attendees": "双方"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "rights_not_notified"


def test_escalating_a_closed_case_is_refused(app, world, case, api):
    from plugins.mediation import services as svc

    svc.close(case, world.mediator, "withdrawn", "申请人撤回")
    r = api(world.mediator).post(f"/api/v1/c/test/mediation/cases/{case.id}/escalate", json={"reason": "升级"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "case_closed"
    db.session.expire_all()
    assert case.tier == "community"


def test_tiers_go_grid_community_street_then_refer_out(app, world, case):
    from plugins.mediation import services as svc

    with pytest.raises(ServiceError) as e:
        svc.escalate(case, world.mediator, "  ")
    assert "reason" in e.value.fields
    svc.escalate(case, world.mediator, "社区调解未果")
    assert case.tier == "street"
    with pytest.raises(Conflict):
        svc.escalate(case, world.mediator, "再升级")
    svc.refer(case, world.mediator, "区人民法院", "当事人要求诉讼")
    assert (case.status, case.outcome, case.referred_to) == ("closed", "referred", "区人民法院")


def test_an_explicit_refusal_stops_mediation(app, world, login):
    """R16: a party who clearly refuses closes the case; it cannot be mediated or re-opened until they agree."""
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationCase

    gw = login(world.grid_worker)
    r = gw.post("/c/test/mediation/new", data={
        "source": "grid_report", "category": "pets", "description": "狗在楼道便溺", "grid_id": 0, "building_id": 0,
        "urgency": "normal", "applicant_name": "甲", "respondent_name": "乙", "respondent_refuses": "y"})
    assert r.status_code == 302
    c = MediationCase.query.one()
    assert (c.status, c.outcome) == ("closed", "refused")
    with pytest.raises(Conflict):
        svc.reopen(c, world.mediator, "再试")
    r = login(world.mediator).post(f"/c/test/mediation/cases/{c.id}/reopen",
                                   data={"rs-reason": "乙方改变主意，同意调解", "agreed_party": str(c.parties[1].id)})
    assert r.status_code == 302
    db.session.expire_all()
    assert c.status == "open" and c.parties[1].consent == "agreed"
    svc.set_consent(c, c.parties[0], world.mediator, "refused")
    assert (c.status, c.outcome) == ("closed", "refused")


def test_agreement_takes_effect_only_when_everyone_has_signed(app, world, ready_case, login):
    """R18: all parties, the mediator and the committee seal; then follow-ups are scheduled."""
    case = ready_case
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationFollowup

    today = svc.dates.today(world.community)
    ag = svc.record_agreement(case, world.mediator, {
        "form": "written", "facts": "噪音", "terms": "十点后安静",
        "obligations": [{"party_id": case.parties[1].id, "description": "加装隔音垫",
                         "due_on": (today + timedelta(days=10)).isoformat()}]})
    with pytest.raises(Conflict):
        svc.record_agreement(case, world.mediator, {"form": "written", "facts": "x", "terms": "y"})
    for who in (str(case.parties[0].id), "mediator", "seal"):
        svc.sign(ag, world.mediator, who)
        assert ag.effective_on is None and MediationFollowup.query.count() == 0
    with pytest.raises(Conflict):
        svc.sign(ag, world.mediator, "seal")
    page = login(world.resident).get(f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)
    assert "十点后安静" in page
    svc.sign(ag, world.mediator, str(case.parties[1].id))
    assert ag.effective_on == today
    assert [f.due_on for f in MediationFollowup.query] == [today + timedelta(days=13)]


def test_oral_agreement_is_effective_when_reached_and_resolving_needs_one(app, world, ready_case):
    case = ready_case
    from plugins.mediation import services as svc

    with pytest.raises(ServiceError) as e:
        svc.close(case, world.mediator, "resolved")
    assert e.value.code == "no_agreement"
    ag = svc.record_agreement(case, world.mediator, {"form": "oral", "facts": "口头", "terms": "互相谅解"})
    assert ag.effective_on is not None and ag.mediator_signed_by_id == world.mediator.id
    svc.close(case, world.mediator, "resolved")
    assert case.outcome == "resolved"


def test_non_performance_leads_to_urging_then_the_right_to_sue(app, world, ready_case):
    """R20: the first visit that finds non-performance urges and schedules another; the second
    tells the parties they may sue (Art. 31–32)."""
    case = ready_case
    from core.models import Notification
    from core.services.notifications import render
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationFollowup

    ag = svc.record_agreement(case, world.mediator, {"form": "oral", "facts": "f", "terms": "t"})
    first = MediationFollowup.query.one()
    svc.record_followup(first, world.mediator, "not_performed", "未履行")
    assert first.action == "urged"
    second = MediationFollowup.query.filter(MediationFollowup.done_at.is_(None)).one()
    assert second.due_on == svc.dates.today(world.community) + timedelta(days=7)
    svc.record_followup(second, world.mediator, "partly", "仍未完全履行")
    assert second.action == "right_to_sue"
    from flask_babel import force_locale

    with force_locale("zh_Hans"):
        texts = [render(n) for n in Notification.query.filter_by(user_id=world.resident.id)]
    assert any("可以依法向人民法院起诉" in t for t in texts)
    with pytest.raises(Conflict):
        svc.record_followup(second, world.mediator, "performed", "again")
    assert ag.effective_on is not None


def test_violence_risk_creates_a_police_referral_task(app, world, api, login):
    """R21."""
    from plugins.mediation.models import MediationTask

    r = api(world.mediator).post("/api/v1/c/test/mediation/cases", json={
        "source": "police", "category": "family", "description": "兄弟争执动手", "violence_risk": True,
        "parties": [{"name": "甲"}, {"name": "乙"}]})
    assert r.status_code == 201 and r.get_json()["tier"] == "community"
    task = MediationTask.query.one()
    assert task.kind == "police_referral" and task.done_at is None
    m = login(world.mediator)
    index = m.get("/c/test/mediation/").get_data(as_text=True)
    assert "须报告公安机关的案件" in index and f"/c/test/mediation/cases/{task.case_id}" in index
    r = m.post(f"/c/test/mediation/cases/{task.case_id}/tasks/{task.id}", data={"tk-note": "已报派出所"})
    assert r.status_code == 302
    db.session.expire_all()
    assert task.done_at is not None


def test_reopen_and_open_over_a_month_is_flagged(app, world, case, login, runner):
    from plugins.mediation import services as svc

    case.opened_at = case.opened_at - timedelta(days=40)
    db.session.commit()
    r = runner.invoke(args=["mediation", "overdue", "--community", "test"])
    assert case.number in r.output
    page = login(world.mediator).get("/c/test/mediation/?overdue=1").get_data(as_text=True)
    assert case.number in page
    svc.close(case, world.mediator, "not_resolved", "告知可向法院起诉")
    with pytest.raises(Forbidden):
        svc.reopen(case, world.grid_worker, "x")
    svc.reopen(case, world.mediator, "当事人要求再调解")
    assert case.status == "open" and case.outcome is None


def test_clinic_hours_are_booked_by_residents(app, world, login):
    from datetime import time

    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationBooking

    slot = svc.add_slot(world.community, world.mediator, {"user": world.mediator, "weekday": 2,
                                                          "start_time": time(9), "end_time": time(11, 30),
                                                          "place": "党群服务中心", "title": "道德门诊",
                                                          "capacity": 1})
    day = svc.next_dates(world.community, slot)[0]
    r = login(world.resident).post("/c/test/mediation/roster", data={"action": "book", "slot_id": slot.id,
                                                                     "on_date": day.isoformat()})
    assert r.status_code == 302
    page = login(world.resident).get("/c/test/mediation/roster").get_data(as_text=True)
    assert "道德门诊" in page and day.isoformat() in page
    r = login(world.resident2).post("/c/test/mediation/roster", data={"action": "book", "slot_id": slot.id,
                                                                      "on_date": day.isoformat()})
    assert r.status_code == 200 and MediationBooking.query.count() == 1  # full: shown as an error
    assert login(world.resident2).post("/c/test/mediation/roster", data={
        "action": "book", "slot_id": slot.id, "on_date": (day + timedelta(days=1)).isoformat()}).status_code == 200
    assert MediationBooking.query.count() == 1
    # the mediator sees who booked
    assert world.resident.display_name in login(world.mediator).get("/c/test/mediation/roster").get_data(as_text=True)


def test_a_resident_applies_on_the_page_and_sees_it_under_my_cases(app, world, login):
    from plugins.mediation.models import MediationCase

    me = login(world.newbie)
    form = me.get("/c/test/mediation/new").get_data(as_text=True)
    assert 'type="hidden" name="source" value="application"' in form and "您是申请人" in form
    r = me.post("/c/test/mediation/new", data={"source": "application", "category": "water_leak",
                                               "description": "楼上漏水到我家厨房", "grid_id": 0, "building_id": 0,
                                               "urgency": "urgent", "respondent_name": "楼上住户"})
    assert r.status_code == 302
    case = MediationCase.query.one()
    assert [(p.role, p.user_id) for p in case.parties] == [("applicant", world.newbie.id), ("respondent", None)]
    mine = me.get("/c/test/mediation/").get_data(as_text=True)
    assert case.number in mine and "您是本案当事人" in mine
    page = me.get(f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)
    assert "办理中" in page and "楼上漏水到我家厨房" not in page
