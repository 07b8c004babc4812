"""Races on the core, against a real multi-worker server (see tests/live.py)."""
from core.extensions import db
from core.models import Proposal, ProposalSecond, ProposalTransition
from core.services import proposals, tokens
from tests.live import live_server, request, storm


def test_fifty_concurrent_seconds_by_one_resident_count_once(app, world, tmp_path, db_url):
    p = proposals.create(world.community, world.resident2, {
        "title": "楼道灯坏了", "body": "三楼楼道灯坏了一个月了，请尽快修理。", "category": "facilities"})
    token = tokens.create(world.resident, "race")[1]
    pid = p.id
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()
    with live_server(db_url, tmp_path) as base:
        url = f"{base}/api/v1/c/test/proposals/{pid}/second"
        results = storm(50, lambda i: request("POST", url, token=token))
    statuses = sorted(r[0] for r in results)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409}
    db.session.expire_all()
    assert ProposalSecond.query.filter_by(proposal_id=pid).count() == 1
    assert db.session.get(Proposal, pid).seconds_count == 1


def test_concurrent_seconds_cross_threshold_once(app, world, tmp_path, db_url):
    """Three residents second at once with a threshold of three: one move to coordination."""
    p = proposals.create(world.community, world.mediator, {
        "title": "增设电动车充电桩", "body": "楼下没有充电桩，大家只好飞线充电，很危险。", "category": "safety"})
    toks = [tokens.create(u, "race")[1] for u in (world.resident, world.resident2, world.building_head)]
    pid = p.id
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()
    with live_server(db_url, tmp_path) as base:
        url = f"{base}/api/v1/c/test/proposals/{pid}/second"
        results = storm(3, lambda i: request("POST", url, token=toks[i]))
    assert [r[0] for r in results] == [201, 201, 201]
    db.session.expire_all()
    proposal = db.session.get(Proposal, pid)
    assert proposal.seconds_count == 3
    assert proposal.state == "coordinating"
    moves = ProposalTransition.query.filter_by(proposal_id=pid, to_state="coordinating").count()
    assert moves == 1
