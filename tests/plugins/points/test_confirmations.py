"""Spending and cancelling ask first (issue 20): a POST without confirm=1 shows what will happen
and changes nothing; the page's own button does it. The API does not ask. The certificate leads back."""
import re
from datetime import timedelta

import pytest

from core.models import utcnow

pytestmark = pytest.mark.plugins("points")
EN = {"Accept-Language": "en"}


def _facts(r):
    return dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", r.get_data(as_text=True)))


def test_staff_redeeming_at_the_counter_see_the_residents_balance_before_and_after(world, pts, login):
    from plugins.points.models import PointsOrder

    pts.give(world.resident, 100)
    it = pts.item(price=30)
    staff = login(world.staff)
    data = {"r-resident": "resident", "r-item_id": str(it.id), "r-quantity": "2", "r-reason": "老人不会用手机"}
    r = staff.post("/c/test/points/counter/redeem", data=data, headers=EN)
    assert r.status_code == 200 and PointsOrder.query.count() == 0 and pts.balance(world.resident) == 100
    assert _facts(r) == {"Resident": "居民甲", "Item": "大米（5公斤） × 2", "Points it costs": "60",
                         "Balance of 居民甲 now": "100", "Balance of 居民甲 afterwards": "40"}
    assert 'name="r-reason" value="老人不会用手机"' in r.get_data(as_text=True)
    r = staff.post("/c/test/points/counter/redeem", data=data | {"confirm": "1"})
    assert r.status_code == 302 and PointsOrder.query.count() == 1 and pts.balance(world.resident) == 40


def test_redeeming_more_than_the_balance_is_refused_before_the_confirmation(world, pts, login):
    pts.give(world.resident, 10)
    it = pts.item(price=30)
    r = login(world.resident).post(f"/c/test/points/store/{it.id}/redeem", data={"quantity": "1"}, headers=EN,
                                   follow_redirects=True)
    assert "You do not have enough points for this." in r.get_data(as_text=True)
    assert 'name="confirm"' not in r.get_data(as_text=True)


def test_cancelling_an_order_asks_first_and_says_the_points_come_back(world, pts, login):
    from tests.plugins.points.conftest import SERVICES as svc

    pts.give(world.resident, 100)
    order = svc.redeem(world.community, pts.item(price=30), world.resident)
    resident = login(world.resident)
    r = resident.post(f"/c/test/points/orders/{order.id}/cancel", headers=EN)
    assert r.status_code == 200 and _facts(r)["Points returned"] == "30"
    assert pts.balance(world.resident) == 70
    r = resident.post(f"/c/test/points/orders/{order.id}/cancel", data={"confirm": "1"})
    assert r.status_code == 302 and pts.balance(world.resident) == 100


def test_calling_off_an_activity_asks_first_with_the_number_signed_up(world, pts, login):
    from core.extensions import db
    from plugins.points.models import PointsActivity

    a = pts.activity(past=False)
    pts.signup_past(a, world.resident)
    staff = login(world.staff)
    r = staff.post(f"/c/test/points/activities/{a.id}/cancel", data={"reason": "暴雨预警"}, headers=EN)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and _facts(r) == {"Signed up": "1"} and 'value="暴雨预警"' in html
    db.session.expire_all()
    assert db.session.get(PointsActivity, a.id).cancelled_at is None
    r = staff.post(f"/c/test/points/activities/{a.id}/cancel", data={"reason": "暴雨预警", "confirm": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(PointsActivity, a.id).cancelled_at is not None


def test_the_api_redeems_without_asking(world, pts, api):
    pts.give(world.resident, 100)
    it = pts.item(price=30)
    r = api(world.resident).post(f"/api/v1/c/test/points/items/{it.id}/redeem", json={})
    assert r.status_code == 201 and pts.balance(world.resident) == 70


def test_the_certificate_page_leads_back(world, pts, login):
    from tests.plugins.points.conftest import SERVICES as svc

    a = pts.activity(starts_at=utcnow() - timedelta(days=2), ends_at=utcnow() - timedelta(days=2, hours=-3))
    pts.signup_past(a, world.resident)
    svc.record_hours(a, world.resident, world.staff, hours="2", content="陪伴独居老人")
    client = login(world.resident)
    client.post("/c/test/points/certificates", data={})
    from plugins.points.models import PointsCertificate

    cert = PointsCertificate.query.one()
    html = client.get(f"/c/test/points/certificates/{cert.number}").get_data(as_text=True)
    assert re.search(r'class="wrap no-print"><a href="/c/test/points/volunteering">', html)
    staff_html = login(world.staff).get(f"/c/test/points/certificates/{cert.number}").get_data(as_text=True)
    assert f'href="/c/test/points/accounts/{world.resident.id}"' in staff_html
