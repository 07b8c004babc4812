"""Property test: random earn/redeem/cancel/hand-over/adjust/correct/expire sequences keep the ledger's
invariants after every step (hypothesis is a test-only dependency)."""
import itertools
from datetime import timedelta

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.db import transaction  # noqa: E402
from core.errors import ServiceError  # noqa: E402
from core.events import Event  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import utcnow  # noqa: E402
from core.services import settings as core_settings  # noqa: E402
from tests.plugins.points.conftest import expire_due  # noqa: E402

pytestmark = pytest.mark.plugins("points")

USERS = st.integers(0, 2)
STEP = st.one_of(
    st.tuples(st.just("earn"), USERS, st.just(0)),
    st.tuples(st.just("adjust"), USERS, st.integers(-40, 60).filter(lambda n: n != 0)),
    st.tuples(st.just("adjust"), USERS, st.integers(1, 60)),
    st.tuples(st.just("redeem"), USERS, st.integers(0, 2)),
    st.tuples(st.just("redeem"), USERS, st.integers(1, 2)),
    st.tuples(st.just("cancel"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("handover"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("correct"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("expire"), st.integers(0, 30), st.just(0)),
)
_refs = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=4, max_size=30))
def test_random_operations_keep_the_ledger_balanced(app, world, steps):
    from plugins.points import ledger, on_event
    from tests.plugins.points.conftest import SERVICES as svc
    from plugins.points.models import (PointsAccount, PointsItem, PointsLot, PointsOrder, PointsRule,
                                       PointsTransfer)

    community = world.community
    users = [world.resident, world.resident2, world.building_head]
    if not PointsRule.query.filter_by(community_id=community.id).first():
        with transaction():
            core_settings.set(community, "points", "expiry_months", 1)
        svc.save_rule(community, world.admin, "proposal.accepted", 7)
        for name, price, stock in (("大米", 30, 5), ("鸡蛋", 7, 3), ("毛巾", 12, 50)):
            svc.save_item(community, world.staff, {"name": name, "price": price, "stock": stock,
                                                   "per_resident_limit": 4 if name == "鸡蛋" else None})
    items = PointsItem.query.filter_by(community_id=community.id).order_by(PointsItem.id).all()

    for op, a, b in steps:
        try:
            if op == "earn":
                with transaction():  # the emitter's
                    on_event(Event("proposal.accepted", community.id, None, (users[a].id,), f"p:{next(_refs)}"))
            elif op == "adjust":
                svc.adjust(community, users[a], b, "property test adjustment", world.admin)
            elif op == "redeem":
                svc.redeem(community, items[b], users[a])
            elif op in ("cancel", "handover"):
                open_orders = PointsOrder.query.filter_by(status="reserved").order_by(PointsOrder.id).all()
                if open_orders:
                    o = open_orders[a % len(open_orders)]
                    if op == "cancel":
                        svc.cancel_order(o, o.user if a % 2 else world.staff, "property test")
                    else:
                        svc.hand_over(community, o.pickup_code, world.staff)
            elif op == "correct":
                ts = PointsTransfer.query.filter(PointsTransfer.kind.in_(svc.REVERSIBLE)).order_by(
                    PointsTransfer.id).all()
                if ts:
                    svc.correct(community, ts[a % len(ts)], "property test correction", world.admin)
            elif op == "expire":
                lots = PointsLot.query.filter(PointsLot.remaining > 0).order_by(PointsLot.id).all()
                if lots:
                    lot = lots[a % len(lots)]
                    lot.expires_at = utcnow() - timedelta(minutes=1)  # this lot's date has come
                    db.session.commit()
                expire_due()
                assert expire_due() == []  # a second run finds nothing
            event(f"done: {op}")
        except ServiceError as err:
            event(f"refused: {op} ({err.code})")  # a refused step must change nothing; the checks below see to that
        db.session.rollback()
        problems = ledger.check()
        assert problems == [], (op, a, b, problems)
        for acc in PointsAccount.query.filter(PointsAccount.user_id.isnot(None)):
            assert acc.balance >= 0
        for it in PointsItem.query.all():
            db.session.refresh(it)
            sold = sum(o.quantity for o in PointsOrder.query.filter(PointsOrder.item_id == it.id,
                                                                    PointsOrder.status != "cancelled"))
            initial = {"大米": 5, "鸡蛋": 3, "毛巾": 50}[it.name]
            assert it.stock >= 0 and it.stock + sold == initial
        total = db.session.query(db.func.sum(PointsAccount.balance)).filter(
            PointsAccount.community_id == community.id).scalar()
        assert (total or 0) == 0  # all accounts together always sum to zero
