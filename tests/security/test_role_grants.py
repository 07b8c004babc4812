"""Role grants (issue 16): a role or a right is always someone else's act, and a role that opens
confidential data (the mediator's cases) or the community's administration is given only by a
community admin or a site administrator. Checked on the service, the member page, the API and
the command line, and on every other path that hands out a right: mediation-staff access,
meeting delegates, voting proxies and residence verification. Every grant is audited."""
import pytest

from core.db import transaction
from core.errors import Conflict, Forbidden
from core.extensions import db
from core.models import AuditEntry, Membership
from core.services import accounts
from tests.conftest import PASSWORD

pytestmark = pytest.mark.plugins("mediation", "meetings", "voting")
SECRET = "机密调解内容QR77"
FORM = {"form": "roles", "r-building_id": 0, "r-grid_id": 0}


def membership(world, user):
    return Membership.query.filter_by(user_id=user.id, community_id=world.community.id).one()


def roles_of(world, user):
    db.session.expire_all()
    return membership(world, user).role_list


def role_audits(m):
    return AuditEntry.query.filter_by(action="membership.roles_changed", object_id=str(m.id)).all()


@pytest.fixture
def case(world):
    """A confidential mediation case between two residents, seen only by mediation staff and its parties."""
    from plugins.mediation import services as svc

    return svc.open_case(world.community, world.resident, {
        "source": "application", "category": "noise", "description": f"邻里纠纷 {SECRET}",
        "rights_notified": True, "voluntary_statement": True,
        "parties": [{"role": "applicant", "login": "resident", "consent": "agreed", "pi_consent": "form"},
                    {"role": "respondent", "login": "resident2", "consent": "agreed", "pi_consent": "form"}]})


@pytest.fixture
def site_admin(world):
    """A site administrator who is also a member of the community (to try changing their own roles)."""
    user = accounts.create_user("siteadmin", PASSWORD, "站点管理员", is_superadmin=True)
    db.session.add(Membership(user_id=user.id, community_id=world.community.id, roles="resident"))
    db.session.commit()
    return user


def sees_case(client, case):
    r = client.get(f"/c/test/mediation/cases/{case.id}")
    return r.status_code == 200 and SECRET in r.get_data(as_text=True)


# ── the member page ─────────────────────────────────────────────────────────────────────
def test_staff_giving_themselves_the_mediator_role_on_the_member_page_is_refused(world, case, login):
    staff = login(world.staff)
    m = membership(world, world.staff)
    r = staff.post(f"/c/test/members/{m.id}", data={**FORM, "roles": ["staff", "mediator"]})
    assert r.status_code == 403
    assert "不能修改自己的角色" in r.get_data(as_text=True)
    assert roles_of(world, world.staff) == ["staff"] and role_audits(m) == []
    assert not sees_case(staff, case)
    assert staff.get(f"/c/test/mediation/cases/{case.id}").status_code in (403, 404)


def test_staff_giving_someone_else_the_mediator_role_is_refused_an_admins_grant_is_audited(world, case, login):
    resident_m, staff_m = membership(world, world.resident2), membership(world, world.staff)
    forged = login(world.staff).post(f"/c/test/members/{resident_m.id}",
                                     data={**FORM, "roles": ["resident", "mediator"]})
    assert forged.status_code == 403 and "只有社区管理员才能授予或取消以下角色：调解员" in forged.get_data(as_text=True)
    assert roles_of(world, world.resident2) == ["resident"] and role_audits(resident_m) == []
    r = login(world.admin).post(f"/c/test/members/{staff_m.id}", data={**FORM, "roles": ["staff", "mediator"]})
    assert r.status_code == 302
    assert roles_of(world, world.staff) == ["mediator", "staff"]
    (entry,) = role_audits(staff_m)
    assert entry.actor_id == world.admin.id
    assert entry.before["roles"] == ["staff"] and entry.after["roles"] == ["mediator", "staff"]
    assert sees_case(login(world.staff), case)


def test_the_roles_form_offers_only_the_roles_the_user_may_give(world, login):
    m = membership(world, world.mediator)
    page = login(world.staff).get(f"/c/test/members/{m.id}").get_data(as_text=True)
    offered = {r for r in ("resident", "building_head", "grid_worker", "mediator", "staff", "admin")
               if f'name="roles" value="{r}"' in page}
    assert offered == {"resident", "building_head", "grid_worker"}
    assert "此角色只能由社区管理员变更" in page  # the mediator role, shown, not offered
    page = login(world.admin).get(f"/c/test/members/{m.id}").get_data(as_text=True)
    assert 'name="roles" value="mediator"' in page and 'name="roles" value="admin"' in page
    own = login(world.admin).get(f"/c/test/members/{membership(world, world.admin).id}").get_data(as_text=True)
    assert 'name="roles"' not in own and "不能修改自己的角色" in own
    # Staff change the mediator's resident-level roles; the mediator role the form did not offer stays.
    r = login(world.staff).post(f"/c/test/members/{m.id}", data={**FORM, "roles": ["resident", "grid_worker"],
                                                                 "r-grid_id": world.grid.id})
    assert r.status_code == 302
    assert roles_of(world, world.mediator) == ["resident", "grid_worker", "mediator"]


def test_an_admin_cannot_change_their_own_roles_and_the_last_admin_stays(world, login, site_admin):
    m = membership(world, world.admin)
    r = login(world.admin).post(f"/c/test/members/{m.id}", data={**FORM, "roles": ["admin", "staff", "mediator"]})
    assert r.status_code == 403 and roles_of(world, world.admin) == ["staff", "admin"]
    r = login(site_admin).post(f"/c/test/members/{m.id}", data={**FORM, "roles": ["staff"]})
    assert r.status_code == 409 and "最后一位管理员" in r.get_data(as_text=True)
    assert roles_of(world, world.admin) == ["staff", "admin"] and role_audits(m) == []
    # A site administrator's own membership is theirs too.
    own = membership(world, site_admin)
    r = login(site_admin).post(f"/c/test/members/{own.id}", data={**FORM, "roles": ["resident", "mediator"]})
    assert r.status_code == 403 and roles_of(world, site_admin) == ["resident"]


# ── the service ─────────────────────────────────────────────────────────────────────────
def test_the_service_refuses_self_grants_and_staff_grants_of_confidential_roles(world):
    staff_m, resident_m = membership(world, world.staff), membership(world, world.resident)
    with pytest.raises(Forbidden):
        accounts.set_roles(staff_m, ["staff", "mediator"], world.staff)
    with pytest.raises(Forbidden):
        accounts.set_roles(resident_m, ["resident", "mediator"], world.staff)
    with pytest.raises(Forbidden):  # taking a confidential role away is an admin's act too
        accounts.set_roles(membership(world, world.mediator), ["resident"], world.staff)
    with pytest.raises(Forbidden):
        accounts.set_roles(resident_m, ["resident", "staff"], world.staff)
    with pytest.raises(Forbidden):  # a building head may see members, not change them
        accounts.set_roles(resident_m, ["resident", "grid_worker"], world.building_head, grid=world.grid)
    with pytest.raises(Forbidden):
        accounts.set_roles(membership(world, world.admin), ["admin", "staff", "mediator"], world.admin)
    assert roles_of(world, world.staff) == ["staff"] and roles_of(world, world.resident) == ["resident"]
    assert roles_of(world, world.mediator) == ["resident", "mediator"]
    assert AuditEntry.query.filter_by(action="membership.roles_changed").count() == 0
    # Staff give and take resident-level roles; an admin every role: both audited.
    accounts.set_roles(resident_m, ["resident", "building_head"], world.staff, building=world.building)
    accounts.set_roles(resident_m, ["resident", "mediator"], world.admin)
    entries = AuditEntry.query.filter_by(action="membership.roles_changed").order_by(AuditEntry.id).all()
    assert [(e.actor_id, e.before["roles"], e.after["roles"], e.after["building_id"]) for e in entries] == [
        (world.staff.id, ["resident"], ["resident", "building_head"], world.building.id),
        (world.admin.id, ["resident", "building_head"], ["resident", "mediator"], None)]


def test_the_last_admin_cannot_lose_the_role_a_second_admin_can(world, site_admin):
    admin_m = membership(world, world.admin)
    with pytest.raises(Conflict):
        accounts.set_roles(admin_m, ["staff"], site_admin)
    with pytest.raises(Conflict):
        accounts.set_roles(admin_m, ["staff"], None)  # the operator at the command line too
    assert roles_of(world, world.admin) == ["staff", "admin"]
    accounts.set_roles(membership(world, world.staff), ["staff", "admin"], world.admin)
    accounts.set_roles(admin_m, ["staff"], world.staff)
    assert roles_of(world, world.admin) == ["staff"] and roles_of(world, world.staff) == ["staff", "admin"]


# ── the API ─────────────────────────────────────────────────────────────────────────────
def test_the_api_applies_the_same_rules(world, case, api, login, site_admin):
    staff, admin = api(world.staff), api(world.admin)
    url = "/api/v1/c/test/members/{}/roles".format
    staff_m, resident_m, admin_m = (membership(world, u) for u in (world.staff, world.resident, world.admin))
    r = staff.post(url(staff_m.id), json={"roles": ["staff", "mediator"]})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "own_roles"
    assert not sees_case(login(world.staff), case)
    r = staff.post(url(resident_m.id), json={"roles": ["resident", "mediator"]})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "admin_only_role"
    assert admin.post(url(admin_m.id), json={"roles": ["admin", "staff", "mediator"]}).status_code == 403
    r = api(site_admin).post(url(admin_m.id), json={"roles": ["staff"]})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "last_admin"
    assert staff.post(url(resident_m.id), json={"roles": "mediator"}).status_code == 400
    assert roles_of(world, world.staff) == ["staff"] and roles_of(world, world.resident) == ["resident"]
    assert roles_of(world, world.admin) == ["staff", "admin"]
    r = staff.post(url(resident_m.id), json={"roles": ["resident", "grid_worker"], "grid_id": world.grid.id})
    assert r.status_code == 200 and r.get_json()["roles"] == ["resident", "grid_worker"]
    r = admin.post(url(staff_m.id), json={"roles": ["staff", "mediator"]})
    assert r.status_code == 200 and r.get_json()["roles"] == ["mediator", "staff"]
    assert sees_case(login(world.staff), case)
    assert [e.actor_id for e in AuditEntry.query.filter_by(action="membership.roles_changed")
            .order_by(AuditEntry.id)] == [world.staff.id, world.admin.id]


# ── the command line ────────────────────────────────────────────────────────────────────
def test_the_command_line_is_the_operators_audited_act(world, runner):
    r = runner.invoke(args=["users", "roles", "resident", "resident", "mediator", "--community", "test"])
    assert r.exit_code == 0, r.output
    assert roles_of(world, world.resident) == ["resident", "mediator"]
    (entry,) = role_audits(membership(world, world.resident))
    assert entry.actor_id is None and entry.after["roles"] == ["resident", "mediator"]
    r = runner.invoke(args=["users", "roles", "admin", "staff", "--community", "test"])
    assert r.exit_code != 0 and "last administrator" in r.output
    assert roles_of(world, world.admin) == ["staff", "admin"]
    r = runner.invoke(args=["users", "create-admin", "operator2", "--password", "a-long-site-admin-pass"])
    assert r.exit_code == 0, r.output
    (made,) = AuditEntry.query.filter_by(action="account.site_admin_created").all()
    assert made.actor_id is None and made.after == {"is_superadmin": True}


# ── other paths to a right ──────────────────────────────────────────────────────────────
def test_mediation_staff_access_is_given_only_by_an_admin_never_to_oneself(world, case, login):
    from plugins.mediation import services as svc

    with pytest.raises(Forbidden):  # a mediator does not co-opt others into reading every case
        svc.set_staff(world.community, world.mediator, world.staff)
    with pytest.raises(Forbidden):
        svc.set_staff(world.community, world.staff, world.staff)
    with pytest.raises(Forbidden):
        svc.set_staff(world.community, world.admin, world.admin)
    assert not sees_case(login(world.staff), case)
    assert not sees_case(login(world.admin), case)
    assert AuditEntry.query.filter_by(action="mediation.staff_granted").count() == 0
    svc.set_staff(world.community, world.admin, world.staff)
    assert sees_case(login(world.staff), case)
    (entry,) = AuditEntry.query.filter_by(action="mediation.staff_granted").all()
    assert entry.actor_id == world.admin.id and entry.object_id == str(world.staff.id)
    assert entry.before == {"mediation_staff": False} and entry.after == {"mediation_staff": True}


def test_nobody_makes_themselves_a_meeting_delegate(world, api):
    from plugins.meetings import services as svc
    from plugins.meetings.models import Delegate, Org

    body = svc.create_body(world.community, world.staff, {"name": "联席会议", "orgs": ["居委会", "物业公司"],
                                                         "quorum_rule": "majority"})
    org = Org.query.filter_by(body_id=body.id).order_by(Org.position).first()
    url = f"/api/v1/c/test/meetings/bodies/{body.id}/delegates"
    r = api(world.staff).post(url, json={"org_id": org.id, "login": "staff"})
    assert r.status_code == 403
    assert not svc.is_delegate(world.staff, body) and Delegate.query.count() == 0
    assert api(world.admin).post(url, json={"org_id": org.id, "login": "staff"}).status_code == 201
    assert svc.is_delegate(world.staff, body)


def test_nobody_records_a_voting_proxy_held_by_themselves(world):
    from plugins.voting import services as svc
    from plugins.voting.models import Proxy, Voter

    ballot = svc.create(world.community, world.staff, {"title": "加装电梯", "secret": True, "days": 7,
                                                       "unit": "household"}, open_now=True)
    head = Voter.query.filter_by(ballot_id=ballot.id, user_id=world.building_head.id).one()
    with pytest.raises(Forbidden):
        svc.record_proxy(ballot, world.grid_worker, {"voter_id": head.id, "proxy_user_id": world.grid_worker.id,
                                                     "witness": "楼长"})
    assert Proxy.query.count() == 0
    svc.record_proxy(ballot, world.staff, {"voter_id": head.id, "proxy_user_id": world.grid_worker.id,
                                           "witness": "楼长"})
    assert Proxy.query.count() == 1


def test_nobody_verifies_their_own_residence(world, api):
    m = membership(world, world.staff)
    r = api(world.staff).post(f"/api/v1/c/test/members/{m.id}/verify",
                              json={"household_id": world.households[0].id, "relation": "owner"})
    assert r.status_code == 403
    db.session.expire_all()
    assert not membership(world, world.staff).is_verified
    r = api(world.admin).post(f"/api/v1/c/test/members/{m.id}/verify",
                              json={"household_id": world.households[0].id, "relation": "owner"})
    assert r.status_code == 200 and r.get_json()["verified"]


def test_two_admins_taking_the_role_from_each_other_at_once_leave_one(app, world, monkeypatch):
    """Each request checks that another admin remains, then both write: the community's row lock
    (core/services/accounts.py::_lock_roles_of) makes the second wait and see the first's change."""
    import threading

    from core.models import User
    from core.services import audit

    accounts.set_roles(membership(world, world.staff), ["staff", "admin"], world.admin)
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    both_checked = threading.Barrier(2)
    record = audit.record

    def record_when_both_checked(*args, **kwargs):
        try:  # without the lock both get here; with it, the second waits at the lock instead
            both_checked.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record_when_both_checked)
    pairs = [(world.admin.id, world.staff.id), (world.staff.id, world.admin.id)]
    outcomes = []

    def take_admin(actor_id, target_id):
        with app.app_context():
            try:
                target = Membership.query.filter_by(user_id=target_id, community_id=world.community.id).one()
                with transaction():  # each thread is a request: its own transaction
                    accounts.set_roles(target, ["staff"], db.session.get(User, actor_id))
                outcomes.append("done")
            except (Conflict, Forbidden) as err:
                outcomes.append(err.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take_admin, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["done", "last_admin"]
    db.session.expire_all()
    admins = [m for m in Membership.query.filter_by(community_id=world.community.id) if m.has_role("admin")]
    assert len(admins) == 1
