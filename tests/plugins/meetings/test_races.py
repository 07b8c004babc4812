"""Concurrent attendance records for one delegate leave one row (real multi-worker server)."""
import pytest

from core.extensions import db
from core.services import tokens
from plugins.meetings.models import Attendance
from tests.live import live_server, request, storm
from tests.plugins.meetings.conftest import delegates, schedule

pytestmark = pytest.mark.plugins("meetings")


def test_concurrent_attendance_for_one_delegate_leaves_one_row(app, world, body, tmp_path, db_url):
    m = schedule(body, world.staff)
    d = delegates(body)["王书记"]
    token = tokens.create(world.staff, "race")[1]
    mid, did = m.id, d.id
    db.session.commit()  # the set-up, before the server's workers read it
    db.session.remove()
    statuses = ["present", "absent", "excused"]
    with live_server(db_url, tmp_path, plugins=("meetings",)) as base:
        url = f"{base}/api/v1/c/test/meetings/{mid}/attendance"
        results = storm(24, lambda i: request("POST", url, token=token,
                                              body={"delegate_id": did, "status": statuses[i % 3]}))
    codes = [r[0] if isinstance(r, tuple) else repr(r) for r in results]
    assert set(codes) == {201}, codes
    db.session.expire_all()
    rows = Attendance.query.filter_by(meeting_id=mid, delegate_id=did).all()
    assert len(rows) == 1
    assert rows[0].status in statuses


def test_concurrent_resident_sign_ins_leave_one_row(app, world, body, tmp_path, db_url):
    m = schedule(body, world.staff)
    token = tokens.create(world.staff, "race")[1]
    mid = m.id
    db.session.commit()  # the set-up, before the server's workers read it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("meetings",)) as base:
        url = f"{base}/api/v1/c/test/meetings/{mid}/attendance"
        results = storm(12, lambda i: request("POST", url, token=token, body={"login": "resident"}))
    assert {r[0] for r in results} == {201}, results
    db.session.expire_all()
    assert Attendance.query.filter_by(meeting_id=mid, delegate_id=None).count() == 1
