"""Hours that happened (R26) and dates in the community's calendar (R27, Civil Code Art. 201–203)."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core import dates
from core.db import transaction
from core.errors import Conflict, ServiceError
from core.extensions import db
from core.models import utcnow
from core.services import settings as core_settings
from tests.plugins.points.conftest import SERVICES, expire_due

pytestmark = pytest.mark.plugins("points")
BEIJING = ZoneInfo("Asia/Shanghai")
BASE = "/api/v1/c/test/points"


def svc():
    return SERVICES


def _at(y, m, d, hh, mm=0, tz=BEIJING):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


# ── one month later is the corresponding day in the community's calendar ────────────────────
@pytest.mark.parametrize("earned,months,last_day", [
    (_at(2027, 3, 1, 7), 1, date(2027, 4, 1)),        # 23:00 UTC on 28 Feb: not 29 March
    (_at(2027, 3, 1, 0, 0), 1, date(2027, 4, 1)),
    (_at(2027, 3, 1, 7, 59), 12, date(2028, 3, 1)),
    (_at(2027, 1, 31, 3), 1, date(2027, 2, 28)),      # no 31 February: the month's last day
    (_at(2028, 1, 31, 6), 1, date(2028, 2, 29)),      # leap year
    (_at(2027, 12, 31, 7, 30), 2, date(2028, 2, 29)),
    (_at(2027, 8, 31, 1), 1, date(2027, 9, 30)),
    (_at(2027, 6, 30, 23, 59), 1, date(2027, 7, 30)),
])
def test_a_period_in_months_ends_at_the_end_of_the_corresponding_local_day(app, world, earned, months, last_day):
    ends = dates.months_after(earned.astimezone(timezone.utc), months, world.community)
    assert ends.tzinfo is not None
    assert ends.astimezone(BEIJING) == datetime.combine(last_day + timedelta(days=1), datetime.min.time(), BEIJING)


def test_points_earned_at_seven_in_the_morning_expire_after_the_corresponding_day(app, world, pts, monkeypatch):
    from plugins.points.models import PointsLot

    with transaction():
        core_settings.set(world.community, "points", "expiry_months", 1)
    earned = _at(2027, 3, 1, 7).astimezone(timezone.utc)  # 2027-02-28 23:00 UTC
    monkeypatch.setattr("plugins.points.services.utcnow", lambda: earned)
    pts.give(world.resident, 10, "纸质登记补记")
    lot = PointsLot.query.one()
    assert lot.expires_at.astimezone(BEIJING) == _at(2027, 4, 2, 0)
    assert expire_due(_at(2027, 4, 1, 23, 59).astimezone(timezone.utc)) == []
    assert pts.balance(world.resident) == 10
    expire_due(_at(2027, 4, 2, 0, 1).astimezone(timezone.utc))
    assert pts.balance(world.resident) == 0


def test_the_community_time_zone_is_a_setting_and_changes_the_local_day(app, world, login):
    assert dates.zone(world.community).key == "Asia/Shanghai"
    client = login(world.admin)
    r = client.post("/c/test/admin/settings", data={"name": world.community.name, "seconds_threshold": 5,
                                                     "default_locale": "zh_Hans", "timezone": "Europe/Paris"})
    assert r.status_code == 200 and core_settings.get(world.community, "core", "timezone") == ""
    r = client.post("/c/test/admin/settings", data={"name": world.community.name, "seconds_threshold": 5,
                                                     "default_locale": "zh_Hans", "timezone": "Asia/Urumqi"})
    assert r.status_code == 302
    db.session.expire_all()
    dates.forget_zone(world.community)
    assert core_settings.get(world.community, "core", "timezone") == "Asia/Urumqi"
    moment = datetime(2027, 3, 1, 17, 30, tzinfo=timezone.utc)  # 01:30 on 2 March in Beijing, 23:30 on 1 March in Urumqi
    assert dates.local_date(moment, world.community) == date(2027, 2, 28) + timedelta(days=1)


# ── hours that happened ───────────────────────────────────────────────────────────────────
def _activity(pts, start, hours, title="楼道清理"):
    return pts.activity(starts_at=start, ends_at=start + timedelta(hours=hours), title=title)


def test_hours_beyond_the_activity_length_are_refused(app, world, pts):
    from plugins.points.models import PointsRecord

    a = _activity(pts, utcnow() - timedelta(days=2), 2)
    pts.signup_past(a, world.resident)
    with pytest.raises(ServiceError) as e:
        svc().claim_hours(a, world.resident, hours="2.5", content="清理楼道")
    assert e.value.code == "hours_outside_activity" and "hours" in e.value.fields
    with pytest.raises(ServiceError):
        svc().record_hours(a, world.resident, world.staff, hours="3", content="清理楼道")
    assert PointsRecord.query.count() == 0
    assert svc().claim_hours(a, world.resident, hours="2", content="清理楼道").minutes == 120


def test_a_date_outside_the_activity_is_refused(app, world, pts):
    from plugins.points.models import PointsRecord

    start = _at(2026, 11, 3, 1).astimezone(timezone.utc)  # 01:00 in Beijing: still 2 November in UTC
    a = _activity(pts, start, 3)
    pts.signup_past(a, world.resident)
    with pytest.raises(ServiceError) as e:
        svc().record_hours(a, world.resident, world.staff, hours="1", content="清理楼道", service_date="2026-11-05")
    assert e.value.code == "date_outside_activity"
    assert PointsRecord.query.count() == 0
    r = svc().record_hours(a, world.resident, world.staff, hours="1", content="清理楼道")
    assert r.service_date == date(2026, 11, 3)  # the local day, not the UTC one


def test_overlapping_activities_cannot_add_up_to_more_than_the_time_that_passed(app, world, pts):
    from plugins.points.models import PointsRecord

    start = utcnow() - timedelta(days=3)
    morning = _activity(pts, start, 3, "绿化带补种")                      # 09:00–12:00
    overlap = _activity(pts, start + timedelta(hours=1), 3, "敬老院探访")  # 10:00–13:00
    later = _activity(pts, start + timedelta(hours=6), 2, "垃圾分类宣传")  # 15:00–17:00
    for a in (morning, overlap, later):
        pts.signup_past(a, world.resident)
    svc().claim_hours(morning, world.resident, hours="3", content="补种")
    with pytest.raises(Conflict) as e:  # 3 h + 2 h inside 09:00–13:00 (4 h)
        svc().claim_hours(overlap, world.resident, hours="2", content="探访")
    assert e.value.code == "hours_overlap"
    with pytest.raises(Conflict):
        svc().record_hours(overlap, world.resident, world.staff, hours="1.5", content="探访")
    assert PointsRecord.query.count() == 1
    svc().claim_hours(overlap, world.resident, hours="1", content="探访")  # 13:00 is still free
    svc().claim_hours(later, world.resident, hours="2", content="宣传")   # no overlap at all
    assert PointsRecord.query.count() == 3


def test_a_rejected_claim_frees_its_time(app, world, pts):
    start = utcnow() - timedelta(days=3)
    a = _activity(pts, start, 2, "绿化带补种")
    b = _activity(pts, start, 2, "敬老院探访")
    for x in (a, b):
        pts.signup_past(x, world.resident)
    first = svc().claim_hours(a, world.resident, hours="2", content="补种")
    with pytest.raises(Conflict):
        svc().claim_hours(b, world.resident, hours="1", content="探访")
    svc().reject_hours(first, world.staff, "当天未到场")
    assert svc().claim_hours(b, world.resident, hours="2", content="探访").status == "claimed"


def test_an_activity_with_hours_keeps_its_times(app, world, pts):
    a = _activity(pts, utcnow() - timedelta(days=2), 3)
    pts.signup_past(a, world.resident)
    svc().claim_hours(a, world.resident, hours="3", content="清理楼道")
    with pytest.raises(ServiceError) as e:
        svc().save_activity(world.community, world.staff, {"title": a.title, "location": a.location,
                                                           "starts_at": a.starts_at,
                                                           "ends_at": a.starts_at + timedelta(hours=1)}, a)
    assert "starts_at" in e.value.fields
    db.session.expire_all()
    assert a.ends_at - a.starts_at == timedelta(hours=3)


def test_the_api_and_the_web_refuse_hours_beyond_the_activity(app, world, pts, api, login):
    from plugins.points.models import PointsRecord

    a = _activity(pts, utcnow() - timedelta(days=2), 1)
    pts.signup_past(a, world.resident)
    pts.signup_past(a, world.resident2)
    r = api(world.staff).post(f"{BASE}/activities/{a.id}/hours", json={"user_id": world.resident.id, "hours": "4",
                                                                        "content": "清理楼道"})
    assert r.status_code == 400 and r.json["error"]["code"] == "hours_outside_activity"
    client = login(world.resident2)
    r = client.post(f"/c/test/points/activities/{a.id}/claim", data={"hours": "4", "content": "清理楼道"},
                    follow_redirects=True)
    assert "no more can be claimed" in r.get_data(as_text=True) or "不能超过活动时长" in r.get_data(as_text=True)
    assert PointsRecord.query.count() == 0


def test_verifiers_see_the_activity_times_beside_a_claim(app, world, pts, login):
    a = _activity(pts, _at(2026, 11, 3, 9).astimezone(timezone.utc), 2)
    pts.signup_past(a, world.resident)
    svc().claim_hours(a, world.resident, hours="2", content="清理楼道")
    client = login(world.staff)
    page = client.get("/c/test/points/activities", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Activity:" in page and "9:00" in page and "11:00" in page
    page = client.get(f"/c/test/points/activities/{a.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "the activity ran" in page


# ── statistics and caps count the community's days and months ────────────────────────────
def test_a_daily_cap_counts_the_local_day(app, world, pts):
    """Two events at 07:30 and 09:00 on 2 March in Beijing are one day (the first is still
    1 March in UTC): the daily cap of 2 points holds across them."""
    from core.events import Event
    from plugins.points import on_event
    from plugins.points.models import PointsRule

    db.session.add(PointsRule(community_id=world.community.id, event_name="vote.cast", points=2, daily_cap=2))
    db.session.commit()
    for i, moment in enumerate((_at(2027, 3, 2, 7, 30), _at(2027, 3, 2, 9))):
        on_event(Event("vote.cast", world.community.id, None, (world.resident.id,), f"ballot:{i}",
                       created=moment.astimezone(timezone.utc)))
    db.session.commit()
    assert pts.balance(world.resident) == 2


def test_the_monthly_report_counts_the_local_month(app, world, pts, monkeypatch):
    """Points given at 04:00 on 1 December in Beijing (20:00 UTC on 30 November) are December's."""
    monkeypatch.setattr("plugins.points.ledger.utcnow", lambda: _at(2026, 12, 1, 4).astimezone(timezone.utc))
    svc().save_rule(world.community, world.admin, "proposal.accepted", 10)
    from core.events import Event
    from plugins.points import on_event

    on_event(Event("proposal.accepted", world.community.id, None, (world.resident.id,), "proposal:1",
                   created=_at(2026, 12, 1, 4).astimezone(timezone.utc)))
    db.session.commit()
    rows = dict((m, (issued, redeemed)) for m, issued, redeemed in
                svc().monthly(world.community, months=2, now=_at(2026, 12, 15, 12).astimezone(timezone.utc)))
    assert rows == {"2026-11": (0, 0), "2026-12": (10, 0)}


def test_the_audit_log_filters_by_local_days(app, world, login):
    """An entry written at 01:00 on 2 December in Beijing is found under 2 December, not 1 December."""
    from core.models import AuditEntry

    entry = AuditEntry(community_id=world.community.id, action="test.local_day", object_type="x", object_id="1",
                       created_at=_at(2026, 12, 2, 1).astimezone(timezone.utc))
    db.session.add(entry)
    db.session.commit()
    admin = login(world.admin)
    on_2nd = admin.get("/c/test/admin/audit?action=test.local_day&from=2026-12-02&to=2026-12-02").get_data(as_text=True)
    on_1st = admin.get("/c/test/admin/audit?action=test.local_day&from=2026-12-01&to=2026-12-01").get_data(as_text=True)
    assert "test · local day" in on_2nd.split("<main", 1)[1].split("</form>", 1)[-1]
    assert "test · local day" not in on_1st.split("<main", 1)[1].split("</form>", 1)[-1]
