"""The mediation rules' own dates: R19 confirmation deadline, R20 one-month target.

Days and moments in the community's time zone (today, a moment's local date) come from
``core.dates``, the one calendar of every module; what is here counts by mediation's rules."""
from datetime import date, timedelta

from core import dates as core_dates
from core.services import settings

CONFIRMATION_DAYS = 30  # People's Mediation Law Art. 33


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


def target_date(case) -> date:
    """R20: the last day of the time limit: one month from the opening date (若干规定 Art. 33; the
    last day of the next month when it has no such day, Civil Code Art. 202), or the later day
    every party consented to (``extended_until``)."""
    return case.extended_until or core_dates.add_months_to_date(core_dates.local_date(case.opened_at, case.community), 1)


def is_overdue(case, today_: date) -> bool:
    """R20: an open case past its time limit (one month, or as extended with the parties' consent)."""
    return case.status == "open" and today_ > target_date(case)


def days_open(case, today_: date) -> int:
    end = core_dates.local_date(case.closed_at, case.community) if case.closed_at else today_
    return (end - core_dates.local_date(case.opened_at, case.community)).days
