"""A proposal follows its ballot by every path (issue 17): it moves to voting when its ballot
opens — from the proposal page, the ballot page, the API or the command line — and to accepted or
rejected when it closes. A ballot set up on a proposal in coordination used to leave it there
through opening and closing. With owners as the default unit, moving a proposal to voting sets
up its ballot in preparation and asks staff for the matter class (R4) instead of refusing."""
from datetime import timedelta

import pytest

from core.errors import Conflict
from core.extensions import db
from core.models import AuditEntry, Notification, Proposal, ProposalTransition, utcnow
from core.services import proposals
from core.services import settings as settings_svc
from plugins.voting import services
from plugins.voting.models import Ballot

pytestmark = pytest.mark.plugins("voting")
BALLOTS = "/api/v1/c/test/voting/ballots"


def coordinating(world, title="楼顶防水维修"):
    p = proposals.create(world.community, world.resident, {
        "title": title, "body": "顶楼漏水多年，建议用维修资金做防水。", "category": "facilities"})
    proposals.transition(p, "coordinating", world.staff, "附议足够")
    return p


def state(p):
    db.session.expire_all()
    return db.session.get(Proposal, p.id).state


def moves(p):
    return [(t.from_state, t.to_state) for t in ProposalTransition.query.filter_by(proposal_id=p.id)
            .order_by(ProposalTransition.id)][3:]  # after draft, open, coordinating


def vote_yes(b, world):
    for u in (world.resident, world.resident2, world.building_head):
        services.cast(b, u, "yes")


def test_from_the_proposal_page(world, login):
    c = login(world.staff)
    # Moving a proposal to voting opens its ballot (auto_open).
    p = coordinating(world)
    r = c.post(f"/c/test/proposals/{p.id}/transition", data={"new_state": "voting", "reason": "协调会后表决"})
    assert r.status_code == 302 and state(p) == "voting"
    b = Ballot.query.filter_by(proposal_id=p.id).one()
    assert b.state == "open"
    # "Set up a ballot" on a proposal in coordination, opened at once: the proposal moves with it.
    q = coordinating(world, "更换单元门禁")
    page = c.get(f"/c/test/proposals/{q.id}").get_data(as_text=True)
    assert f"/c/test/voting/new?proposal_id={q.id}" in page
    closes = (utcnow() + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(f"/c/test/voting/new?proposal_id={q.id}", data={
        "title": "更换单元门禁", "method": "majority", "unit": "person", "rule": "simple", "quorum": "none",
        "scope": "community", "grid_id": "0", "building_id": "0", "closes_at": closes, "paper_rule": "refuse",
        "open_now": "y"})
    assert r.status_code == 302 and state(q) == "voting" and moves(q) == [("coordinating", "voting")]
    page = c.get(f"/c/test/proposals/{q.id}").get_data(as_text=True)
    assert "badge state-voting" in page


def test_from_the_ballot_page(world, login):
    p = coordinating(world)
    b = services.create(world.community, world.staff, {"days": 7}, proposal=p)
    assert b.state == "draft" and state(p) == "coordinating"
    c = login(world.staff)
    c.post(f"/c/test/voting/{b.id}/open")
    assert state(p) == "voting" and db.session.get(Ballot, b.id).state == "open"
    audit = AuditEntry.query.filter_by(action="proposal.transition").order_by(AuditEntry.id.desc()).first()
    assert audit.actor_id == world.staff.id and "opened" in audit.reason
    page = c.get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "badge state-voting" in page
    vote_yes(db.session.get(Ballot, b.id), world)
    c.post(f"/c/test/voting/{b.id}/close", data={"reason": "提前计票", "confirm": "1"})
    assert state(p) == "accepted" and moves(p) == [("coordinating", "voting"), ("voting", "accepted")]


def test_from_the_api(world, api):
    staff = api(world.staff)
    p = coordinating(world)
    r = staff.post(f"{BALLOTS}", json={"proposal_id": p.id, "days": 7, "open": True})
    assert r.status_code == 201 and state(p) == "voting"
    r = staff.post(f"{BALLOTS}/{r.get_json()['id']}/close", json={"reason": "提前计票"})
    assert r.status_code == 200 and state(p) == "rejected"  # nobody voted
    q = coordinating(world, "小区绿化补种")
    bid = staff.post(f"{BALLOTS}", json={"proposal_id": q.id, "days": 7}).get_json()["id"]
    assert state(q) == "coordinating"
    assert staff.post(f"{BALLOTS}/{bid}/open", json={}).status_code == 200 and state(q) == "voting"
    vote_yes(db.session.get(Ballot, bid), world)
    assert staff.post(f"{BALLOTS}/{bid}/close", json={"reason": "提前计票"}).status_code == 200
    assert state(q) == "accepted"


def test_from_the_command_line(world, runner):
    p = coordinating(world)
    b = services.create(world.community, world.staff, {"days": 7}, proposal=p)
    r = runner.invoke(args=["ballots", "open", str(b.id)])
    assert r.exit_code == 0, r.output
    assert state(p) == "voting"
    vote_yes(db.session.get(Ballot, b.id), world)
    assert runner.invoke(args=["ballots", "close", str(b.id), "--reason", " "]).exit_code == 1
    r = runner.invoke(args=["ballots", "close", str(b.id), "--reason", "提前计票"])
    assert r.exit_code == 0, r.output
    assert state(p) == "accepted"
    assert runner.invoke(args=["ballots", "open", str(b.id)]).exit_code == 1  # closed: a message, no traceback
    # close-due from cron decides the proposal too.
    q = coordinating(world, "小区绿化补种")
    b2 = services.create(world.community, world.staff, {"days": 7}, proposal=q, open_now=True)
    assert state(q) == "voting"
    db.session.get(Ballot, b2.id).closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert runner.invoke(args=["ballots", "close-due"]).exit_code == 0
    assert state(q) == "rejected"


def test_a_ballot_opened_before_proposals_followed_decides_its_proposal_in_coordination(world):
    p = coordinating(world)
    b = services.create(world.community, world.staff, {"days": 7}, proposal=p, open_now=True)
    db.session.execute(db.update(Proposal).where(Proposal.id == p.id).values(state="coordinating"))
    db.session.commit()
    vote_yes(b, world)
    services.close(b, world.staff, "提前计票")
    assert state(p) == "accepted"


def test_a_ballot_whose_proposal_moved_on_does_not_open_and_nothing_changes(world, api):
    p = coordinating(world)
    b = services.create(world.community, world.staff, {"days": 7}, proposal=p)
    proposals.transition(p, "accepted", world.staff, "协调解决，无需表决")
    r = api(world.staff).post(f"{BALLOTS}/{b.id}/open", json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "proposal_moved_on"
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).state == "draft" and state(p) == "accepted"


def test_owners_by_default_a_proposal_moves_to_voting_with_its_ballot_in_preparation(world, estate, login, api):
    settings_svc.set(world.community, "voting", "default_unit", "owners")
    db.session.commit()
    p = coordinating(world)
    r = login(world.staff).post(f"/c/test/proposals/{p.id}/transition",
                                data={"new_state": "voting", "reason": "业主大会表决"})
    assert r.status_code == 302 and state(p) == "voting"  # the move was refused before
    b = Ballot.query.filter_by(proposal_id=p.id).one()
    assert (b.state, b.unit, b.matter_class, b.notice_published_at) == ("draft", "owners", None, None)
    # Its window lies after the notice period (15 whole days), within the owners' bounds.
    assert b.opens_at >= services.earliest_opening(world.community, utcnow() - timedelta(minutes=5), 15)
    assert 5 <= (b.closes_at - b.opens_at).days <= 60
    # Staff are asked for the matter class.
    asked = Notification.query.filter_by(user_id=world.staff.id, kind="voting.matter_class_needed").one()
    assert asked.params["title"] == p.title and asked.url.endswith(f"/voting/{b.id}")
    c = login(world.staff)
    page = c.get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "Matter class not given yet" in page
    # Neither the notice nor the opening goes out without it.
    staff = api(world.staff)
    for step in ("notice", "open"):
        r = staff.post(f"{BALLOTS}/{b.id}/{step}", json={})
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "matter_class_required"
    with pytest.raises(Conflict):
        services.publish_notice(db.session.get(Ballot, b.id), world.staff)
    db.session.rollback()
    assert staff.put(f"{BALLOTS}/{b.id}", json={"matter_class": "ordinary"}).status_code == 200
    r = staff.post(f"{BALLOTS}/{b.id}/notice", json={})
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).matter_class == "ordinary"


def test_owners_ballot_that_the_settings_do_not_allow_leaves_the_move_and_tells_staff(world):
    settings_svc.set(world.community, "voting", "default_unit", "owners")
    settings_svc.set(world.community, "voting", "window_max_days", 3)  # below the fewest (5)
    db.session.commit()
    p = coordinating(world)
    proposals.transition(p, "voting", world.staff, "业主大会表决")
    assert state(p) == "voting" and Ballot.query.filter_by(proposal_id=p.id).count() == 0
    told = Notification.query.filter_by(user_id=world.staff.id, kind="voting.setup_needed").one()
    assert told.params["title"] == p.title and told.params["error"]
