"""One voter, one counted ballot — against a real multi-worker server (tests/live.py)."""
import pytest

from core.extensions import db
from core.services import tokens
from plugins.voting.models import Ballot, Entry, Voter
from tests.live import live_server, request, storm

pytestmark = pytest.mark.plugins("voting")


def test_fifty_concurrent_casts_by_one_voter_leave_one_counted_ballot(app, world, voting_proposal, tmp_path, db_url):
    ballot = Ballot.query.filter_by(proposal_id=voting_proposal.id).one()
    bid, token = ballot.id, tokens.create(world.resident, "race")[1]
    voter_id = Voter.query.filter_by(ballot_id=bid, user_id=world.resident.id).one().id
    db.session.commit()  # what the test set up, before the server reads it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("voting",)) as base:
        url = f"{base}/api/v1/c/test/voting/ballots/{bid}/votes"
        results = storm(50, lambda i: request("POST", url, token=token,
                                              body={"choice": ("yes", "no", "abstain")[i % 3]}))
    statuses = [r[0] if isinstance(r, tuple) else repr(r) for r in results]
    assert set(statuses) <= {201}, statuses  # every cast is answered; the latest counts
    db.session.expire_all()
    counted = Entry.query.filter_by(ballot_id=bid, counted=True).all()
    assert len(counted) == 1
    entries = Entry.query.filter_by(ballot_id=bid).order_by(Entry.seq).all()
    assert [e.seq for e in entries] == list(range(1, 51))  # an unbroken chain
    assert all(e.prev_hash == p.hash for p, e in zip(entries, entries[1:]))
    assert counted[0].seq == 50
    b = db.session.get(Ballot, bid)
    assert b.voted_count == 1 and b.head_hash == entries[-1].hash
    assert db.session.get(Voter, voter_id).voted_at is not None


def test_concurrent_paper_entries_for_one_voter_record_one(app, world, voting_proposal, tmp_path, db_url):
    """Two grid workers typing the same paper sheet at once: one is recorded, the other told."""
    ballot = Ballot.query.filter_by(proposal_id=voting_proposal.id).one()
    bid = ballot.id
    voter_id = Voter.query.filter_by(ballot_id=bid, user_id=world.resident2.id).one().id
    toks = [tokens.create(u, "race")[1] for u in (world.grid_worker, world.staff)] * 10
    db.session.commit()  # what the test set up, before the server reads it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("voting",)) as base:
        url = f"{base}/api/v1/c/test/voting/ballots/{bid}/paper"
        results = storm(20, lambda i: request("POST", url, token=toks[i],
                                              body={"voter_id": voter_id, "choice": "yes", "witness": "楼长"}))
    statuses = sorted(r[0] for r in results)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, statuses
    db.session.expire_all()
    assert Entry.query.filter_by(ballot_id=bid).count() == 1


def test_concurrent_proxies_for_one_person_stop_at_the_limit(app, world, estate, owners_ballot, tmp_path, db_url):
    """Staff and a grid worker record the 4th, 5th... proxy of one person at the same moment: the
    limit (3, 潍坊 Art. 32) holds; exactly one more is recorded and the others are told why."""
    from plugins.voting import services
    from plugins.voting.models import Proxy

    ballot = owners_ballot()
    bid = ballot.id
    voters = [v.id for v in Voter.query.filter_by(ballot_id=bid).order_by(Voter.id)]
    assert len(voters) >= 6
    for vid in voters[:2]:
        services.record_proxy(ballot, world.staff, {"voter_id": vid, "proxy_name": "王阿姨", "witness": "李社工"})
    rest = voters[2:6]
    toks = [tokens.create(u, "race")[1] for u in (world.staff, world.grid_worker)] * 2
    db.session.commit()  # what the test set up, before the server reads it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("voting",)) as base:
        url = f"{base}/api/v1/c/test/voting/ballots/{bid}/proxies"
        results = storm(len(rest), lambda i: request("POST", url, token=toks[i], body={
            "voter_id": rest[i], "proxy_name": "王阿姨", "witness": "李社工"}))
    statuses = sorted(r[0] if isinstance(r, tuple) else repr(r) for r in results)
    assert statuses == [201, 409, 409, 409], statuses
    db.session.expire_all()
    assert Proxy.query.filter_by(ballot_id=bid, holder_key="name:王阿姨", revoked_at=None).count() == 3
    assert sorted(p.ref for p in Proxy.query.filter_by(ballot_id=bid)) == ["P1", "P2", "P3"]
