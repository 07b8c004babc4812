"""Less travelled paths: removing, reopening, filters, candidates."""
from datetime import timedelta

import pytest

from core import dates
from core.db import transaction
from core.extensions import db
from core.models import AuditEntry, Proposal
from core.services import proposals
from plugins.meetings import services as svc
from plugins.meetings.models import ActionItem, AgendaItem, Delegate, Meeting, MinutesApproval, Resolution
from tests.plugins.meetings import helper_plugin
from tests.plugins.meetings.conftest import approve_all, delegates, orgs, quorate, schedule

pytestmark = pytest.mark.plugins("meetings", helper_plugin)
BASE = "/api/v1/c/test/meetings"


def test_remove_a_delegate_and_an_agenda_item(world, body, login):
    staff = login(world.staff)
    d = delegates(body)["孙警官"]
    # removing asks first (who, what it means); the page's own button (confirm=1) removes
    r = staff.post(f"/c/test/meetings/bodies/{body.id}/delegates/{d.id}/remove", headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "孙警官" in r.get_data(as_text=True) and "quorum" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Delegate, d.id).active is True
    staff.post(f"/c/test/meetings/bodies/{body.id}/delegates/{d.id}/remove", data={"confirm": "1"})
    db.session.expire_all()
    assert db.session.get(Delegate, d.id).active is False
    m = schedule(body, world.staff)
    assert svc.quorum(m)["total"] == 3
    item = svc.add_agenda_item(m, world.staff, {"title": "议题"})
    r = staff.post(f"/c/test/meetings/{m.id}/agenda/{item.id}/remove")
    assert r.status_code == 200 and AgendaItem.query.filter_by(meeting_id=m.id).count() == 1
    staff.post(f"/c/test/meetings/{m.id}/agenda/{item.id}/remove", data={"confirm": "1"})
    assert AgendaItem.query.filter_by(meeting_id=m.id).count() == 0


def test_minutes_back_to_draft_withdraws_approvals(world, body, login):
    m = quorate(schedule(body, world.staff), world.staff)
    svc.close(m, world.staff)
    svc.save_minutes(m, world.staff, "## 决定\n- 一")
    svc.submit_minutes(m, world.staff)
    svc.approve_minutes(m, world.staff, orgs(body)[1].id)  # 李社工, the residents' committee's delegate
    login(world.staff).post(f"/c/test/meetings/{m.id}/minutes/reopen")
    db.session.expire_all()
    assert db.session.get(Meeting, m.id).minutes_state == "draft"
    assert MinutesApproval.query.count() == 0
    page = login(world.staff).get(f"/c/test/meetings/{m.id}/minutes")
    assert page.status_code == 200 and "一" in page.data.decode()


def test_api_filters_and_candidates(world, body, api):
    staff, anon = api(world.staff), api(None)
    m = schedule(body, world.staff)
    item = svc.add_agenda_item(m, world.staff, {"title": "议题"})
    quorate(m, world.staff)
    svc.record_resolution(item, world.staff, {"outcome": "decided", "text": "照此办理", "actions": [
        {"title": "过期事项", "owner_name": "张经理", "due_date": (dates.today() - timedelta(days=1)).isoformat()}]})
    assert anon.get(f"{BASE}/bodies/{body.id}/meetings?status=scheduled").json["total"] == 1
    assert anon.get(f"{BASE}/bodies/{body.id}/meetings?status=held").json["total"] == 0
    assert anon.get(f"{BASE}/bodies/{body.id}/meetings?status=nope").status_code == 400
    overdue = anon.get(f"{BASE}/bodies/{body.id}/action-items?status=overdue").json
    assert [a["title"] for a in overdue["items"]] == ["过期事项"] and overdue["items"][0]["overdue"] is True
    cands = staff.get(f"{BASE}/{m.id}/agenda-candidates").json["items"]
    assert cands == [{"ref": "case:7", "title": "3号楼漏水纠纷（调解转交）", "url": "/c/test/cases/7"}]
    assert api(world.resident).get(f"{BASE}/{m.id}/agenda-candidates").status_code == 403
    r = staff.post(f"{BASE}/{m.id}/agenda", json={"kind": "external", "ref": "case:99"})
    assert r.status_code == 400 and "ref" in r.json["error"]["fields"]
    r = staff.put(f"{BASE}/{m.id}", json={"place": "新地点"})
    assert r.status_code == 200 and r.json["place"] == "新地点" and r.json["sequence"] == 2
    action = overdue["items"][0]
    r = staff.put(f"{BASE}/action-items/{action['id']}", json={"status": "done"})
    assert r.status_code == 200 and r.json["status"] == "done"  # owner and due date were given


def test_index_lists_bodies_meetings_and_published_minutes(world, body, client):
    m = quorate(schedule(body, world.staff), world.staff)
    svc.close(m, world.staff)
    svc.save_minutes(m, world.staff, "纪要正文")
    svc.submit_minutes(m, world.staff)
    approve_all(m, world)
    svc.publish_minutes(m, world.staff)
    upcoming = schedule(body, world.staff, days=30)
    page = client.get("/c/test/meetings/").data.decode()
    assert body.name in page and upcoming.title in page and f"/c/test/meetings/{m.id}#minutes" in page


def test_a_proposal_move_refused_after_the_resolution_was_written_saves_nothing(world, body, api, login,
                                                                                 monkeypatch):
    """The resolution, its action item and its audit entry are written before the proposal moves;
    a module refusing the move (``proposal_transition_blocked``) refuses the request, and the entry
    point's transaction leaves none of them, from the API and from the page alike."""
    with transaction():
        p = proposals.create(world.community, world.resident, {
            "title": "修复中心广场路灯", "body": "中心广场有四盏路灯不亮已两个月。", "category": "facilities"})
    m = quorate(schedule(body, world.staff), world.staff)
    with transaction():
        item = svc.add_agenda_item(m, world.staff, {"proposal_id": p.id})
    data = {"outcome": "decided", "text": "进入协调", "proposal_to": "coordinating"}

    def nothing_saved():
        db.session.expire_all()
        assert (Resolution.query.count(), ActionItem.query.count()) == (0, 0)
        assert AuditEntry.query.filter_by(action="meetings.resolution").count() == 0
        assert db.session.get(Proposal, p.id).state == "open"

    monkeypatch.setattr(helper_plugin, "blocked", "正在审计，暂不推进")
    r = api(world.staff).post(f"{BASE}/{m.id}/agenda/{item.id}/resolution", json=data)
    assert r.status_code == 409 and r.json["error"]["code"] == "transition_blocked", r.json
    nothing_saved()
    page = login(world.staff).post(f"/c/test/meetings/{m.id}/agenda/{item.id}/resolution", data=data,
                                   follow_redirects=True)
    assert "正在审计，暂不推进" in page.get_data(as_text=True)
    nothing_saved()
    monkeypatch.setattr(helper_plugin, "blocked", None)
    r = api(world.staff).post(f"{BASE}/{m.id}/agenda/{item.id}/resolution", json=data)
    assert r.status_code == 201, r.json
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "coordinating" and ActionItem.query.count() == 1
