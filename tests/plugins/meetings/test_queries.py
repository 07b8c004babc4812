"""Query counts of the body and meeting pages do not grow with the number of meetings shown."""
import pytest
from sqlalchemy import event

from core.extensions import db
from plugins.meetings import services as svc
from tests.plugins.meetings.conftest import orgs, quorate, schedule

pytestmark = pytest.mark.plugins("meetings")


def _count(client, url):
    n = [0]

    def before(*_a, **_k):
        n[0] += 1

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        r = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert r.status_code == 200
    return n[0]


def _grow(world, body, to):
    from plugins.meetings.models import Meeting

    while Meeting.query.filter_by(body_id=body.id).count() < to:
        i = Meeting.query.filter_by(body_id=body.id).count()
        m = schedule(body, world.staff, days=2 + i)
        item = svc.add_agenda_item(m, world.staff, {"title": f"议题{i}"})
        if i % 2 == 0:
            quorate(m, world.staff)
            svc.record_resolution(item, world.staff, {"outcome": "decided", "text": f"决定{i}", "actions": [
                {"title": f"事项{i}", "owner_org_id": orgs(body)[i % 4].id, "due_date": "2030-01-01"}]})
            svc.close(m, world.staff)


@pytest.mark.parametrize("who", ["staff", "resident"])
def test_pages_issue_the_same_number_of_queries(world, body, login, who):
    client = login(getattr(world, who))
    _grow(world, body, 2)
    from plugins.meetings.models import Meeting

    first = Meeting.query.filter_by(body_id=body.id).order_by(Meeting.id).first().id
    urls = [f"/c/test/meetings/bodies/{body.id}", f"/c/test/meetings/{first}", "/c/test/meetings/",
            f"/c/test/meetings/bodies/{body.id}/calendar.ics"]
    _count(client, urls[0])  # warm up
    small = [_count(client, u) for u in urls]
    _grow(world, body, 20)
    large = [_count(client, u) for u in urls]
    assert small == large, (small, large)
    assert all(n > 3 for n in small)
