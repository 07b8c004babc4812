"""The points pages, end to end through the browser's forms (no JavaScript)."""
import io
import re
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import utcnow

pytestmark = pytest.mark.plugins("points")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" \
      b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa\x00\x00\x00\x00IEND\xaeB`\x82"


def _text(resp):
    return resp.get_data(as_text=True)


def test_done_means_volunteer_earn_redeem_collect(world, login):
    """Sign up → staff verify the hours → points appear with the rule → redeem rice → collect by code."""
    from plugins.points.models import PointsActivity, PointsOrder

    staff, resident = login(world.staff), login(world.resident)
    start = utcnow() + timedelta(days=2)
    r = staff.post("/c/test/points/activities/new", data={
        "title": "楼道清理志愿活动", "location": "3号楼", "places": "5",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "description": "清理楼道杂物"})
    assert r.status_code == 302, _text(r)[:2000]
    activity = PointsActivity.query.one()
    r = resident.post(f"/c/test/points/activities/{activity.id}/signup", follow_redirects=True)
    assert "You signed up" in _text(r) or "已报名" in _text(r)
    # the activity takes place
    activity.starts_at, activity.ends_at = utcnow() - timedelta(hours=4), utcnow() - timedelta(hours=1)
    db.session.commit()
    page = _text(staff.get(f"/c/test/points/activities/{activity.id}"))
    assert "居民甲" in page and 'name="hours"' in page
    r = staff.post(f"/c/test/points/activities/{activity.id}/hours", data={
        "user_id": str(world.resident.id), "hours": "3", "content": "清理楼道杂物", "evaluation": "认真负责"},
        follow_redirects=True)
    assert r.status_code == 200
    mine = _text(resident.get("/c/test/points/", headers={"Accept-Language": "en"}))
    assert re.search(r'big-number[^>]*>\s*2\s*<', mine), mine[:3000]
    assert "Volunteering: 楼道清理志愿活动, 3 h (1 point(s) per hour, at most 2 h)" in mine
    # the store
    r = staff.post("/c/test/points/manage/items/new", data={
        "name": "大米（5公斤）", "kind": "goods", "price": "2", "stock": "3", "low_stock": "1",
        "picture": (io.BytesIO(PNG), "rice.png")}, content_type="multipart/form-data")
    assert r.status_code == 302, _text(r)[:2000]
    store = _text(resident.get("/c/test/points/store"))
    assert "大米（5公斤）" in store
    item_id = int(re.search(r"/points/store/(\d+)", store).group(1))
    pic = re.search(r'src="(/c/test/points/pictures/[^"]+)"', store).group(1)
    img = resident.get(pic)
    assert img.status_code == 200 and img.mimetype == "image/png"
    assert img.headers["X-Content-Type-Options"] == "nosniff" and img.data == PNG
    # redeeming asks first: the item, what it costs, the balance before and after, the pickup
    r = resident.post(f"/c/test/points/store/{item_id}/redeem", data={"quantity": "1"},
                      headers={"Accept-Language": "en"})
    confirm = _text(r)
    assert r.status_code == 200 and PointsOrder.query.count() == 0
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", confirm))
    assert facts == {"Item": "大米（5公斤） × 1", "Points it costs": "2", "Your balance now": "2",
                     "Your balance afterwards": "0"}, facts
    assert "pickup code" in confirm and 'name="quantity" value="1"' in confirm and 'name="confirm" value="1"' in confirm
    r = resident.post(f"/c/test/points/store/{item_id}/redeem", data={"quantity": "1", "confirm": "1"})
    assert r.status_code == 302
    order = PointsOrder.query.one()
    page = _text(resident.get(r.headers["Location"]))
    assert order.pickup_code in page
    # the counter
    r = staff.post("/c/test/points/counter/handover", data={"h-code": order.pickup_code})
    assert r.status_code == 200 and "居民甲" in _text(r)
    db.session.refresh(order)
    assert order.status == "handed_over"
    again = _text(staff.post("/c/test/points/counter/handover", data={"h-code": order.pickup_code},
                             headers={"Accept-Language": "en"}))
    assert "This pickup code has been used already." in again
    home = _text(resident.get("/c/test/"))
    assert "points/_widget" not in home and re.search(r'big-number">0<', home)


def test_pages_render_for_staff_and_resident(world, login, app):
    from tests.plugins.points.conftest import SERVICES as svc

    a = svc.save_activity(world.community, world.staff, {"title": "陪伴老人", "location": "活动中心",
                                                         "starts_at": utcnow() - timedelta(days=1),
                                                         "ends_at": utcnow() - timedelta(days=1, hours=-2)})
    from plugins.points.models import PointsSignup

    db.session.add(PointsSignup(activity_id=a.id, user_id=world.resident.id))
    db.session.commit()
    svc.record_hours(a, world.resident, world.staff, hours="2", content="陪老人聊天")
    it = svc.save_item(world.community, world.staff, {"name": "毛巾", "price": 1, "stock": 2})
    o = svc.redeem(world.community, it, world.resident)
    staff, resident = login(world.staff), login(world.resident)
    admin = login(world.admin)
    for path in ("/", "/statement", "/store", f"/store/{it.id}", "/orders", f"/orders/{o.id}", "/activities",
                 f"/activities/{a.id}", "/volunteering"):
        assert resident.get("/c/test/points" + path).status_code == 200, path
    for path in ("/manage/items", "/manage/items/new", f"/manage/items/{it.id}/edit", "/counter", "/accounts",
                 f"/accounts/{world.resident.id}", "/reports", "/activities/new", f"/activities/{a.id}/edit"):
        assert staff.get("/c/test/points" + path).status_code == 200, path
        assert resident.get("/c/test/points" + path).status_code == 403, path
    assert admin.get("/c/test/points/rules").status_code == 200
    assert staff.get("/c/test/points/rules").status_code == 403
    assert resident.get(f"/c/test/points/orders/{o.id}").status_code == 200
    assert login(world.resident2).get(f"/c/test/points/orders/{o.id}").status_code == 404
    # nav items and the dashboard widget
    home = _text(resident.get("/c/test/", headers={"Accept-Language": "en"}))
    assert "/c/test/points/" in home and "My points" in home


def test_reports_chart_is_inline_svg_without_script_and_xlsx(world, login):
    from openpyxl import load_workbook

    from tests.plugins.points.conftest import SERVICES as svc

    svc.adjust(world.community, world.resident, 10, "纸质登记补记", world.admin)
    it = svc.save_item(world.community, world.staff, {"name": "毛巾", "price": 3, "stock": 1})
    svc.redeem(world.community, it, world.resident)
    staff = login(world.staff)
    r = staff.get("/c/test/points/reports")
    page = _text(r)
    assert "<svg" in page and "<script" not in page and "style=" not in page
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    x = staff.get("/c/test/points/reports.xlsx")
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.data))
    assert len(wb.sheetnames) == 4
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[-1][2] == 3


def test_rule_editor_lists_event_types_and_saves(world, login):
    from plugins.points.models import PointsRule

    admin = login(world.admin)
    page = _text(admin.get("/c/test/points/rules", headers={"Accept-Language": "en"}))
    assert "proposal.accepted" in page and "A proposal was accepted" in page
    assert "points.earned" not in page
    r = admin.post("/c/test/points/rules/event", data={"event_name": "proposal.accepted", "points": "5",
                                                        "daily_cap": "", "monthly_cap": "20", "active": "1"})
    assert r.status_code == 302
    rule = PointsRule.query.one()
    assert (rule.points, rule.daily_cap, rule.monthly_cap, rule.active) == (5, None, 20, True)
    r = admin.post("/c/test/points/rules", data={"points_per_hour": "2", "max_hours_per_activity": "3",
                                                  "expiry_months": "12", "max_balance": "5"})
    assert r.status_code == 302
    from tests.plugins.points.conftest import SERVICES as svc

    assert svc.hours_rule(world.community) == {"points_per_hour": 2, "max_hours_per_activity": 3,
                                               "expiry_months": 12, "max_balance": 5}
    svc.adjust(world.community, world.resident, 6, "纸质登记补记", world.admin)
    page = _text(login(world.staff).get("/c/test/points/accounts", headers={"Accept-Language": "en"}))
    assert "above the limit of 5" in page


def test_volunteer_names_shown_only_with_consent(world, login):
    from tests.plugins.points.conftest import SERVICES as svc

    a = svc.save_activity(world.community, world.staff, {"title": "绿化补种", "location": "中心广场",
                                                         "starts_at": utcnow() + timedelta(days=1),
                                                         "ends_at": utcnow() + timedelta(days=1, hours=2)})
    svc.signup(a, world.resident)
    other = login(world.resident2)
    page = _text(other.get(f"/c/test/points/activities/{a.id}"))
    assert "居民甲" not in page
    r = login(world.resident).post("/c/test/points/volunteering", data={"share": "y"})
    assert r.status_code == 302
    assert "居民甲" in _text(other.get(f"/c/test/points/activities/{a.id}"))
    assert "居民甲" in _text(login(world.staff).get(f"/c/test/points/activities/{a.id}"))


def test_adjust_form_needs_a_reason_and_correction(world, login):
    from plugins.points import ledger
    from plugins.points.models import PointsTransfer

    staff = login(world.staff)
    r = staff.post(f"/c/test/points/accounts/{world.resident.id}", data={"amount": "10", "reason": ""})
    assert r.status_code == 200 and ledger.balance_of(world.community.id, world.resident.id) == 0
    r = staff.post(f"/c/test/points/accounts/{world.resident.id}", data={"amount": "10", "reason": "纸质登记补记"})
    assert r.status_code == 302 and ledger.balance_of(world.community.id, world.resident.id) == 10
    t = PointsTransfer.query.one()
    r = staff.post(f"/c/test/points/transfers/{t.id}/correct", data={"reason": "记错了人"})
    assert r.status_code == 302 and ledger.balance_of(world.community.id, world.resident.id) == 0
    page = _text(staff.get(f"/c/test/points/accounts/{world.resident.id}", headers={"Accept-Language": "en"}))
    assert "Reversed" in page and "Correction of entry" in page


def test_certificate_print_page(world, login):
    from tests.plugins.points.conftest import SERVICES as svc
    from plugins.points.models import PointsSignup

    a = svc.save_activity(world.community, world.staff, {"title": "陪伴老人", "location": "活动中心",
                                                         "starts_at": utcnow() - timedelta(days=1),
                                                         "ends_at": utcnow() - timedelta(hours=20)})
    db.session.add(PointsSignup(activity_id=a.id, user_id=world.resident.id))
    db.session.commit()
    svc.record_hours(a, world.resident, world.staff, hours="1.5", content="陪老人聊天", evaluation="优秀")
    resident = login(world.resident)
    r = resident.post("/c/test/points/certificates")
    assert r.status_code == 302
    page = _text(resident.get(r.headers["Location"]))
    assert "居民甲" in page and "1.5" in page and "测试社区" in page and "TEST-" in page
    assert login(world.resident2).get(r.headers["Location"]).status_code == 404


def test_upload_rejects_non_images(world, login):
    from plugins.points.models import PointsItem

    staff = login(world.staff)
    r = staff.post("/c/test/points/manage/items/new", data={
        "name": "毛巾", "kind": "goods", "price": "2", "stock": "3",
        "picture": (io.BytesIO(b"<html><script>alert(1)</script>"), "towel.png")},
        content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "Upload a JPEG, PNG or WebP picture." in _text(r)
    assert PointsItem.query.filter(PointsItem.picture.isnot(None)).count() == 0


def test_disabled_module_answers_404(world, login):
    from core.services.plugins import set_enabled

    set_enabled(world.community, "points", False)
    c = login(world.resident)
    assert c.get("/c/test/points/").status_code == 404
    assert "/c/test/points/" not in _text(c.get("/c/test/"))


def test_honour_roll_lists_only_consenting_volunteers(world, login):
    from tests.plugins.points.conftest import SERVICES as svc
    from plugins.points.models import PointsSignup

    a = svc.save_activity(world.community, world.staff, {"title": "陪伴老人", "location": "活动中心",
                                                         "starts_at": utcnow() - timedelta(days=1),
                                                         "ends_at": utcnow() - timedelta(hours=20)})
    for u in (world.resident, world.resident2):
        db.session.add(PointsSignup(activity_id=a.id, user_id=u.id))
    db.session.commit()
    for u in (world.resident, world.resident2):
        svc.record_hours(a, u, world.staff, hours="2", content="陪老人聊天")
    svc.set_consent(world.community, world.resident2, True)
    page = _text(login(world.building_head).get("/c/test/points/activities"))
    assert "居民乙" in page and "居民甲" not in page


def test_statement_shows_running_balance(world, login):
    from tests.plugins.points.conftest import SERVICES as svc

    for n in (10, 5, -3):
        svc.adjust(world.community, world.resident, n, "纸质登记补记", world.admin)
    page = _text(login(world.resident).get("/c/test/points/statement"))
    cells = re.findall(r"<td[^>]*>(\d+)</td>", page)
    assert cells == ["12", "15", "10"], cells


@pytest.mark.parametrize("locale,unit", [("zh_Hans", "4.5 小时"), ("zh_Hant", "4.5 小時"), ("en", "4.5 h")])
def test_volunteering_page_title_is_text_and_hours_have_the_local_unit(world, login, locale, unit):
    """The honour roll once sat in the <title> block (raw HTML in the browser's tab); hours were 'h' in every language."""
    from tests.plugins.points.conftest import SERVICES as svc
    from plugins.points.models import PointsSignup

    a = svc.save_activity(world.community, world.staff, {"title": "清理楼道", "location": "1号楼",
                                                         "starts_at": utcnow() - timedelta(days=1),
                                                         "ends_at": utcnow() - timedelta(hours=18)})
    db.session.add(PointsSignup(activity_id=a.id, user_id=world.resident2.id))
    db.session.commit()
    svc.record_hours(a, world.resident2, world.staff, hours="4.5", content="清理楼道")
    svc.set_consent(world.community, world.resident2, True)
    page = login(world.building_head).get("/c/test/points/activities",
                                          headers={"Accept-Language": locale}).get_data(as_text=True)
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "居民乙" not in title
    assert unit in page
    if locale != "en":
        assert "4.5 h" not in page
