"""Benchmarks of the voting module (issue 3), run by `make bench` through ``run()``:

1. counting 100,000 ballots, pure code: yes/no/abstain (owners' double majority) and instant
   runoff with 8 options;
2. closing a ballot of 100,000 counted ballots in the database (SQLite): read, count, store the
   result and closing hash — target under 1 second for majority and for IRV with 8 options;

Casting votes (target: at least 300 votes/s on SQLite with 2 workers, no errors) is measured by
the main run with wrk, as the endpoint "vote (API POST)": every request a new voter, through the
API with a bearer token, against the same gunicorn as every other endpoint.

Each part prints one line; nothing here is a test."""
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

N_BALLOTS = 100_000
N_OPTIONS = 8


def _ballots(method, n, rng):
    out = []
    for _ in range(n):
        if method == "majority":
            out.append(((rng.choices((0, 1, 2), (6, 3, 1))[0],), 1, rng.randrange(5000, 15000)))
        else:
            k = rng.randint(1, N_OPTIONS)
            out.append((tuple(rng.sample(range(N_OPTIONS), k)), 1, 0))
    return out


def bench_counting():
    from plugins.voting.counting import Spec, count

    rng = random.Random(1)
    rows = []
    for method, spec in (("majority", Spec("majority", 3, unit="owners", matter_class="ordinary",
                                           heads_total=N_BALLOTS + 1000, area_total=2_000_000_000)),
                         ("irv", Spec("irv", N_OPTIONS, tie_seed="bench"))):
        ballots = _ballots(method, N_BALLOTS, rng)
        t = time.perf_counter()
        cpu = time.process_time()
        result = count(spec, ballots)
        dt = time.perf_counter() - t
        cpu = time.process_time() - cpu
        rows.append((method, dt))
        print(f"voting: count {N_BALLOTS:,} {method} ballots (pure): {dt:.3f} s wall, {cpu:.3f} s CPU "
              f"(winner {result['winner']}, {len(result.get('rounds') or [])} rounds)", flush=True)
    return rows


def _app(url):
    os.environ.setdefault("LINLI_PLUGINS", "voting")
    from core import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True}, plugins=["voting"])


def _community(db, slug):
    from decimal import Decimal

    from core.models import Building, Grid, Household, Unit
    from core.services import accounts, structure

    c = structure.create_community(slug, "评测社区", enable_all=True)
    grid = Grid(community_id=c.id, name="一网格")
    db.session.add(grid)
    db.session.flush()
    building = Building(community_id=c.id, grid_id=grid.id, name="1号楼")
    db.session.add(building)
    db.session.flush()
    unit = Unit(building_id=building.id, name="1单元")
    db.session.add(unit)
    db.session.flush()
    h = Household(community_id=c.id, unit_id=unit.id, room="101", floor_area=Decimal("90.00"))
    db.session.add(h)
    staff = accounts.create_user("benchstaff", "correct-horse-9", "评测社工")
    from core.models import Membership

    db.session.add(Membership(user_id=staff.id, community_id=c.id, roles="staff,admin"))
    db.session.commit()
    return c, staff, h, unit


def bench_close(tmp):
    """Closing a ballot whose log holds 100,000 counted ballots (written with executemany)."""
    from sqlalchemy import update

    from core.db import transaction
    from core.extensions import db
    from core.models import HouseholdMember
    from plugins.voting import services
    from plugins.voting.models import Ballot, Entry

    url = f"sqlite:///{tmp}/close.sqlite"
    app = _app(url)
    rows = []
    with app.app_context():
        db.create_all()
        c, staff, h, _unit = _community(db, "bench")
        db.session.add(HouseholdMember(household_id=h.id, name="业主", relation="owner", phone="13900000000"))
        db.session.commit()
        rng = random.Random(2)
        for method, data in (("majority", {"unit": "owners", "matter_class": "ordinary"}),
                             ("irv", {"method": "irv", "options": [f"方案{i + 1}" for i in range(N_OPTIONS)]})):
            b = services.create(c, staff, {"title": f"评测 {method}", "days": 7, **data})
            if b.unit == "owners":  # R8: the notice went up at least 15 days before voting opens
                from datetime import timedelta

                services.publish_notice(b, staff, at=services.utcnow() - timedelta(days=16))
            services.open_ballot(b, staff)
            db.session.commit()  # the bench is the entry point: services never commit
            ballots = _ballots(method, N_BALLOTS, rng)
            now = "2026-11-21T00:00:00+00:00"
            params = [{"ballot_id": b.id, "seq": i + 1, "voter_tag": f"B{i}", "choice": list(ch), "heads": 1,
                       "area": area, "source": "online", "counted": True, "at": now, "prev_hash": "0" * 64,
                       "hash": f"{i:064x}", "receipt": f"{i:010X}"}
                      for i, (ch, _h, area) in enumerate(ballots)]
            for p in params:
                p["area"] = f"{p['area'] // 100}.{p['area'] % 100:02d}"
            db.session.execute(Entry.__table__.insert(), params)
            db.session.execute(update(Ballot).where(Ballot.id == b.id).values(entries_count=N_BALLOTS))
            db.session.commit()
            db.session.expire_all()
            b = db.session.get(Ballot, b.id)
            t = time.perf_counter()
            cpu = time.process_time()
            if os.environ.get("VOTING_BENCH_PROFILE"):
                import cProfile
                import pstats

                prof = cProfile.Profile()
                prof.enable()
                with transaction():
                    services.count_and_close(b, staff, "评测")
                prof.disable()
                pstats.Stats(prof).sort_stats("cumulative").print_stats(20)
            else:
                with transaction():  # counted and committed, as `linli ballots close-due` does
                    services.count_and_close(b, staff, "评测")
            dt = time.perf_counter() - t
            cpu = time.process_time() - cpu
            rows.append((method, dt))
            verdict = "ok" if dt < 1.0 else "SLOWER THAN TARGET (1 s)"
            # CPU time (SQLite runs in this process) tells the cost when the machine is busy.
            print(f"voting: close a {N_BALLOTS:,}-ballot {method} ballot (SQLite): {dt:.3f} s wall, "
                  f"{cpu:.3f} s CPU — {verdict}", flush=True)
        db.engine.dispose()
    return rows


def run():
    with tempfile.TemporaryDirectory(prefix="linli-bench-voting-") as tmp:
        counting = bench_counting()
        closing = bench_close(tmp)
    return {"count": counting, "close": closing}


if __name__ == "__main__":
    run()
