"""Benchmarks of the points module (issue 6), run by `make bench` through ``run()``:

1. redemption throughput in-process (SQLite file, one thread): residents with enough points redeem
   one item each through ``services.redeem``, each in its own ``transaction()`` (core.db) — the full path with the limit counter, the stock's
   conditional UPDATE, the double-entry transfer, FIFO lot consumption, the order, audit and event;
2. the same through the JSON API with the Flask test client (token auth, idempotency key);
3. earning through events (``on_event`` with a capped rule), the hot path of other modules;
4. ``ledger.check()`` over everything written, which must find nothing.

Each part prints one line; nothing here is a test."""
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

N_RESIDENTS = 400


def _app(tmp):
    from core import create_app
    from core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/points.sqlite", "SECRET_KEY": "bench",
                      "TESTING": True, "WTF_CSRF_ENABLED": False}, plugins=["points"])
    with app.app_context():
        db.create_all()
    return app


def _setup(n):
    from werkzeug.security import generate_password_hash

    from core.db import transaction
    from core.extensions import db
    from core.models import Building, Grid, Household, Membership, Unit, User, utcnow
    from core.services import structure
    from plugins.points import services as svc

    community = structure.create_community("bench", "积分基准社区", enable_all=True)
    grid = Grid(community_id=community.id, name="一网格")
    db.session.add(grid)
    db.session.flush()
    b = Building(community_id=community.id, grid_id=grid.id, name="1号楼")
    db.session.add(b)
    db.session.flush()
    u = Unit(building_id=b.id, name="1单元")
    db.session.add(u)
    db.session.flush()
    h = Household(community_id=community.id, unit_id=u.id, room="101")
    db.session.add(h)
    pw = generate_password_hash("bench-password-1", method="pbkdf2:sha256:1")
    staff = User(username="benchstaff", display_name="社工", password_hash=pw)
    db.session.add(staff)
    db.session.flush()
    db.session.add(Membership(user_id=staff.id, community_id=community.id, roles="staff,admin",
                              verified_at=utcnow(), household_id=h.id))
    residents = []
    for i in range(n):
        user = User(username=f"bench{i:05d}", display_name=f"居民{i}", password_hash=pw)
        db.session.add(user)
        residents.append(user)
    db.session.flush()
    for user in residents:
        db.session.add(Membership(user_id=user.id, community_id=community.id, roles="resident",
                                  verified_at=utcnow(), household_id=h.id))
    db.session.commit()
    for user in residents:
        with transaction():
            svc.adjust(community, user, 100, "bench starting balance", staff)
    with transaction():
        item = svc.save_item(community, staff, {"name": "大米（5公斤）", "price": 30, "stock": 10 * n,
                                                "per_resident_limit": 3})
    return community, staff, residents, item


def bench_redeem(tmp):
    from core.db import transaction
    from core.extensions import db
    from plugins.points import ledger
    from plugins.points import services as svc

    app = _app(tmp)
    with app.app_context():
        community, staff, residents, item = _setup(N_RESIDENTS)
        t = time.perf_counter()
        for user in residents:
            with transaction():  # the entry point's one unit of work, as a view runs it
                svc.redeem(community, item, user)
        dt = time.perf_counter() - t
        rate = len(residents) / dt
        print(f"points: {len(residents)} redemptions in-process (SQLite): {rate:,.0f}/s "
              f"({1000 * dt / len(residents):.1f} ms each)", flush=True)
        # 2. through the API
        from core.services import tokens

        client = app.test_client()
        with transaction():
            toks = [tokens.create(u, "bench")[1] for u in residents[:200]]
        url = f"/api/v1/c/{community.slug}/points/items/{item.id}/redeem"
        t = time.perf_counter()
        errors = 0
        for i, tok in enumerate(toks):
            with app.app_context():  # a fresh context per request, as in production
                r = client.post(url, json={"quantity": 1},
                                headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": f"bench-{i}"})
            errors += r.status_code != 201
        dt_api = time.perf_counter() - t
        api_rate = len(toks) / dt_api
        print(f"points: {len(toks)} redemptions through the API (test client): {api_rate:,.0f}/s, "
              f"{errors} errors", flush=True)
        # 3. earning from events
        from core.events import Event
        from plugins.points import on_event
        from plugins.points.models import PointsRule

        db.session.add(PointsRule(community_id=community.id, event_name="proposal.accepted", points=5,
                                  daily_cap=50))
        db.session.commit()
        t = time.perf_counter()
        for i, user in enumerate(residents):
            with transaction():  # the emitter's transaction
                on_event(Event("proposal.accepted", community.id, None, (user.id,), f"proposal:{i}:accepted"))
        dt_ev = time.perf_counter() - t
        ev_rate = len(residents) / dt_ev
        print(f"points: {len(residents)} event payments (on_event + commit): {ev_rate:,.0f}/s", flush=True)
        t = time.perf_counter()
        problems = ledger.check()
        dt_check = time.perf_counter() - t
        print(f"points: ledger check over everything: {dt_check:.3f} s, {len(problems)} problems", flush=True)
        db.session.remove()
        db.engine.dispose()
    return {"redeem_per_s": round(rate, 1), "api_redeem_per_s": round(api_rate, 1), "api_errors": errors,
            "event_payments_per_s": round(ev_rate, 1), "check_s": round(dt_check, 3), "problems": len(problems)}


def run():
    with tempfile.TemporaryDirectory(prefix="linli-bench-points-") as tmp:
        return bench_redeem(tmp)


if __name__ == "__main__":
    print(run())
