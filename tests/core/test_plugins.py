"""The plugin system: per-community enabling at run time, hook relay, registry checks, CLI."""
import pytest

from core.extensions import db
from core.models import AuditEntry, Proposal
from core.services import proposals
from core.services.plugins import set_enabled
from tests import example_plugin
from tests.example_plugin import heard

pytestmark = pytest.mark.plugins(example_plugin)

GOOD = {"title": "清理楼道杂物", "body": "楼道里堆满了旧家具，挡住了消防通道。", "category": "greenery"}


def test_enabled_plugin_shows_page_menu_and_panel(world, login, client):
    assert client.get("/c/test/example/").status_code == 200
    c = login(world.resident)
    home = c.get("/c/test/").get_data(as_text=True)
    assert 'href="/c/test/example/"' in home
    p = proposals.create(world.community, world.resident, GOOD)
    assert "Example panel for proposal" in c.get(f"/c/test/proposals/{p.id}").get_data(as_text=True)


def test_admin_switches_plugin_off_and_on_without_restart(world, login):
    admin = login(world.admin)
    resident = login(world.resident)
    p = proposals.create(world.community, world.resident, GOOD)
    r = admin.post("/c/test/admin/modules", data={"plugin": "example", "enabled": "0"})
    assert r.status_code == 200 and 'name="confirm"' in r.get_data(as_text=True)  # asks first
    assert resident.get("/c/test/example/").status_code == 200
    r = admin.post("/c/test/admin/modules", data={"plugin": "example", "enabled": "0", "confirm": "1"})
    assert r.status_code == 302
    assert resident.get("/c/test/example/").status_code == 404
    assert 'href="/c/test/example/"' not in resident.get("/c/test/").get_data(as_text=True)
    assert "Example panel" not in resident.get(f"/c/test/proposals/{p.id}").get_data(as_text=True)
    # the other community is not affected
    assert resident.get("/c/other/example/").status_code == 200
    admin.post("/c/test/admin/modules", data={"plugin": "example", "enabled": "1"})
    assert resident.get("/c/test/example/").status_code == 200
    assert 'href="/c/test/example/"' in resident.get("/c/test/").get_data(as_text=True)
    actions = [e.action for e in AuditEntry.query.filter_by(object_type="plugin").order_by(AuditEntry.id)]
    assert actions == ["plugin.disabled", "plugin.enabled"]


def test_disabled_plugin_hears_no_events_and_cannot_veto(world):
    heard.clear()
    set_enabled(world.community, "example", False, world.admin)
    p = proposals.create(world.community, world.resident, {**GOOD, "title": "BLOCK 这个议题"})
    proposals.transition(p, "coordinating", world.staff, "可以")  # the veto is silent when disabled
    assert heard == []
    set_enabled(world.community, "example", True, world.admin)
    p2 = proposals.create(world.community, world.resident, {**GOOD, "title": "BLOCK 另一个"})
    assert [e.name for e in heard] == ["proposal.transitioned", "proposal.submitted"]
    from core.errors import Conflict

    with pytest.raises(Conflict) as err:
        proposals.transition(p2, "coordinating", world.staff, "可以")
    assert "blocked by the example" in str(err.value.message)
    db.session.expire_all()
    assert db.session.get(Proposal, p2.id).state == "open"


def test_only_admins_toggle_modules(world, login):
    assert login(world.staff).post("/c/test/admin/modules", data={"plugin": "example", "enabled": "0"}).status_code == 403
    assert login(world.outsider).post("/c/test/admin/modules", data={"plugin": "example", "enabled": "0"}).status_code == 403
    assert login(world.resident).get("/c/test/example/").status_code == 200


def test_unknown_plugin_toggle_is_refused(world, login):
    r = login(world.admin).post("/c/test/admin/modules", data={"plugin": "nonexistent", "enabled": "0"},
                                follow_redirects=True)
    assert "flash-error" in r.get_data(as_text=True)


def test_cli_lists_and_toggles_plugins(world, runner, login):
    result = runner.invoke(args=["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(result.output)
    assert rows[0]["name"] == "example" and "on_event" in rows[0]["hooks"]
    assert rows[0]["communities"] == {"other": True, "test": True}
    result = runner.invoke(args=["plugins", "disable", "example", "--community", "test"])
    assert result.exit_code == 0, result.output
    assert login(world.resident).get("/c/test/example/").status_code == 404
    result = runner.invoke(args=["plugins", "enable", "nope", "--community", "test"])
    assert result.exit_code != 0
    result = runner.invoke(args=["plugins", "enable", "example", "--community", "nowhere"])
    assert result.exit_code != 0


def test_registry_rejects_a_plugin_with_typoed_hook(db_url):
    import types

    import pluggy

    from core.hookspecs import hookimpl
    from core.plugins import PluginManifest
    from tests.conftest import make_app

    bad = types.ModuleType("bad")
    bad.manifest = PluginManifest(name="bad", label="Bad")

    @hookimpl
    def nav_itemz(community, user):
        return []

    bad.nav_itemz = nav_itemz
    with pytest.raises(pluggy.PluginValidationError):
        make_app(db_url, [bad])


def test_registry_rejects_unnamespaced_events(db_url):
    import types

    from core.events import EventType
    from core.hookspecs import hookimpl
    from core.plugins import PluginManifest
    from tests.conftest import make_app

    bad = types.ModuleType("bad")
    bad.manifest = PluginManifest(name="bad", label="Bad")

    @hookimpl
    def register_event_types():
        return [EventType("proposal.hijacked", "x")]

    bad.register_event_types = register_event_types
    with pytest.raises(RuntimeError, match="namespaced"):
        make_app(db_url, [bad])


def test_emit_refuses_undeclared_event(world):
    from core.events import Event, UndeclaredEvent, emit

    with pytest.raises(UndeclaredEvent):
        emit(world.community, Event("example.nope", world.community.id, None, (), "x"))
