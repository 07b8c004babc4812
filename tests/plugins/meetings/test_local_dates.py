"""Action items fall overdue on the community's calendar day, not the UTC one (R27's audit of dates)."""
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest

from core import dates

pytestmark = pytest.mark.plugins("meetings")


@pytest.mark.parametrize("utc_moment,overdue", [
    (datetime(2026, 12, 1, 15, 59, tzinfo=timezone.utc), False),  # 23:59 on 1 December in Beijing
    (datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc), True),    # 00:00 on 2 December in Beijing
    (datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc), True),   # 07:30 on 2 December: still 1 December in UTC
])
def test_an_item_due_on_the_first_is_overdue_from_local_midnight(app, world, monkeypatch, utc_moment, overdue):
    from flask import g

    from plugins.meetings import services

    monkeypatch.setattr(dates, "utcnow", lambda: utc_moment)
    g.community = world.community
    item = SimpleNamespace(status="open", due_date=date(2026, 12, 1))
    assert services.is_overdue(item) is overdue
