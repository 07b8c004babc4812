"""The proposal lifecycle: submit, comment, second, transitions, assisted actions, filters."""
import pytest

from core.extensions import db
from core.models import AuditEntry, HouseholdMember, Notification, Proposal, ProposalComment, ProposalSecond, ProposalTransition
from core.services import proposals

GOOD = {"title": "修复中心广场路灯", "body": "中心广场有四盏路灯不亮已两个月，晚上散步不安全。",
        "category": "facilities", "scope": "community"}


def make(world, author=None, **over):
    return proposals.create(world.community, author or world.resident, {**GOOD, **over})


def test_resident_submits_proposal_in_browser(world, login):
    c = login(world.resident)
    r = c.post("/c/test/proposals/new", data={**GOOD, "grid_id": 0, "building_id": 0, "action": "submit"})
    assert r.status_code == 302
    p = Proposal.query.one()
    assert p.state == "open" and p.author_id == world.resident.id and p.author_name == "居民甲"
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "修复中心广场路灯" in page and "state-open" in page
    assert [t.to_state for t in ProposalTransition.query.order_by(ProposalTransition.id)] == ["draft", "open"]


def test_draft_is_private_until_submitted(world, login, client):
    p = make(world)
    p = proposals.create(world.community, world.resident, GOOD, submit=False)
    assert p.state == "draft"
    assert client.get(f"/c/test/proposals/{p.id}").status_code == 404
    assert login(world.resident2).get(f"/c/test/proposals/{p.id}").status_code == 404
    assert login(world.resident).get(f"/c/test/proposals/{p.id}").status_code == 200
    assert login(world.staff).get(f"/c/test/proposals/{p.id}").status_code == 200
    listing = client.get("/c/test/proposals/").get_data(as_text=True)
    assert listing.count("修复中心广场路灯") == 1  # only the submitted one


@pytest.mark.parametrize("field,value", [("title", "短"), ("body", "太短"), ("category", "nonsense"),
                                         ("scope", "planet"), ("title", "x" * 121)])
def test_bad_proposal_is_refused_and_nothing_saved(world, login, field, value):
    c = login(world.resident)
    r = c.post("/c/test/proposals/new", data={**GOOD, field: value, "grid_id": 0, "building_id": 0})
    assert r.status_code == 200
    assert b'class="error"' in r.data or b"flash-error" in r.data
    assert Proposal.query.count() == 0 and ProposalTransition.query.count() == 0


def test_building_scope_needs_a_building_of_this_community(world):
    from core.errors import ServiceError

    with pytest.raises(ServiceError) as err:
        make(world, scope="building", building_id=99999)
    assert "building_id" in err.value.fields
    p = make(world, scope="building", building_id=world.building.id)
    assert p.scope_label == "1号楼"


def test_markdown_body_is_sanitised(world, client):
    p = make(world, body="**重要** <script>alert(1)</script> [link](javascript:alert(1)) <img src=x onerror=alert(1)>")
    page = client.get(f"/c/test/proposals/{p.id}").get_data(as_text=True)
    assert "<strong>重要</strong>" in page
    assert "<script>alert(1)" not in page and "<img" not in page and 'href="javascript:' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text


def test_seconds_move_proposal_to_coordination_at_threshold(world, login):
    p = make(world, author=world.mediator)  # threshold is 3 in the test community
    for user in (world.resident, world.resident2):
        assert login(user).post(f"/c/test/proposals/{p.id}/second").status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "open"
    login(world.building_head).post(f"/c/test/proposals/{p.id}/second")
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.seconds_count == 3 and p.state == "coordinating"
    last = ProposalTransition.query.filter_by(proposal_id=p.id).order_by(ProposalTransition.id.desc()).first()
    assert last.to_state == "coordinating" and last.actor_id is None and "3" in last.reason
    # the author was told
    assert Notification.query.filter_by(user_id=world.mediator.id, kind="proposal.transition").count() == 1


def test_second_twice_counts_once(world, login):
    p = make(world, author=world.mediator)
    c = login(world.resident)
    c.post(f"/c/test/proposals/{p.id}/second")
    r = c.post(f"/c/test/proposals/{p.id}/second", follow_redirects=True)
    assert "flash-error" in r.get_data(as_text=True)
    assert ProposalSecond.query.filter_by(proposal_id=p.id).count() == 1


def test_unverified_and_authors_cannot_second(world, login):
    p = make(world)
    for user in (world.newbie, world.resident):
        r = login(user).post(f"/c/test/proposals/{p.id}/second", follow_redirects=True)
        assert "flash-error" in r.get_data(as_text=True)
    assert ProposalSecond.query.count() == 0


def test_comment_posts_and_notifies_author(world, login):
    p = make(world)
    r = login(world.resident2).post(f"/c/test/proposals/{p.id}/comment", data={"body": "同意，<b>尽快</b>修"},
                                    follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "同意，&lt;b&gt;尽快&lt;/b&gt;修" in page  # shown as text, not HTML
    assert ProposalComment.query.count() == 1
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).comments_count == 1
    assert Notification.query.filter_by(user_id=world.resident.id, kind="proposal.comment").count() == 1


def test_empty_comment_is_refused(world, login):
    p = make(world)
    login(world.resident2).post(f"/c/test/proposals/{p.id}/comment", data={"body": "   "})
    assert ProposalComment.query.count() == 0


def test_staff_transition_needs_a_reason(world, login):
    p = make(world)
    c = login(world.staff)
    r = c.post(f"/c/test/proposals/{p.id}/transition", data={"new_state": "coordinating", "reason": ""},
               follow_redirects=True)
    assert "flash-error" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "open"
    c.post(f"/c/test/proposals/{p.id}/transition", data={"new_state": "coordinating", "reason": "物业已回应"})
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "coordinating"
    entry = AuditEntry.query.filter_by(action="proposal.transition").order_by(AuditEntry.id.desc()).first()
    assert entry.before == {"state": "open"} and entry.after == {"state": "coordinating"}
    assert entry.reason == "物业已回应"


def test_full_lifecycle_and_invalid_jumps(world):
    from core.errors import Conflict

    p = make(world)
    with pytest.raises(Conflict):
        proposals.transition(p, "completed", world.staff, "跳过")
    for state in ("coordinating", "voting", "accepted", "implementing", "completed"):
        proposals.transition(p, state, world.staff, f"到{state}")
    assert p.state == "completed"
    history = [t.to_state for t in ProposalTransition.query.filter_by(proposal_id=p.id).order_by(ProposalTransition.id)]
    assert history == ["draft", "open", "coordinating", "voting", "accepted", "implementing", "completed"]
    with pytest.raises(Conflict):
        proposals.transition(p, "withdrawn", world.staff, "太晚了")


def test_residents_cannot_move_proposals(world, login):
    p = make(world, author=world.resident2)
    login(world.resident).post(f"/c/test/proposals/{p.id}/transition",
                               data={"new_state": "coordinating", "reason": "想推进"})
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "open"


def test_author_withdraws_own_open_proposal(world, login):
    p = make(world)
    login(world.resident).post(f"/c/test/proposals/{p.id}/transition", data={"new_state": "withdrawn"})
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "withdrawn"


def test_building_head_submits_for_resident_without_account(world, login):
    """The resident is picked from the register; the proposal is theirs, linked to their person
    (tests/core/test_assisted.py has every assisted path)."""
    qian = HouseholdMember(household_id=world.households[0].id, name="钱奶奶")
    db.session.add(qian)
    db.session.commit()
    c = login(world.building_head)
    r = c.post("/c/test/proposals/new", data={**GOOD, "grid_id": 0, "building_id": 0,
                                               "person_id": qian.person_id, "assist_reason": "老人不会用手机"})
    assert r.status_code == 302
    p = Proposal.query.one()
    assert p.author_id is None and p.author_name == "钱奶奶" and p.submitted_by_id == world.building_head.id
    assert p.author_person_id == qian.person_id
    page = c.get(f"/c/test/proposals/{p.id}").get_data(as_text=True)
    assert "钱奶奶" in page and "楼长" in page and "老人不会用手机" in page
    entry = AuditEntry.query.filter_by(action="proposal.created").one()
    assert entry.actor_id == world.building_head.id and entry.on_behalf_of_name == "钱奶奶"


def test_assisted_action_needs_reason_and_right(world, login):
    qian = HouseholdMember(household_id=world.households[0].id, name="钱奶奶")
    db.session.add(qian)
    db.session.commit()
    r = login(world.building_head).post("/c/test/proposals/new", data={**GOOD, "grid_id": 0, "building_id": 0,
                                                                       "person_id": qian.person_id})
    assert r.status_code == 200 and Proposal.query.count() == 0
    r = login(world.resident).post("/c/test/proposals/new", data={**GOOD, "grid_id": 0, "building_id": 0,
                                                                  "person_id": qian.person_id, "assist_reason": "帮忙"})
    assert Proposal.query.count() == 0


def test_staff_seconds_for_resident_records_both(world, login):
    p = make(world, author=world.mediator)
    login(world.staff).post(f"/c/test/proposals/{p.id}/second",
                            data={"on_behalf_of": "resident2", "assist_reason": "电话里说支持"})
    s = ProposalSecond.query.one()
    assert s.user_id == world.resident2.id and s.acted_by_id == world.staff.id
    entry = AuditEntry.query.filter_by(action="proposal.seconded").one()
    assert entry.actor_id == world.staff.id and entry.on_behalf_of_id == world.resident2.id


def test_list_filters_and_search(world, client):
    make(world, title="小区东门僵尸车清理", category="parking")
    make(world, title="禁止楼道飞线充电", category="safety")
    make(world, title="100% 的人都同意", category="other")
    page = client.get("/c/test/proposals/?category=parking").get_data(as_text=True)
    assert "僵尸车" in page and "飞线" not in page
    page = client.get("/c/test/proposals/?q=飞线").get_data(as_text=True)
    assert "飞线" in page and "僵尸车" not in page
    page = client.get("/c/test/proposals/?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert "100%" in page and "僵尸车" not in page
    assert client.get("/c/test/proposals/?q=' OR 1=1 --&state=bogus").status_code == 200
    refused = client.get("/c/test/proposals/?page=abc")  # a page that is no number is refused, not read as 1
    assert refused.status_code == 400 and "“page”" in refused.get_data(as_text=True)


def test_list_is_paginated(world, client):
    for i in range(25):
        make(world, title=f"议题编号{i:02d}")
    first = client.get("/c/test/proposals/").get_data(as_text=True)
    second = client.get("/c/test/proposals/?page=2").get_data(as_text=True)
    assert first.count("议题编号") == 20 and second.count("议题编号") == 5


def test_print_notice(world, client):
    p = make(world)
    page = client.get(f"/c/test/proposals/{p.id}/print").get_data(as_text=True)
    assert "测试社区" in page and "修复中心广场路灯" in page


def test_other_community_cannot_reach_proposal_by_id(world, client):
    p = make(world)
    assert client.get(f"/c/other/proposals/{p.id}").status_code == 404


def test_events_are_emitted_for_lifecycle(app, db_url):
    """A plugin hears what residents did, without importing the core's internals."""
    from tests.conftest import make_app
    from tests.example_plugin import heard

    heard.clear()
    app2 = make_app(db_url, [__import__("tests.example_plugin", fromlist=["x"])])
    with app2.app_context():
        from core.services import structure
        from core.services.accounts import create_user
        from core.models import Membership

        c = structure.create_community("ev", "事件社区", enable_all=True)
        u = create_user("eventer", "correct-horse-9", "事件人")
        db.session.add(Membership(user_id=u.id, community_id=c.id, roles="resident,staff"))
        db.session.commit()
        p = proposals.create(c, u, GOOD)
        proposals.transition(p, "coordinating", u, "ok")
        names = [e.name for e in heard]
        assert names[:2] == ["proposal.transitioned", "proposal.submitted"]
        assert "proposal.transitioned" in names[2:]
        assert all(e.community_id == c.id for e in heard)
        assert len({e.ref for e in heard}) == len(heard)  # refs are unique per event
