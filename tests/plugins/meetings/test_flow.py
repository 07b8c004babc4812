"""A four-party joint meeting from invitation to published minutes, in the browser."""

from zoneinfo import ZoneInfo

import pytest

from core.extensions import db
from core.models import Notification, Proposal
from core.services import proposals
from plugins.meetings.models import ActionItem, AgendaItem, Meeting, MinutesApproval
from tests.plugins.meetings import helper_plugin
from tests.plugins.meetings.conftest import delegates, future, orgs

pytestmark = pytest.mark.plugins("meetings", helper_plugin)


def test_staff_run_a_meeting_from_invitation_to_published_minutes(world, body, login, heard):
    staff = login(world.staff)
    p = proposals.create(world.community, world.resident, {
        "title": "增设电动车充电桩", "body": "楼下没有充电桩，大家只好飞线充电，很危险。", "category": "safety"})
    proposals.transition(p, "coordinating", world.staff, "附议足够")
    when = future(10).astimezone(ZoneInfo("Asia/Shanghai"))
    r = staff.post(f"/c/test/meetings/bodies/{body.id}/schedule", data={
        "title": "四方联席会议十二月例会", "date": when.date().isoformat(), "time": "19:00", "duration": "120",
        "place": "社区党群服务中心", "online_url": "", "chair_org_id": str(orgs(body)[0].id), "chair_reason": ""})
    assert r.status_code == 302, r.data.decode()[:3000]
    meeting = Meeting.query.one()
    url = f"/c/test/meetings/{meeting.id}"
    assert r.headers["Location"].endswith(url)
    # Delegates with an account are invited in-app.
    assert Notification.query.filter_by(user_id=world.grid_worker.id, kind="meetings.invitation").count() == 1
    page = staff.get(url).data.decode()
    assert "四方联席会议十二月例会" in page and "19:00" in page and "社区党委" in page
    # Agenda: a proposal and a topic.
    assert staff.post(f"{url}/agenda", data={"kind": "proposal", "proposal_id": p.id}).status_code == 302
    assert staff.post(f"{url}/agenda", data={"kind": "free", "title": "楼道堆物清理"}).status_code == 302
    # The handed-over case from another module is offered, and can be added.
    assert "3号楼漏水纠纷" in staff.get(url).data.decode()
    staff.post(f"{url}/agenda", data={"kind": "external", "ref": "case:7"})
    assert [a.title for a in AgendaItem.query.order_by(AgendaItem.position)] == [
        "增设电动车充电桩", "楼道堆物清理", "3号楼漏水纠纷（调解转交）"]
    # Attendance: three of four delegates, one by a substitute.
    ds = delegates(body)
    r = staff.post(f"{url}/attendance", data={
        f"status_{ds['王书记'].id}": "present", f"status_{ds['李社工'].id}": "excused",
        f"status_{ds['张经理'].id}": "substitute", f"substitute_{ds['张经理'].id}": ds["钱主管"].id,
        f"status_{ds['孙警官'].id}": "present"})
    assert r.status_code == 302
    page = staff.get(url).data.decode()
    assert "3 / 4" in page and "已达法定人数" in page
    # A resolution sends the proposal to a vote and creates an action item.
    item = AgendaItem.query.filter_by(proposal_id=p.id).one()
    r = staff.post(f"{url}/agenda/{item.id}/resolution", data={
        "outcome": "decided", "text": "同意增设充电桩，交全体居民表决。", "votes_for": "3", "votes_against": "0",
        "votes_abstain": "0", "proposal_to": "voting", "action_title": "物业报价", "owner_org_id": orgs(body)[2].id,
        "owner_name": "张经理", "due_date": future(30).date().isoformat()})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "voting"
    assert ActionItem.query.one().owner_name == "张经理"
    # The proposal page shows what the meeting decided.
    detail = login(world.resident).get(f"/c/test/proposals/{p.id}").data.decode()
    assert "同意增设充电桩" in detail
    # Held: events for the meeting and for each present person with an account.
    assert staff.post(f"{url}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == "held"
    names = [e.name for e in heard]
    assert "resolution.adopted" in names and "meeting.held" in names
    attended = sorted(e.ref for e in heard if e.name == "meeting.attended")
    assert attended == sorted([f"meeting:{meeting.id}:attended:{world.admin.id}",
                               f"meeting:{meeting.id}:attended:{world.resident2.id}",
                               f"meeting:{meeting.id}:attended:{world.grid_worker.id}"])
    # Minutes: draft, review, one approval per organisation, published.
    r = staff.post(f"{url}/minutes", data={"minutes": "## 决定\n- 增设充电桩交表决", "action": "submit"})
    assert r.status_code == 302
    resident = login(world.resident)
    assert "增设充电桩交表决" not in resident.get(url).data.decode()
    # Each organisation's delegate approves with their own account; 张经理 has none, so staff record
    # his approval for him, naming him and saying why.
    party, committee, company, police = orgs(body)
    assert staff.post(f"{url}/minutes/approve", data={"org_id": committee.id}).status_code == 302
    assert login(world.admin).post(f"{url}/minutes/approve", data={"org_id": party.id}).status_code == 302
    assert login(world.grid_worker).post(f"{url}/minutes/approve", data={}).status_code == 302
    staff.post(f"{url}/minutes/approve", data={"org_id": company.id, "delegate_id": ds["张经理"].id,
                                                 "reason": "张经理在纸质纪要上签字"})
    # Approving twice is refused and changes nothing.
    staff.post(f"{url}/minutes/approve", data={"org_id": party.id, "delegate_id": ds["王书记"].id, "reason": "再来"})
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).minutes_state == "approved"
    assert MinutesApproval.query.count() == 4
    staff.post(f"{url}/minutes/publish")
    page = resident.get(url).data.decode()
    assert "增设充电桩交表决" in page
    printable = resident.get(f"{url}/minutes/print")
    assert printable.status_code == 200 and "print-page" in printable.data.decode()
    text = printable.data.decode()
    assert "<script" not in text
    approved_by = text[text.index("确认单位"):]
    for name in ("王书记", "李社工", "张经理", "孙警官"):
        assert name in approved_by
    assert approved_by.count("社工代为登记") == 1 and "由社工代为登记：张经理在纸质纪要上签字" in approved_by


def test_next_meeting_confirms_previous_minutes_and_chair_rotates(world, body, login):
    staff = login(world.staff)
    from tests.plugins.meetings.conftest import quorate, schedule
    from plugins.meetings import services as svc

    first = schedule(body, world.staff, days=5)
    assert first.chair_org.name == "社区党委"
    quorate(first, world.staff)
    svc.close(first, world.staff)
    second = schedule(body, world.staff, days=20)
    assert second.chair_org.name == "居民委员会"
    agenda = AgendaItem.query.filter_by(meeting_id=second.id).order_by(AgendaItem.position).all()
    assert agenda[0].kind == "minutes"
    page = staff.get(f"/c/test/meetings/bodies/{body.id}").data.decode()
    assert "物业公司" in page  # the next chair after the residents' committee

