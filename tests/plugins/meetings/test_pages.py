"""Pages: forms for staff, languages, printing, the proposal panel."""
from zoneinfo import ZoneInfo

import pytest

from core.extensions import db
from core.services import proposals
from plugins.meetings import services as svc
from plugins.meetings.models import Body, Meeting, Org
from tests.plugins.meetings.conftest import approve_all, future, quorate, schedule

pytestmark = pytest.mark.plugins("meetings")


def test_staff_set_up_a_body_in_the_browser(world, login):
    staff = login(world.staff)
    assert staff.get("/c/test/meetings/bodies/new").status_code == 200
    r = staff.post("/c/test/meetings/bodies/new", data={
        "name": "物业联席会", "description": "物业、业委会、居委会共同协商", "orgs": "居委会\n业委会\n物业公司\n",
        "quorum_rule": "all_orgs", "quorum_number": "", "topic_deadline_days": "15"})
    assert r.status_code == 302
    body = Body.query.one()
    assert [o.name for o in Org.query.filter_by(body_id=body.id).order_by(Org.position)] == ["居委会", "业委会", "物业公司"]
    assert body.topic_deadline_days == 15
    # The same name again: an error on the form, nothing saved.
    r = staff.post("/c/test/meetings/bodies/new", data={"name": "物业联席会", "quorum_rule": "majority",
                                                       "topic_deadline_days": "3"})
    assert r.status_code == 200 and "同名" in r.data.decode()
    assert Body.query.count() == 1
    r = staff.post(f"/c/test/meetings/bodies/{body.id}/edit", data={
        "name": "物业联席会议", "quorum_rule": "number", "quorum_number": "2", "topic_deadline_days": "7"})
    assert r.status_code == 302
    db.session.expire_all()
    body = db.session.get(Body, body.id)
    assert body.name == "物业联席会议" and body.quorum_rule == "number" and body.quorum_number == 2
    staff.post(f"/c/test/meetings/bodies/{body.id}/orgs", data={"name": "派出所"})
    staff.post(f"/c/test/meetings/bodies/{body.id}/delegates", data={
        "org_id": Org.query.filter_by(name="派出所").one().id, "name": "孙警官", "role": "delegate"})
    page = staff.get(f"/c/test/meetings/bodies/{body.id}").data.decode()
    assert "派出所" in page and "孙警官" in page


def test_changing_a_meeting_tells_delegates_and_calendars(world, body, login):
    m = schedule(body, world.staff)
    staff = login(world.staff)
    assert staff.get(f"/c/test/meetings/{m.id}/edit").status_code == 200
    new = future(12).astimezone(ZoneInfo("Asia/Shanghai"))
    r = staff.post(f"/c/test/meetings/{m.id}/edit", data={
        "title": m.title, "date": new.date().isoformat(), "time": "09:30", "duration": "90", "place": "社区活动室"})
    assert r.status_code == 302
    db.session.expire_all()
    m = db.session.get(Meeting, m.id)
    local = m.starts_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.date(), local.strftime("%H:%M"), m.place, m.sequence) == (new.date(), "09:30", "社区活动室", 1)
    assert (m.ends_at - m.starts_at).total_seconds() == 90 * 60
    from core.models import Notification

    notes = (Notification.query.filter_by(user_id=world.grid_worker.id, kind="meetings.invitation")
             .order_by(Notification.id).all())
    assert [n.kind for n in notes] == ["meetings.invitation", "meetings.invitation"]
    assert "09:30" in notes[-1].params["when"]
    # The page shows the time in Beijing time.
    assert "09:30" in staff.get(f"/c/test/meetings/{m.id}").data.decode()


def test_cancel_and_adjourn_from_the_page(world, body, login):
    staff = login(world.staff)
    a, b = schedule(body, world.staff, days=4), schedule(body, world.staff, days=8)
    staff.post(f"/c/test/meetings/{a.id}/cancel", data={"reason": "", "confirm": "1"})
    staff.post(f"/c/test/meetings/{b.id}/adjourn", data={"reason": "法定人数不足"})
    db.session.expire_all()
    assert db.session.get(Meeting, a.id).status == "scheduled"  # no reason: refused
    assert db.session.get(Meeting, b.id).status == "adjourned"
    # cancelling asks first: what happens, the reason typed kept; nothing changes until confirmed
    r = staff.post(f"/c/test/meetings/{a.id}/cancel", data={"reason": "台风"}, headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'value="台风"' in html and "Every delegate is told" in html
    db.session.expire_all()
    assert db.session.get(Meeting, a.id).status == "scheduled"
    staff.post(f"/c/test/meetings/{a.id}/cancel", data={"reason": "台风", "confirm": "1"})
    db.session.expire_all()
    assert db.session.get(Meeting, a.id).status == "cancelled"


@pytest.mark.parametrize("locale,words", [("zh_Hans", ["联席会议", "议程", "出席情况"]),
                                          ("zh_Hant", ["聯席會議", "議程", "出席情況"]),
                                          ("en", ["Joint meetings", "Agenda", "Attendance"])])
def test_pages_in_each_language(world, body, login, locale, words):
    m = schedule(body, world.staff)
    staff = login(world.staff)
    staff.post("/language", data={"locale": locale, "next": "/"})
    text = staff.get(f"/c/test/meetings/{m.id}").data.decode() + staff.get("/c/test/meetings/").data.decode()
    for w in words:
        assert w in text, (locale, w)


def test_proposal_panel_only_when_a_meeting_took_it_up(world, body, client):
    p = proposals.create(world.community, world.resident, {
        "title": "修复中心广场路灯", "body": "中心广场有四盏路灯不亮已两个月。", "category": "facilities"})
    url = f"/c/test/proposals/{p.id}"
    assert body.name not in client.get(url).data.decode()
    m = schedule(body, world.staff)
    svc.add_agenda_item(m, world.staff, {"proposal_id": p.id})
    page = client.get(url).data.decode()
    assert m.title in page and "已列入议程" in page


def test_minutes_are_private_until_published(world, body, login, client):
    m = quorate(schedule(body, world.staff), world.staff)
    svc.close(m, world.staff)
    svc.save_minutes(m, world.staff, "## 决定\n- 机密草稿 <script>alert(1)</script>")
    assert client.get(f"/c/test/meetings/{m.id}/minutes/print").status_code == 404
    assert "机密草稿" not in login(world.resident).get(f"/c/test/meetings/{m.id}").data.decode()
    # The police station's delegate (grid worker) reads the draft to approve it; the Markdown is sanitised.
    page = login(world.grid_worker).get(f"/c/test/meetings/{m.id}").data.decode()
    assert "机密草稿" in page and "<script>alert" not in page
    svc.submit_minutes(m, world.staff)
    approve_all(m, world)
    svc.publish_minutes(m, world.staff)
    r = client.get(f"/c/test/meetings/{m.id}/minutes/print")
    assert r.status_code == 200 and "机密草稿" in r.data.decode() and "<script>alert" not in r.data.decode()


@pytest.mark.plugins("meetings", "voting")
@pytest.mark.parametrize("locale,not_met,wrong", [("zh_Hans", "未达法定人数", "不设法定人数"),
                                                  ("zh_Hant", "未達法定人數", "不設法定人數")])
def test_a_meeting_short_of_its_quorum_says_so(world, body, login, locale, not_met, wrong):
    """Voting's 'no quorum required' once overwrote the meeting's 'quorum not met' (catalogs merge)."""
    m = schedule(body, world.staff)
    staff = login(world.staff)
    staff.post("/language", data={"locale": locale, "next": "/"})
    text = staff.get(f"/c/test/meetings/{m.id}").data.decode()
    assert not_met in text and wrong not in text
