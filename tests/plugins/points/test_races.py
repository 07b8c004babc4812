"""Races on the store against a real multi-worker server (tests/live.py), on SQLite and PostgreSQL."""
import pytest

from core.extensions import db
from core.services import accounts, tokens
from tests.helpers import residents_with_points
from tests.live import live_server, request, storm

pytestmark = pytest.mark.plugins("points")


def _state(item_id, user_ids):
    from plugins.points import ledger
    from plugins.points.models import PointsAccount, PointsItem, PointsOrder

    db.session.expire_all()
    item = db.session.get(PointsItem, item_id)
    orders = PointsOrder.query.filter_by(item_id=item_id).all()
    balances = [a.balance for a in PointsAccount.query.filter(PointsAccount.user_id.in_(user_ids))]
    return item, orders, balances, ledger.check()


def test_fifty_residents_race_for_the_last_items(app, world, tmp_path, db_url):
    from tests.plugins.points.conftest import SERVICES as svc

    item = svc.save_item(world.community, world.staff, {"name": "大米（5公斤）", "price": 30, "stock": 20})
    ids, toks = residents_with_points(world, "racer", 50, 30)
    item_id = item.id
    db.session.commit()  # the set-up, before the server's workers read it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("points",), workers=3) as base:
        url = f"{base}/api/v1/c/test/points/items/{item_id}/redeem"
        results = storm(50, lambda i: request("POST", url, token=toks[i], body={"quantity": 1},
                                              headers={"Idempotency-Key": f"race-{i}"}))
    statuses = [r[0] if isinstance(r, tuple) else repr(r) for r in results]
    assert statuses.count(201) == 20, statuses
    assert statuses.count(409) == 30, statuses
    assert all(r[1]["error"]["code"] == "out_of_stock" for r in results if r[0] == 409)
    item, orders, balances, problems = _state(item_id, ids)
    assert item.stock == 0
    assert len(orders) == 20 and len({o.pickup_code for o in orders}) == 20
    assert len({o.user_id for o in orders}) == 20
    assert min(balances) >= 0 and sorted(balances).count(0) == 20 and sorted(balances).count(30) == 30
    assert problems == []


def test_one_resident_cannot_double_spend(app, world, tmp_path, db_url):
    from tests.plugins.points.conftest import SERVICES as svc

    item = svc.save_item(world.community, world.staff, {"name": "洗衣液", "price": 10, "stock": 100})
    ids, toks = residents_with_points(world, "racer", 1, 35)
    item_id = item.id
    db.session.commit()  # the set-up, before the server's workers read it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("points",), workers=3) as base:
        url = f"{base}/api/v1/c/test/points/items/{item_id}/redeem"
        results = storm(30, lambda i: request("POST", url, token=toks[0], body={"quantity": 1}))
    statuses = [r[0] if isinstance(r, tuple) else repr(r) for r in results]
    assert statuses.count(201) == 3, statuses
    assert statuses.count(409) == 27, statuses
    assert all(r[1]["error"]["code"] == "insufficient_points" for r in results if r[0] == 409)
    item, orders, balances, problems = _state(item_id, ids)
    assert item.stock == 97 and len(orders) == 3 and balances == [5]
    assert problems == []


def test_per_resident_limit_and_pickup_code_under_races(app, world, tmp_path, db_url):
    from tests.plugins.points.conftest import SERVICES as svc

    item = svc.save_item(world.community, world.staff, {"name": "鸡蛋", "price": 1, "stock": 100,
                                                        "per_resident_limit": 2})
    ids, toks = residents_with_points(world, "racer", 1, 100)
    order = svc.redeem(world.community, item, db.session.get(accounts.User, ids[0]))
    code = order.pickup_code
    staff_token = tokens.create(world.staff, "race")[1]
    item_id = item.id
    db.session.commit()  # the set-up, before the server's workers read it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("points",), workers=3) as base:
        url = f"{base}/api/v1/c/test/points/items/{item_id}/redeem"
        results = storm(10, lambda i: request("POST", url, token=toks[0], body={}))
        handover = storm(10, lambda i: request("POST", f"{base}/api/v1/c/test/points/orders/handover",
                                               token=staff_token, body={"code": code}))
    statuses = sorted(r[0] for r in results)
    assert statuses.count(201) == 1 and statuses.count(409) == 9, statuses
    assert sorted(r[0] for r in handover) == [200] + [409] * 9
    item, orders, balances, problems = _state(item_id, ids)
    assert item.stock == 98 and len(orders) == 2 and balances == [98]
    assert problems == []
