"""The audit log page and in-app notifications."""
from core.extensions import db
from core.models import AuditEntry, Notification
from core.services import proposals

GOOD = {"title": "规划访客临时停车位", "body": "访客车辆乱停，建议在北门划出临时停车位并限时。", "category": "parking"}


def test_staff_browse_audit_log_with_filters(world, login):
    p = proposals.create(world.community, world.resident, GOOD)
    proposals.transition(p, "coordinating", world.staff, "物业同意协调")
    c = login(world.staff)
    page = c.get("/c/test/admin/audit").get_data(as_text=True)
    assert "把议题转入下一阶段" in page and "物业同意协调" in page  # the key in words
    def rows(url):
        return c.get(url).get_data(as_text=True).split("<tbody>", 1)[1]

    only = rows("/c/test/admin/audit?action=proposal.transition")
    assert "提交了议题" not in only and "把议题转入下一阶段" in only
    by_actor = rows("/c/test/admin/audit?actor=resident")
    assert "提交了议题" in by_actor and "物业同意协调" not in by_actor
    future = rows("/c/test/admin/audit?from=2999-01-01")
    assert "提交了议题" not in future
    assert c.get("/c/test/admin/audit?from=not-a-date&to=%27").status_code == 200


def test_audit_log_is_staff_only_and_per_community(world, login):
    assert login(world.resident).get("/c/test/admin/audit").status_code == 403
    assert login(world.outsider).get("/c/test/admin/audit").status_code == 403
    proposals.create(world.community, world.resident, GOOD)
    other = login(world.outsider).get("/c/other/admin/audit").get_data(as_text=True)
    assert "提交了议题" not in other


def test_audit_entries_record_before_and_after(world):
    p = proposals.create(world.community, world.resident, GOOD)
    proposals.transition(p, "withdrawn", world.resident)
    e = AuditEntry.query.filter_by(action="proposal.transition").order_by(AuditEntry.id.desc()).first()
    assert (e.before, e.after, e.actor_id) == ({"state": "open"}, {"state": "withdrawn"}, world.resident.id)


def test_notifications_page_and_mark_read(world, login):
    p = proposals.create(world.community, world.resident, GOOD)
    proposals.comment(p, world.resident2, "赞成")
    c = login(world.resident)
    home = c.get("/c/test/").get_data(as_text=True)
    assert 'class="count"' in home  # unread badge
    page = c.get("/auth/notifications").get_data(as_text=True)
    assert "居民乙" in page and GOOD["title"] in page
    c.post("/auth/notifications")
    assert Notification.query.filter_by(user_id=world.resident.id, read_at=None).count() == 0
    assert 'class="count"' not in c.get("/c/test/").get_data(as_text=True)


def test_notification_text_follows_reader_language(world, login):
    p = proposals.create(world.community, world.resident, GOOD)
    proposals.transition(p, "coordinating", world.staff, "好")
    c = login(world.resident)
    c.post("/language", data={"locale": "en", "next": "/"})
    en = c.get("/auth/notifications").get_data(as_text=True)
    c.post("/language", data={"locale": "zh_Hans", "next": "/"})
    zh = c.get("/auth/notifications").get_data(as_text=True)
    assert "Your proposal" in en and "Your proposal" not in zh


def test_notifications_are_private(world, api):
    p = proposals.create(world.community, world.resident, GOOD)
    proposals.comment(p, world.resident2, "赞成")
    mine = api(world.resident).get("/api/v1/notifications").get_json()["items"]
    theirs = api(world.resident2).get("/api/v1/notifications").get_json()["items"]
    assert [n["kind"] for n in mine].count("proposal.comment") == 1
    assert "proposal.comment" not in [n["kind"] for n in theirs]


def test_a_notification_names_the_state_in_the_reader_language(world, login, api):
    """The state is stored as its key (the reader's language is not known when it is sent), also in
    notifications stored before labels were applied: it is shown as the state's label."""
    p = proposals.create(world.community, world.resident, GOOD)
    proposals.transition(p, "coordinating", world.staff, "好")
    c = login(world.resident)
    c.post("/language", data={"locale": "zh_Hans", "next": "/"})
    zh = c.get("/auth/notifications").get_data(as_text=True)
    assert "协调" in zh and "coordinating" not in zh
    c.post("/language", data={"locale": "en", "next": "/"})
    en = c.get("/auth/notifications").get_data(as_text=True)
    assert "is now: Coordinating." in en and "coordinating." not in en
    texts = [n["text"] for n in api(world.resident).get("/api/v1/notifications",
                                                        headers={"Accept-Language": "en"}).get_json()["items"]]
    assert any(t.endswith("is now: Coordinating.") for t in texts), texts
