"""Bad input gets a clear error and changes nothing (issue 4, Quality; R29, R32)."""
from datetime import timedelta

import pytest

from core.db import transaction
from core.errors import Conflict, Forbidden, ServiceError
from core.extensions import db
from core.models import AuditEntry, Proposal, utcnow
from core.services import proposals
from plugins.meetings import services as svc
from plugins.meetings.models import ActionItem, AgendaItem, Attendance, Body, Meeting, MinutesApproval, Resolution
from tests.plugins.meetings.conftest import delegates, future, orgs, quorate, schedule

from tests.plugins.meetings import helper_plugin  # noqa: E402

pytestmark = pytest.mark.plugins("meetings", helper_plugin)


def _counts():
    return (Meeting.query.count(), AgendaItem.query.count(), Attendance.query.count(), Resolution.query.count(),
            ActionItem.query.count(), MinutesApproval.query.count())


def test_a_meeting_in_the_past_is_refused_in_the_browser(world, body, login):
    staff = login(world.staff)
    before = _counts()
    r = staff.post(f"/c/test/meetings/bodies/{body.id}/schedule", data={
        "date": (utcnow() - timedelta(days=2)).date().isoformat(), "time": "19:00", "duration": "120",
        "place": "会议室", "chair_org_id": orgs(body)[0].id})
    assert r.status_code == 200
    assert "会议时间不能早于现在。" in r.data.decode()
    assert _counts() == before
    db.session.expire_all()
    assert db.session.get(Body, body.id).rotation_index == 0  # the chair's turn is not used up


def test_a_meeting_without_place_or_link_is_refused(world, body):
    with pytest.raises(ServiceError) as e:
        svc.schedule(body, world.staff, {"starts_at": future(3)})
    assert "place" in e.value.fields


def test_overriding_the_rotation_needs_a_reason(world, body):
    police = orgs(body)[3]
    with pytest.raises(ServiceError) as e:
        schedule(body, world.staff, chair_org_id=police.id)
    assert "chair_reason" in e.value.fields
    assert Meeting.query.count() == 0
    m = schedule(body, world.staff, chair_org_id=police.id, chair_reason="本次议题为治安问题")
    assert m.chair_org_id == police.id and m.chair_reason == "本次议题为治安问题"
    # The rotation goes on after the chair who actually served.
    assert svc.rotation(body)[1].name == "社区党委"


def test_a_withdrawn_proposal_cannot_go_on_the_agenda(world, body, login):
    p = proposals.create(world.community, world.resident, {
        "title": "遛狗必须拴绳", "body": "小区内常有大型犬不拴绳，孩子和老人害怕。", "category": "pets"})
    proposals.transition(p, "withdrawn", world.resident)
    m = schedule(body, world.staff)
    seq = m.sequence
    r = login(world.staff).post(f"/c/test/meetings/{m.id}/agenda", data={"kind": "proposal", "proposal_id": p.id},
                                follow_redirects=True)
    assert "不能列入议程" in r.data.decode()
    assert AgendaItem.query.filter_by(meeting_id=m.id).count() == 0
    db.session.expire_all()
    assert db.session.get(Meeting, m.id).sequence == seq


def test_the_same_proposal_twice_is_refused(world, body):
    p = proposals.create(world.community, world.resident, {
        "title": "遛狗必须拴绳", "body": "小区内常有大型犬不拴绳，孩子和老人害怕。", "category": "pets"})
    m = schedule(body, world.staff)
    svc.add_agenda_item(m, world.staff, {"proposal_id": p.id})
    with pytest.raises(Conflict):
        svc.add_agenda_item(m, world.staff, {"proposal_id": p.id})
    assert AgendaItem.query.filter_by(meeting_id=m.id).count() == 1


def test_residents_submit_topics_only_before_the_deadline(world, body, login):
    m = schedule(body, world.staff, days=10)  # topics due 3 days before: still open
    r = login(world.resident).post(f"/c/test/meetings/{m.id}/agenda", data={"kind": "free", "title": "楼道灯坏了"})
    assert r.status_code == 302
    assert AgendaItem.query.filter_by(meeting_id=m.id).one().submitted_by_id == world.resident.id
    soon = schedule(body, world.staff, days=1)  # the deadline has passed
    with pytest.raises(Conflict) as e:
        svc.add_agenda_item(soon, world.resident, {"title": "晚了的议题"})
    assert e.value.code == "deadline_passed"
    # Residents may only add topics, not proposals, and never remove items.
    item = AgendaItem.query.filter_by(meeting_id=m.id).one()
    with pytest.raises(Forbidden):
        svc.remove_agenda_item(m, world.resident, item)


def test_a_substitute_who_is_not_a_delegate_is_refused(world, body):
    m = schedule(body, world.staff)
    ds = delegates(body)
    for wrong in (ds["孙警官"].id, ds["刘委员"].id, 99999):  # a delegate; another org's substitute; nobody
        with pytest.raises(ServiceError) as e:
            svc.record_attendance(m, world.staff, ds["张经理"].id, "substitute", wrong)
        assert "substitute_id" in e.value.fields
    assert Attendance.query.count() == 0
    svc.record_attendance(m, world.staff, ds["张经理"].id, "substitute", ds["钱主管"].id)
    assert Attendance.query.one().substitute_id == ds["钱主管"].id


def test_the_attendance_form_saves_all_rows_or_none(world, body, login):
    m = schedule(body, world.staff)
    ds = delegates(body)
    login(world.staff).post(f"/c/test/meetings/{m.id}/attendance", data={
        f"status_{ds['王书记'].id}": "present",
        f"status_{ds['张经理'].id}": "substitute", f"substitute_{ds['张经理'].id}": ds["刘委员"].id})
    assert Attendance.query.count() == 0


def test_recording_a_delegate_again_updates_the_one_row(world, body):
    m = schedule(body, world.staff)
    d = delegates(body)["王书记"]
    svc.record_attendance(m, world.staff, d.id, "absent")
    svc.record_attendance(m, world.staff, d.id, "present")
    assert [a.status for a in Attendance.query.all()] == ["present"]


def test_without_quorum_only_adjournment_can_be_recorded(world, body, login):
    """R29: two of four delegates is not a majority."""
    m = schedule(body, world.staff)
    item = svc.add_agenda_item(m, world.staff, {"title": "楼道堆物清理"})
    quorate(m, world.staff, names=("王书记", "李社工"))
    assert svc.quorum(m)["met"] is False
    with pytest.raises(Conflict) as e:
        svc.record_resolution(item, world.staff, {"outcome": "decided", "text": "清理"})
    assert e.value.code == "no_quorum"
    with pytest.raises(Conflict):
        svc.close(m, world.staff)
    page = login(world.staff).get(f"/c/test/meetings/{m.id}").data.decode()
    assert "记录决议" not in page and "只能休会" in page
    assert Resolution.query.count() == 0 and ActionItem.query.count() == 0
    with pytest.raises(ServiceError):
        svc.adjourn(m, world.staff, "")
    svc.adjourn(m, world.staff, "法定人数不足，改期再议")
    assert m.status == "adjourned" and m.quorum_met is False
    with pytest.raises(Conflict):
        svc.record_resolution(item, world.staff, {"outcome": "deferred", "text": "改期"})


def test_quorum_rules(world, body):
    m = schedule(body, world.staff)
    quorate(m, world.staff, names=("王书记", "李社工", "张经理"))
    assert svc.quorum(m)["met"] is True
    body.quorum_rule = "all_orgs"
    db.session.commit()
    assert svc.quorum(m)["met"] is False  # the police station is missing
    svc.record_attendance(m, world.staff, delegates(body)["孙警官"].id, "present")
    assert svc.quorum(m)["met"] is True
    body.quorum_rule, body.quorum_number = "number", 5
    db.session.commit()
    assert svc.quorum(m)["met"] is False


def test_a_resolution_that_cannot_move_the_proposal_saves_nothing(world, body):
    p = proposals.create(world.community, world.resident, {
        "title": "修复中心广场路灯", "body": "中心广场有四盏路灯不亮已两个月。", "category": "facilities"})
    m = schedule(body, world.staff)
    item = svc.add_agenda_item(m, world.staff, {"proposal_id": p.id})
    quorate(m, world.staff)
    with pytest.raises(ServiceError) as e:  # open → voting is not a step of the core
        svc.record_resolution(item, world.staff, {"outcome": "decided", "text": "交表决", "proposal_to": "voting"})
    assert "proposal_to" in e.value.fields
    assert Resolution.query.count() == 0 and ActionItem.query.count() == 0
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "open"
    svc.record_resolution(item, world.staff, {"outcome": "decided", "text": "进入协调", "proposal_to": "coordinating"})
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "coordinating"
    with pytest.raises(Conflict):
        svc.record_resolution(item, world.staff, {"outcome": "rejected", "text": "再来一次"})
    assert Resolution.query.count() == 1


def test_minutes_approved_twice_and_out_of_order(world, body, login):
    m = schedule(body, world.staff)
    quorate(m, world.staff)
    with pytest.raises(Conflict):
        svc.save_minutes(schedule(body, world.staff, days=30), world.staff, "还没开会")
    svc.close(m, world.staff)
    with pytest.raises(Conflict):
        svc.approve_minutes(m, world.staff, orgs(body)[0].id)  # still a draft
    with pytest.raises(ServiceError):
        svc.submit_minutes(m, world.staff)  # nothing written
    svc.save_minutes(m, world.staff, "## 决定\n- 同意")
    svc.submit_minutes(m, world.staff)
    # The grid worker is the police station's delegate and approves for it; not for another.
    svc.approve_minutes(m, world.grid_worker)
    with pytest.raises(Forbidden):
        svc.approve_minutes(m, world.grid_worker, orgs(body)[0].id)
    with pytest.raises(Conflict) as e:
        svc.approve_minutes(m, world.grid_worker)
    assert e.value.code == "already_approved"
    with pytest.raises(Conflict):
        svc.publish_minutes(m, world.staff)  # not every organisation has approved
    svc.approve_minutes(m, world.admin)
    svc.approve_minutes(m, world.staff)
    zhang = delegates(body)["张经理"]
    svc.approve_minutes(m, world.staff, zhang.org_id, zhang.id, "在纸质纪要上签字")
    assert m.minutes_state == "approved"
    with pytest.raises(Conflict) as e:
        svc.approve_minutes(m, world.staff, orgs(body)[0].id)
    assert e.value.code == "already_approved"
    assert MinutesApproval.query.count() == 4
    with pytest.raises(Conflict):
        svc.save_minutes(m, world.staff, "改一改")
    svc.publish_minutes(m, world.staff)
    assert m.minutes_state == "published"


def test_residents_cannot_run_meetings(world, body, login):
    resident = login(world.resident)
    assert resident.get(f"/c/test/meetings/bodies/{body.id}/schedule").status_code == 403
    assert resident.get("/c/test/meetings/bodies/new").status_code == 403
    m = schedule(body, world.staff)
    resident.post(f"/c/test/meetings/{m.id}/attendance", data={f"status_{delegates(body)['王书记'].id}": "present"})
    resident.post(f"/c/test/meetings/{m.id}/cancel", data={"reason": "不想开"})
    assert Attendance.query.count() == 0
    db.session.expire_all()
    assert db.session.get(Meeting, m.id).status == "scheduled"
    assert AuditEntry.query.filter_by(action="meetings.meeting.cancelled").count() == 0


def test_unknown_and_foreign_objects_are_404(world, body, login):
    staff = login(world.staff)
    assert staff.get("/c/test/meetings/999").status_code == 404
    assert staff.get("/c/test/meetings/bodies/999").status_code == 404
    m = schedule(body, world.staff)
    assert login(world.outsider).get(f"/c/other/meetings/{m.id}").status_code == 404


def test_a_disabled_module_shows_nothing(world, body, client):
    from core.services.plugins import set_enabled

    m = schedule(body, world.staff)
    assert "/c/test/meetings/" in client.get("/c/test/").data.decode()
    with pytest.raises(Conflict) as e:  # a meeting still to come: the admin must confirm
        set_enabled(world.community, "meetings", False)
    assert e.value.code == "open_business"
    set_enabled(world.community, "meetings", False, confirm=True)
    assert client.get("/c/test/meetings/").status_code == 404
    assert client.get(f"/c/test/meetings/{m.id}/invite.ics").status_code == 404
    assert client.get(f"/api/v1/c/test/meetings/{m.id}").status_code == 404
    assert "/c/test/meetings/" not in client.get("/c/test/").data.decode()


def test_a_proposal_withdrawn_after_it_was_put_on_the_agenda_leaves_it(world, body):
    p = proposals.create(world.community, world.resident, {
        "title": "遛狗必须拴绳", "body": "小区内常有大型犬不拴绳，孩子和老人害怕。", "category": "pets"})
    m = schedule(body, world.staff)
    svc.add_agenda_item(m, world.staff, {"proposal_id": p.id})
    db.session.commit()
    seq = m.sequence
    with transaction():  # the author's request: the hook runs in its transaction
        proposals.transition(p, "withdrawn", world.resident)
    assert AgendaItem.query.filter_by(meeting_id=m.id).count() == 0
    assert db.session.get(Meeting, m.id).sequence == seq + 1


def test_a_resident_who_attended_is_announced(world, body):
    from tests.plugins.meetings import helper_plugin

    m = quorate(schedule(body, world.staff), world.staff)
    svc.record_resident(m, world.staff, world.resident)
    svc.record_resident(m, world.staff, world.resident)  # twice: still one row
    assert Attendance.query.filter_by(meeting_id=m.id, user_id=world.resident.id).count() == 1
    assert svc.quorum(m)["present"] == 3  # residents do not count for quorum
    helper_plugin.heard.clear()
    svc.close(m, world.staff)
    refs = {e.ref for e in helper_plugin.heard if e.name == "meeting.attended"}
    assert f"meeting:{m.id}:attended:{world.resident.id}" in refs
