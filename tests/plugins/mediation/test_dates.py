"""R19 judicial-confirmation deadline and R20 one-month target, on month ends and holidays."""
from datetime import date, datetime, time, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from plugins.mediation.dates import confirmation_deadline


@pytest.mark.parametrize("effective, expected", [
    (date(2026, 3, 1), date(2026, 3, 31)),     # the start day is not counted
    (date(2027, 1, 31), date(2027, 3, 2)),     # across a 28-day February
    (date(2028, 1, 31), date(2028, 3, 1)),     # across a leap-year February
    (date(2026, 12, 15), date(2027, 1, 14)),   # across the year end
    (date(2026, 1, 30), date(2026, 3, 1)),
])
def test_deadline_is_thirty_days_after_without_the_start_day(effective, expected):
    assert confirmation_deadline(effective, set()) == expected


def test_deadline_on_a_holiday_moves_past_the_whole_holiday():
    national_day = {date(2026, 10, d) for d in range(1, 8)}
    assert confirmation_deadline(date(2026, 9, 1), national_day) == date(2026, 10, 8)
    assert confirmation_deadline(date(2026, 9, 7), national_day) == date(2026, 10, 8)
    assert confirmation_deadline(date(2026, 9, 8), national_day) == date(2026, 10, 8)
    assert confirmation_deadline(date(2026, 8, 31), national_day) == date(2026, 9, 30)


def test_deadline_after_a_holiday_is_not_moved():
    assert confirmation_deadline(date(2026, 9, 9), {date(2026, 10, 1)}) == date(2026, 10, 9)


def test_weekends_count_only_when_the_community_says_so():
    # 2026-10-10 is a Saturday
    assert confirmation_deadline(date(2026, 9, 10), set()) == date(2026, 10, 10)
    assert confirmation_deadline(date(2026, 9, 10), set(), weekends_are_holidays=True) == date(2026, 10, 12)


@pytest.mark.parametrize("day, expected", [
    (date(2027, 1, 31), date(2027, 2, 28)),
    (date(2028, 1, 31), date(2028, 2, 29)),
    (date(2026, 12, 31), date(2027, 1, 31)),
    (date(2026, 3, 31), date(2026, 4, 30)),
    (date(2026, 5, 15), date(2026, 6, 15)),
])
def test_one_month_target_on_month_ends(app, day, expected):
    from plugins.mediation.dates import target_date

    case = SimpleNamespace(extended_until=None, community=None,
                           opened_at=datetime.combine(day, time(9, 0), tzinfo=ZoneInfo("Asia/Shanghai")))
    assert target_date(case) == expected


@pytest.mark.plugins("mediation")
def test_case_page_and_api_show_the_deadline_from_the_holiday_calendar(app, world, ready_case, login, api):
    case = ready_case
    from plugins.mediation import services as svc

    svc.add_holidays(world.community, world.mediator, "2026-10-01", "2026-10-07", "国庆节")
    ag = svc.record_agreement(case, world.mediator, {"form": "written", "facts": "事实", "terms": "条款"})
    for who in [str(p.id) for p in case.parties] + ["mediator", "seal"]:
        svc.sign(ag, world.mediator, who)
    ag.effective_on = date(2026, 9, 3)  # the parties signed on 3 September
    from core.extensions import db
    db.session.commit()
    page = login(world.mediator).get(f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)
    assert "2026-10-08" in page
    body = api(world.resident).get(f"/api/v1/c/test/mediation/cases/{case.id}").get_json()
    assert body["agreement"]["confirmation_deadline"] == "2026-10-08"


@pytest.mark.plugins("mediation")
def test_opening_date_and_overdue_flag_use_the_community_time_zone(app, world):
    from core import dates
    from plugins.mediation import dates as rule_dates
    from plugins.mediation import services as svc

    # 16:30 UTC on 31 January is 00:30 on 1 February in Shanghai.
    c = svc.open_case(world.community, world.grid_worker, {
        "source": "grid_report", "category": "pets", "description": "狗叫扰民已久",
        "parties": [{"name": "甲"}]}, when=datetime(2027, 1, 31, 16, 30, tzinfo=timezone.utc))
    assert c.number.startswith("2027-")
    assert dates.local_date(c.opened_at, world.community) == date(2027, 2, 1)
    assert not rule_dates.is_overdue(c, date(2027, 3, 1))
    assert rule_dates.is_overdue(c, date(2027, 3, 2))
