"""Seconds (附议) that arrive while the last needed one moves the proposal on (issue 16 §10).

The threshold's move and the acceptance of a second are decided under the same row: a second
counts only while the proposal is open, so when the proposal moves to coordination exactly
``seconds_threshold`` seconds are recorded, and a second that arrives after the move is refused
(409 ``not_open``) with nothing saved: no second row, no count, no audit entry, no points.

The same stale read on the proposal's other writes is checked too: a comment on a proposal that
was closed meanwhile, an edit of a draft that was submitted meanwhile.

LINLI_RACE_ROUNDS (default 10 here) sets how many bursts are fired, each at a fresh proposal."""
import os

import pytest

from core.errors import Conflict
from core.extensions import db
from core.models import AuditEntry, Proposal, ProposalComment, ProposalSecond, ProposalTransition, User
from core.services import proposals
from tests.helpers import residents_with_points
from tests.live import live_server, request, storm

pytestmark = pytest.mark.plugins("points")
ROUNDS = int(os.environ.get("LINLI_RACE_ROUNDS", "10"))
THRESHOLD = 4
BURST = 24


def _proposal(world, r):
    return proposals.create(world.community, world.mediator, {
        "title": f"第{r}轮：小区东门加装雨棚", "body": "东门等车的老人下雨天没地方躲雨。", "category": "facilities"})


def _audited_seconds(pid):
    return AuditEntry.query.filter_by(action="proposal.seconded", object_type="proposal",
                                      object_id=str(pid)).count()


def test_second_on_a_proposal_moved_meanwhile_is_refused_and_saves_nothing(app, world):
    """The page was loaded while the proposal was open; another request moved it on since."""
    p = _proposal(world, 0)
    assert p.state == "open"  # read, as the request that seconds reads it
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    with db.engine.begin() as other:  # another request moves it on meanwhile
        other.execute(db.update(Proposal).where(Proposal.id == p.id).values(state="coordinating"))
    with pytest.raises(Conflict) as err:
        proposals.second(p, world.resident)
    assert err.value.code == "not_open"
    db.session.rollback()
    db.session.expire_all()
    assert ProposalSecond.query.filter_by(proposal_id=p.id).count() == 0
    assert db.session.get(Proposal, p.id).seconds_count == 0
    assert _audited_seconds(p.id) == 0


def test_comment_on_a_proposal_withdrawn_meanwhile_is_refused_and_saves_nothing(app, world):
    p = _proposal(world, 0)
    assert p.state == "open"
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    with db.engine.begin() as other:  # the author withdraws it in another tab
        other.execute(db.update(Proposal).where(Proposal.id == p.id).values(state="withdrawn"))
    with pytest.raises(Conflict) as err:
        proposals.comment(p, world.resident, "东门确实需要雨棚。")
    assert err.value.code == "closed"
    db.session.rollback()
    db.session.expire_all()
    assert ProposalComment.query.filter_by(proposal_id=p.id).count() == 0
    assert db.session.get(Proposal, p.id).comments_count == 0


def test_draft_edit_after_it_was_submitted_meanwhile_is_refused(app, world):
    p = proposals.create(world.community, world.resident, {
        "title": "小区东门加装雨棚", "body": "东门等车的老人下雨天没地方躲雨。", "category": "facilities"},
        submit=False)
    assert p.state == "draft"
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    with db.engine.begin() as other:  # submitted from another tab; residents now see this text
        other.execute(db.update(Proposal).where(Proposal.id == p.id).values(state="open"))
    with pytest.raises(Conflict) as err:
        proposals.update_draft(p, world.resident, {
            "title": "小区东门改建停车场", "body": "把东门的空地改成停车场。", "category": "parking"})
    assert err.value.code == "not_draft"
    db.session.rollback()
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert (p.title, p.category) == ("小区东门加装雨棚", "facilities")
    assert AuditEntry.query.filter_by(action="proposal.edited").count() == 0


def test_bursts_of_seconds_at_the_threshold_record_exactly_the_threshold(app, world, tmp_path, db_url):
    from plugins.points import services as psvc
    from plugins.points.models import PointsAward

    world.community.seconds_threshold = THRESHOLD
    db.session.commit()
    psvc.save_rule(world.community, world.admin, "proposal.seconded", 1)
    ids, toks = residents_with_points(world, "sec", THRESHOLD - 1 + BURST, 0)
    early = [db.session.get(User, uid) for uid in ids[:THRESHOLD - 1]]
    burst = toks[THRESHOLD - 1:]
    pids = []
    for r in range(ROUNDS):
        p = _proposal(world, r)
        for user in early:  # one second short of the threshold
            proposals.second(p, user)
        assert p.state == "open" and p.seconds_count == THRESHOLD - 1
        pids.append(p.id)
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()
    outcomes = []
    with live_server(db_url, tmp_path, plugins=("points",)) as base:
        for pid in pids:
            url = f"{base}/api/v1/c/test/proposals/{pid}/second"
            outcomes.append((pid, storm(BURST, lambda i: request("POST", url, token=burst[i],
                                                                 headers={"Accept-Language": "zh-CN"}))))
    db.session.expire_all()
    extra = {}
    for pid, results in outcomes:
        statuses = sorted(x[0] if isinstance(x, tuple) else repr(x) for x in results)
        assert set(statuses) <= {201, 409}, statuses  # no 500s, no dropped connections
        refused = [x[1] for x in results if x[0] == 409]
        assert all(body["error"]["code"] == "not_open" for body in refused), refused
        # read after the move / read before it, refused under the lock: both translated
        assert {body["error"]["message"] for body in refused} <= {
            "只有征求意见中的议题才能附议。", "该议题已不再征集附议，请刷新页面。"}, refused
        recorded = ProposalSecond.query.filter_by(proposal_id=pid).count()
        if recorded != THRESHOLD:
            extra[pid] = recorded - THRESHOLD
            continue
        assert statuses.count(201) == 1, statuses  # only the second that reached the threshold
        proposal = db.session.get(Proposal, pid)
        assert proposal.state == "coordinating"
        assert proposal.seconds_count == THRESHOLD
        assert ProposalTransition.query.filter_by(proposal_id=pid, to_state="coordinating").count() == 1
        assert _audited_seconds(pid) == THRESHOLD
        assert PointsAward.query.filter(PointsAward.event_name == "proposal.seconded",
                                        PointsAward.ref.like(f"proposal:{pid}:second:%")).count() == THRESHOLD
    assert not extra, f"seconds recorded after the move, per proposal: {extra}"
