"""Fixtures of the meetings tests: a four-party body with delegates, and helpers.

Services never commit (the entry point does, core.db): the fixtures and set-up helpers below act
as that entry point and commit what they set up, so a test that rolls back after a refusal (as
a request would) keeps them."""
from datetime import timedelta

import pytest

from core.db import transaction
from core.extensions import db
from core.models import utcnow
from plugins.meetings import services as svc
from plugins.meetings.models import Delegate, Org
from tests.plugins.meetings import helper_plugin


@pytest.fixture
def heard():
    helper_plugin.heard.clear()
    return helper_plugin.heard


@pytest.fixture
def body(world):
    """四方联席会议: four organisations; delegates admin, staff, a named property manager (no
    account) and the grid worker; substitutes for the first three."""
    with transaction():
        b = svc.create_body(world.community, world.staff, {
            "name": "四方联席会议", "description": "每月一次。", "quorum_rule": "majority",
            "topic_deadline_days": 3, "orgs": ["社区党委", "居民委员会", "物业公司", "派出所"]})
        orgs = Org.query.filter_by(body_id=b.id).order_by(Org.position).all()
        add = lambda org, name, login=None, role="delegate": svc.add_delegate(  # noqa: E731
            b, world.staff, {"org_id": org.id, "name": name, "login": login, "role": role})
        add(orgs[0], "王书记", "admin")
        add(orgs[0], "刘委员", None, "substitute")
        svc.add_delegate(b, world.admin, {"org_id": orgs[1].id, "name": "李社工", "login": "staff"})  # not by themselves
        add(orgs[1], "赵楼长", "buildinghead", "substitute")
        add(orgs[2], "张经理")
        add(orgs[2], "钱主管", "resident2", "substitute")
        add(orgs[3], "孙警官", "gridworker")
    return b


def delegates(body):
    """{name: Delegate}"""
    return {d.name: d for d in Delegate.query.filter_by(body_id=body.id)}


def orgs(body):
    return Org.query.filter_by(body_id=body.id).order_by(Org.position).all()


def future(days=10, hours=0):
    return (utcnow() + timedelta(days=days, hours=hours)).replace(second=0, microsecond=0)


def schedule(body, actor, days=10, **extra):
    data = {"starts_at": future(days), "place": "社区党群服务中心", "duration": 120}
    data.update(extra)
    with transaction():
        return svc.schedule(body, actor, data)


def quorate(meeting, actor, names=("王书记", "李社工", "张经理")):
    ds = delegates(meeting.body)
    with transaction():
        for n in names:
            svc.record_attendance(meeting, actor, ds[n].id, "present")
    db.session.refresh(meeting)
    return meeting


def approve_all(meeting, world):
    """Each organisation's own delegate approves the minutes: 王书记 (admin), 李社工 (staff) and 孙警官
    (the grid worker) with their accounts; 张经理 has none, so staff record his approval for him."""
    ds = delegates(meeting.body)
    with transaction():
        svc.approve_minutes(meeting, world.admin)
        svc.approve_minutes(meeting, world.staff)
        svc.approve_minutes(meeting, world.grid_worker)
        svc.approve_minutes(meeting, world.staff, ds["张经理"].org_id, ds["张经理"].id, "在纸质纪要上签字")
    return meeting
