"""Bulk data for the bench: street-scale communities written with SQLAlchemy Core executemany.

    python -m bench.data --url sqlite:////tmp/linli-bench/street.sqlite --scale street
    python -m bench.data --url postgresql+psycopg://postgres@127.0.0.1:5432/linli_bench --scale small

The schema comes from the migrations (the core's and every installed plugin's), exactly as
`linli init` builds it; then rows go in through ``table.insert()`` with lists of parameters,
thousands per statement, never through the ORM. Everything is deterministic (one seed).

Accounts made here share one password hash (hashing 60,000 scrypt passwords would take an hour)
and get bearer tokens that the runner's wrk scripts can compute: ``lnl_bench_<user id>``. The
database is for benchmarking on loopback only.

Plugin data comes from ``bench.plugin_data``, one generator per plugin whose tables exist."""
import argparse
import hashlib
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

SEED = 20261121
BATCH = 5000
TOKEN_PREFIX = "lnl_bench_"

# name: (communities, users, households, proposals, comments per proposal, max seconds, cases)
SCALES = {
    "street": dict(communities=7, users=60_000, households=20_000, proposals=10_000, comments=4, seconds=12),
    "small": dict(communities=2, users=3_000, households=1_000, proposals=1_000, comments=3, seconds=8),
    # The scale curve: one community, few people, many proposals (and cases).
    "curve": dict(communities=1, users=2_000, households=700, proposals=1_000, comments=3, seconds=5),
}
# How much plugin data goes with each scale (see bench.plugin_data).
PLUGIN_SCALES = {
    "street": dict(ballots=200, ballot_entries=1_000_000, meetings=500, cases=10_000, ledger_entries=200_000,
                   store_items=300),
    "small": dict(ballots=20, ballot_entries=20_000, meetings=50, cases=1_000, ledger_entries=10_000, store_items=60),
    "curve": dict(ballots=0, ballot_entries=0, meetings=0, cases=1_000, ledger_entries=0, store_items=0),
}
WRITERS_PER_COMMUNITY = 2000     # users of the first community with API tokens (write benches)
SECOND_TARGETS = 60              # open proposals of the first community kept free of seconds
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ("秀英 建国 丽华 志强 桂兰 海燕 国庆 淑珍 卫东 玉梅 文明 红霞 建华 凤英 德明 晓东 静怡 子涵 浩然 欣怡 "
         "宇轩 梓萱 俊杰 雨桐").split()
CATEGORIES = ["parking", "facilities", "property", "greenery", "safety", "pets", "abandoned_cars", "elderly", "other"]
# Mostly open (seconding needs open proposals); every other state present.
STATE_WEIGHTS = [("open", 50), ("coordinating", 10), ("voting", 8), ("accepted", 6), ("rejected", 4),
                 ("implementing", 6), ("completed", 10), ("withdrawn", 3), ("draft", 3)]
BODY = ("东门停车区有三辆车停放超过一年，车身积灰，占用车位。建议由物业张贴告知后统一清理，并在公示栏公布处理进度。"
        "\n\n- 第一步：登记车牌\n- 第二步：张贴告知\n- 第三步：联系车主或交警处理\n")
COMMENTS = ["支持，这个问题确实存在很久了。", "建议物业也参与讨论。", "同意，希望尽快解决。", "我家楼下也有同样的情况。",
            "能不能先做个调查，听听大家的意见？", "赞成，**越快越好**。"]


def token_for(user_id: int) -> str:
    return f"{TOKEN_PREFIX}{user_id}"


def make_app(url, plugins=None):
    """An app bound to ``url`` (every installed plugin unless ``plugins`` names some)."""
    from core import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                       "WTF_CSRF_ENABLED": False}, plugins=plugins)


def upgrade(url):
    """Apply the migrations the database at ``url`` does not have yet (``--reuse``)."""
    from core.extensions import alembic

    app = make_app(url)
    with app.app_context():
        alembic.upgrade()


def reset_database(url):
    """Start from an empty database: delete the SQLite file, or drop and create the PG database."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = Path(u.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        return
    import psycopg

    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')


class Writer:
    """Batched executemany into a table, with a row counter for the log."""

    def __init__(self, conn, counts):
        self.conn, self.counts = conn, counts

    def insert(self, table, rows):
        if not rows:
            return
        # executemany takes its columns from the first row: give every row the same keys.
        keys = set().union(*(r.keys() for r in rows))
        if any(len(r) != len(keys) for r in rows):
            rows = [{k: r.get(k) for k in keys} for r in rows]
        for i in range(0, len(rows), BATCH):
            self.conn.execute(table.insert(), rows[i:i + BATCH])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)


def _fix_sequences(conn):
    """PostgreSQL: explicit ids leave the sequences behind; move them past the data."""
    if conn.dialect.name != "postgresql":
        return
    from core.extensions import db

    for table in db.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                              f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 0) + 1, false)"))


def build(url, scale="street", proposals=None, fresh=True, log=print, plugin_data=True):
    """Create the database at ``url`` and fill it. Returns the fixture description (ids, slugs,
    users) that the runner needs; it is also written next to SQLite files as ``.json``."""
    from core.extensions import alembic, db

    cfg = dict(SCALES[scale])
    pcfg = dict(PLUGIN_SCALES[scale])
    if proposals:
        cfg["proposals"] = proposals
        if scale == "curve":  # the curve grows cases with proposals
            pcfg["cases"] = proposals
    t0 = time.perf_counter()
    if fresh:
        reset_database(url)
    app = make_app(url)
    registry = app.extensions["linli.plugins"]
    counts = {}
    with app.app_context():
        try:
            alembic.upgrade()
        except Exception as exc:  # a plugin's migration mid-edit: the models still define the tables
            log(f"  migrations failed ({exc.__class__.__name__}: {exc}); using create_all")
            db.drop_all()
            db.create_all()
        t_schema = time.perf_counter()
        md = db.metadata.tables
        engine = db.engine
        rng = random.Random(SEED)
        fixture = {"scale": scale, "url": url, "plugins": sorted(registry.names)}
        with engine.begin() as conn:
            w = Writer(conn, counts)
            fixture.update(_core(w, md, cfg, rng, registry))
            _fix_sequences(conn)
        t_core = time.perf_counter()
        log(f"  schema {t_schema - t0:.1f} s, core data {t_core - t_schema:.1f} s")
        if plugin_data:
            from bench import plugin_data as pd

            fixture["plugin_data"] = pd.generate(app, engine, md, fixture, pcfg, rng, counts, log)
            with engine.begin() as conn:
                _fix_sequences(conn)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        engine.dispose()
    fixture["rows"] = counts
    fixture["seconds_to_build"] = round(time.perf_counter() - t0, 1)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):] + ".json").write_text(json.dumps(fixture, indent=1), encoding="utf-8")
    return fixture


def _core(w, md, cfg, rng, registry):
    from core.models import utcnow
    from werkzeug.security import generate_password_hash

    now = utcnow().replace(microsecond=0)
    pw = generate_password_hash("linli-bench-2026", method="scrypt")
    n_comm = cfg["communities"]
    communities, memberships, plugins = [], [], []
    for ci in range(1, n_comm + 1):
        communities.append(dict(id=ci, slug=f"bench-{ci}", name=f"第{ci}社区", street="长宁街道", default_locale="zh_Hans",
                                # Seconding never moves a bench proposal on (the write bench needs open ones).
                                seconds_threshold=1_000_000, created_at=now - timedelta(days=400)))
        for name in sorted(registry.names):
            plugins.append(dict(community_id=ci, plugin=name, enabled=True, changed_at=now))
    w.insert(md["community"], communities)
    if plugins:
        w.insert(md["community_plugin"], plugins)

    # Structure: grids of 6 buildings, 2 units each, households spread evenly.
    grids, buildings, units, households = [], [], [], []
    def share(total, ci):  # spread ``total`` over the communities, the remainder to the first ones
        return total // n_comm + (1 if ci <= total % n_comm else 0)

    hh_by_comm = {}
    gid = bid = uid_ = hid = 0
    for ci in range(1, n_comm + 1):
        per_comm = share(cfg["households"], ci)
        n_units = max(2, per_comm // 60 + (1 if per_comm % 60 else 0))
        n_buildings = (n_units + 1) // 2
        comm_units = []
        for b in range(n_buildings):
            if b % 6 == 0:
                gid += 1
                grids.append(dict(id=gid, community_id=ci, name=f"第{b // 6 + 1}网格"))
            bid += 1
            buildings.append(dict(id=bid, community_id=ci, grid_id=gid, name=f"{b + 1}号楼"))
            for u in (1, 2):
                uid_ += 1
                units.append(dict(id=uid_, building_id=bid, name=f"{u}单元"))
                comm_units.append((uid_, bid, gid))
        hh_by_comm[ci] = []
        for k in range(per_comm):
            unit_id, b_id, g_id = comm_units[k % len(comm_units)]
            idx = k // len(comm_units)
            floor, door = idx // 2 + 1, idx % 2 + 1
            hid += 1
            households.append(dict(id=hid, community_id=ci, unit_id=unit_id, room=f"{floor}{door:02d}",
                                   floor_area=rng.randrange(4500, 16000), area_source="register",
                                   developer_held=(k % 97 == 0)))
            hh_by_comm[ci].append((hid, b_id, g_id))
    # Centi columns take Decimal-like values through their type; ints are whole m² there, so
    # convert the hundredths ourselves.
    from decimal import Decimal
    for h in households:
        h["floor_area"] = Decimal(h["floor_area"]) / 100
    w.insert(md["grid"], grids)
    w.insert(md["building"], buildings)
    w.insert(md["unit"], units)
    w.insert(md["household"], households)

    # People: user 1 is the bench superadmin (staff in every community); per community one
    # mediator (+ staff account); the rest residents, verified, on a household register.
    users, members, persons = [], [], []
    fixture_comm = {}
    uid = 0
    mid = 0
    uid += 1
    admin_id = uid
    users.append(dict(id=uid, username="bench_admin", display_name="基准管理员", password_hash=pw,
                      is_superadmin=True, is_active_account=True, large_text=False, session_version=1,
                      created_at=now))
    for ci in range(1, n_comm + 1):
        mid += 1
        memberships.append(dict(id=mid, user_id=admin_id, community_id=ci, roles="admin,staff", verified_at=now,
                                created_at=now))
        hhs = hh_by_comm[ci]
        comm_users = []
        # user 1 (the bench admin) counts as one of the residents' total
        for k in range(share(cfg["users"] - 1, ci)):
            uid += 1
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            hh, b_id, g_id = hhs[k % len(hhs)]
            role = "resident"
            if k == 0:
                role = "resident,mediator"
            elif k == 1:
                role = "staff"
            users.append(dict(id=uid, username=f"b{ci}u{k}", phone=f"13{ci}{k:08d}", display_name=name,
                              password_hash=pw, is_superadmin=False, is_active_account=True, large_text=False,
                              session_version=1, created_at=now - timedelta(days=rng.randrange(1, 365))))
            mid += 1
            memberships.append(dict(id=mid, user_id=uid, community_id=ci, roles=role, household_id=hh,
                                    verified_at=now - timedelta(days=1), verified_by_id=admin_id,
                                    building_id=b_id if k == 2 else None, grid_id=g_id if k == 3 else None,
                                    created_at=now - timedelta(days=rng.randrange(1, 365))))
            # one person on the register per resident, carrying their account (core.models.Person)
            persons.append(dict(id=len(persons) + 1, community_id=ci, user_id=uid, birth_year_only=False,
                                created_at=now))
            members.append(dict(household_id=hh, name=name, relation="owner" if k < len(hhs) else "resident",
                                is_representative=k < len(hhs), user_id=uid, phone=f"13{ci}{k:08d}",
                                person_id=len(persons)))
            comm_users.append(uid)
        fixture_comm[ci] = comm_users
    w.insert(md["user"], users)
    w.insert(md["membership"], memberships)
    w.insert(md["person"], persons)
    w.insert(md["household_member"], members)

    # Tokens: the first WRITERS_PER_COMMUNITY residents of community 1, plus the admin and every
    # community's mediator, so the wrk scripts can write through the API.
    c1 = fixture_comm[1]
    writers = c1[4:4 + min(WRITERS_PER_COMMUNITY, len(c1) // 2)]
    token_users = [admin_id] + [fixture_comm[ci][0] for ci in fixture_comm] + writers
    tokens = [dict(user_id=u, name="bench", token_hash=hashlib.sha256(token_for(u).encode()).hexdigest(),
                   prefix=token_for(u)[:10], created_at=now) for u in token_users]
    w.insert(md["api_token"], tokens)

    # Proposals spread over the communities; the first SECOND_TARGETS of community 1 are open,
    # authored by non-writers and left without seconds: the seconding bench writes to them.
    states = [s for s, n in STATE_WEIGHTS for _ in range(n)]
    proposals, transitions, comments, seconds = [], [], [], []
    pid = 0
    targets = []
    detail_ids = {}
    writer_set = set(writers)
    for ci in range(1, n_comm + 1):
        cu = fixture_comm[ci]
        non_writers = [u for u in cu if u not in writer_set]
        hhs = hh_by_comm[ci]
        for k in range(share(cfg["proposals"], ci)):
            pid += 1
            is_target = ci == 1 and k < SECOND_TARGETS
            state = "open" if is_target else rng.choice(states)
            author = rng.choice(non_writers)
            created = now - timedelta(days=rng.randrange(1, 700), minutes=rng.randrange(0, 1440))
            scope = "community"
            b_id = g_id = None
            r = rng.random()
            if r < 0.15:
                scope, (_h, b_id, _g) = "building", rng.choice(hhs)
            elif r < 0.25:
                scope, (_h, _b, g_id) = "grid", rng.choice(hhs)
            n_comments = 0 if state == "draft" else rng.randrange(0, cfg["comments"] * 2 + 1)
            n_seconds = 0 if (state == "draft" or is_target) else rng.randrange(0, cfg["seconds"] + 1)
            proposals.append(dict(id=pid, community_id=ci, title=f"{CATEGORIES[k % 9]} 议题 {pid}：小区东门僵尸车清理",
                                  body=BODY, category=CATEGORIES[k % 9], scope=scope, grid_id=g_id, building_id=b_id,
                                  state=state, author_id=author, author_name="居民", seconds_count=n_seconds,
                                  comments_count=n_comments, created_at=created,
                                  updated_at=created + timedelta(days=rng.randrange(0, 30))))
            transitions.append(dict(proposal_id=pid, from_state=None, to_state="draft", actor_id=author,
                                    created_at=created))
            if state != "draft":
                transitions.append(dict(proposal_id=pid, from_state="draft", to_state="open", actor_id=author,
                                        created_at=created))
                if state not in ("open", "withdrawn"):
                    transitions.append(dict(proposal_id=pid, from_state="open", to_state=state, actor_id=admin_id,
                                            reason="社区议事会讨论通过", created_at=created + timedelta(days=5)))
            for j in range(n_comments):
                cu_id = rng.choice(cu)
                comments.append(dict(proposal_id=pid, author_id=cu_id, author_name="居民", body=COMMENTS[j % 6],
                                     created_at=created + timedelta(hours=j + 1)))
            for s_uid in rng.sample(non_writers, n_seconds):
                if s_uid != author:
                    seconds.append(dict(proposal_id=pid, user_id=s_uid, created_at=created + timedelta(days=1)))
            if is_target:
                targets.append(pid)
            if ci not in detail_ids and state == "open" and not is_target and n_comments >= cfg["comments"]:
                detail_ids[ci] = pid
        if len(proposals) >= 20_000:
            w.insert(md["proposal"], proposals)
            w.insert(md["proposal_transition"], transitions)
            w.insert(md["proposal_comment"], comments)
            w.insert(md["proposal_second"], seconds)
            proposals, transitions, comments, seconds = [], [], [], []
    w.insert(md["proposal"], proposals)
    w.insert(md["proposal_transition"], transitions)
    w.insert(md["proposal_comment"], comments)
    w.insert(md["proposal_second"], seconds)
    # seconds_count must match the rows (sampling dropped the author's own).
    w.conn.execute(text("UPDATE proposal SET seconds_count = (SELECT COUNT(*) FROM proposal_second s "
                        "WHERE s.proposal_id = proposal.id)"))
    return {
        "admin_id": admin_id,
        "communities": {f"bench-{ci}": {"id": ci, "mediator_id": fixture_comm[ci][0],
                                        "staff_id": fixture_comm[ci][1],
                                        "first_user": fixture_comm[ci][0], "last_user": fixture_comm[ci][-1],
                                        "detail_proposal": detail_ids.get(ci)}
                        for ci in fixture_comm},
        "writers": [writers[0], writers[-1]],
        "second_targets": targets,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.data", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/linli-bench/street.sqlite"))
    ap.add_argument("--scale", choices=sorted(SCALES), default=os.environ.get("BENCH_SCALE", "street"))
    ap.add_argument("--proposals", type=int, help="override the number of proposals")
    ap.add_argument("--no-plugins", action="store_true", help="core data only")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    fx = build(args.url, args.scale, proposals=args.proposals, plugin_data=not args.no_plugins)
    for name, n in sorted(fx["rows"].items()):
        print(f"  {name:28} {n:>10,}")
    print(f"built {args.scale} data at {args.url} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
