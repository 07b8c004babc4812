"""Ballots close by `linli ballots close-due` (cron), never because a page was viewed (issue 21).

Between its closing time and that run a ballot shows as "closing" on its pages and in the API,
and refuses votes. Two runs at once count a ballot once."""
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from core.extensions import db
from core.models import AuditEntry, Proposal, utcnow
from plugins.voting import services
from plugins.voting.models import Ballot

pytestmark = pytest.mark.plugins("voting")
ROOT = Path(__file__).resolve().parents[3]


def _due(proposal):
    b = Ballot.query.filter_by(proposal_id=proposal.id).one()
    b.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return b.id


def _state(ballot_id):
    db.session.expire_all()
    return db.session.get(Ballot, ballot_id).state


def test_a_due_ballot_shows_as_closing_refuses_votes_and_no_page_view_closes_it(world, voting_proposal, login, api):
    bid = _due(voting_proposal)
    c = login(world.resident)
    for url in (f"/c/test/voting/{bid}", f"/c/test/proposals/{voting_proposal.id}", "/c/test/voting/",
                f"/c/test/voting/{bid}/receipts", f"/c/test/voting/{bid}/print/notice"):
        c.get(url)
    html = c.get(f"/c/test/voting/{bid}").get_data(as_text=True)
    assert "Closing: counting soon" in html and "the votes are being counted" in html
    assert "Cast my vote" not in html
    panel = c.get(f"/c/test/proposals/{voting_proposal.id}").get_data(as_text=True)
    assert "the votes are being counted" in panel and "Cast my vote" not in panel
    r = api(world.resident).get(f"/api/v1/c/test/voting/ballots/{bid}")
    assert r.status_code == 200 and r.get_json()["status"] == "closing" and r.get_json()["state"] == "open"
    r = api(world.resident).post(f"/api/v1/c/test/voting/ballots/{bid}/votes", json={"choice": "yes"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ballot_closed"
    r = c.post(f"/c/test/voting/{bid}/vote", data={"choice": "yes"}, follow_redirects=True)
    assert "This ballot is closed." in r.get_data(as_text=True)
    assert _state(bid) == "open"  # nothing was closed by reading
    assert db.session.get(Proposal, voting_proposal.id).state == "voting"


def test_close_due_closes_counts_and_decides_the_proposal_once(world, voting_proposal, runner):
    bid = _due(voting_proposal)
    r = runner.invoke(args=["ballots", "close-due", "--community", "test"])
    assert r.exit_code == 0, r.output
    assert f"Closed ballot {bid}" in r.output
    assert _state(bid) == "closed"
    assert db.session.get(Ballot, bid).result is not None and db.session.get(Ballot, bid).closing_hash
    assert db.session.get(Proposal, voting_proposal.id).state == "rejected"  # nobody voted
    again = runner.invoke(args=["ballots", "close-due"])
    assert again.exit_code == 0 and again.output == ""  # idempotent
    assert AuditEntry.query.filter_by(action="voting.ballot_closed", object_id=str(bid)).count() == 1


def test_close_due_for_one_community_leaves_the_others(world, voting_proposal, runner):
    bid = _due(voting_proposal)
    assert runner.invoke(args=["ballots", "close-due", "--community", "nowhere"]).exit_code == 1
    from core.services import structure

    structure.create_community("elsewhere", "另一个社区")
    db.session.commit()
    r = runner.invoke(args=["ballots", "close-due", "--community", "elsewhere"])
    assert r.exit_code == 0 and r.output == ""
    assert _state(bid) == "open"


def test_the_service_closes_a_due_ballot_only(world, voting_proposal):
    from core.db import transaction

    b = Ballot.query.filter_by(proposal_id=voting_proposal.id).one()
    with transaction():
        assert services.close_when_due(b) is False  # not due yet
    assert _state(b.id) == "open"
    bid = _due(voting_proposal)
    with transaction():
        assert services.close_when_due(db.session.get(Ballot, bid)) is True
    with transaction():
        assert services.close_when_due(db.session.get(Ballot, bid)) is False
    assert _state(bid) == "closed"


def test_two_runs_at_once_count_each_ballot_once(app, world, voting_proposal, tmp_path, db_url):
    """Two `linli ballots close-due` processes started together on the same database (SQLite or
    PostgreSQL): every due ballot is closed and counted by exactly one of them."""
    from core.services import proposals

    ids = [_due(voting_proposal)]
    for i in range(3):
        p = proposals.create(world.community, world.resident, {
            "title": f"议题 {i} 的表决", "body": "这是一条用于测试同时计票的提案内容，足够长。", "category": "facilities"})
        proposals.transition(p, "coordinating", world.staff, "附议足够")
        proposals.transition(p, "voting", world.staff, "议事会同意表决")
        db.session.commit()
        ids.append(_due(p))
    db.session.commit()  # what the test set up, before the server reads it
    db.session.remove()
    inst = tmp_path / "instance"
    inst.mkdir()
    (inst / "config.py").write_text(f"SECRET_KEY = 'close-due'\nSQLALCHEMY_DATABASE_URI = {db_url!r}\n",
                                    encoding="utf-8")
    env = dict(os.environ, LINLI_INSTANCE_PATH=str(inst), LINLI_PLUGINS="voting")
    env.pop("LINLI_DATABASE_URL", None)
    runs = [subprocess.Popen([sys.executable, "-c", "from core.cli import main; main()", "ballots", "close-due"],
                             cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    # One line per ballot closed (in the command's language): each id once, from one run or the other.
    closed = [int(re.search(r"\d+", line).group()) for out, _err in outputs for line in out.splitlines() if line]
    assert sorted(closed) == sorted(ids), outputs
    db.session.expire_all()
    for bid in ids:
        assert db.session.get(Ballot, bid).state == "closed"
        assert AuditEntry.query.filter_by(action="voting.ballot_closed", object_id=str(bid)).count() == 1
