"""Staff sign a resident up for volunteering at the desk (代办, issue 20): the sign-up is the
resident's — their person on the register, with or without an account — with the helper and the
reason in the audit log; a person holds one place; a typed name signs nobody up."""
import pytest

from core.errors import Conflict, ServiceError
from core.extensions import db
from core.models import AuditEntry, HouseholdMember
from tests.plugins.points.conftest import SERVICES

pytestmark = pytest.mark.plugins("points")


def svc():
    return SERVICES


@pytest.fixture
def qian(world):
    m = HouseholdMember(household_id=world.households[0].id, name="钱奶奶", relation="owner")
    db.session.add(m)
    db.session.commit()
    return m.person


def test_staff_sign_up_a_resident_without_account(world, pts, qian):
    from plugins.points.models import PointsSignup

    a = pts.activity(past=False)
    s = svc().signup(a, None, world.staff, "老人来社区办公室报名", person_id=qian.id)
    assert (s.person_id, s.user_id, s.acted_by_id, s.display_name) == (qian.id, None, world.staff.id, "钱奶奶")
    entry = AuditEntry.query.filter_by(action="points.signed_up").one()
    assert entry.actor_id == world.staff.id and entry.on_behalf_of_name == "钱奶奶"
    assert entry.after["person_id"] == qian.id and entry.reason == "老人来社区办公室报名"
    with pytest.raises(Conflict) as err:  # one place per person
        svc().signup(a, None, world.admin, "电话报名", person_id=qian.id)
    assert "钱奶奶" in str(err.value.message)
    svc().signup(a, world.staff)  # the helper's own sign-up is still his
    db.session.refresh(a)
    assert a.signups_count == 2 and PointsSignup.query.count() == 2


def test_staff_sign_up_an_account_holder_by_register_is_theirs(world, pts):
    a = pts.activity(past=False)
    person = HouseholdMember.query.filter_by(user_id=world.resident.id).one().person
    s = svc().signup(a, None, world.staff, "电话报名", person_id=person.id)
    assert (s.user_id, s.person_id) == (world.resident.id, person.id)
    with pytest.raises(Conflict):
        svc().signup(a, world.resident)
    db.session.refresh(a)
    assert a.signups_count == 1


def test_a_typed_name_signs_nobody_up(world, pts, qian):
    from plugins.points.models import PointsSignup

    a = pts.activity(past=False)
    with pytest.raises(ServiceError) as err:
        svc().signup(a, None, world.staff, "老人来报名", name="钱奶奶")
    assert err.value.code == "not_on_register"
    db.session.refresh(a)
    assert a.signups_count == 0 and PointsSignup.query.count() == 0


def test_web_and_api_sign_up_for_resident_without_account(world, pts, qian, login, api):
    from plugins.points.models import PointsSignup

    a = pts.activity(past=False)
    b = pts.activity(past=False, title="敬老院探访")
    c = login(world.staff)
    page = c.get(f"/c/test/points/activities/{a.id}").get_data(as_text=True)
    assert f'<option value="{qian.id}">' in page
    r = c.post(f"/c/test/points/activities/{a.id}/signup", data={"person_id": qian.id, "reason": "老人来报名"},
               follow_redirects=True)
    assert "钱奶奶" in r.get_data(as_text=True)
    assert PointsSignup.query.filter_by(activity_id=a.id).one().person_id == qian.id
    r = c.post(f"/c/test/points/activities/{a.id}/signup", data={"name": "钱奶奶", "reason": "老人来报名"})
    assert PointsSignup.query.filter_by(activity_id=a.id).count() == 1
    r = api(world.staff).post(f"/api/v1/c/test/points/activities/{b.id}/signup",
                              json={"person_id": qian.id, "reason": "电话报名"})
    assert r.status_code == 201 and r.get_json()["person_id"] == qian.id and r.get_json()["user_id"] is None
    r = api(world.staff).post(f"/api/v1/c/test/points/activities/{b.id}/signup",
                              json={"name": "钱奶奶", "reason": "电话报名"})
    assert r.status_code in (400, 409)
    listed = api(world.staff).get(f"/api/v1/c/test/points/activities/{b.id}/signups").get_json()
    assert [i["display_name"] for i in listed["items"]] == ["钱奶奶"]
