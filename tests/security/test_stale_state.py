"""A state checked on a stale read must not decide a write (issue 16 §10, "look for the same
mistake elsewhere").

Each test loads an object as a request does, lets another connection change its state (another
request that committed meanwhile), then asks the service to act on what it loaded: the action is
refused with a clear answer and nothing is saved, because the state is checked again in the write
itself (a conditional UPDATE or the row's lock). The seconds' own race is tests/security/
test_second_race.py."""
from datetime import timedelta

import pytest

from core.db import transaction
from core.errors import Conflict
from core.extensions import db
from core.models import utcnow
from core.services import proposals
from tests.plugins.mediation.conftest import app_config, case  # noqa: F401  (a worked mediation case)

pytestmark = pytest.mark.plugins("points", "voting", "mediation")


def _meanwhile(table, row_id, **values):
    """Another request's committed write, behind this session's back (the test's own set-up is
    committed first, as its entry point would: services never commit)."""
    db.session.commit()
    with db.engine.begin() as other:
        other.execute(db.update(table).where(table.id == row_id).values(**values))


def test_signup_for_an_activity_cancelled_meanwhile_is_refused(app, world):
    from plugins.points import services as psvc
    from plugins.points.models import PointsActivity, PointsSignup

    start = utcnow() + timedelta(days=1)
    a = psvc.save_activity(world.community, world.staff, {"title": "楼道清理", "location": "3号楼",
                                                          "starts_at": start, "ends_at": start + timedelta(hours=4)})
    assert a.cancelled_at is None
    _meanwhile(PointsActivity, a.id, cancelled_at=utcnow())
    with pytest.raises(Conflict) as err, transaction():  # the request's transaction
        psvc.signup(a, world.resident)
    assert err.value.code == "activity_cancelled"
    db.session.expire_all()
    assert PointsSignup.query.filter_by(activity_id=a.id).count() == 0
    assert db.session.get(PointsActivity, a.id).signups_count == 0


def _ballot(world):
    from plugins.voting.models import Ballot

    p = proposals.create(world.community, world.resident, {
        "title": "楼道加装声控灯", "body": "一单元楼道晚上太黑，老人上下楼不安全。", "category": "facilities"})
    proposals.transition(p, "coordinating", world.staff, "附议足够")
    proposals.transition(p, "voting", world.staff, "议事会同意表决")  # the module opens its ballot
    return Ballot.query.filter_by(proposal_id=p.id).one()


def test_cancelling_a_ballot_closed_meanwhile_keeps_its_count(app, world):
    from plugins.voting import services as vsvc
    from plugins.voting.models import Ballot

    ballot = _ballot(world)
    assert ballot.state == "open"
    _meanwhile(Ballot, ballot.id, state="closed", closed_at=utcnow())  # counted and published
    with pytest.raises(Conflict) as err, transaction():  # the request's transaction
        vsvc.cancel(ballot, world.staff, "通知有误")
    assert err.value.code == "not_open"
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).state == "closed"


def test_opening_a_ballot_opened_meanwhile_is_refused(app, world):
    from plugins.voting import services as vsvc
    from plugins.voting.models import Ballot, Voter

    ballot = vsvc.create(world.community, world.staff, {"title": "小区绿化方案"})
    assert ballot.state == "draft"
    _meanwhile(Ballot, ballot.id, state="open", opened_at=utcnow())  # a second click, a moment earlier
    with pytest.raises(Conflict) as err, transaction():  # the request's transaction
        vsvc.open_ballot(ballot, world.staff)
    assert err.value.code == "not_draft"
    db.session.expire_all()
    assert Voter.query.filter_by(ballot_id=ballot.id).count() == 0  # no second electorate written
    assert db.session.get(Ballot, ballot.id).genesis_hash is None


def test_closing_a_mediation_case_closed_meanwhile_is_refused(app, world, case):  # noqa: F811
    from plugins.mediation import services as msvc
    from plugins.mediation.models import MediationCase, MediationHistory

    assert case.status == "open"
    _meanwhile(MediationCase, case.id, status="closed", outcome="withdrawn", closed_at=utcnow())
    with pytest.raises(Conflict) as err, transaction():  # the request's transaction
        msvc.close(case, world.mediator, "not_resolved", "双方分歧太大")
    assert err.value.code == "case_closed"
    db.session.expire_all()
    assert db.session.get(MediationCase, case.id).outcome == "withdrawn"
    assert MediationHistory.query.filter_by(case_id=case.id, kind="closed").count() == 0


def test_reopening_a_case_reopened_meanwhile_is_refused(app, world, case):  # noqa: F811
    from plugins.mediation import services as msvc
    from plugins.mediation.models import MediationCase, MediationHistory

    msvc.close(case, world.mediator, "not_resolved", "双方分歧太大")
    assert case.status == "closed"
    _meanwhile(MediationCase, case.id, status="open", outcome=None, closed_at=None)
    with pytest.raises(Conflict) as err, transaction():  # the request's transaction
        msvc.reopen(case, world.mediator, "当事人愿意再谈")
    assert err.value.code == "case_open"
    db.session.expire_all()
    assert MediationHistory.query.filter_by(case_id=case.id, kind="reopened").count() == 0
