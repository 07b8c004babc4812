"""Every change a calendar shows raises SEQUENCE (R33): time, place, status, and the attendees,
so adding or removing a delegate too. Through the services, the web, the API and the CLI."""
import pytest

from core.extensions import db
from plugins.meetings import services as svc
from plugins.meetings.models import Meeting
from tests.plugins.meetings.conftest import delegates, orgs, quorate, schedule

pytestmark = pytest.mark.plugins("meetings")
BASE = "/api/v1/c/test/meetings"


def _event(client, meeting_id):
    """(SEQUENCE, number of ATTENDEE lines, the attendees' names) of a meeting's invitation."""
    raw = client.get(f"/c/test/meetings/{meeting_id}/invite.ics").data.decode()
    text = raw.replace("\r\n ", "")
    lines = text.split("\r\n")
    seq = int(next(ln for ln in lines if ln.startswith("SEQUENCE:")).split(":", 1)[1])
    attendees = [ln for ln in lines if ln.startswith("ATTENDEE;")]
    return seq, len(attendees), text


def _sequences(*meetings):
    db.session.expire_all()
    return [db.session.get(Meeting, m.id).sequence for m in meetings]


def test_adding_and_removing_a_delegate_raise_sequence_on_every_meeting(world, body, client):
    held = quorate(schedule(body, world.staff, days=3), world.staff)
    svc.close(held, world.staff)
    nxt = schedule(body, world.staff, days=30)
    other = svc.create_body(world.community, world.staff, {"name": "物业联席会", "orgs": ["居委会"]})
    elsewhere = schedule(other, world.staff, days=12)
    before = _sequences(held, nxt, elsewhere)
    seq, n, _text = _event(client, nxt.id)
    assert (seq, n) == (before[1], 4)
    police = orgs(body)[3]
    d = svc.add_delegate(body, world.admin, {"org_id": police.id, "name": "周警官"})
    assert _sequences(held, nxt, elsewhere) == [before[0] + 1, before[1] + 1, before[2]]
    seq, n, text = _event(client, nxt.id)
    assert (seq, n) == (before[1] + 1, 5) and "周警官" in text
    svc.remove_delegate(body, world.admin, d.id)
    assert _sequences(held, nxt, elsewhere) == [before[0] + 2, before[1] + 2, before[2]]
    seq, n, text = _event(client, nxt.id)
    assert (seq, n) == (before[1] + 2, 4) and "周警官" not in text
    svc.remove_delegate(body, world.admin, d.id)  # removed already: no change, no new SEQUENCE
    assert _sequences(held, nxt, elsewhere) == [before[0] + 2, before[1] + 2, before[2]]


def test_a_substitute_is_no_attendee_and_changes_nothing(world, body, client):
    m = schedule(body, world.staff)
    seq = m.sequence
    sub = svc.add_delegate(body, world.admin, {"org_id": orgs(body)[3].id, "name": "吴辅警", "role": "substitute"})
    assert _sequences(m) == [seq]
    svc.remove_delegate(body, world.admin, sub.id)
    assert _sequences(m) == [seq]
    assert _event(client, m.id)[:2] == (seq, 4)


def test_through_the_web_and_the_api(world, body, login, api, client):
    m = schedule(body, world.staff)
    seq = m.sequence
    staff = login(world.staff)
    police = orgs(body)[3]
    staff.post(f"/c/test/meetings/bodies/{body.id}/delegates", data={"org_id": police.id, "name": "周警官",
                                                                      "role": "delegate"})
    assert _sequences(m) == [seq + 1]
    new = delegates(body)["周警官"]
    staff.post(f"/c/test/meetings/bodies/{body.id}/delegates/{new.id}/remove", data={"confirm": "1"})
    assert _sequences(m) == [seq + 2]
    r = api(world.staff).post(f"{BASE}/bodies/{body.id}/delegates", json={"org_id": police.id, "name": "郑警官"})
    assert r.status_code == 201
    assert api(None).get(f"{BASE}/{m.id}").json["sequence"] == seq + 3
    # A refused addition changes nothing.
    r = api(world.staff).post(f"{BASE}/bodies/{body.id}/delegates", json={"org_id": 99999, "name": "某人"})
    assert r.status_code == 400
    assert _sequences(m) == [seq + 3]
    assert _event(client, m.id)[:2] == (seq + 3, 5)


def test_renaming_the_body_raises_sequence(world, body, api, client):
    m = schedule(body, world.staff)
    seq = m.sequence
    r = api(world.staff).put(f"{BASE}/bodies/{body.id}", json={"topic_deadline_days": 5})
    assert r.status_code == 200 and _sequences(m) == [seq]  # not shown in calendars
    r = api(world.staff).put(f"{BASE}/bodies/{body.id}", json={"name": "四方联席会议（扩大）"})
    assert r.status_code == 200 and _sequences(m) == [seq + 1]
    assert "四方联席会议（扩大）" in _event(client, m.id)[2]


def test_the_cli_exports_the_new_sequence(world, body, runner):
    m = schedule(body, world.staff)
    assert m.sequence == 0
    svc.add_delegate(body, world.admin, {"org_id": orgs(body)[0].id, "name": "新代表"})
    result = runner.invoke(args=["meetings", "ics", str(m.id), "--community", "test"])
    assert result.exit_code == 0, result.output
    assert b"\r\nSEQUENCE:1\r\n" in result.stdout_bytes
    assert "新代表".encode() in result.stdout_bytes.replace(b"\r\n ", b"")
