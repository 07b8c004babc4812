"""Meetings' personal data: the copy lists the person's delegate seats; erasure replaces the name
on the delegate list by the anonymous id and keeps the seat (past quorums do not change)."""
import pytest

from core.services import personal_data
from plugins.meetings.models import Delegate

pytestmark = pytest.mark.plugins("meetings")


def test_delegate_seat_exported_then_anonymised(world, body):
    user = world.resident2  # 钱主管, substitute for the property company
    [section] = personal_data.export(user)["communities"]
    seats = section["modules"]["meetings"]["delegate_of"]
    assert [(s["name"], s["role"], s["organisation"]) for s in seats] == [("钱主管", "substitute", "物业公司")]
    assert "张经理" not in str(section["modules"])
    count = Delegate.query.count()
    summary = personal_data.erase(user, world.staff, "书面申请")
    assert summary["modules"]["meetings"]["delegates"] == 1
    assert Delegate.query.filter_by(user_id=user.id).one().name == summary["anonymous_id"]
    assert Delegate.query.filter_by(name="钱主管").count() == 0
    assert Delegate.query.count() == count and Delegate.query.filter_by(name="张经理").count() == 1
    assert personal_data.erase(user, world.staff, "again")["changed"] == 0
