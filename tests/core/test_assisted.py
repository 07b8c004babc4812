"""Acting for a resident (代办, issue 20): an assisted second, comment or proposal is the
resident's — linked to their person on the register, with or without an account — with the
helper and the reason beside it; a person counts once; the resident is picked by key, never by a
typed name. Also: staff roles are not resident verification (no nag, not 待核实)."""
import pytest

from core.db import transaction

from core.errors import Conflict, Forbidden, ServiceError
from core.extensions import db
from core.models import (AuditEntry, Building, Household, HouseholdMember, Membership, Proposal, ProposalComment,
                         ProposalSecond, Unit)
from core.services import accounts, proposals

GOOD = {"title": "楼道加装扶手", "body": "3号楼老人多，楼梯没有扶手，上下楼很不方便。", "category": "facilities",
        "scope": "community"}


@pytest.fixture
def qian(world):
    """钱奶奶: on the register of the building head's building (1号楼), without an account."""
    m = HouseholdMember(household_id=world.households[0].id, name="钱奶奶", relation="owner")
    db.session.add(m)
    db.session.commit()
    return m.person


@pytest.fixture
def far(world):
    """孙爷爷: on the register of another building (of another grid), without an account."""
    from core.models import Grid

    grid = Grid(community_id=world.community.id, name="第二网格")
    db.session.add(grid)
    db.session.flush()
    building = Building(community_id=world.community.id, grid_id=grid.id, name="10号楼")
    db.session.add(building)
    db.session.flush()
    unit = Unit(building_id=building.id, name="1单元")
    db.session.add(unit)
    db.session.flush()
    h = Household(community_id=world.community.id, unit_id=unit.id, room="201")
    db.session.add(h)
    db.session.flush()
    m = HouseholdMember(household_id=h.id, name="孙爷爷")
    db.session.add(m)
    db.session.commit()
    return m.person


def open_proposal(world, author=None):
    return proposals.create(world.community, author or world.resident, GOOD)


def seconds(p):
    db.session.expire_all()
    return db.session.get(Proposal, p.id).seconds_count


# ── seconds ───────────────────────────────────────────────────────────────────────────────
def test_building_head_seconds_for_resident_without_account(world, qian):
    p = open_proposal(world)
    proposals.second(p, world.building_head, person_id=qian.id, reason="老人不会用手机，当面说支持")
    assert seconds(p) == 1
    s = ProposalSecond.query.one()
    assert (s.person_id, s.user_id, s.acted_by_id) == (qian.id, None, world.building_head.id)
    entry = AuditEntry.query.filter_by(action="proposal.seconded").one()
    assert entry.actor_id == world.building_head.id and entry.on_behalf_of_name == "钱奶奶"
    assert entry.reason == "老人不会用手机，当面说支持" and entry.after == {"person_id": qian.id}
    # The helper's own second is still his to give.
    proposals.second(p, world.building_head)
    assert seconds(p) == 2
    assert ProposalSecond.query.filter_by(user_id=world.building_head.id, acted_by_id=None).count() == 1


def test_a_person_is_counted_once_however_the_second_arrives(world, qian):
    p = open_proposal(world)
    with transaction():
        proposals.second(p, world.building_head, person_id=qian.id, reason="当面说支持")
    with pytest.raises(Conflict) as err, transaction():
        proposals.second(p, world.grid_worker, person_id=qian.id, reason="电话里说支持")
    assert err.value.code == "already_seconded" and "钱奶奶" in str(err.value.message)
    # She gets an account later, verified as her register entry: her own second is refused.
    entry = HouseholdMember.query.filter_by(person_id=qian.id).one()
    entry.phone = "13912345678"
    user = accounts.create_user("13912345678", "correct-horse-9", "钱奶奶")
    m = Membership(user_id=user.id, community_id=world.community.id)
    db.session.add(m)
    db.session.commit()
    accounts.verify_resident(m, world.households[0], "owner", world.staff)
    db.session.expire_all()
    assert qian.user_id == user.id
    with pytest.raises(Conflict), transaction():
        proposals.second(p, user)
    assert seconds(p) == 1 and ProposalSecond.query.count() == 1


def test_seconding_for_an_account_holder_is_theirs(world):
    p = open_proposal(world)
    person = world.resident2 and db.session.query(HouseholdMember).filter_by(user_id=world.resident2.id).one().person
    with transaction():
        proposals.second(p, world.building_head, person_id=person.id, reason="电话里说支持")
    s = ProposalSecond.query.one()
    assert (s.user_id, s.person_id, s.acted_by_id) == (world.resident2.id, person.id, world.building_head.id)
    assert AuditEntry.query.filter_by(action="proposal.seconded").one().on_behalf_of_id == world.resident2.id
    with pytest.raises(Conflict), transaction():
        proposals.second(p, world.resident2)
    assert seconds(p) == 1


def test_a_typed_name_is_refused_and_nothing_saved(world, qian):
    p = open_proposal(world)
    with pytest.raises(ServiceError) as err:
        proposals.second(p, world.building_head, name="钱奶奶", reason="老人不会用手机")
    assert err.value.code == "not_on_register" and "person_id" in err.value.fields
    assert seconds(p) == 0 and ProposalSecond.query.count() == 0
    assert AuditEntry.query.filter_by(action="proposal.seconded").count() == 0
    with pytest.raises(ServiceError):
        proposals.second(p, world.building_head, person_id=99999, reason="老人不会用手机")
    with pytest.raises(ServiceError) as err:  # a reason without a resident: they forgot to pick one
        proposals.second(p, world.building_head, reason="老人不会用手机")
    assert err.value.code == "resident_required"
    assert seconds(p) == 0


def test_helpers_act_only_for_the_people_they_look_after(world, qian, far):
    p = open_proposal(world)
    for helper in (world.building_head, world.grid_worker):
        with pytest.raises(ServiceError) as err:
            proposals.second(p, helper, person_id=far.id, reason="帮忙")
        assert err.value.code == "out_of_reach"
    with pytest.raises(Forbidden):
        proposals.second(p, world.resident2, person_id=qian.id, reason="帮忙")
    with pytest.raises(ServiceError) as err:
        proposals.second(p, world.building_head, person_id=qian.id)
    assert err.value.code == "reason_required"
    proposals.second(p, world.staff, person_id=far.id, reason="在社区办公室当面说支持")
    assert seconds(p) == 1


def test_the_resident_cannot_second_their_own_assisted_proposal(world, qian):
    p = proposals.create(world.community, world.building_head, GOOD, person_id=qian.id, reason="代为提交")
    with pytest.raises(Conflict) as err:
        proposals.second(p, world.grid_worker, person_id=qian.id, reason="帮忙")
    assert err.value.code == "own_proposal"


# ── proposals and comments ────────────────────────────────────────────────────────────────
def test_proposal_for_resident_without_account_is_theirs(world, qian):
    p = proposals.create(world.community, world.building_head, GOOD, person_id=qian.id, reason="老人口述，楼长代写")
    assert (p.author_id, p.author_person_id, p.author_name) == (None, qian.id, "钱奶奶")
    assert p.submitted_by_id == world.building_head.id and p.assist_reason == "老人口述，楼长代写"
    entry = AuditEntry.query.filter_by(action="proposal.created").one()
    assert entry.actor_id == world.building_head.id and entry.on_behalf_of_name == "钱奶奶"
    assert entry.after["person_id"] == qian.id


def test_proposal_for_account_holder_is_theirs(world):
    p = proposals.create(world.community, world.staff, GOOD, login="resident2", reason="电话里口述")
    assert p.author_id == world.resident2.id and p.author_person_id is not None and p.submitted_by_id == world.staff.id


def test_proposal_with_a_typed_name_is_refused(world, qian):
    with pytest.raises(ServiceError) as err:
        proposals.create(world.community, world.building_head, GOOD, name="钱奶奶", reason="代为提交")
    assert err.value.code == "not_on_register"
    assert Proposal.query.count() == 0 and AuditEntry.query.filter_by(action="proposal.created").count() == 0


@pytest.mark.parametrize("with_account", [False, True])
def test_comment_for_resident_is_theirs(world, qian, with_account):
    p = open_proposal(world)
    if with_account:
        person = db.session.query(HouseholdMember).filter_by(user_id=world.resident2.id).one().person
        c = proposals.comment(p, world.building_head, "我同意。", person_id=person.id, reason="电话里说的")
        assert (c.author_id, c.author_name) == (world.resident2.id, "居民乙")
    else:
        person = qian
        c = proposals.comment(p, world.building_head, "我同意。", person_id=qian.id, reason="当面说的")
        assert (c.author_id, c.author_name) == (None, "钱奶奶")
    assert (c.author_person_id, c.acted_by_id) == (person.id, world.building_head.id)
    entry = AuditEntry.query.filter_by(action="proposal.commented").one()
    assert entry.actor_id == world.building_head.id and entry.on_behalf_of_name == c.author_name
    with pytest.raises(ServiceError):
        proposals.comment(p, world.building_head, "我也同意。", name="钱奶奶", reason="当面说的")
    assert ProposalComment.query.count() == 1


def test_merging_two_people_keeps_what_was_recorded_for_them(world, qian):
    from core.services import persons

    p = open_proposal(world)
    twin = HouseholdMember(household_id=world.households[1].id, name="钱奶奶")
    db.session.add(twin)
    db.session.commit()
    proposals.second(p, world.building_head, person_id=twin.person_id, reason="当面说支持")
    persons.merge(world.community, qian, twin.person, world.staff, reason="同一人")
    assert ProposalSecond.query.one().person_id == qian.id
    with pytest.raises(Conflict):
        proposals.second(p, world.grid_worker, person_id=qian.id, reason="电话里说支持")


# ── the web forms ─────────────────────────────────────────────────────────────────────────
def test_web_second_for_resident_without_account(world, qian, login):
    p = open_proposal(world)
    c = login(world.building_head)
    page = c.get(f"/c/test/proposals/{p.id}").get_data(as_text=True)
    assert f'value="{qian.id}"' in page and "钱奶奶" in page  # the picker lists her, by room
    r = c.post(f"/c/test/proposals/{p.id}/second", data={"person_id": qian.id, "assist_reason": "老人不会用手机"})
    assert r.status_code == 302
    s = ProposalSecond.query.one()
    assert (s.person_id, s.user_id, s.acted_by_id) == (qian.id, None, world.building_head.id)
    c.post(f"/c/test/proposals/{p.id}/second", data={})  # his own second, still his to give
    assert seconds(p) == 2


def test_web_second_with_a_typed_name_is_refused(world, qian, login):
    p = open_proposal(world)
    c = login(world.building_head)
    r = c.post(f"/c/test/proposals/{p.id}/second", data={"on_behalf_of_name": "钱奶奶", "assist_reason": "帮忙"},
               follow_redirects=True)
    assert "钱奶奶" in r.get_data(as_text=True) and "flash-error" in r.get_data(as_text=True)
    assert seconds(p) == 0 and ProposalSecond.query.count() == 0
    r = c.post(f"/c/test/proposals/{p.id}/second", data={"person_id": "abc", "assist_reason": "帮忙"})
    assert seconds(p) == 0  # a malformed key is refused, never taken as the helper's own second


def test_web_comment_and_proposal_for_resident_without_account(world, qian, login):
    c = login(world.building_head)
    r = c.post("/c/test/proposals/new", data={**GOOD, "grid_id": 0, "building_id": 0, "person_id": qian.id,
                                               "assist_reason": "老人口述"})
    assert r.status_code == 302
    p = Proposal.query.one()
    assert p.author_person_id == qian.id and p.author_name == "钱奶奶"
    c.post(f"/c/test/proposals/{p.id}/comment", data={"body": "谢谢楼长。", "person_id": qian.id,
                                                     "assist_reason": "老人口述"})
    comment = ProposalComment.query.one()
    assert comment.author_person_id == qian.id and comment.acted_by_id == world.building_head.id
    r = c.post("/c/test/proposals/new", data={**GOOD, "grid_id": 0, "building_id": 0,
                                               "on_behalf_of_name": "钱奶奶", "assist_reason": "老人口述"})
    assert r.status_code == 200 and Proposal.query.count() == 1


# ── the API ───────────────────────────────────────────────────────────────────────────────
def test_api_second_and_comment_for_resident(world, qian, api):
    p = open_proposal(world)
    client = api(world.building_head)
    r = client.post(f"/api/v1/c/test/proposals/{p.id}/second", json={"person_id": qian.id, "reason": "当面说支持"})
    assert r.status_code == 201, r.get_json()
    assert ProposalSecond.query.one().person_id == qian.id
    r = client.post(f"/api/v1/c/test/proposals/{p.id}/second", json={"name": "钱奶奶", "reason": "当面说支持"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "not_on_register"
    r = client.post(f"/api/v1/c/test/proposals/{p.id}/second")  # his own, without a body
    assert r.status_code == 201 and seconds(p) == 2
    r = client.post(f"/api/v1/c/test/proposals/{p.id}/comments",
                    json={"body": "我同意。", "person_id": qian.id, "reason": "当面说的"})
    assert r.status_code == 201 and r.get_json()["author_name"] == "钱奶奶"
    r = client.post("/api/v1/c/test/proposals", json={**GOOD, "person_id": qian.id, "reason": "老人口述"})
    assert r.status_code == 201 and r.get_json()["author_name"] == "钱奶奶"


# ── staff are not residents waiting for verification ──────────────────────────────────────
def test_staff_see_no_resident_nag_and_are_not_marked_waiting(world, login):
    nag = "不能附议或表决"
    page = login(world.staff).get("/c/test/").get_data(as_text=True)
    assert nag not in page and "not second or vote" not in page
    page = login(world.newbie).get("/c/test/").get_data(as_text=True)
    assert nag in page or "not second or vote" in page
    members = login(world.admin).get("/c/test/members?status=unverified").get_data(as_text=True)
    assert "新居民" in members and "社工" not in members
    members = login(world.admin).get("/c/test/members").get_data(as_text=True)
    row = next(line for line in members.splitlines() if "社工" in line)
    assert "badge wait" not in members.split("社工", 1)[1].split("</tr>", 1)[0], row


def test_staff_who_live_here_are_verified_like_anyone(world, login):
    m = Membership.query.filter_by(user_id=world.staff.id, community_id=world.community.id).one()
    with pytest.raises(Forbidden):
        accounts.verify_resident(m, world.households[1], "resident", world.staff)
    accounts.verify_resident(m, world.households[1], "resident", world.admin)
    p = open_proposal(world)
    proposals.second(p, world.staff)
    assert seconds(p) == 1


def test_api_second_for_account_holder_by_phone_or_user_name(world, api):
    p = open_proposal(world)
    client = api(world.staff)
    r = client.post(f"/api/v1/c/test/proposals/{p.id}/second", json={"on_behalf_of": "resident2", "reason": "电话里说支持"})
    assert r.status_code == 201, r.get_json()
    s = ProposalSecond.query.one()
    assert (s.user_id, s.acted_by_id) == (world.resident2.id, world.staff.id) and s.person_id is not None
    r = client.post(f"/api/v1/c/test/proposals/{p.id}/second", json={"on_behalf_of": "resident2", "reason": "再点一次"})
    assert r.status_code == 409 and seconds(p) == 1


def test_picker_lists_the_helpers_people_in_natural_order(world, qian, far):
    from core.services.assist import people_in_reach

    db.session.add(HouseholdMember(household_id=world.households[0].id, name="赵大爷"))
    db.session.commit()
    groups = people_in_reach(world.community, world.building_head)
    assert [b for b, _rows in groups] == ["1号楼"]  # not 10号楼: not his building
    labels = [label for _pid, label in groups[0][1]]
    assert any("钱奶奶" in label for label in labels) and not any("孙爷爷" in label for label in labels)
    assert [b for b, _rows in people_in_reach(world.community, world.staff)] == ["1号楼", "10号楼"]
