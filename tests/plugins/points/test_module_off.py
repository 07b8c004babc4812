"""Switching a module off does not strand residents: the admin sees what is open and confirms;
notifications of a module that is off say so instead of leading to a 404."""
import pytest

from core.extensions import db
from core.models import AuditEntry, Notification
from core.services.plugins import set_enabled

pytestmark = pytest.mark.plugins("points")


@pytest.fixture
def reserved(world, pts):
    from plugins.points import services

    pts.give(world.resident, 50, "纸质登记补记")
    return services.redeem(world.community, pts.item(price=30), world.resident)


def test_the_admin_sees_the_open_orders_and_must_confirm(world, reserved, login, app):
    registry = app.extensions["linli.plugins"]
    admin = login(world.admin)
    page = admin.post("/c/test/admin/modules", data={"plugin": "points", "enabled": "0"},
                      headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Orders not yet collected" in text and 'name="confirm"' in text
    assert registry.is_enabled(world.community, "points")  # nothing switched off yet
    r = admin.post("/c/test/admin/modules", data={"plugin": "points", "enabled": "0", "confirm": "1"})
    assert r.status_code == 302
    registry.forget(world.community)
    assert not registry.is_enabled(world.community, "points")
    entry = AuditEntry.query.filter_by(action="plugin.disabled").one()
    assert [(i["key"], i["count"]) for i in entry.before["open"]] == [("orders_to_collect", 1)]


def test_the_api_refuses_without_confirmation_and_names_what_is_open(world, reserved, api, app):
    registry = app.extensions["linli.plugins"]
    admin = api(world.admin)
    listing = admin.get("/api/v1/c/test/modules").json["items"]
    assert ("orders_to_collect", 1) in [(i["key"], i["count"]) for i in
                                        next(m for m in listing if m["name"] == "points")["open"]]
    r = admin.put("/api/v1/c/test/modules/points", json={"enabled": False})
    assert r.status_code == 409 and r.json["error"]["code"] == "open_business"
    assert r.json["error"]["details"][0]["key"] == "orders_to_collect"
    assert registry.is_enabled(world.community, "points")
    assert api(world.staff).put("/api/v1/c/test/modules/points", json={"enabled": False, "confirm": True}).status_code == 403
    assert admin.put("/api/v1/c/test/modules/points", json={"enabled": "no"}).status_code == 400
    r = admin.put("/api/v1/c/test/modules/points", json={"enabled": False, "confirm": True})
    assert r.status_code == 200
    registry.forget(world.community)
    assert not registry.is_enabled(world.community, "points")
    assert admin.put("/api/v1/c/test/modules/points", json={"enabled": True}).status_code == 200


def test_the_command_line_needs_yes(world, reserved, runner, app):
    registry = app.extensions["linli.plugins"]
    r = runner.invoke(args=["plugins", "disable", "points", "--community", "test"], env={"LANG": "en_US.UTF-8"})
    assert r.exit_code != 0 and "Orders not yet collected: 1" in r.output and "--yes" in r.output
    assert registry.is_enabled(world.community, "points")
    r = runner.invoke(args=["plugins", "disable", "points", "--community", "test", "--yes"])
    assert r.exit_code == 0, r.output
    registry.forget(world.community)
    assert not registry.is_enabled(world.community, "points")


def test_nothing_open_switches_off_after_the_confirmation_page(world, pts, login, app):
    admin = login(world.admin)
    text = admin.post("/c/test/admin/modules", data={"plugin": "points", "enabled": "0"},
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nothing is open in this module." in text
    set_enabled(world.community, "points", False, world.admin)
    app.extensions["linli.plugins"].forget(world.community)
    assert not app.extensions["linli.plugins"].is_enabled(world.community, "points")


def test_notifications_of_a_module_that_is_off_say_so(world, reserved, login, api):
    from core.services.notifications import notify

    notify(world.resident.id, world.community, "points.order_ready", "Your order is ready.",
           url="/c/test/points/orders/1")
    db.session.commit()
    set_enabled(world.community, "points", False, world.admin, confirm=True)
    page = login(world.resident).get("/auth/notifications", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "is switched off in this community" in page and 'href="/c/test/points/orders/1"' not in page
    items = api(world.resident).get("/api/v1/notifications").json["items"]
    note = next(i for i in items if i["kind"] == "points.order_ready")
    assert note["module_off"] is True and note["url"] is None
    assert Notification.query.count() >= 1
