"""iCalendar invitations (R33), checked by parsing with the icalendar package."""
import pytest

from plugins.meetings import ics
from plugins.meetings import services as svc
from tests.plugins.meetings.conftest import schedule

pytestmark = pytest.mark.plugins("meetings")
try:  # a test-only dependency (the project's test extras should list it)
    from icalendar import Calendar
except ImportError:  # pragma: no cover
    Calendar = None
needs_icalendar = pytest.mark.skipif(Calendar is None, reason="pip install icalendar (test-only dependency)")


def _lines(raw: bytes):
    """Unfold content lines by hand (RFC 5545 §3.1), independent of the icalendar package."""
    text = raw.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    return [ln for ln in text.split("\r\n") if ln]


def _raw_checks(raw: bytes):
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    for line in raw.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # never a split character


def _event(raw):
    cal = Calendar.from_ical(raw)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return cal, events[0]


@needs_icalendar
def test_invitation_update_and_cancellation(world, body, client):
    m = schedule(body, world.staff, title="四方联席会议：东门僵尸车、楼道飞线充电与集中充电桩选址（第十二次例会）",
                 place="邻里示范社区党群服务中心二楼会议室（东侧电梯上楼右转）")
    url = f"/c/test/meetings/{m.id}/invite.ics"
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    raw = r.data
    _raw_checks(raw)
    cal, ev = _event(raw)
    assert cal["METHOD"] == "REQUEST" and cal["VERSION"] == "2.0" and "PRODID" in cal
    uid = str(ev["UID"])
    assert int(ev["SEQUENCE"]) == 0
    assert ev["DTSTAMP"].to_ical().endswith(b"Z")
    assert ev.decoded("DTSTART") == m.starts_at
    assert str(ev["SUMMARY"]) == m.title and "二楼会议室" in str(ev["LOCATION"])
    assert str(ev["STATUS"]) == "CONFIRMED"
    assert "ORGANIZER" in ev
    attendees = ev.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert len(attendees) == 4  # the four delegates, not the substitutes
    for a in attendees:
        assert a.params["RSVP"] == "TRUE" and a.params["PARTSTAT"] == "NEEDS-ACTION"
    assert any("孙警官" in a.params["CN"] for a in attendees)
    # Every change bumps SEQUENCE and keeps UID.
    svc.update_meeting(m, world.staff, {"place": "社区活动室"})
    svc.add_agenda_item(m, world.staff, {"title": "集中充电桩选址"})
    _cal, ev = _event(client.get(url).data)
    assert str(ev["UID"]) == uid and int(ev["SEQUENCE"]) == 2
    assert "集中充电桩选址" in str(ev["DESCRIPTION"])
    # Cancellation: METHOD:CANCEL, STATUS:CANCELLED, SEQUENCE + 1.
    svc.cancel(m, world.staff, "台风停课")
    raw = client.get(url).data
    _raw_checks(raw)
    cal, ev = _event(raw)
    assert cal["METHOD"] == "CANCEL" and str(ev["STATUS"]) == "CANCELLED"
    assert str(ev["UID"]) == uid and int(ev["SEQUENCE"]) == 3


@needs_icalendar
def test_body_feed_lists_every_meeting(world, body, client):
    a = schedule(body, world.staff, days=5)
    b = schedule(body, world.staff, days=35)
    svc.cancel(b, world.staff, "改期")
    raw = client.get(f"/c/test/meetings/bodies/{body.id}/calendar.ics").data
    _raw_checks(raw)
    cal = Calendar.from_ical(raw)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {a.uid, b.uid}
    assert str(events[b.uid]["STATUS"]) == "CANCELLED"


def test_folding_never_splits_a_character():
    for n in range(60, 80):
        line = "DESCRIPTION:" + "a" * (n % 7) + "联席会议" * n
        folded = ics.fold(line)
        parts = folded.encode().split(b"\r\n")
        assert all(len(p) <= 75 for p in parts)
        assert all(p.startswith(b" ") for p in parts[1:])
        assert "".join(p.decode()[1:] if i else p.decode() for i, p in enumerate(parts)) == line


def test_text_is_escaped():
    assert ics.text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_r33_without_the_icalendar_package(world, body, client, runner):
    m = schedule(body, world.staff, title="联席会议" * 30)
    raw = client.get(f"/c/test/meetings/{m.id}/invite.ics").data
    _raw_checks(raw)
    lines = _lines(raw)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "METHOD:REQUEST" in lines and f"UID:{m.uid}" in lines and "SEQUENCE:0" in lines
    assert any(ln.startswith("DTSTAMP:") and ln.endswith("Z") for ln in lines)
    assert any(ln.startswith("SUMMARY:") and ln == "SUMMARY:" + m.title for ln in lines)
    assert any(ln.startswith("ORGANIZER;") for ln in lines)
    assert sum(ln.startswith("ATTENDEE;") and "RSVP=TRUE" in ln and "PARTSTAT=NEEDS-ACTION" in ln
               for ln in lines) == 4
    svc.cancel(m, world.staff, "改期")
    lines = _lines(client.get(f"/c/test/meetings/{m.id}/invite.ics").data)
    assert "METHOD:CANCEL" in lines and "STATUS:CANCELLED" in lines and "SEQUENCE:1" in lines
    result = runner.invoke(args=["meetings", "ics", str(m.id)])
    assert result.exit_code == 0, result.output
    _raw_checks(result.stdout_bytes)
    assert f"UID:{m.uid}" in _lines(result.stdout_bytes)
