"""Issue 19: no agreement without consent. Each precondition of an agreement (R16–R18), the case
file's checklist (R17), a party's stop or private-hearing request at any time (R16, Art. 23),
privacy-sensitive categories (R22), the extension of the one-month target (R20), the joint
application for judicial confirmation (R19) and the follow-up visits' dates (R20): refused with a
clear message and nothing saved, through the services, the pages and the API."""
from datetime import date, datetime, timedelta, timezone

import pytest

from core.errors import Conflict, ServiceError
from core.extensions import db
from tests.plugins.mediation.conftest import hold_session

pytestmark = pytest.mark.plugins("mediation")


def _svc():
    from plugins.mediation import services as svc

    return svc


def _today(world):
    return _svc().dates.today(world.community)


def _counts():
    from plugins.mediation import models as m

    return tuple(cls.query.count() for cls in (m.MediationAgreement, m.MediationSignature, m.MediationFollowup,
                                               m.MediationExtension, m.MediationConfirmation, m.MediationHistory))


def _bare_case(world, **data):
    """A committee case with two named parties, nothing recorded yet."""
    return _svc().open_case(world.community, world.mediator, {
        "source": "committee", "category": "parking", "description": "车位争议",
        "parties": [{"role": "applicant", "name": "甲"}, {"role": "respondent", "name": "乙"}], **data})


def _agree_all(case, world):
    svc = _svc()
    svc.record_rights(case, world.mediator, True, True)
    for p in case.parties:
        svc.set_consent(case, p, world.mediator, "agreed")
    svc.record_pi_consent(case, world.mediator)


ORAL = {"form": "oral", "facts": "双方争用车位", "terms": "单双日轮流停放"}


# ── an agreement's preconditions ─────────────────────────────────────────────────────────
@pytest.mark.parametrize("missing", ["rights", "consent", "pi_consent", "session"])
@pytest.mark.parametrize("form", ["oral", "written"])
def test_an_agreement_needs_every_precondition(app, world, missing, form):
    """Each precondition alone holds the agreement back; the message names it; nothing is saved,
    and a case without an agreement in effect cannot be closed as resolved."""
    svc = _svc()
    case = _bare_case(world)
    if missing != "rights":
        svc.record_rights(case, world.mediator, True, True)
    if missing != "consent":
        for p in case.parties:
            svc.set_consent(case, p, world.mediator, "agreed")
    else:
        svc.set_consent(case, case.parties[0], world.mediator, "agreed")
    if missing != "pi_consent":
        svc.record_pi_consent(case, world.mediator)
    else:
        svc.record_pi_consent(case, world.mediator, [case.parties[0].id])
    if missing != "session":
        if missing in ("rights", "pi_consent"):  # a session needs these too: it was held before
            db.session.add(svc.MediationSession(case_id=case.id, held_at=case.opened_at, place="调解室",
                                                attendees="双方"))
            db.session.commit()
        else:
            hold_session(case, world.mediator)
    db.session.commit()  # the set-up stands; the refused action is rolled back as its entry point would
    before = _counts()
    with pytest.raises(Conflict) as e:
        svc.record_agreement(case, world.mediator, {**ORAL, "form": form})
    assert e.value.code == "agreement_preconditions" and set(e.value.fields) == {missing}
    if missing in ("consent", "pi_consent"):
        assert "乙" in str(e.value.message) and "甲" not in str(e.value.message)
    db.session.rollback()
    assert _counts() == before
    with pytest.raises(ServiceError) as e:
        svc.close(case, world.mediator, "resolved")
    assert e.value.code == "no_agreement"
    assert case.status == "open"


def test_with_every_precondition_an_oral_agreement_takes_effect_and_the_case_resolves(app, world):
    svc = _svc()
    case = _bare_case(world)
    _agree_all(case, world)
    assert [code for code, _m in svc.agreement_blockers(case)] == ["session"]
    hold_session(case, world.mediator)
    assert svc.agreement_blockers(case) == []
    ag = svc.record_agreement(case, world.mediator, ORAL)
    assert ag.effective_on == _today(world)
    svc.close(case, world.mediator, "resolved")
    assert case.outcome == "resolved"


def test_a_drafted_agreement_cannot_be_signed_once_a_precondition_is_gone(app, world, ready_case):
    """A party added after the draft, who has not agreed to mediation, holds up every signature."""
    svc = _svc()
    ag = svc.record_agreement(ready_case, world.mediator, {"form": "written", "facts": "噪音", "terms": "安静"})
    svc.sign(ag, world.mediator, str(ready_case.parties[0].id))
    svc.add_party(ready_case, world.mediator, {"role": "other", "name": "丙"})
    db.session.commit()
    before = _counts()
    for who in (str(ready_case.parties[1].id), "mediator", "seal"):
        with pytest.raises(Conflict) as e:
            svc.sign(ag, world.mediator, who)
        assert set(e.value.fields) == {"consent", "pi_consent"} and "丙" in str(e.value.message)
        db.session.rollback()
    assert _counts() == before and ag.effective_on is None


def test_the_page_refuses_an_agreement_before_consent_and_saves_nothing(app, world, login):
    from plugins.mediation.models import MediationAgreement

    svc = _svc()
    case = _bare_case(world, rights_notified=True)
    svc.record_pi_consent(case, world.mediator)
    m = login(world.mediator)
    url = f"/c/test/mediation/cases/{case.id}"
    page = m.get(url).get_data(as_text=True)
    assert "甲、乙同意调解的记录" in page and "调解记录（至少一次调解）" in page  # shown before trying
    r = m.post(f"{url}/agreements", data={"ag-form": "oral", "ag-facts": "f", "ag-terms": "t",
                                          "ag-ob1_party": "0", "ag-ob2_party": "0"})
    text = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "调解协议须在前提条件齐备后方可制作、签署或生效。尚缺：甲、乙同意调解的记录；调解记录（至少一次调解）。" in text
    assert MediationAgreement.query.count() == 0


def test_the_api_names_what_is_missing_in_english(app, world, api):
    from core.models import User

    svc = _svc()
    case = _bare_case(world)
    db.session.get(User, world.mediator.id).locale = "en"
    db.session.commit()
    r = api(world.mediator).post(f"/api/v1/c/test/mediation/cases/{case.id}/agreements", json=ORAL)
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "agreement_preconditions"
    assert set(err["fields"]) == {"rights", "consent", "pi_consent", "session"}
    assert "Missing: the notice of the parties' rights and duties; the consent to mediation of 甲, 乙;" in err["message"]
    body = api(world.mediator).get(f"/api/v1/c/test/mediation/cases/{case.id}").get_json()
    assert body["agreement_needs"] == ["rights", "consent", "pi_consent", "session"] and body["agreement"] is None
    _agree_all(case, world)
    hold_session(case, world.mediator)
    assert svc.agreement_blockers(case) == []
    r = api(world.mediator).post(f"/api/v1/c/test/mediation/cases/{case.id}/agreements", json=ORAL)
    assert r.status_code == 201 and r.get_json()["agreement"]["effective_on"] == _today(world).isoformat()


# ── the case file (R17) ──────────────────────────────────────────────────────────────────
def test_the_case_file_lists_what_is_present_and_missing(app, world, login, api):
    svc = _svc()
    case = _bare_case(world)

    def states():
        return {i["item"]: i["state"] for i in svc.case_file(case)}

    assert states() == {"application": "present", "rights_notice": "missing", "id_proof": "missing",
                        "record": "missing", "agreement": "missing"}
    _agree_all(case, world)
    hold_session(case, world.mediator)
    svc.upload_document(case, world.mediator, "id.pdf", b"%PDF-1.4 x", "id_proof")
    svc.record_agreement(case, world.mediator, ORAL)
    assert set(states().values()) == {"present"}
    m = login(world.mediator)
    page = m.get(f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)
    assert "案卷材料" in page and "口头协议已由调解员记录" in page and "缺少" not in page.split('id="case-file"')[1][:2000]
    printed = m.get(f"/c/test/mediation/cases/{case.id}/file").get_data(as_text=True)
    assert "卷内应有的材料" in printed and "已上传扫描件。" in printed and "已记录1次调解。" in printed
    other = _bare_case(world)
    printed = m.get(f"/c/test/mediation/cases/{other.id}/file").get_data(as_text=True)
    assert printed.count("<td>缺少</td>") == 4 and "请上传甲、乙的身份证明。" in printed
    assert [i["state"] for i in api(world.mediator).get(
        f"/api/v1/c/test/mediation/cases/{other.id}").get_json()["file"]] == ["present"] + ["missing"] * 4
    svc.close(other, world.mediator, "withdrawn", "申请人撤回")
    assert {i["item"]: i["state"] for i in svc.case_file(other)}["agreement"] == "not_needed"
    # the party and the reporter never see the file
    assert login(world.resident).get(f"/c/test/mediation/cases/{case.id}/file").status_code == 404


def test_verified_residents_need_no_separate_proof_of_identity(app, world, case):
    """The fixture's parties are residents the office verified (linked to their households)."""
    svc = _svc()
    assert {i["item"]: i["state"] for i in svc.case_file(case)}["id_proof"] == "present"
    svc.add_party(case, world.mediator, {"role": "other", "login": "newbie"})  # not verified
    item = {i["item"]: i for i in svc.case_file(case)}["id_proof"]
    assert item["state"] == "missing" and world.newbie.display_name in item["detail"]


# ── a party stops or asks for a private hearing, at any time ────────────────────────────
def test_a_party_asks_for_a_private_hearing_on_their_own_page(app, world, login, case):
    from plugins.mediation.models import MediationSession

    svc = _svc()
    case.private_hearing = False
    db.session.commit()
    svc.add_session(case, world.mediator, {"held_on": _today(world), "place": "广场", "attendees": "双方",
                                           "public": True})
    party = login(world.resident)
    url = f"/c/test/mediation/cases/{case.id}"
    assert 'value="private"' in party.get(url).get_data(as_text=True)
    r = party.post(f"{url}/parties/{case.parties[0].id}/request", data={"kind": "private"})
    assert r.status_code == 302
    db.session.expire_all()
    assert case.private_hearing and case.parties[0].private_requested_at is not None
    assert "您已要求不公开调解。" in party.get(url).get_data(as_text=True)
    # a later public session is refused, on the page and through the API
    r = login(world.mediator).post(f"{url}/sessions", data={"ss-held_on": _today(world).isoformat(),
                                                          "ss-place": "广场", "ss-attendees": "双方", "ss-public": "y"})
    assert r.status_code == 400 and "有当事人要求不公开调解" in r.get_data(as_text=True)
    assert MediationSession.query.filter_by(case_id=case.id).count() == 1
    # asking twice is refused; asking for the other party is not theirs to do
    assert party.post(f"{url}/parties/{case.parties[0].id}/request", data={"kind": "private"}).status_code == 409
    assert party.post(f"{url}/parties/{case.parties[1].id}/request", data={"kind": "stop"}).status_code == 404
    assert login(world.grid_worker).post(f"{url}/parties/{case.parties[0].id}/request",
                                         data={"kind": "stop"}).status_code == 404
    db.session.expire_all()
    assert case.status == "open"


def test_a_party_stops_the_mediation_and_no_session_follows(app, world, api, ready_case):
    from plugins.mediation.models import MediationSession

    svc = _svc()
    case = ready_case
    r = api(world.resident2).post(f"/api/v1/c/test/mediation/cases/{case.id}/parties/{case.parties[1].id}/request",
                                  json={"kind": "stop"})
    assert r.status_code == 200 and r.get_json()["status"] == "closed" and r.get_json()["outcome"] == "stopped"
    db.session.expire_all()
    assert case.parties[1].stop_requested_at is not None and case.parties[1].consent == "refused"
    r = api(world.mediator).post(f"/api/v1/c/test/mediation/cases/{case.id}/sessions",
                                 json={"held_on": _today(world).isoformat(), "place": "x", "attendees": "y"})
    assert r.status_code == 409 and MediationSession.query.filter_by(case_id=case.id).count() == 1
    with pytest.raises(Conflict):  # re-opened only with the party's new consent
        svc.reopen(case, world.mediator, "再试")
    svc.reopen(case, world.mediator, "乙方同意继续调解", [case.parties[1].id])
    assert case.status == "open" and case.parties[1].consent == "agreed"


def test_the_mediator_records_a_stop_and_it_ends_a_pending_agreement(app, world, login, ready_case):
    from plugins.mediation.models import MediationSignature

    svc = _svc()
    case = ready_case
    ag = svc.record_agreement(case, world.mediator, {"form": "written", "facts": "f", "terms": "t"})
    m = login(world.mediator)
    url = f"/c/test/mediation/cases/{case.id}"
    assert m.post(f"{url}/parties/{case.parties[0].id}/request", data={"kind": "nonsense"}).status_code == 400
    with pytest.raises(ServiceError) as e:  # only a party's own request stops a mediation
        svc.close(case, world.mediator, "stopped", "调解员认为应终止")
    assert "outcome" in e.value.fields and case.status == "open"
    assert m.post(f"{url}/parties/{case.parties[0].id}/request", data={"kind": "stop"}).status_code == 302
    db.session.expire_all()
    assert (case.status, case.outcome) == ("closed", "stopped")
    with pytest.raises(Conflict):
        svc.sign(ag, world.mediator, "seal")
    assert MediationSignature.query.count() == 0


def test_nothing_to_stop_once_the_agreement_is_in_effect(app, world, api, ready_case):
    svc = _svc()
    svc.record_agreement(ready_case, world.mediator, ORAL)
    r = api(world.resident).post(
        f"/api/v1/c/test/mediation/cases/{ready_case.id}/parties/{ready_case.parties[0].id}/request",
        json={"kind": "stop"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "agreement_in_effect"
    db.session.expire_all()
    assert ready_case.status == "open" and ready_case.parties[0].stop_requested_at is None


@pytest.mark.parametrize("category", ["family", "privacy"])
def test_family_and_private_matters_are_never_heard_in_public(app, world, api, login, category):
    from plugins.mediation.models import MediationCase

    m = api(world.mediator)
    body = {"source": "committee", "category": category, "description": "家事纠纷",
            "parties": [{"name": "甲"}, {"name": "乙"}]}
    r = m.post("/api/v1/c/test/mediation/cases", json={**body, "private_hearing": False})
    assert r.status_code == 400 and "private_hearing" in r.get_json()["error"]["fields"]
    assert MediationCase.query.count() == 0
    r = login(world.mediator).post("/c/test/mediation/new", data={
        "source": "committee", "category": category, "description": "家事纠纷", "grid_id": 0, "building_id": 0,
        "urgency": "normal", "applicant_name": "甲", "respondent_name": "乙"})  # the box unticked
    assert r.status_code == 200 and "一律不公开调解" in r.get_data(as_text=True)
    assert MediationCase.query.count() == 0
    r = m.post("/api/v1/c/test/mediation/cases", json=body)
    assert r.status_code == 201
    case = db.session.get(MediationCase, r.get_json()["id"])
    assert case.private_hearing
    case.private_hearing = False  # even if the flag were lost, the category decides
    db.session.commit()
    _agree_all(case, world)
    with pytest.raises(ServiceError) as e:
        _svc().add_session(case, world.mediator, {"held_on": _today(world), "place": "x", "attendees": "y",
                                                  "public": True})
    assert "public" in e.value.fields


# ── extending the one-month target (R20) ────────────────────────────────────────────────
def test_an_extension_needs_every_partys_consent_and_the_flags_honour_it(app, world, case, api, login, runner):
    svc = _svc()
    case.opened_at = case.opened_at - timedelta(days=40)
    db.session.commit()
    assert svc.rule_dates.is_overdue(case, _today(world))
    until = _today(world) + timedelta(days=14)
    before = _counts()
    r = api(world.mediator).post(f"/api/v1/c/test/mediation/cases/{case.id}/extensions",
                                 json={"until": until.isoformat(), "reason": "等待鉴定结果",
                                       "party_ids": [case.parties[0].id]})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "extension_consent_missing"
    assert case.parties[1].name in r.get_json()["error"]["message"]
    db.session.expire_all()
    assert _counts() == before and case.extended_until is None
    assert case.number in runner.invoke(args=["mediation", "overdue", "--community", "test"]).output
    r = login(world.mediator).post(f"/c/test/mediation/cases/{case.id}/extend", data={
        "ex-until": until.isoformat(), "ex-reason": "等待鉴定结果",
        "ext_party": [str(p.id) for p in case.parties]})
    assert r.status_code == 302
    db.session.expire_all()
    assert case.extended_until == until and not svc.rule_dates.is_overdue(case, _today(world))
    assert svc.rule_dates.is_overdue(case, until + timedelta(days=1))
    assert case.number not in runner.invoke(args=["mediation", "overdue", "--community", "test"]).output
    assert case.number not in login(world.mediator).get("/c/test/mediation/?overdue=1").get_data(as_text=True)
    body = api(world.mediator).get(f"/api/v1/c/test/mediation/cases/{case.id}").get_json()
    assert body["overdue"] is False and body["time_limit"] == until.isoformat()
    assert body["extensions"][0]["party_ids"] == [p.id for p in case.parties]
    # a further extension must go past the new day, and stay within a year of the opening
    for bad in (until, svc.add_years(svc.dates.local_date(case.opened_at, world.community), 1) + timedelta(days=1)):
        with pytest.raises(ServiceError) as e:
            svc.extend(case, world.mediator, bad, [p.id for p in case.parties], "再延")
        assert "until" in e.value.fields


def test_the_time_limit_is_counted_in_the_communitys_time_zone(app, world):
    """Opened at 00:30 on 1 February in Shanghai (16:30 UTC on 31 January): the month ends on
    1 March, so an extension must go past 1 March, and 2 March is late without one."""
    svc = _svc()
    case = svc.open_case(world.community, world.mediator, {
        "source": "committee", "category": "pets", "description": "狗叫", "parties": [{"name": "甲"}]},
        when=datetime(2027, 1, 31, 16, 30, tzinfo=timezone.utc))
    assert svc.rule_dates.target_date(case) == date(2027, 3, 1)
    case.extended_until = date(2027, 3, 20)
    assert not svc.rule_dates.is_overdue(case, date(2027, 3, 20)) and svc.rule_dates.is_overdue(case, date(2027, 3, 21))


# ── judicial confirmation is a joint application (R19) ──────────────────────────────────
def test_each_party_agrees_to_apply_for_judicial_confirmation(app, world, ready_case, api, login):
    svc = _svc()
    case = ready_case
    ag = svc.record_agreement(case, world.mediator, {"form": "written", "facts": "f", "terms": "t"})
    with pytest.raises(Conflict) as e:  # not in effect yet
        svc.record_confirmation(ag, world.mediator, [case.parties[0].id])
    assert e.value.code == "not_effective"
    for who in [str(p.id) for p in case.parties] + ["mediator", "seal"]:
        svc.sign(ag, world.mediator, who)
    url = f"/api/v1/c/test/mediation/cases/{case.id}/agreements/{ag.id}/confirmation"
    m = api(world.mediator)
    assert m.post(url, json={"party_ids": [999]}).status_code == 400
    r = m.post(url, json={"party_ids": [case.parties[0].id]})
    assert r.status_code == 200
    conf = r.get_json()["agreement"]["confirmation"]
    assert conf == {"joint": False, "agreed_party_ids": [case.parties[0].id],
                    "missing_party_ids": [case.parties[1].id]}
    assert m.post(url, json={"party_ids": [case.parties[0].id]}).status_code == 409  # recorded already
    assert api(world.resident).get(f"/api/v1/c/test/mediation/cases/{case.id}").get_json()[
        "agreement"]["confirmation"] == {"joint": False}
    r = login(world.mediator).post(f"/c/test/mediation/cases/{case.id}/agreements/{ag.id}/confirmation",
                                   data={"cf_party": str(case.parties[1].id)})
    assert r.status_code == 302
    assert "各方当事人均同意共同申请。" in login(world.resident).get(
        f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)


def test_no_agreement_to_apply_is_recorded_after_the_30_days(app, world, ready_case):
    from plugins.mediation.models import MediationConfirmation

    svc = _svc()
    ag = svc.record_agreement(ready_case, world.mediator, ORAL)
    ag.effective_on = _today(world) - timedelta(days=40)
    db.session.commit()
    with pytest.raises(Conflict) as e:
        svc.record_confirmation(ag, world.mediator, [p.id for p in ready_case.parties])
    assert e.value.code == "deadline_passed" and svc.confirmation_deadline(ag).isoformat() in str(e.value.message)
    with pytest.raises(ServiceError) as e:  # nor dated before the agreement took effect
        svc.record_confirmation(ag, world.mediator, [ready_case.parties[0].id], ag.effective_on - timedelta(days=1))
    assert "on" in e.value.fields
    db.session.rollback()
    assert MediationConfirmation.query.count() == 0


# ── follow-up visits: the mediator chooses the dates ────────────────────────────────────
def test_the_mediator_moves_a_visit_and_adds_another(app, world, ready_case, login, api):
    from plugins.mediation.models import MediationFollowup

    svc = _svc()
    case = ready_case
    with pytest.raises(Conflict):  # no agreement in effect: no visit
        svc.schedule_followup(case, world.mediator, _today(world) + timedelta(days=5))
    today = _today(world)
    ag = svc.record_agreement(case, world.mediator, {**ORAL, "obligations": [
        {"party_id": case.parties[1].id, "description": "加装静音垫", "due_on": today + timedelta(days=10)}]})
    default = MediationFollowup.query.one()
    assert default.due_on == today + timedelta(days=13)  # the default stays
    m = login(world.mediator)
    url = f"/c/test/mediation/cases/{case.id}"
    r = m.post(f"{url}/followups/{default.id}/date", data={"vd-due_on": (today - timedelta(days=1)).isoformat()})
    assert r.status_code == 400 and "该日期已经过去。" in r.get_data(as_text=True)
    assert m.post(f"{url}/followups/{default.id}/date",
                  data={"vd-due_on": (today + timedelta(days=20)).isoformat()}).status_code == 302
    r = m.post(f"{url}/followups/new", data={"vs-due_on": (today + timedelta(days=40)).isoformat(),
                                             "vs-obligation_id": str(ag.obligations[0].id)})
    assert r.status_code == 302
    db.session.expire_all()
    assert [(f.due_on, f.obligation_id) for f in MediationFollowup.query.order_by(MediationFollowup.id)] == [
        (today + timedelta(days=20), ag.obligations[0].id), (today + timedelta(days=40), ag.obligations[0].id)]
    a = api(world.mediator)
    r = a.post(f"/api/v1/c/test/mediation/cases/{case.id}/followups",
               json={"due_on": (today + timedelta(days=400)).isoformat()})
    assert r.status_code == 400 and "due_on" in r.get_json()["error"]["fields"]
    r = a.post(f"/api/v1/c/test/mediation/cases/{case.id}/followups",
               json={"due_on": today.isoformat(), "obligation_id": 999})
    assert r.status_code == 400 and "obligation_id" in r.get_json()["error"]["fields"]
    assert MediationFollowup.query.count() == 2
    svc.record_followup(default, world.mediator, "performed", "已履行")
    r = a.post(f"/api/v1/c/test/mediation/cases/{case.id}/followups/{default.id}/date",
               json={"due_on": today.isoformat()})
    assert r.status_code == 409  # a visit made is not moved
    assert a.post(f"/api/v1/c/test/mediation/cases/{case.id}/followups",
                  json={"due_on": today.isoformat()}).status_code == 201


def test_erasure_removes_who_consented_to_an_extension_or_a_confirmation(app, world, ready_case):
    """R22: after the retention period the extension keeps its day, never who consented or why."""
    from plugins.mediation import models as m

    svc = _svc()
    case = ready_case
    svc.extend(case, world.mediator, _today(world) + timedelta(days=40), [p.id for p in case.parties], "等待鉴定")
    ag = svc.record_agreement(case, world.mediator, ORAL)
    svc.record_confirmation(ag, world.mediator, [p.id for p in case.parties])
    svc.close(case, world.mediator, "resolved")
    assert svc.purge(world.community, today=svc.add_years(_today(world), 4))[0][0] == case.number
    assert m.MediationExtensionConsent.query.count() == m.MediationConfirmation.query.count() == 0
    ext = m.MediationExtension.query.one()
    assert ext.reason is None and ext.until == case.extended_until
