"""The demo community's four-party joint meeting."""
import pytest

from core.demo import load_demo
from core.services.accounts import find_user
from plugins.meetings import services as svc
from core.extensions import db
from plugins.meetings.models import ActionItem, AgendaItem, Body, Meeting, MinutesApproval, Org, Resolution

pytestmark = pytest.mark.plugins("meetings")


def test_demo_has_a_four_party_meeting_to_run(app, login):
    community, created = load_demo("demo")
    assert created
    body = Body.query.filter_by(community_id=community.id).one()
    assert [o.name for o in Org.query.filter_by(body_id=body.id).order_by(Org.position)] == [
        "社区党委", "居民委员会", "物业公司", "社区警务室（派出所）"]
    past, upcoming = Meeting.query.filter_by(body_id=body.id).order_by(Meeting.starts_at).all()
    assert past.status == "held" and past.minutes_state == "published"
    assert upcoming.status == "scheduled"
    assert upcoming.chair_org.name == "居民委员会"  # the chair rotated from the party committee
    kinds = [a.kind for a in AgendaItem.query.filter_by(meeting_id=upcoming.id).order_by(AgendaItem.position)]
    assert kinds[0] == "minutes" and "overdue" in kinds and "proposal" in kinds
    item = AgendaItem.query.filter_by(meeting_id=upcoming.id, kind="proposal").one()
    assert item.proposal.state == "coordinating"
    assert ActionItem.query.filter(ActionItem.body_id == body.id, ActionItem.status != "done").count() == 2
    # Consistent with the rules: hands within those present and carrying the decision (R28); the
    # minutes approved by each organisation's own delegate, staff recording only for those without
    # an account, with a reason.
    present = svc.quorum(past)["present"]
    for res in Resolution.query.filter_by(meeting_id=past.id):
        assert res.votes_for + res.votes_against + res.votes_abstain <= present
        assert svc.carried(svc.motion_rule(body), res.votes_for, res.votes_against) == (res.outcome == "decided")
    approvals = MinutesApproval.query.filter_by(meeting_id=past.id).all()
    assert len(approvals) == 4 and len({a.delegate_id for a in approvals}) == 4
    for ap in approvals:
        assert ap.delegate.org_id == ap.org_id
        assert ap.on_behalf == (ap.delegate.user_id is None)
        assert ap.user_id == (ap.delegate.user_id or find_user("staff").id)
        assert bool(ap.reason) == ap.on_behalf
    client = app.test_client()
    r = client.post("/auth/login", data={"login": "resident1", "password": "linli-demo-2026"})
    assert r.status_code == 302
    page = client.get(f"/c/demo/meetings/{past.id}").data.decode()
    assert "东门僵尸车" in page  # published minutes are visible to residents
    printed = client.get(f"/c/demo/meetings/{past.id}/minutes/print").data.decode()
    approved = printed[printed.index("确认单位"):]
    for name in ("王书记", "李社工", "张经理", "孙警官"):
        assert approved.count(name) >= 1
    assert approved.count("代为登记") == 2  # 张经理 and 孙警官 have no account
    assert client.get(f"/c/demo/meetings/bodies/{body.id}").status_code == 200
    assert client.get(f"/c/demo/meetings/{upcoming.id}").status_code == 200
    home = client.get("/c/demo/").data.decode()
    assert upcoming.title in home  # the dashboard widget
    assert find_user("admin") is not None
    db.session.remove()
