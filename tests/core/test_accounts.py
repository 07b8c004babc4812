"""Registration, login, sessions, passwords, language, verification and roles."""
import pytest

from core.extensions import db
from core.models import AuditEntry, HouseholdMember, Membership, Notification, User
from tests.helpers import PASSWORD, REGISTRATION


def test_register_with_phone_creates_unverified_resident(client, world):
    r = client.post("/c/test/register", data={"display_name": "张阿姨", "login": "13912345678",
                                               "password": "a-long-password", "confirm": "a-long-password",
                                               **REGISTRATION})
    assert r.status_code == 302
    user = User.query.filter_by(phone="13912345678").one()
    m = Membership.query.filter_by(user_id=user.id, community_id=world.community.id).one()
    assert m.role_list == ["resident"] and not m.is_verified
    # registering logs the new resident in
    home = client.get("/c/test/")
    assert "张阿姨".encode() in home.data
    assert AuditEntry.query.filter_by(action="account.registered").count() == 1


@pytest.mark.parametrize("login,password,confirm,field_error", [
    ("12", "a-long-password", "a-long-password", "login"),
    ("new_user", "short", "short", "password"),
    ("new_user", "12345678", "12345678", "password"),
    ("new_user", "a-long-password", "different-pass", "confirm"),
    ("resident", "a-long-password", "a-long-password", "login"),  # taken
])
def test_register_rejects_bad_input_and_saves_nothing(client, world, login, password, confirm, field_error):
    before = User.query.count()
    r = client.post("/c/test/register", data={"display_name": "某人", "login": login, "password": password,
                                               "confirm": confirm, **REGISTRATION})
    assert r.status_code == 200
    assert b'class="error"' in r.data
    assert f'id="{field_error}-err"'.encode() in r.data
    assert User.query.count() == before


def test_login_and_logout(client, world):
    r = client.post("/auth/login", data={"login": "resident", "password": "wrong-password"})
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
    r = client.post("/auth/login", data={"login": "resident", "password": PASSWORD})
    assert r.status_code == 302
    assert "居民甲" in client.get("/c/test/").get_data(as_text=True)
    client.post("/auth/logout")
    assert client.get("/auth/account").status_code == 302  # back to login


def test_login_next_is_local_only(client, world):
    r = client.post("/auth/login?next=https://evil.example/", data={"login": "resident", "password": PASSWORD})
    assert r.headers["Location"] in ("/", "http://localhost/")


def test_password_change_ends_other_sessions(app, world, login):
    phone_a, phone_b = login(world.resident), login(world.resident)
    r = phone_a.post("/auth/account", data={"form": "password", "pw-old_password": PASSWORD,
                                            "pw-new_password": "a-new-long-password",
                                            "pw-confirm": "a-new-long-password"})
    assert r.status_code == 302
    assert phone_a.get("/auth/account").status_code == 200     # this device stays logged in
    assert phone_b.get("/auth/account").status_code == 302     # the other one is logged out
    fresh = app.test_client()
    assert fresh.post("/auth/login", data={"login": "resident", "password": PASSWORD}).status_code == 200
    assert fresh.post("/auth/login", data={"login": "resident", "password": "a-new-long-password"}).status_code == 302


def test_password_change_with_wrong_old_password_changes_nothing(world, login):
    c = login(world.resident)
    r = c.post("/auth/account", data={"form": "password", "pw-old_password": "not-my-password",
                                      "pw-new_password": "a-new-long-password", "pw-confirm": "a-new-long-password"})
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
    db.session.expire_all()
    from werkzeug.security import check_password_hash

    assert check_password_hash(db.session.get(User, world.resident.id).password_hash, PASSWORD)


def test_passwords_are_stored_hashed_with_scrypt_by_default(world):
    from core.config import Defaults

    assert Defaults.PASSWORD_HASH_METHOD == "scrypt"
    stored = db.session.get(User, world.resident.id).password_hash
    assert PASSWORD not in stored and stored.startswith("pbkdf2:sha256")  # the tests' cheaper setting


def test_session_cookie_is_httponly_and_samesite(client, world):
    r = client.post("/auth/login", data={"login": "resident", "password": PASSWORD})
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("app_config", [{"LOGIN_ACCOUNT_LIMIT": "3 per minute"}])
def test_login_is_rate_limited_per_account(app, world, app_config):
    from tests.live import free_port  # noqa: F401  (import check only)

    def attempt(password, address):
        return app.test_client().post("/auth/login", data={"login": "resident", "password": password},
                                      environ_base={"REMOTE_ADDR": address}).status_code

    # a different address each time: the per-account limit still applies to the addresses that failed
    assert [attempt("wrong-password", f"10.0.0.{i + 1}") for i in range(3)] == [200, 200, 200]
    assert [attempt(PASSWORD, f"10.0.0.{i + 1}") for i in range(3)] == [429, 429, 429]
    # but not to an address that has not failed: the owner still signs in (tests/security/test_login_limits.py)
    assert attempt(PASSWORD, "10.0.0.9") == 302
    # another account from a fresh address is not affected
    c = app.test_client()
    assert c.post("/auth/login", data={"login": "resident2", "password": PASSWORD},
                  environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_LOGIN": "3 per minute"}])
def test_login_is_rate_limited_per_address(app, world, app_config):
    c = app.test_client()
    statuses = [c.post("/auth/login", data={"login": f"user{i}x", "password": "wrong-password"}).status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_language_follows_choice_then_browser(client, world):
    r = client.get("/auth/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="en"' in r.get_data(as_text=True)
    r = client.get("/auth/login", headers={"Accept-Language": "zh-TW"})
    assert 'lang="zh-Hant"' in r.get_data(as_text=True)
    client.post("/language", data={"locale": "zh_Hans", "next": "/auth/login"})
    r = client.get("/auth/login", headers={"Accept-Language": "en"})
    assert 'lang="zh-Hans"' in r.get_data(as_text=True)


def test_language_choice_is_saved_for_the_account(world, login):
    c = login(world.resident)
    c.post("/language", data={"locale": "en", "next": "/"})
    db.session.expire_all()
    assert db.session.get(User, world.resident.id).locale == "en"


def test_large_text_switch_persists(world, login):
    c = login(world.resident)
    assert "large-text" not in c.get("/c/test/").get_data(as_text=True).split("<body", 1)[1][:80]
    c.post("/text-size", data={"large": "1", "next": "/c/test/"})
    assert "large-text" in c.get("/c/test/").get_data(as_text=True).split("<body", 1)[1][:80]
    db.session.expire_all()
    assert db.session.get(User, world.resident.id).large_text is True


def test_staff_verify_links_resident_to_household(world, login):
    m = Membership.query.filter_by(user_id=world.newbie.id).one()
    staff = login(world.staff)
    h = world.households[0]
    r = staff.post(f"/c/test/members/{m.id}", data={"form": "verify", "v-household_id": h.id,
                                                    "v-relation": "tenant", "v-reason": "查看了租房合同"})
    assert r.status_code == 302
    db.session.expire_all()
    m = db.session.get(Membership, m.id)
    assert m.is_verified and m.household_id == h.id and m.verified_by_id == world.staff.id
    member = HouseholdMember.query.filter_by(user_id=world.newbie.id).one()
    assert member.household_id == h.id and member.relation == "tenant"
    note = Notification.query.filter_by(user_id=world.newbie.id, kind="verified").one()
    assert note is not None
    entry = AuditEntry.query.filter_by(action="membership.verified", object_id=str(m.id)).one()
    assert entry.actor_id == world.staff.id and entry.reason == "查看了租房合同"


def test_verify_with_household_of_another_community_is_refused(world, login):
    from core.models import Building, Grid, Household, Unit

    g2 = Grid(community_id=world.other.id, name="G")
    db.session.add(g2)
    db.session.flush()
    b2 = Building(community_id=world.other.id, grid_id=g2.id, name="B")
    db.session.add(b2)
    db.session.flush()
    u2 = Unit(building_id=b2.id, name="U")
    db.session.add(u2)
    db.session.flush()
    foreign = Household(community_id=world.other.id, unit_id=u2.id, room="1", floor_area=50)
    db.session.add(foreign)
    db.session.commit()
    m = Membership.query.filter_by(user_id=world.newbie.id).one()
    r = login(world.staff).post(f"/c/test/members/{m.id}", data={"form": "verify", "v-household_id": foreign.id,
                                                                 "v-relation": "owner"})
    assert r.status_code == 200
    db.session.expire_all()
    assert not db.session.get(Membership, m.id).is_verified


def test_residents_cannot_verify_or_see_members(world, login):
    m = Membership.query.filter_by(user_id=world.newbie.id).one()
    c = login(world.resident)
    assert c.get("/c/test/members").status_code == 403
    r = c.post(f"/c/test/members/{m.id}", data={"form": "verify", "v-household_id": world.households[0].id,
                                                "v-relation": "owner"})
    assert r.status_code == 403
    db.session.expire_all()
    assert not db.session.get(Membership, m.id).is_verified


def test_other_communitys_staff_cannot_touch_members(world, login):
    m = Membership.query.filter_by(user_id=world.newbie.id).one()
    c = login(world.outsider)
    assert c.get("/c/test/members").status_code == 403
    assert c.get(f"/c/other/members/{m.id}").status_code == 404


def test_only_admins_grant_staff(world, login):
    m = Membership.query.filter_by(user_id=world.resident.id).one()
    r = login(world.staff).post(f"/c/test/members/{m.id}", data={"form": "roles", "roles": ["resident", "staff"],
                                                                 "r-building_id": 0, "r-grid_id": 0})
    assert r.status_code == 403
    r = login(world.admin).post(f"/c/test/members/{m.id}", data={"form": "roles", "roles": ["resident", "staff"],
                                                                 "r-building_id": 0, "r-grid_id": 0})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, m.id).role_list == ["resident", "staff"]


def test_building_head_role_needs_a_building(world, login):
    m = Membership.query.filter_by(user_id=world.resident.id).one()
    r = login(world.admin).post(f"/c/test/members/{m.id}", data={"form": "roles",
                                                                 "roles": ["resident", "building_head"],
                                                                 "r-building_id": 0, "r-grid_id": 0})
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Membership, m.id).role_list == ["resident"]
