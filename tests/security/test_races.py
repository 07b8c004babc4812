"""Races on the core against a real multi-worker server (tests/live.py), repeated in rounds.

Module option: LINLI_RACE_ROUNDS (default 20, as issue 7 asks) rounds of RACE_N = 50 concurrent
requests per case; a quick local run can ask for fewer:

    LINLI_RACE_ROUNDS=3 .venv/bin/python -m pytest -q tests/security/test_races.py

The modules' races run in rounds in tests/security/test_module_races.py; their single-round
tests are in tests/plugins/<name>/test_races.py."""
import os

from core.extensions import db
from core.models import Proposal, ProposalComment, ProposalSecond, ProposalTransition
from core.services import proposals, tokens
from tests.live import live_server, request, storm
from tests.security.figures import add

ROUNDS = int(os.environ.get("LINLI_RACE_ROUNDS", "20"))
RACE_N = 50


def _open_proposal(world, n):
    return proposals.create(world.community, world.mediator, {
        "title": f"第{n}轮：楼下停车位重新划线", "body": "停车位划线不清，经常堵住消防通道。", "category": "safety"}).id


def test_rounds_of_concurrent_double_second_double_move_and_replayed_comment(app, world, tmp_path, db_url):
    resident = tokens.create(world.resident, "race")[1]
    staff = [tokens.create(u, "race")[1] for u in (world.staff, world.admin)]
    rounds = [(_open_proposal(world, 3 * r), _open_proposal(world, 3 * r + 1), _open_proposal(world, 3 * r + 2))
              for r in range(ROUNDS)]
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()
    outcomes = []
    with live_server(db_url, tmp_path) as base:
        api = f"{base}/api/v1/c/test/proposals"
        for r, (seconded, moved, commented) in enumerate(rounds):
            # one resident seconds the same proposal 50 times at once
            s = storm(RACE_N, lambda i: request("POST", f"{api}/{seconded}/second", token=resident))
            # two staff members click "move to coordination" 50 times at once
            t = storm(RACE_N, lambda i: request("POST", f"{api}/{moved}/transition", token=staff[i % 2],
                                                body={"state": "coordinating", "reason": "附议已够"}))
            # a phone on a bad line resends the same comment (one Idempotency-Key) 50 times at once
            c = storm(RACE_N, lambda i: request("POST", f"{api}/{commented}/comments", token=resident,
                                                body={"body": f"第{r}轮评论"},
                                                headers={"Idempotency-Key": f"round-{r}-comment"}))
            outcomes.append((seconded, moved, commented, s, t, c))
    db.session.expire_all()
    for seconded, moved, commented, s, t, c in outcomes:
        statuses = sorted(x[0] if isinstance(x, tuple) else repr(x) for x in s)
        assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, statuses
        assert ProposalSecond.query.filter_by(proposal_id=seconded).count() == 1
        assert db.session.get(Proposal, seconded).seconds_count == 1

        statuses = sorted(x[0] if isinstance(x, tuple) else repr(x) for x in t)
        assert statuses.count(200) == 1 and set(statuses) <= {200, 409}, statuses
        assert db.session.get(Proposal, moved).state == "coordinating"
        assert ProposalTransition.query.filter_by(proposal_id=moved, to_state="coordinating").count() == 1

        statuses = sorted(x[0] if isinstance(x, tuple) else repr(x) for x in c)
        assert set(statuses) <= {201, 409}, statuses  # 409: "still running" while the first is
        assert statuses.count(201) >= 1
        ids = {x[1]["id"] for x in c if isinstance(x, tuple) and x[0] == 201}
        assert len(ids) == 1, ids  # every acknowledged answer is the same comment
        assert ProposalComment.query.filter_by(proposal_id=commented).count() == 1
        assert db.session.get(Proposal, commented).comments_count == 1
    assert len(outcomes) == ROUNDS
    add("race rounds of 50", 3 * ROUNDS)
