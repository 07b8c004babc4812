"""Registration (issue 20): where the resident lives, consent to the privacy notice, mobile numbers,
and one-time password reset codes given by staff in person."""
import re
from datetime import timedelta

import pytest

from core.db import transaction

from core.errors import Forbidden, ServiceError
from core.extensions import db
from core.models import AuditEntry, Membership, Notification, PasswordResetCode, User
from core.privacy import NOTICE_VERSION
from core.services import accounts, reset_codes, structure
from tests.helpers import PASSWORD, REGISTRATION


def _form(**extra):
    data = {"display_name": "张阿姨", "login": "13912345678", "password": "a-long-password",
            "confirm": "a-long-password", "consent": "y"}
    data.update(extra)
    return data


def page(r):
    return r.get_data(as_text=True)


# ── where the resident lives ────────────────────────────────────────────────────────────
def test_register_with_building_and_room_preselects_the_room_for_staff(client, world, login, api):
    h = world.households[2]  # 1单元 103
    form = client.get("/c/test/register")
    assert f'value="{world.unit.id}"' in page(form) and "/c/test/privacy" in page(form)
    r = client.post("/c/test/register", data=_form(unit_id=str(world.unit.id), room=h.room))
    assert r.status_code == 302, page(r)[:2000]
    user = User.query.filter_by(phone="13912345678").one()
    m = Membership.query.filter_by(user_id=user.id, community_id=world.community.id).one()
    assert m.claimed_household_id == h.id and h.room in m.claimed_address
    staff_page = page(login(world.staff).get(f"/c/test/members/{m.id}"))
    assert m.claimed_address in staff_page
    assert re.search(rf'<option selected value="{h.id}">|<option value="{h.id}" selected>', staff_page)
    # the API's member list says it too
    rows = api(world.staff).get("/api/v1/c/test/members?per_page=100").get_json()["items"]
    row = next(r for r in rows if r["id"] == m.id)
    assert row["address_given"] == m.claimed_address and row["address_household_id"] == h.id


def test_register_with_free_text_address_when_the_building_is_not_listed(client, world, login):
    r = client.post("/c/test/register", data=_form(address="幸福路8号 老粮站宿舍 2楼"))
    assert r.status_code == 302
    m = Membership.query.join(User, User.id == Membership.user_id).filter(User.phone == "13912345678").one()
    assert m.claimed_household_id is None and m.claimed_address == "幸福路8号 老粮站宿舍 2楼"
    assert "幸福路8号 老粮站宿舍 2楼" in page(login(world.staff).get(f"/c/test/members/{m.id}"))


def test_register_without_where_one_lives_is_refused_and_saves_nothing(client, world):
    before = User.query.count()
    r = client.post("/c/test/register", data=_form(), headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "Choose your building and unit and enter your room" in page(r)
    r = client.post("/c/test/register", data=_form(unit_id=str(world.unit.id)), headers={"Accept-Language": "en"})
    assert "Enter your room number." in page(r)
    assert User.query.count() == before


# ── privacy notice and consent ─────────────────────────────────────────────────────────
def test_the_privacy_notice_says_what_why_how_long_and_links_download(client, world):
    r = client.get("/c/test/privacy", headers={"Accept-Language": "en"})
    text = page(r)
    assert r.status_code == 200
    for words in ("What we keep", "Why", "How long we keep it", "Download all your data", "Erase it", NOTICE_VERSION):
        assert words in text
    assert "/c/test/privacy" in page(client.get("/c/test/register"))


def test_consent_is_required_and_recorded_with_the_notice_version(client, world):
    before = User.query.count()
    data = _form(address="3号楼 502")
    del data["consent"]
    r = client.post("/c/test/register", data=data, headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "To register, agree to the privacy notice." in page(r)
    assert User.query.count() == before
    assert client.post("/c/test/register", data=_form(address="3号楼 502")).status_code == 302
    user = User.query.filter_by(phone="13912345678").one()
    assert user.privacy_notice_version == NOTICE_VERSION and user.privacy_consent_at is not None
    entry = AuditEntry.query.filter_by(action="account.registered").one()
    assert entry.after["privacy_notice"] == NOTICE_VERSION
    # the resident's copy of their data shows the consent and the address given
    data = client.get("/auth/account/personal-data").get_json()
    assert data["account"]["privacy_consent"]["notice_version"] == NOTICE_VERSION
    assert data["communities"][0]["membership"]["address_given_at_registration"] == "3号楼 502"


def test_service_refuses_registration_without_consent(world):
    with pytest.raises(ServiceError) as err, transaction():  # the account flushed first is rolled back
        accounts.register(world.community, "13912345678", "a-long-password", "张阿姨", address="3号楼 502")
    assert err.value.code == "consent_required"
    assert User.query.filter_by(phone="13912345678").first() is None


# ── mobile numbers ──────────────────────────────────────────────────────────────────────
def test_a_ten_digit_number_is_refused_as_a_phone_number_not_taken_as_a_user_name(client, world):
    r = client.post("/c/test/register", data=_form(login="1391234567", address="3号楼 502"),
                    headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert "“1391234567” is not a mobile number: a mobile number has 11 digits, this one has 10." in page(r)
    assert User.query.filter(User.username == "1391234567").first() is None


def test_phone_numbers_are_stored_as_eleven_digits_whatever_the_spacing(world):
    user, _m = accounts.register(world.community, "+86 139 1234 5678", "a-long-password", "张阿姨",
                                 consent=True, address="3号楼 502")
    assert user.phone == "13912345678"
    assert accounts.authenticate("139-1234-5678", "a-long-password") == user
    with pytest.raises(ServiceError) as err:  # a prefix no carrier uses
        accounts.create_user("12012345678", "a-long-password", "某人")
    assert err.value.fields["login"]


def test_register_entries_take_mobile_numbers_only(world):
    with pytest.raises(ServiceError) as err:
        structure.add_household_member(world.community, world.households[0], world.staff, name="王大爷",
                                       phone="1391234567")
    assert err.value.code == "invalid_phone"
    member = structure.add_household_member(world.community, world.households[0], world.staff, name="王大爷",
                                            phone="139 1234 5678")
    assert member.phone == "13912345678"


# ── reset codes: the service ────────────────────────────────────────────────────────────
def test_a_reset_code_sets_a_new_password_once_and_ends_sessions(world):
    code, expires_at = reset_codes.issue(world.resident, world.staff, world.community)
    assert re.fullmatch(r"\d{8}", code)
    row = PasswordResetCode.query.one()
    assert code not in row.code_hash  # only a hash is kept
    assert AuditEntry.query.filter_by(action="account.reset_code_issued", actor_id=world.staff.id).count() == 1
    assert Notification.query.filter_by(user_id=world.resident.id, kind="reset_code").count() == 1
    version = world.resident.session_version
    reset_codes.redeem("resident", reset_codes.format_code(code), "a-brand-new-password")
    assert accounts.authenticate("resident", "a-brand-new-password") == world.resident
    assert world.resident.session_version == version + 1
    assert AuditEntry.query.filter_by(action="account.password_reset").count() == 1
    assert reset_codes.redeem("resident", code, "another-new-password") is None  # single use


def test_a_reset_code_expires_and_stops_after_a_few_wrong_tries(world, monkeypatch):
    code, _e = reset_codes.issue(world.resident, world.staff, world.community)
    wrong = "00000000" if code != "00000000" else "11111111"
    for _i in range(reset_codes.MAX_ATTEMPTS):
        assert reset_codes.redeem("resident", wrong, "a-brand-new-password") is None  # a wrong try, counted
    # the right code no longer works either
    assert reset_codes.redeem("resident", code, "a-brand-new-password") is None
    code, _e = reset_codes.issue(world.resident, world.staff, world.community)
    later = PasswordResetCode.query.order_by(PasswordResetCode.id.desc()).first().expires_at + timedelta(minutes=1)
    monkeypatch.setattr(reset_codes, "utcnow", lambda: later)
    assert reset_codes.redeem("resident", code, "a-brand-new-password") is None
    assert accounts.authenticate("resident", PASSWORD) == world.resident


def test_a_new_code_replaces_the_earlier_one(world):
    first, _e = reset_codes.issue(world.resident, world.staff, world.community)
    second, _e = reset_codes.issue(world.resident, world.staff, world.community)
    if first != second:
        assert reset_codes.redeem("resident", first, "a-brand-new-password") is None
    reset_codes.redeem("resident", second, "a-brand-new-password")


def test_who_may_give_a_reset_code_follows_the_role_grant_rules(world):
    for actor, target in ((world.staff, world.admin), (world.resident, world.resident2),
                          (world.building_head, world.resident), (world.staff, world.staff)):
        with pytest.raises(Forbidden):
            reset_codes.issue(target, actor, world.community)
    # staff may give one to another staff member only if they could grant staff: an admin can
    other = accounts.create_user("staff2", PASSWORD, "工作人员乙")
    db.session.add(Membership(user_id=other.id, community_id=world.community.id, roles="resident,staff"))
    db.session.commit()
    with pytest.raises(Forbidden):
        reset_codes.issue(other, world.staff, world.community)
    assert reset_codes.issue(other, world.admin, world.community)[0]
    assert reset_codes.issue(world.admin, None, world.community)[0]  # the operator at the command line
    assert PasswordResetCode.query.count() == 2


# ── reset codes: pages, API, command line ───────────────────────────────────────────────
def test_staff_give_a_code_on_the_member_page_and_the_resident_uses_it_on_the_public_page(app, world, login):
    m = Membership.query.filter_by(user_id=world.resident.id, community_id=world.community.id).one()
    staff = login(world.staff)
    assert f"/c/test/members/{m.id}/reset-code" in page(staff.get(f"/c/test/members/{m.id}"))
    r = staff.post(f"/c/test/members/{m.id}/reset-code")
    assert r.status_code == 200
    code = re.search(r'id="reset-code">(\d{4} \d{4})<', page(r)).group(1)
    assert f"/c/test/members/{m.id}" in page(r)  # a way back
    # staff cannot give an admin one: told so on the member page
    admin_m = Membership.query.filter_by(user_id=world.admin.id, community_id=world.community.id).one()
    r = staff.post(f"/c/test/members/{admin_m.id}/reset-code", headers={"Accept-Language": "en"})
    assert r.status_code == 303
    assert "Only a community administrator" in page(staff.get(r.headers["Location"], headers={"Accept-Language": "en"}))
    visitor = app.test_client()
    assert "/auth/reset" in page(visitor.get("/auth/login"))
    r = visitor.post("/auth/reset", data={"login": "resident", "code": "1234 0000", "new_password": "a-new-password-1",
                                          "confirm": "a-new-password-1"}, headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "This code is not right" in page(r)
    r = visitor.post("/auth/reset", data={"login": "resident", "code": code, "new_password": "a-new-password-1",
                                          "confirm": "a-new-password-1"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")
    assert visitor.post("/auth/login", data={"login": "resident", "password": "a-new-password-1"}).status_code == 302


def test_reset_codes_through_the_api(world, api):
    m = Membership.query.filter_by(user_id=world.resident.id, community_id=world.community.id).one()
    r = api(world.staff).post(f"/api/v1/c/test/members/{m.id}/reset-code")
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["code"]
    admin_m = Membership.query.filter_by(user_id=world.admin.id, community_id=world.community.id).one()
    r = api(world.staff).post(f"/api/v1/c/test/members/{admin_m.id}/reset-code")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "reset_code_above"
    anon = api(None)
    r = anon.post("/api/v1/auth/reset-password", json={"login": "resident", "code": "x", "new_password": "a-new-password-1"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_reset_code"
    r = anon.post("/api/v1/auth/reset-password", json={"login": "resident", "code": code, "new_password": "a-new-password-1"})
    assert r.status_code == 200 and r.get_json()["user"]["id"] == world.resident.id
    assert accounts.authenticate("resident", "a-new-password-1") == world.resident


def test_reset_code_from_the_command_line(runner, world):
    result = runner.invoke(args=["users", "reset-code", "resident"])
    assert result.exit_code == 0, result.output
    code = re.search(r"(\d{4} \d{4})", result.output).group(1)
    reset_codes.redeem("resident", code, "a-brand-new-password")
    entry = AuditEntry.query.filter_by(action="account.reset_code_issued").one()
    assert entry.actor_id is None  # the operator
    assert runner.invoke(args=["users", "reset-code", "nobody"]).exit_code != 0


def test_erasure_forgets_where_the_resident_said_they_live_and_their_codes(world):
    from core.services import personal_data

    user, m = accounts.register(world.community, "13912345678", "a-long-password", "张阿姨", consent=True,
                                address="幸福路8号 老粮站宿舍")
    reset_codes.issue(user, world.staff, world.community)
    personal_data.erase(user, world.admin, "书面申请 2026-12-07")
    db.session.expire_all()
    m = db.session.get(Membership, m.id)
    assert m.claimed_address is None and m.claimed_household_id is None
    assert PasswordResetCode.query.filter_by(user_id=user.id).count() == 0
    entry = AuditEntry.query.filter_by(action="account.registered", object_id=str(m.id)).one()
    assert "幸福路" not in str(entry.after)
