"""Access rules the matrix (access.py) cannot show with empty requests: acting for another
resident is refused before the named resident is looked up, so neither the API nor the pages
tell someone without the right whether a user id or a phone number belongs to a member; a path
naming a non-member is 404; another community's member cannot report hours or withdraw here."""
import pytest

pytestmark = pytest.mark.plugins("points")
BASE = "/api/v1/c/test/points"


@pytest.mark.parametrize("who", ["resident", "newbie", "outsider"])
def test_acting_for_someone_is_refused_the_same_for_members_and_strangers(world, pts, api, who):
    """Member or not, the id named gets the same 403: no membership oracle."""
    activity, item = pts.activity(past=False), pts.item()
    client = api(getattr(world, who))
    ids = {"member": world.resident2.id, "other community": world.outsider.id, "nobody": 999999}
    requests = [("adjustments", {"amount": 5, "reason": "补录积分"}),
                (f"activities/{activity.id}/signup", {"reason": "代报名"}),
                (f"activities/{activity.id}/hours", {"hours": "1", "content": "清理"}),
                (f"items/{item.id}/redeem", {"reason": "代兑换"}),
                ("certificates", {})]
    for path, body in requests:
        codes = {}
        for label, uid in ids.items():
            r = client.post(f"{BASE}/{path}", json=body | {"user_id": uid})
            codes[label] = (r.status_code, r.json["error"]["code"])
        expected = ((404, "not_member") if who == "outsider" and path != "adjustments"
                    else (403, "forbidden"))
        assert set(codes.values()) == {expected}, (path, codes)
    assert pts.balance(world.resident2) == 0


def test_naming_yourself_needs_no_staff_right(world, pts, api):
    activity = pts.activity(past=False)
    r = api(world.resident).post(f"{BASE}/activities/{activity.id}/signup", json={"user_id": world.resident.id})
    assert r.status_code == 201 and r.json["user_id"] == world.resident.id


def test_staff_still_act_for_a_member_and_get_400_for_a_non_member(world, pts, api):
    staff = api(world.staff)
    r = staff.post(f"{BASE}/adjustments", json={"user_id": world.outsider.id, "amount": 5, "reason": "补录积分"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_resident"
    r = staff.post(f"{BASE}/adjustments", json={"user_id": world.resident2.id, "amount": 5, "reason": "补录积分"})
    assert r.status_code == 201 and pts.balance(world.resident2) == 5


def test_a_statement_of_someone_not_in_the_community_is_404(world, api):
    staff = api(world.staff)
    assert staff.get(f"{BASE}/accounts/{world.resident.id}").status_code == 200
    for uid in (world.outsider.id, 999999):
        r = staff.get(f"{BASE}/accounts/{uid}")
        assert r.status_code == 404, r.json
    # the other community's staff with their own slug and this community's resident
    r = api(world.outsider).get(f"/api/v1/c/other/points/accounts/{world.resident.id}")
    assert r.status_code == 404


@pytest.mark.parametrize("form_path", ["signup", "certificate"])
def test_pages_do_not_tell_whether_a_phone_number_is_a_member(world, pts, login, form_path):
    activity = pts.activity(past=False)
    url = (f"/c/test/points/activities/{activity.id}/signup" if form_path == "signup"
           else "/c/test/points/certificates")
    resident = login(world.resident)
    pages = []
    for named in (world.resident2.login_name, world.outsider.login_name, "13900000000"):
        r = resident.post(url, data={"resident": named, "reason": "代办"}, follow_redirects=True)
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert not any(m in html for m in ("No member of this community", "Not a member", "本社区没有使用该手机号"))
        pages.append(any(m in html for m in ("You may not sign up other residents.", "You do not have permission",
                                              "您不能为其他居民报名", "您没有权限")))
    assert pages == [True, True, True]
    from plugins.points.models import PointsCertificate, PointsSignup

    assert PointsSignup.query.count() == 0 and PointsCertificate.query.count() == 0


def test_another_communitys_member_cannot_report_hours_or_withdraw_here(world, pts, api, login):
    activity = pts.activity(past=True)
    r = api(world.outsider).post(f"{BASE}/activities/{activity.id}/hours", json={"hours": "1", "content": "清理"})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_member"
    page = login(world.outsider)
    assert page.post(f"/c/test/points/activities/{activity.id}/claim",
                     data={"hours": "1", "content": "清理"}).status_code == 404
    assert page.post(f"/c/test/points/activities/{activity.id}/withdraw").status_code == 404
