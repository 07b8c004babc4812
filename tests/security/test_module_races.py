"""The modules' races against a real multi-worker server, in rounds (issue 7 §1).

Every round releases 50 concurrent requests per case and checks the exact end state:
a double vote, two staff closing the same ballot, duplicate attendance, a meeting recorded as
held twice (which would pay its attendees' points twice), residents overselling the last store
items and one resident spending a balance twice. LINLI_RACE_ROUNDS sets the rounds (default 20,
as issue 7 asks); the plugins' own single-round race tests are in tests/plugins/<name>/."""
import os

import pytest

from core.extensions import db
from core.models import AuditEntry, ProposalTransition
from core.services import proposals, tokens
from tests.helpers import residents_with_points
from tests.live import live_server, request, storm
from tests.plugins.meetings.conftest import body  # noqa: F401  (the joint-meeting body fixture)
from tests.security.figures import add

pytestmark = pytest.mark.plugins("voting", "meetings", "points")
ROUNDS = int(os.environ.get("LINLI_RACE_ROUNDS", "20"))
N = 50


def _codes(results):
    return sorted(r[0] if isinstance(r, tuple) else repr(r) for r in results)


def _round_objects(world, body, r):
    """One round's fresh objects: a proposal in voting (its ballot opens by itself), a quorate
    meeting without 孙警官's attendance yet, two store items."""
    from plugins.meetings import services as msvc
    from plugins.meetings.models import Delegate
    from plugins.points import services as psvc
    from plugins.voting.models import Ballot
    from tests.plugins.meetings.conftest import schedule

    p = proposals.create(world.community, world.resident, {
        "title": f"第{r}轮：单元门禁更换", "body": "门禁坏了三个月，外人随便进出。", "category": "safety"})
    proposals.transition(p, "coordinating", world.staff, "附议足够")
    proposals.transition(p, "voting", world.staff, "议事会同意表决")
    ballot = Ballot.query.filter_by(proposal_id=p.id).one()
    m = schedule(body, world.staff, days=10 + r)
    names = {d.name: d for d in Delegate.query.filter_by(body_id=body.id)}
    for name in ("李社工", "张经理"):
        msvc.record_attendance(m, world.staff, names[name].id, "present")
    last = psvc.save_item(world.community, world.staff, {"name": f"大米（第{r}轮）", "price": 30, "stock": 20})
    soap = psvc.save_item(world.community, world.staff, {"name": f"洗衣液（第{r}轮）", "price": 10, "stock": 100})
    return dict(proposal=p.id, ballot=ballot.id, meeting=m.id, delegate=names["孙警官"].id, last=last.id,
                soap=soap.id)


def test_rounds_of_module_races(app, world, body, tmp_path, db_url):  # noqa: F811
    from plugins.meetings.models import Attendance, Meeting
    from plugins.points import ledger
    from plugins.points import services as psvc
    from plugins.points.models import PointsAccount, PointsAward, PointsItem, PointsOrder
    from plugins.voting.models import Ballot, Entry
    psvc.save_rule(world.community, world.admin, "meeting.attended", 5)
    shopper_ids, shopper_toks = residents_with_points(world, "shopper", N, 30 * ROUNDS)
    # one resident per round with exactly three items' worth of points
    spender_ids, spender_toks = residents_with_points(world, "spender", ROUNDS, 30)
    rounds = [_round_objects(world, body, r) for r in range(ROUNDS)]
    voter = tokens.create(world.resident, "race")[1]
    staff = [tokens.create(u, "race")[1] for u in (world.staff, world.admin)]
    attendee_ids = (world.grid_worker.id,)  # 孙警官: the one attendee who is a verified resident (points)
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()

    outcomes = []
    with live_server(db_url, tmp_path, plugins=("voting", "meetings", "points")) as base:
        api = f"{base}/api/v1/c/test"
        for r, o in enumerate(rounds):
            res = {}
            res["vote"] = storm(N, lambda i: request("POST", f"{api}/voting/ballots/{o['ballot']}/votes", token=voter,
                                                     body={"choice": ("yes", "no")[i % 2]}))
            res["close"] = storm(N, lambda i: request("POST", f"{api}/voting/ballots/{o['ballot']}/close",
                                                      token=staff[i % 2], body={"reason": "提前结束"}))
            res["attend"] = storm(N, lambda i: request("POST", f"{api}/meetings/{o['meeting']}/attendance",
                                                       token=staff[i % 2],
                                                       body={"delegate_id": o["delegate"], "status": "present"}))
            res["held"] = storm(N, lambda i: request("POST", f"{api}/meetings/{o['meeting']}/held",
                                                     token=staff[i % 2]))
            res["oversell"] = storm(N, lambda i: request("POST", f"{api}/points/items/{o['last']}/redeem",
                                                         token=shopper_toks[i], body={"quantity": 1}))
            res["spend"] = storm(N, lambda i: request("POST", f"{api}/points/items/{o['soap']}/redeem",
                                                      token=spender_toks[r], body={"quantity": 1}))
            outcomes.append(res)

    db.session.expire_all()
    for r, (o, res) in enumerate(zip(rounds, outcomes)):
        # double vote: every cast answered, one counted ballot, an unbroken chain
        assert set(_codes(res["vote"])) == {201}, (r, _codes(res["vote"]))
        assert Entry.query.filter_by(ballot_id=o["ballot"], counted=True).count() == 1
        entries = Entry.query.filter_by(ballot_id=o["ballot"]).order_by(Entry.seq).all()
        assert [e.seq for e in entries] == list(range(1, N + 1))
        assert all(e.prev_hash == p.hash for p, e in zip(entries, entries[1:]))

        # two staff closing: one close, one count, the proposal moved once
        codes = _codes(res["close"])
        assert codes.count(200) == 1 and set(codes) <= {200, 409}, (r, codes)
        b = db.session.get(Ballot, o["ballot"])
        assert b.state == "closed" and b.voted_count == 1 and b.head_hash == entries[-1].hash
        assert AuditEntry.query.filter_by(action="voting.ballot_closed", object_id=str(o["ballot"])).count() == 1
        moves = ProposalTransition.query.filter(ProposalTransition.proposal_id == o["proposal"],
                                                ProposalTransition.from_state == "voting").count()
        assert moves == 1

        # duplicate attendance: one row
        assert set(_codes(res["attend"])) == {201}, (r, _codes(res["attend"]))
        assert Attendance.query.filter_by(meeting_id=o["meeting"], delegate_id=o["delegate"]).count() == 1

        # the meeting held twice: once, and each attendee paid once
        codes = _codes(res["held"])
        assert codes.count(200) == 1 and set(codes) <= {200, 409}, (r, codes)
        assert db.session.get(Meeting, o["meeting"]).status == "held"
        for uid in attendee_ids:
            awards = PointsAward.query.filter_by(user_id=uid, event_name="meeting.attended",
                                                 ref=f"meeting:{o['meeting']}:attended:{uid}").all()
            assert [a.points for a in awards] == [5], (r, uid, awards)

        # the last 20 items among 50 residents: 20 orders, stock 0
        codes = _codes(res["oversell"])
        assert codes.count(201) == 20 and codes.count(409) == 30, (r, codes)
        assert db.session.get(PointsItem, o["last"]).stock == 0
        orders = PointsOrder.query.filter_by(item_id=o["last"]).all()
        assert len(orders) == 20 and len({x.user_id for x in orders}) == 20
        assert len({x.pickup_code for x in orders}) == 20

        # one resident, a balance for three, fifty clicks: three orders, balance 0
        codes = _codes(res["spend"])
        assert codes.count(201) == 3 and codes.count(409) == N - 3, (r, codes)
        assert PointsOrder.query.filter_by(item_id=o["soap"]).count() == 3
        assert db.session.get(PointsItem, o["soap"]).stock == 97

    balances = {a.user_id: a.balance for a in PointsAccount.query.filter(
        PointsAccount.user_id.in_(shopper_ids + spender_ids))}
    assert min(balances.values()) >= 0
    assert sum(balances[u] for u in spender_ids) == 0
    assert sum(balances[u] for u in shopper_ids) == 30 * ROUNDS * N - 30 * 20 * ROUNDS
    assert ledger.check() == []
    add("race rounds of 50", 6 * ROUNDS)
