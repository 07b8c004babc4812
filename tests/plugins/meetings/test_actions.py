"""Action items: owners, due dates, closing, overdue announcements carried onto the next agenda."""
from datetime import timedelta

import pytest

from core import dates
from core.errors import Forbidden, ServiceError
from core.extensions import db
from core.models import Notification
from plugins.meetings import services as svc
from plugins.meetings.models import ActionItem, AgendaItem, Meeting
from tests.plugins.meetings import helper_plugin
from tests.plugins.meetings.conftest import orgs, quorate, schedule

pytestmark = pytest.mark.plugins("meetings", helper_plugin)


def _decide(body, staff, **action):
    m = schedule(body, staff, days=3)
    item = svc.add_agenda_item(m, staff, {"title": "东门僵尸车清理"})
    quorate(m, staff)
    svc.record_resolution(item, staff, {"outcome": "decided", "text": "两周内清理", "actions": [action] if action else []})
    svc.close(m, staff)
    return m, ActionItem.query.filter_by(meeting_id=m.id).one()


def test_every_decision_creates_an_action_item(world, body):
    m, item = _decide(body, world.staff)
    assert item.title == "两周内清理" and item.owner_org_id is None and item.due_date is None


def test_closing_without_owner_or_due_date_is_refused(world, body, login):
    _m, item = _decide(body, world.staff)
    with pytest.raises(ServiceError) as e:
        svc.update_action(item, world.staff, {"status": "done"})
    assert set(e.value.fields) == {"owner_org_id", "due_date"}
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).status == "open"
    r = login(world.staff).post(f"/c/test/meetings/actions/{item.id}", data={
        "status": "done", "owner_org_id": orgs(body)[2].id, "owner_name": "", "due_date": ""}, follow_redirects=True)
    assert "须有责任方和办理期限才能办结" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).status == "open"
    assert db.session.get(ActionItem, item.id).owner_org_id is None  # nothing half-saved
    svc.update_action(item, world.staff, {"owner_org_id": orgs(body)[2].id, "due_date": "2030-01-31", "status": "done"})
    assert item.status == "done" and item.done_at is not None


def test_only_staff_or_the_owner_update_an_item(world, body):
    _m, item = _decide(body, world.staff, title="报价", owner_login="resident2", due_date="2030-01-01")
    assert item.owner_user_id == world.resident2.id
    with pytest.raises(Forbidden):
        svc.update_action(item, world.resident, {"status": "in_progress"})
    svc.update_action(item, world.resident2, {"status": "in_progress"})
    assert item.status == "in_progress"
    assert Notification.query.filter_by(user_id=world.resident2.id, kind="meetings.action").count() == 1


def test_overdue_items_are_announced_once_and_carried_onto_the_next_agenda(world, body, runner, heard, login):
    m, item = _decide(body, world.staff, title="清理三辆僵尸车", owner_org_id=orgs(body)[2].id,
                      owner_login="resident2", due_date=(dates.today() - timedelta(days=1)).isoformat())
    nxt = schedule(body, world.staff, days=20)
    # Scheduling already carried it (it was overdue then) ...
    assert AgendaItem.query.filter_by(meeting_id=nxt.id, kind="overdue").count() == 1
    later = schedule(body, world.staff, days=40)
    AgendaItem.query.filter_by(meeting_id=nxt.id, kind="overdue").delete()
    db.session.commit()
    seq = db.session.get(Meeting, nxt.id).sequence
    heard.clear()
    result = runner.invoke(args=["meetings", "overdue", "--community", "test"])
    assert result.exit_code == 0, result.output
    assert "清理三辆僵尸车" in result.output
    overdue = [e for e in heard if e.name == "action_item.overdue"]
    assert [e.ref for e in overdue] == [f"action_item:{item.id}:overdue"]
    assert overdue[0].user_ids == (world.resident2.id,)
    # ... and the announcement puts it on the next meeting (not the one after) with a new SEQUENCE.
    db.session.expire_all()
    assert AgendaItem.query.filter_by(meeting_id=nxt.id, kind="overdue").count() == 1
    assert AgendaItem.query.filter_by(meeting_id=later.id, kind="overdue").count() == 1  # from scheduling
    assert db.session.get(Meeting, nxt.id).sequence == seq + 1
    assert Notification.query.filter_by(user_id=world.resident2.id, kind="meetings.overdue").count() == 1
    # Idempotent: a second run announces nothing.
    heard.clear()
    result = runner.invoke(args=["meetings", "overdue", "--community", "test"])
    assert result.exit_code == 0 and not [e for e in heard if e.name == "action_item.overdue"]
    assert Notification.query.filter_by(user_id=world.resident2.id, kind="meetings.overdue").count() == 1
    # The body page lists it as overdue and asks for an explanation.
    page = login(world.resident).get(f"/c/test/meetings/bodies/{body.id}").data.decode()
    assert "逾期督办事项" in page and "清理三辆僵尸车" in page and "须说明延误原因" in page


def test_an_overdue_item_needs_an_explanation_before_its_resolution(world, body):
    _m, item = _decide(body, world.staff, title="清理三辆僵尸车", owner_org_id=orgs(body)[2].id,
                       due_date=(dates.today() - timedelta(days=3)).isoformat())
    nxt = schedule(body, world.staff, days=20)
    carried = AgendaItem.query.filter_by(meeting_id=nxt.id, kind="overdue").one()
    assert carried.action_item_id == item.id
    quorate(nxt, world.staff)
    with pytest.raises(ServiceError) as e:
        svc.record_resolution(carried, world.staff, {"outcome": "decided", "text": "限期一周"})
    assert "explanation" in e.value.fields
    svc.update_action(item, world.staff, {"explanation": "车主在外地，已联系拖车公司"})
    res = svc.record_resolution(carried, world.staff, {"outcome": "decided", "text": "限期一周"})
    assert res.outcome == "decided"


def test_cli_unknown_community(runner):
    result = runner.invoke(args=["meetings", "overdue", "--community", "nope"])
    assert result.exit_code != 0
