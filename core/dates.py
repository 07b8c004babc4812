"""Dates in the community's time zone: one home for every plugin (R27).

Every date a person reads or a rule counts (expiry, deadlines, notice periods, "today", statistics
by day and month) is a day of the community's calendar, not of UTC: 07:00 in Beijing on 1 March
is 23:00 UTC on 28 February. Stored moments stay aware UTC datetimes; they become local dates only
here.

A community's zone is its core setting ``timezone``; empty means the site default
(``BABEL_DEFAULT_TIMEZONE``, Asia/Shanghai)."""
import calendar
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g, has_app_context

from core.models.types import utcnow

# The zones a 社区 office may choose from (mainland, Hong Kong, Macao, Taiwan, Xinjiang's local time).
ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "Asia/Urumqi")
DEFAULT_ZONE = "Asia/Shanghai"


def site_zone() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def zone(community=None) -> ZoneInfo:
    """The time zone of ``community`` (default: the request's community; else the site's)."""
    if community is None and has_app_context():
        community = g.get("community")
    if community is None or community.id is None:
        return site_zone()
    cache = g.setdefault("_community_zones", {}) if has_app_context() else {}
    if community.id not in cache:
        from core.services import settings

        name = settings.get(community, "core", "timezone")
        try:
            cache[community.id] = ZoneInfo(name) if name else site_zone()
        except (ZoneInfoNotFoundError, ValueError):
            cache[community.id] = site_zone()
    return cache[community.id]


def forget_zone(community):
    """Drop the cached zone of ``community`` (after its setting changed)."""
    if has_app_context():
        g.setdefault("_community_zones", {}).pop(community.id, None)


def local(moment, community=None):
    """``moment`` (aware) as the community's local time; None stays None."""
    return moment.astimezone(zone(community)) if moment is not None else None


def local_date(moment, community=None):
    return moment.astimezone(zone(community)).date() if moment is not None else None


def today(community=None, now=None) -> date:
    return (now or utcnow()).astimezone(zone(community)).date()


def from_local(value, community=None):
    """A naive local datetime (a form's input) as an aware UTC datetime; aware ones are converted."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(community))
    return value.astimezone(timezone.utc)


def start_of_day(day: date, community=None):
    """00:00 of ``day`` in the community, as an aware UTC datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=zone(community)).astimezone(timezone.utc)


def add_months_to_date(day: date, months: int) -> date:
    """The corresponding day ``months`` later; the month's last day when it has none (Civil Code Art. 202)."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def months_after(moment, months: int, community=None):
    """When a period of ``months`` that began at ``moment`` has ended, as an aware UTC datetime.

    Civil Code Art. 201–203: the day it began is not counted; the period's last day is the
    corresponding day of the last month in the community's calendar (or that month's last day),
    and the period ends at 24:00 of that day. So points earned at 07:00 on 1 March with a
    one-month expiry can be spent until the end of 1 April, local time. (Art. 203's shift past a
    public holiday applies to acts that must be done on a working day, not to an expiry.)"""
    last_day = add_months_to_date(local_date(moment, community), months)
    return start_of_day(last_day + timedelta(days=1), community)


def month_key(moment, community=None) -> str:
    """``YYYY-MM`` of ``moment`` in the community's calendar (statistics by month)."""
    return local(moment, community).strftime("%Y-%m")


def format_local(moment, community=None, fmt="%Y-%m-%d %H:%M") -> str:
    """A moment as local text for files and machine-readable output (pages use the locale's formats)."""
    return local(moment, community).strftime(fmt) if moment is not None else ""


def iso(moment):
    """``moment`` in ISO 8601 for the API and files, in UTC (None stays None). Stored moments are
    aware and in UTC already (core.models.types.UTCDateTime); a naive one is taken as UTC."""
    from datetime import timezone

    if not moment:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc).isoformat()
    return moment.astimezone(timezone.utc).isoformat()
