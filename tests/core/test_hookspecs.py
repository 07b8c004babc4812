"""Every hook is documented and exercised here (test_hook_<name>), through a recording plugin."""
import types

import click
import pytest
from flask import Blueprint

from core import hookspecs
from core.db import transaction
from core.events import Event, EventType, emit
from core.extensions import db
from core.hookspecs import hookimpl
from core.permissions import Permission, can
from core.plugins import PluginManifest
from core.services import accounts, proposals
from core.services.plugins import set_enabled
from core.ui import AgendaCandidate, NavItem, Panel
from tests.conftest import make_app

HOOKS = sorted(n for n in dir(hookspecs) if not n.startswith("_") and hasattr(getattr(hookspecs, n), "linli_spec"))
GOOD = {"title": "钩子测试议题", "body": "检查每一个钩子都被调用。", "category": "other"}


def test_every_hook_is_documented_and_tested():
    import inspect

    tests = {n for n in globals() if n.startswith("test_hook_")}
    with open("docs/plugins.md", encoding="utf-8") as f:
        docs = f.read()
    for name in HOOKS:
        assert inspect.getdoc(getattr(hookspecs, name)), f"{name} has no docstring"
        assert f"test_hook_{name}" in tests, f"{name} has no test"
        assert name in docs, f"{name} is not in docs/plugins.md"


def build_recorder():
    rec = types.ModuleType("recorder")
    rec.manifest = PluginManifest(name="recorder", label="Recorder")
    rec.calls = []
    rec.open_count = 0
    bp = Blueprint("recorder", __name__, url_prefix="/recorder")
    bp.add_url_rule("/", "index", lambda: "recorder page")
    api_bp = Blueprint("recorder_api", __name__, url_prefix="/recorder")
    api_bp.add_url_rule("/ping", "ping", lambda: {"pong": True})
    sent = []
    rec.sent = sent

    @click.command("recorder-hello")
    def hello():
        click.echo("hello from recorder")

    def impl(fn):
        setattr(rec, fn.__name__, hookimpl(fn))
        return fn

    @impl
    def register_blueprints():
        return [bp]

    @impl
    def register_api_blueprints():
        return [api_bp]

    @impl
    def register_cli_commands():
        return [hello]

    @impl
    def register_permissions():
        return [Permission("recorder.use", "Use", ("resident",))]

    @impl
    def register_event_types():
        return [EventType("recorder.did", "Did")]

    @impl
    def register_audit_events():
        from core.services.audit import AuditEvent, AuditField

        return [AuditEvent("recorder.noted", "Noted something"), AuditField("colour", "Colour")]

    @impl
    def on_plugin_enabled(community, actor):
        rec.calls.append(("enabled", community.slug))

    @impl
    def on_plugin_disabled(community, actor):
        rec.calls.append(("disabled", community.slug))

    @impl
    def open_business(community):
        return [{"key": "open_things", "label": "Open things", "count": rec.open_count},
                {"key": "closed_things", "label": "Closed things", "count": 0}]

    @impl
    def nav_items(community, user):
        return [NavItem("c.recorder.index", "Recorder", order=5)]

    @impl
    def proposal_panels(proposal, user):
        return [Panel("_recorder_missing.html", "x")] if proposal.title == "panel-crash" else []

    @impl
    def proposal_transition_blocked(proposal, new_state, actor):
        return "不行" if new_state == "voting" else None

    @impl
    def on_proposal_transition(proposal, old_state, new_state, actor, reason):
        rec.calls.append(("transition", old_state, new_state))

    @impl
    def on_resident_verified(membership, actor):
        rec.calls.append(("verified", membership.user_id))

    @impl
    def on_event(event):
        rec.calls.append(("event", event.name))

    @impl
    def check_permission(user, community, permission, obj):
        if permission == "core.proposals.manage" and user.username == "resident":
            return True
        if permission == "core.members.view" and user.username == "staff":
            return False
        return None

    @impl
    def dashboard_widgets(community, user):
        return [Panel("example/_panel.html", "仪表盘小部件", {"proposal_id": 0})]

    @impl
    def notification_channels():
        return [sent.append]

    @impl
    def agenda_sources(community, user):
        return [AgendaCandidate(ref="recorder:1", title="Recorded item")]

    @impl
    def load_demo_data(community, users):
        rec.calls.append(("demo", community.slug, sorted(users)[:2]))

    @impl
    def personal_data_export(user, community):
        return {"module": "recorder", "login": user.login_name}

    rec.refuse_merge = False

    @impl
    def on_persons_merged(community, keep_id, other_id, actor):
        from sqlalchemy import select

        from core.errors import Conflict
        from core.models import Person

        still_there = db.session.execute(select(Person.id).where(Person.id == other_id)).first() is not None
        rec.calls.append(("merged", community.slug, keep_id, other_id, still_there, actor.username))
        if rec.refuse_merge:
            raise Conflict("recorder_refuses", "不能合并")
        return {"module": "recorder", "moved": {"recorder_thing": 2, "recorder_other": 0}, "removed": {}}

    @impl
    def personal_data_erase(user, community, actor):
        rec.calls.append(("erase", user.display_name, community.slug))
        return {"module": "recorder", "rows": 1}

    return rec


@pytest.fixture
def rec():
    return build_recorder()


@pytest.fixture
def rapp(db_url, rec):
    from tests import example_plugin  # for its panel template

    app = make_app(db_url, [rec, example_plugin])
    from tests.conftest import FreshContextClient

    app.test_client_class = FreshContextClient
    ctx = app.app_context()
    ctx.push()
    yield app
    db.session.remove()
    ctx.pop()


@pytest.fixture
def rworld(rapp, request):
    return request.getfixturevalue("world")


@pytest.fixture
def app(rapp):  # the world fixture builds on `app`
    return rapp


def test_hook_register_blueprints(rworld, client):
    assert client.get("/c/test/recorder/").data == b"recorder page"


def test_hook_register_api_blueprints(rworld, client):
    assert client.get("/api/v1/c/test/recorder/ping").get_json() == {"pong": True}


def test_hook_register_cli_commands(rworld, rapp):
    result = rapp.test_cli_runner().invoke(args=["recorder-hello"])
    assert result.output.strip() == "hello from recorder"


def test_hook_register_permissions(rworld):
    assert can("recorder.use", rworld.community, user=rworld.resident)
    assert not can("recorder.use", rworld.community, user=rworld.outsider)


def test_hook_register_audit_events(rworld, rapp, login):
    from core.services import audit

    audit.record("recorder.noted", community=rworld.community, actor=rworld.staff,
                 before={"colour": "red"}, after={"colour": "blue"})
    db.session.commit()
    page = login(rworld.staff).get("/c/test/admin/audit").get_data(as_text=True)
    assert "Noted something" in page and "recorder.noted" not in page.split("<tbody>", 1)[1]
    assert '<th scope="row">Colour</th><td>red</td><td>blue</td>' in page


def test_hook_register_event_types(rworld, rec):
    emit(rworld.community, Event("recorder.did", rworld.community.id, None, (), "r:1"))
    assert ("event", "recorder.did") in rec.calls


def test_hook_on_plugin_enabled(rworld, rec):
    set_enabled(rworld.community, "recorder", False, rworld.admin)
    set_enabled(rworld.community, "recorder", True, rworld.admin)
    set_enabled(rworld.community, "recorder", True, rworld.admin)  # no change, no call
    assert [c for c in rec.calls if c[0] in ("enabled", "disabled")] == [("disabled", "test"), ("enabled", "test")]


def test_hook_on_plugin_disabled(rworld, rec, client):
    set_enabled(rworld.community, "recorder", False, rworld.admin)
    assert ("disabled", "test") in rec.calls
    assert client.get("/c/test/recorder/").status_code == 404
    assert client.get("/api/v1/c/test/recorder/ping").status_code == 404


def test_hook_open_business(rworld, rec, runner):
    from core.errors import Conflict
    from core.services.plugins import open_business

    rec.open_count = 2
    assert open_business(rworld.community, "recorder") == [{"key": "open_things", "label": "Open things", "count": 2}]
    with pytest.raises(Conflict) as e:
        set_enabled(rworld.community, "recorder", False, rworld.admin)
    assert e.value.code == "open_business" and e.value.details[0]["count"] == 2
    assert ("disabled", "test") not in rec.calls
    result = runner.invoke(args=["plugins", "disable", "recorder", "--community", "test"])
    assert result.exit_code != 0 and "Open things: 2" in result.output
    set_enabled(rworld.community, "recorder", False, rworld.admin, confirm=True)
    assert ("disabled", "test") in rec.calls
    assert open_business(rworld.community, "recorder") == []  # off: nothing asked


def test_hook_nav_items(rworld, login):
    assert 'href="/c/test/recorder/"' in login(rworld.resident).get("/c/test/").get_data(as_text=True)


def test_hook_proposal_panels(rworld, login):
    p = proposals.create(rworld.community, rworld.resident, GOOD)
    page = login(rworld.resident).get(f"/c/test/proposals/{p.id}").get_data(as_text=True)
    assert "Example panel for proposal" in page


def test_hook_proposal_transition_blocked(rworld):
    from core.errors import Conflict

    p = proposals.create(rworld.community, rworld.resident, GOOD)
    proposals.transition(p, "coordinating", rworld.staff, "ok")
    with pytest.raises(Conflict) as err:
        proposals.transition(p, "voting", rworld.staff, "ok")
    assert err.value.message == "不行"


def test_hook_on_proposal_transition(rworld, rec):
    p = proposals.create(rworld.community, rworld.resident, GOOD)
    proposals.transition(p, "coordinating", rworld.staff, "ok")
    assert [c for c in rec.calls if c[0] == "transition"] == [("transition", "draft", "open"),
                                                             ("transition", "open", "coordinating")]


def test_hook_on_resident_verified(rworld, rec):
    from core.models import Membership

    m = Membership.query.filter_by(user_id=rworld.newbie.id).one()
    accounts.verify_resident(m, rworld.households[0], "resident", rworld.staff)
    assert ("verified", rworld.newbie.id) in rec.calls


def test_hook_on_event(rworld, rec):
    proposals.create(rworld.community, rworld.resident, GOOD)
    assert ("event", "proposal.submitted") in rec.calls


def test_hook_check_permission(rworld):
    # a plugin may grant (True) and deny (False); deny wins over the roles
    assert can("core.proposals.manage", rworld.community, user=rworld.resident)
    assert not can("core.members.view", rworld.community, user=rworld.staff)
    assert can("core.members.view", rworld.community, user=rworld.admin)


def test_hook_dashboard_widgets(rworld, client):
    assert "仪表盘小部件" in client.get("/c/test/").get_data(as_text=True)


def test_hook_notification_channels(rworld, rec):
    p = proposals.create(rworld.community, rworld.resident, GOOD)
    rec.sent.clear()
    proposals.comment(p, rworld.resident2, "支持")
    assert [(n.kind, n.user_id) for n in rec.sent] == [("proposal.comment", rworld.resident.id)]


def test_hook_agenda_sources(rworld, rapp):
    registry = rapp.extensions["linli.plugins"]
    items = [i for group in registry.hooks_for(rworld.community).agenda_sources(
        community=rworld.community, user=rworld.staff) for i in group]
    assert [i.ref for i in items] == ["recorder:1"]
    set_enabled(rworld.community, "recorder", False, rworld.admin)
    assert registry.hooks_for(rworld.community).agenda_sources(community=rworld.community, user=rworld.staff) == []


def test_hook_load_demo_data(rapp, rec):
    from core.demo import load_demo

    load_demo("demo2")
    assert ("demo", "demo2", ["admin", "loudongzhang"]) in rec.calls


def test_hook_personal_data_export(rworld, rapp):
    from core.services import personal_data

    [section] = personal_data.export(rworld.resident)["communities"]
    assert section["modules"]["recorder"] == {"login": "resident"}
    set_enabled(rworld.community, "recorder", False, rworld.admin)
    assert "recorder" not in personal_data.export(rworld.resident)["communities"][0]["modules"]


def test_hook_personal_data_erase(rworld, rec):
    from core.services import personal_data

    summary = personal_data.erase(rworld.resident, rworld.staff, "request 1")
    assert ("erase", "居民甲", "test") in rec.calls  # called before the core anonymised the account
    assert summary["modules"]["recorder"] == {"rows": 1}



def test_hook_on_persons_merged(rworld, rec):
    from core.errors import Conflict
    from core.models import AuditEntry, HouseholdMember, Person
    from core.services import persons

    def two():
        a, b = (HouseholdMember(household_id=h.id, name="赵老伯", relation="owner") for h in rworld.households[:2])
        db.session.add_all([a, b])
        db.session.commit()
        return a.person, b.person

    # A module switched off keeps its rows, so it is asked too; refused by a module: nothing merged.
    set_enabled(rworld.community, "recorder", False, rworld.admin)
    keep, other = two()
    keep_id, other_id = keep.id, other.id
    rec.refuse_merge = True
    with pytest.raises(Conflict), transaction():  # the refusal rolls the whole merge back
        persons.merge(rworld.community, keep, other, rworld.staff)
    assert db.session.get(Person, other_id) is not None
    rec.refuse_merge = False
    persons.merge(rworld.community, db.session.get(Person, keep_id), db.session.get(Person, other_id), rworld.staff)
    assert ("merged", "test", keep_id, other_id, True, "staff") in rec.calls  # before the person was deleted
    assert db.session.get(Person, other_id) is None
    moved = AuditEntry.query.filter_by(action="person.merged").one().after["moved"]
    assert moved == {"household_member": 1, "recorder_thing": 2}  # non-zero counts only
