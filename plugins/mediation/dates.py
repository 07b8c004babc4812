"""Dates in the community's time zone: R19 confirmation deadline, R20 one-month target."""
import calendar
from datetime import date, datetime, time, timedelta

from core import dates as core_dates
from core.models.types import utcnow
from core.services import settings

CONFIRMATION_DAYS = 30  # People's Mediation Law Art. 33


def tz(community):
    """The community's time zone: the core's setting (core.dates), the one calendar of every module."""
    return core_dates.zone(community)


def today(community, now=None) -> date:
    return (now or utcnow()).astimezone(tz(community)).date()


def local(community, moment):
    return moment.astimezone(tz(community)) if moment else None


def local_date(community, moment):
    return moment.astimezone(tz(community)).date() if moment else None


def to_utc(community, day: date, at: time = time(9, 0)):
    """A local date and time in the community as an aware datetime."""
    return datetime.combine(day, at, tzinfo=tz(community))


def holidays(community) -> set:
    from plugins.mediation.models import MediationHoliday

    return {d for (d,) in MediationHoliday.query.with_entities(MediationHoliday.day)
            .filter_by(community_id=community.id)}


def confirmation_deadline(effective_on: date, holiday_days, weekends_are_holidays=False) -> date:
    """R19: effective date + 30 days, the start day not counted; if the last day falls on a
    holiday, the period ends on the first day after the holiday (Civil Code Art. 201, 203)."""
    deadline = effective_on + timedelta(days=CONFIRMATION_DAYS)
    while deadline in holiday_days or (weekends_are_holidays and deadline.weekday() >= 5):
        deadline += timedelta(days=1)
    return deadline


def deadline_for(community, effective_on):
    if effective_on is None:
        return None
    return confirmation_deadline(effective_on, holidays(community),
                                 settings.get(community, "mediation", "weekends_are_holidays"))


def add_month(day: date) -> date:
    """The same day next month; the last day of next month when it has no such day (Jan 31 → Feb 28)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def target_date(case) -> date:
    """R20: the last day of the time limit: one month from the opening date (若干规定 Art. 33),
    or the later day every party consented to (``extended_until``)."""
    return case.extended_until or add_month(local_date(case.community, case.opened_at))


def is_overdue(case, today_: date) -> bool:
    """R20: an open case past its time limit (one month, or as extended with the parties' consent)."""
    return case.status == "open" and today_ > target_date(case)


def days_open(case, today_: date) -> int:
    end = local_date(case.community, case.closed_at) if case.closed_at else today_
    return (end - local_date(case.community, case.opened_at)).days
