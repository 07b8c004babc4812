"""Done means (issue 5): a grid worker reports a noise dispute from a phone, it is escalated and
assigned; the mediator records two sessions and an agreement; the follow-up visit comes due and
is recorded; the statistics page shows the case."""
from datetime import timedelta

import pytest

from core.extensions import db

pytestmark = pytest.mark.plugins("mediation")


def _today(world):
    from core import dates

    return dates.today(world.community)


def test_noise_dispute_from_report_to_follow_up(app, world, login, monkeypatch):
    from plugins.mediation.models import MediationCase, MediationFollowup, MediationSession

    heard = []
    monkeypatch.setattr("plugins.mediation.services.emit", lambda community, event: heard.append(event))

    phone = login(world.grid_worker)
    form = phone.get("/c/test/mediation/new").get_data(as_text=True)
    assert 'name="description"' in form and "grid_report" in form
    r = phone.post("/c/test/mediation/new", data={
        "source": "grid_report", "category": "noise", "description": "402反映502夜间噪音，双方争吵",
        "grid_id": world.grid.id, "building_id": world.building.id, "urgency": "normal",
        "applicant_login": "resident", "respondent_login": "resident2", "rights_notified": "y",
        "voluntary_statement": "y", "private_hearing": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    case = MediationCase.query.one()
    url = f"/c/test/mediation/cases/{case.id}"
    assert r.headers["Location"].endswith(url)
    assert heard[-1].name == "mediation.case_opened" and heard[-1].ref == f"mediation:case:{case.id}:opened"
    # The grid worker sees only that the case is registered, not its contents after hand-over.
    assert "402反映502" not in phone.get(url).get_data(as_text=True)

    m = login(world.mediator)
    assert "402反映502" in m.get(url).get_data(as_text=True)
    assert m.post(f"{url}/escalate", data={"rs-reason": "网格调解未果"}).status_code == 302
    assert m.post(f"{url}/assign", data={"as-login": "mediator"}).status_code == 302
    # The case was opened today: a session ten days ago cannot have happened.
    r = m.post(f"{url}/sessions", data={"ss-held_on": (_today(world) - timedelta(days=10)).isoformat(),
                                        "ss-place": "社区调解室", "ss-attendees": "居民甲、居民乙"})
    assert r.status_code == 400
    assert "ss-held_on-err" in r.get_data(as_text=True)
    assert MediationSession.query.count() == 0

    case.opened_at = case.opened_at - timedelta(days=20)
    db.session.commit()
    # R22: the parties' separate consent to processing their personal information comes first.
    r = m.post(f"{url}/sessions", data={"ss-held_on": (_today(world) - timedelta(days=10)).isoformat(),
                                        "ss-place": "社区调解室", "ss-attendees": "居民甲、居民乙"})
    assert r.status_code == 409 and "R22" not in r.get_data(as_text=True)  # the reason in words
    for p in case.parties:
        assert m.post(f"{url}/parties/{p.id}/pi-consent", data={"pc-method": "form"}).status_code == 302
    for days in (10, 3):
        r = m.post(f"{url}/sessions", data={"ss-held_on": (_today(world) - timedelta(days=days)).isoformat(),
                                            "ss-held_at": "19:00", "ss-place": "社区调解室",
                                            "ss-attendees": "居民甲、居民乙", "ss-notes": "听取双方陈述"})
        assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    parties = case.parties
    due = _today(world) - timedelta(days=3)
    agreement = {
        "ag-form": "written", "ag-facts": "夜间噪音", "ag-terms": "晚十点后不练琴",
        "ag-ob1_party": parties[1].id, "ag-ob1_text": "加装静音垫", "ag-ob1_due": due.isoformat(),
        "ag-ob2_party": 0}
    # R16: the grid worker's report named the parties; neither has agreed to mediation yet
    r = m.post(f"{url}/agreements", data=agreement)
    assert r.status_code == 409 and "尚缺" in r.get_data(as_text=True)
    for p in parties:
        assert m.post(f"{url}/parties/{p.id}/consent", data={"consent": "agreed"}).status_code == 302
    r = m.post(f"{url}/agreements", data=agreement)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    for who in (parties[0].id, parties[1].id, "mediator", "seal"):
        assert m.post(f"{url}/agreements/1/sign", data={"sg-who": str(who), "sg-method": "fingerprint"}).status_code == 302
    db.session.expire_all()
    fu = MediationFollowup.query.filter_by(case_id=case.id).one()
    # performance date was 3 days ago, agreement effective today: visit 3 days after today
    assert fu.due_on == _today(world) + timedelta(days=3)
    fu.due_on = _today(world)
    db.session.commit()
    index = m.get("/c/test/mediation/").get_data(as_text=True)
    assert f"{url}#followups" in index  # the visit is due and listed
    r = m.post(f"{url}/followups/{fu.id}", data={"fu-result": "performed", "fu-findings": "已加装静音垫，双方满意"})
    assert r.status_code == 302
    assert heard[-1].name == "mediation.followup_done"
    r = m.post(f"{url}/close", data={"cl-outcome": "resolved"})
    assert r.status_code == 302
    assert heard[-1].name == "mediation.case_resolved" and heard[-1].ref == f"mediation:case:{case.id}:resolved"

    stats = m.get("/c/test/mediation/stats")
    text = stats.get_data(as_text=True)
    assert stats.status_code == 200 and "<svg" in text and "100%" in text
    assert "<script" not in text and "style=" not in text

    # The applicant (a registered resident) sees the status and the agreement, and can print it.
    party = login(world.resident).get(url).get_data(as_text=True)
    assert "晚十点后不练琴" in party and "夜间噪音" not in party and "402反映502" not in party
    printed = login(world.resident).get(f"{url}/agreements/1/print").get_data(as_text=True)
    assert printed.count('class="notice agreement-copy"') == 3  # two parties + the committee


def test_demo_data_tells_the_story(app):
    from core.demo import load_demo
    from core import dates
    from plugins.mediation.models import (MediationBooking, MediationCase, MediationFollowup, MediationHoliday,
                                          MediationRosterSlot, MediationSession, MediationTask)

    community, _created = load_demo("demo")
    noise = MediationCase.query.filter_by(community_id=community.id, category="noise").one()
    assert noise.source == "grid_report" and noise.tier == "community"
    assert [a.user.username for a in noise.assignments] == ["tiaojieyuan"]
    assert MediationSession.query.filter_by(case_id=noise.id).count() == 2
    today = dates.today(community)
    assert MediationFollowup.query.filter(MediationFollowup.case_id == noise.id,
                                          MediationFollowup.due_on <= today).count() == 1
    assert MediationTask.query.count() == 1
    assert MediationRosterSlot.query.filter_by(title="道德门诊").count() == 1
    assert MediationHoliday.query.filter_by(community_id=community.id).count() == 15
    assert MediationBooking.query.count() == 0
    # every agreement of the demo was reached as the rules require (R16–R18)
    from plugins.mediation import services as svc

    agreed = [c for c in MediationCase.query.filter_by(community_id=community.id) if svc.current_agreement(c)]
    assert len(agreed) == 2 and all(svc.agreement_blockers(c) == [] for c in agreed)
    assert all(c.outcome == "resolved" for c in MediationCase.query.filter_by(status="closed"))
    assert svc.confirmation_status(svc.current_agreement(noise))["joint"] is False


def test_demo_noise_case_is_seen_by_its_mediator_and_parties_only(app):
    from core.demo import DEMO_PASSWORD, load_demo
    from plugins.mediation.models import MediationCase

    community, _created = load_demo("demo")
    noise = MediationCase.query.filter_by(community_id=community.id, category="noise").one()

    def client(login):
        c = app.test_client()
        assert c.post("/auth/login", data={"login": login, "password": DEMO_PASSWORD}).status_code == 302
        return c

    url = f"/c/demo/mediation/cases/{noise.id}"
    assert "502住户" in client("tiaojieyuan").get(url).get_data(as_text=True)
    party = client("resident1").get(url).get_data(as_text=True)
    assert "加装防滑静音垫" in party and "502住户夜间" not in party
    stats = client("tiaojieyuan").get("/c/demo/mediation/stats").get_data(as_text=True)
    assert "<svg" in stats
    for login in ("resident4", "staff", "admin", "loudongzhang"):
        c = client(login)
        assert c.get(url).status_code == 404, login
        assert noise.number not in c.get("/c/demo/mediation/").get_data(as_text=True), login
