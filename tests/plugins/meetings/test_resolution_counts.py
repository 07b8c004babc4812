"""A resolution agrees with its show of hands (R28): counts never exceed the delegates present
(substitutes included); "decided" needs the body's rule (a simple majority of the votes cast, or
two thirds), "rejected" the opposite; a motion to rescind needs a majority with notice or two
thirds without (RONR). Without counts the chair's declaration stands, and says so. Through the
services, the web form and the API; every refusal saves nothing."""
import pytest

from core.db import transaction
from core.errors import ServiceError
from core.extensions import db
from core.models import AuditEntry, Proposal
from core.services import proposals
from plugins.meetings import services as svc
from plugins.meetings.models import ActionItem, Body, Org, Resolution
from tests.plugins.meetings.conftest import delegates, quorate, schedule

pytestmark = pytest.mark.plugins("meetings")
BASE = "/api/v1/c/test/meetings"


def council(world, n=7, rule="majority", name="居民议事会"):
    """A residents' council of ``n`` delegates (no accounts) in one organisation; its next meeting
    with every delegate present and one topic per test case."""
    body = svc.create_body(world.community, world.staff, {"name": name, "orgs": ["议事会"], "decision_rule": rule})
    org = Org.query.filter_by(body_id=body.id).one()
    for i in range(n):
        svc.add_delegate(body, world.staff, {"org_id": org.id, "name": f"议事代表{i + 1}"})
    return body


def sitting(body, world, days=10, topics=4, present=None):
    m = schedule(body, world.staff, days=days)
    ds = sorted(delegates(body).values(), key=lambda d: d.id)
    for d in ds[:present if present is not None else len(ds)]:
        svc.record_attendance(m, world.staff, d.id, "present")
    items = [svc.add_agenda_item(m, world.staff, {"title": f"议题{i + 1}"}) for i in range(topics)]
    db.session.refresh(m)
    return m, items


def hands(y=None, n=None, a=None, outcome="decided", **extra):
    data = {"outcome": outcome, "text": "照此办理", "votes_for": y, "votes_against": n, "votes_abstain": a}
    data.update(extra)
    return data


def _saved():
    return Resolution.query.count(), ActionItem.query.count(), AuditEntry.query.filter_by(
        action="meetings.resolution").count()


def refused(item, actor, data, code):
    """The service refuses with ``code`` and its entry point's transaction saves nothing."""
    db.session.commit()  # what the test set up, as it stands before a request
    before = _saved()
    with pytest.raises(ServiceError) as e, transaction():
        svc.record_resolution(item, actor, data)
    assert e.value.code == code, (e.value.code, e.value.message)
    assert _saved() == before
    return e.value


# ── simple majority of the votes cast ───────────────────────────────────────────────────
@pytest.mark.parametrize("y,n,a,outcome,ok", [
    (4, 3, 0, "decided", True),    # exactly a majority: 4 of 7 cast
    (3, 3, 1, "decided", False),   # one under: a tie is no majority
    (3, 3, 1, "rejected", True),
    (4, 3, 0, "rejected", False),  # a majority cannot be recorded as rejected
    (2, 1, 4, "decided", True),    # abstentions are not votes cast: 2 of 3
    (0, 0, 7, "decided", False),   # nobody voted: nothing is carried
    (0, 0, 7, "rejected", True),
    (1, 2, 0, "decided", False),   # the case of the issue: 1 for, 2 against
    (None, 1, None, "decided", False),  # a count not given is none
])
def test_simple_majority_boundaries(world, y, n, a, outcome, ok):
    body = council(world)
    _m, items = sitting(body, world, topics=1)
    if ok:
        res = svc.record_resolution(items[0], world.staff, hands(y, n, a, outcome))
        assert (res.outcome, res.rule, res.counted) == (outcome, "majority", True)
    else:
        err = refused(items[0], world.staff, hands(y, n, a, outcome), "outcome_contradicts_votes")
        assert "outcome" in err.fields


# ── two thirds, a setting of the body ───────────────────────────────────────────────────
@pytest.mark.parametrize("y,n,outcome,ok", [
    (4, 2, "decided", True),    # exactly two thirds
    (4, 3, "decided", False),   # a majority, one vote under two thirds
    (4, 3, "rejected", True),
    (4, 2, "rejected", False),
    (5, 2, "decided", True),
])
def test_two_thirds_boundaries(world, y, n, outcome, ok):
    body = council(world, rule="two_thirds")
    _m, items = sitting(body, world, topics=1)
    if ok:
        assert svc.record_resolution(items[0], world.staff, hands(y, n, 0, outcome)).rule == "two_thirds"
    else:
        err = refused(items[0], world.staff, hands(y, n, 0, outcome), "outcome_contradicts_votes")
        assert "two thirds" in str(err.message)


# ── hands counted against those present ─────────────────────────────────────────────────
def test_counts_up_to_those_present_with_substitutes(world, body):
    """Three delegates in person and 张经理 represented by his substitute: four may vote, not five."""
    m = schedule(body, world.staff)
    ds = delegates(body)
    for name in ("王书记", "李社工", "孙警官"):
        svc.record_attendance(m, world.staff, ds[name].id, "present")
    svc.record_attendance(m, world.staff, ds["张经理"].id, "substitute", ds["钱主管"].id)
    a, b, c = (svc.add_agenda_item(m, world.staff, {"title": t}) for t in ("东门僵尸车", "楼道堆物", "飞线充电"))
    err = refused(a, world.staff, hands(3, 1, 1), "votes_exceed_present")  # present + 1
    assert set(err.fields) == {"votes_for", "votes_against", "votes_abstain"}
    assert "4" in str(err.message) and "5" in str(err.message)
    refused(a, world.staff, hands(5, None, None), "votes_exceed_present")
    assert svc.record_resolution(a, world.staff, hands(3, 1, 0)).votes_for == 3  # = present
    assert svc.record_resolution(b, world.staff, hands(2, 1, 1)).votes_abstain == 1  # = present
    # An absent delegate's hand is not counted: with 王书记 absent, three may vote.
    svc.record_attendance(m, world.staff, ds["王书记"].id, "absent")
    refused(c, world.staff, hands(2, 1, 1), "votes_exceed_present")
    svc.record_resolution(c, world.staff, hands(2, 1, 0))


def test_deferral_by_a_show_of_hands_needs_a_majority(world):
    body = council(world)
    _m, items = sitting(body, world, topics=2)
    refused(items[0], world.staff, hands(3, 3, 1, "deferred"), "outcome_contradicts_votes")
    svc.record_resolution(items[0], world.staff, hands(4, 3, 0, "deferred"))
    svc.record_resolution(items[1], world.staff, {"outcome": "deferred", "text": "下次再议"})  # declared


def test_a_refused_count_moves_no_proposal(world, body):
    p = proposals.create(world.community, world.resident, {
        "title": "修复中心广场路灯", "body": "中心广场有四盏路灯不亮已两个月。", "category": "facilities"})
    m = schedule(body, world.staff)
    item = svc.add_agenda_item(m, world.staff, {"proposal_id": p.id})
    quorate(m, world.staff)
    refused(item, world.staff, hands(1, 2, 0, proposal_to="coordinating"), "outcome_contradicts_votes")
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "open"
    svc.record_resolution(item, world.staff, hands(2, 1, 0, proposal_to="coordinating"))
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "coordinating"


# ── motions to rescind ──────────────────────────────────────────────────────────────────
def _earlier_decision(world, body):
    first, items = sitting(body, world, days=3, topics=1)
    decision = svc.record_resolution(items[0], world.staff, hands(5, 2, 0, text="东门改为只进不出"))
    svc.close(first, world.staff)
    return decision


def test_rescind_with_notice_needs_a_majority(world):
    body = council(world)
    decision = _earlier_decision(world, body)
    _m, items = sitting(body, world, days=20, topics=2)
    refused(items[0], world.staff, hands(3, 3, 1, rescinds_id=decision.id, notice_given=True),
            "outcome_contradicts_votes")  # one under
    res = svc.record_resolution(items[0], world.staff, hands(4, 3, 0, rescinds_id=decision.id, notice_given=True))
    assert (res.rescinds_id, res.notice_given, res.rule) == (decision.id, True, "majority")
    # Rescinded once: a second motion to rescind the same decision is refused.
    err = refused(items[1], world.staff, hands(7, 0, 0, rescinds_id=decision.id, notice_given=True), "invalid")
    assert "rescinds_id" in err.fields


def test_rescind_without_notice_needs_two_thirds(world):
    body = council(world)
    decision = _earlier_decision(world, body)
    _m, items = sitting(body, world, days=20, topics=1)
    err = refused(items[0], world.staff, hands(4, 3, 0, rescinds_id=decision.id), "outcome_contradicts_votes")
    assert "two thirds" in str(err.message) and "notice" in str(err.message)
    res = svc.record_resolution(items[0], world.staff, hands(4, 2, 1, rescinds_id=decision.id))  # exactly 2/3
    assert (res.notice_given, res.rule) == (False, "two_thirds")


def test_rescind_with_notice_keeps_a_two_thirds_bodys_rule(world):
    body = council(world, rule="two_thirds")
    decision = _earlier_decision(world, body)
    _m, items = sitting(body, world, days=20, topics=1)
    refused(items[0], world.staff, hands(4, 3, 0, rescinds_id=decision.id, notice_given="on"),
            "outcome_contradicts_votes")
    assert svc.record_resolution(items[0], world.staff, hands(4, 2, 0, rescinds_id=decision.id,
                                                              notice_given="on")).rule == "two_thirds"


def test_what_a_motion_to_rescind_may_name(world, body):
    other = council(world, name="物业联席会")
    foreign = _earlier_decision(world, other)
    mine = _earlier_decision(world, council(world, name="居民议事会"))
    council_body = db.session.get(Body, mine.meeting.body_id)
    _m, items = sitting(council_body, world, days=20, topics=2)
    deferred = svc.record_resolution(items[1], world.staff, {"outcome": "deferred", "text": "暂缓"})
    for bad in (foreign.id, deferred.id, 99999):
        err = refused(items[0], world.staff, hands(7, 0, 0, rescinds_id=bad), "invalid")
        assert "rescinds_id" in err.fields
    err = refused(items[0], world.staff, hands(7, 0, 0, rescinds_id="x"), "invalid_parameter")  # no id at all
    assert "rescinds_id" in err.fields
    err = refused(items[0], world.staff, hands(7, 0, 0, notice_given=True), "invalid")  # notice, but of what?
    assert "notice_given" in err.fields
    err = refused(items[0], world.staff, hands(7, 0, 0, rescinds_id=mine.id, notice_given="maybe"), "invalid")
    assert "notice_given" in err.fields
    assert [r.id for r in svc.rescindable(items[0].meeting)] == [mine.id]


def test_the_database_keeps_a_decision_rescinded_once(world):
    """Two motions that both passed the service's check: the partial unique index refuses the second."""
    body = council(world)
    decision = _earlier_decision(world, body)
    m, items = sitting(body, world, days=20, topics=2)
    db.session.add(Resolution(meeting_id=m.id, agenda_item_id=items[0].id, outcome="decided", text="撤销",
                              rule="two_thirds", rescinds_id=decision.id))
    db.session.commit()
    from sqlalchemy.exc import IntegrityError

    db.session.add(Resolution(meeting_id=m.id, agenda_item_id=items[1].id, outcome="decided", text="再撤销",
                              rule="two_thirds", rescinds_id=decision.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert Resolution.query.filter_by(rescinds_id=decision.id).count() == 1


def test_a_rejected_motion_to_rescind_leaves_the_decision_standing(world):
    body = council(world)
    decision = _earlier_decision(world, body)
    _m, items = sitting(body, world, days=20, topics=2)
    svc.record_resolution(items[0], world.staff, hands(2, 5, 0, outcome="rejected", rescinds_id=decision.id))
    assert [r.id for r in svc.rescindable(items[0].meeting)] == [decision.id]
    rescinding = svc.record_resolution(items[1], world.staff, hands(5, 2, 0, rescinds_id=decision.id))
    assert [r.id for r in svc.rescindable(items[0].meeting)] == [rescinding.id]  # the rescinding decision only


# ── without counts ──────────────────────────────────────────────────────────────────────
def test_without_counts_the_chairs_declaration_stands_and_says_so(world, body, login, api):
    m = quorate(schedule(body, world.staff), world.staff)
    item = svc.add_agenda_item(m, world.staff, {"title": "楼道堆物清理"})
    res = svc.record_resolution(item, world.staff, {"outcome": "decided", "text": "两周内清理"})
    assert res.counted is False and (res.votes_for, res.votes_against, res.votes_abstain) == (None, None, None)
    page = login(world.resident).get(f"/c/test/meetings/{m.id}").data.decode()
    assert "未计票：由主持人宣布结果。" in page
    data = api(None).get(f"{BASE}/{m.id}").json["resolutions"][0]
    assert (data["counted"], data["declared_by_chair"], data["rule"]) == (False, True, "majority")


# ── the web form and the API ────────────────────────────────────────────────────────────
def test_the_web_form_refuses_a_count_that_contradicts_the_outcome(world, body, login):
    m = quorate(schedule(body, world.staff), world.staff)
    item = svc.add_agenda_item(m, world.staff, {"title": "楼道堆物清理"})
    staff = login(world.staff)
    url = f"/c/test/meetings/{m.id}/agenda/{item.id}/resolution"
    page = staff.get(f"/c/test/meetings/{m.id}").data.decode()
    assert "所投票数过半数" in page and "最多可计3票" in page
    before = _saved()
    r = staff.post(url, data={"outcome": "decided", "text": "清理", "votes_for": "1", "votes_against": "2",
                              "votes_abstain": "0"}, follow_redirects=True)
    assert "赞成1票、反对2票，未超过所投票数的一半，不能记为通过。" in r.data.decode()
    r = staff.post(url, data={"outcome": "decided", "text": "清理", "votes_for": "4", "votes_against": "0"},
                   follow_redirects=True)
    assert "举手表决合计4票，超过出席代表人数（3人，含替补）。" in r.data.decode()
    assert _saved() == before
    staff.post(url, data={"outcome": "rejected", "text": "不清理", "votes_for": "1", "votes_against": "2"})
    assert Resolution.query.one().outcome == "rejected"
    page = staff.get(f"/c/test/meetings/{m.id}").data.decode()
    assert "通过条件：所投票数过半数" in page


def test_the_web_form_records_a_motion_to_rescind(world, login):
    body = council(world)
    decision = _earlier_decision(world, body)
    m, items = sitting(body, world, days=20, topics=1)
    staff = login(world.staff)
    page = staff.get(f"/c/test/meetings/{m.id}").data.decode()
    assert f'<option value="{decision.id}">' in page
    url = f"/c/test/meetings/{m.id}/agenda/{items[0].id}/resolution"
    r = staff.post(url, data={"outcome": "decided", "text": "撤销东门决定", "votes_for": "4", "votes_against": "3",
                              "rescinds_id": str(decision.id)}, follow_redirects=True)
    assert "未事先通知的撤销动议须获所投票数的三分之二以上" in r.data.decode()
    assert Resolution.query.filter_by(rescinds_id=decision.id).count() == 0
    staff.post(url, data={"outcome": "decided", "text": "撤销东门决定", "votes_for": "4", "votes_against": "3",
                          "rescinds_id": str(decision.id), "notice_given": "1"})
    assert Resolution.query.filter_by(rescinds_id=decision.id).one().notice_given is True
    page = login(world.resident).get(f"/c/test/meetings/{decision.meeting_id}").data.decode()
    assert "已撤销" in page
    assert "撤销" in login(world.resident).get(f"/c/test/meetings/{m.id}").data.decode()


def test_the_api_refuses_with_a_code_and_saves_nothing(world, api):
    staff = api(world.staff)
    r = staff.post(f"{BASE}/bodies", json={"name": "议事会", "orgs": ["一组"], "decision_rule": "unanimous"})
    assert r.status_code == 400 and "decision_rule" in r.json["error"]["fields"]
    assert Body.query.count() == 0
    created = staff.post(f"{BASE}/bodies", json={"name": "议事会", "orgs": ["一组"], "decision_rule": "two_thirds"})
    assert created.status_code == 201 and created.json["decision_rule"] == "two_thirds"
    body = db.session.get(Body, created.json["id"])
    org = created.json["organisations"][0]["id"]
    for i in range(5):
        staff.post(f"{BASE}/bodies/{body.id}/delegates", json={"org_id": org, "name": f"代表{i}"})
    m, items = sitting(body, world, topics=2)
    url = f"{BASE}/{m.id}/agenda/{items[0].id}/resolution"
    r = staff.post(url, json={"outcome": "decided", "text": "同意", "votes_for": 3, "votes_against": 2})
    assert r.status_code == 400 and r.json["error"]["code"] == "outcome_contradicts_votes"
    r = staff.post(url, json={"outcome": "decided", "text": "同意", "votes_for": 4, "votes_against": 2})
    assert r.status_code == 400 and r.json["error"]["code"] == "votes_exceed_present"
    assert Resolution.query.count() == 0
    r = staff.post(url, json={"outcome": "decided", "text": "同意", "votes_for": 4, "votes_against": 1})
    assert r.status_code == 201 and (r.json["rule"], r.json["counted"]) == ("two_thirds", True)
    # The rule is a setting of the body: to a simple majority, and 3 to 2 now carries.
    r = staff.put(f"{BASE}/bodies/{body.id}", json={"decision_rule": "majority"})
    assert r.status_code == 200 and r.json["decision_rule"] == "majority" and r.json["name"] == "议事会"
    r = staff.post(f"{BASE}/{m.id}/agenda/{items[1].id}/resolution",
                   json={"outcome": "decided", "text": "同意", "votes_for": 3, "votes_against": 2})
    assert r.status_code == 201 and r.json["rule"] == "majority"
    assert api(world.resident).put(f"{BASE}/bodies/{body.id}", json={"decision_rule": "two_thirds"}).status_code == 403


def test_the_body_form_sets_the_rule(world, login):
    staff = login(world.staff)
    r = staff.post("/c/test/meetings/bodies/new", data={
        "name": "物业联席会", "orgs": "居委会\n业委会\n物业公司", "quorum_rule": "majority",
        "decision_rule": "two_thirds", "topic_deadline_days": "3"})
    assert r.status_code == 302
    body = Body.query.one()
    assert body.decision_rule == "two_thirds"
    assert "所投票数的三分之二以上" in staff.get(f"/c/test/meetings/bodies/{body.id}").data.decode()
    r = staff.post(f"/c/test/meetings/bodies/{body.id}/edit", data={
        "name": "物业联席会", "quorum_rule": "majority", "decision_rule": "unanimous", "topic_deadline_days": "3"})
    assert r.status_code == 200
    db.session.expire_all()
    assert db.session.get(Body, body.id).decision_rule == "two_thirds"
