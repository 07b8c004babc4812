"""Bulk data for the plugins' tables, written from the bench (the bench may write any table).

One generator per plugin; each runs only when that plugin is installed (its tables are in the
metadata) and returns the endpoints the runner measures. A generator that fails is reported and
skipped, so a plugin whose tables changed under us never stops the core's bench."""
import json
import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Integer, func, literal, select, text

from bench.data import BATCH, Writer, token_for


def generate(app, engine, md, fixture, cfg, rng, counts, log):
    out = {"endpoints": [], "generated": [], "failed": {}}
    comms = fixture["communities"]
    for name, fn in (("mediation", _mediation), ("meetings", _meetings), ("points", _points), ("voting", _voting)):
        if name not in fixture["plugins"]:
            continue
        t = time.perf_counter()
        try:
            with app.app_context():
                eps = fn(app, engine, md, fixture, comms, cfg, rng, counts, out)
            out["endpoints"].extend(eps or [])
            out["generated"].append(name)
            log(f"  {name} data {time.perf_counter() - t:.1f} s")
        except Exception as exc:  # report and carry on with the others
            out["failed"][name] = f"{exc.__class__.__name__}: {str(exc)[:300]}"
            log(f"  {name} data FAILED: {out['failed'][name]}")
    return out


def _now():
    from core.models import utcnow

    return utcnow().replace(microsecond=0)


# ── mediation: cases with parties, assignments and history ──────────────────────────────
def _mediation(app, engine, md, fx, comms, cfg, rng, counts, out):
    now = _now()
    cats = ["noise", "water_leak", "parking", "pets", "shared_space", "family", "property", "other"]
    sources = ["grid_report", "application", "building_head", "committee", "police"]
    n = cfg["cases"]
    per = max(1, n // len(comms))
    with engine.begin() as conn:
        w = Writer(conn, counts)
        cid = conn.execute(select(func.coalesce(func.max(md["mediation_case"].c.id), 0))).scalar()
        cases, parties, assigns, history = [], [], [], []
        for slug, c in comms.items():
            grids = [r[0] for r in conn.execute(text("SELECT id FROM grid WHERE community_id = :c"), {"c": c["id"]})]
            for k in range(per):
                cid += 1
                opened = now - timedelta(days=rng.randrange(0, 900), minutes=rng.randrange(0, 1440))
                closed = rng.random() < 0.7
                cases.append(dict(id=cid, community_id=c["id"], number=f"{opened.year}-{k + 1:05d}",
                                  source=rng.choice(sources), category=rng.choice(cats),
                                  description="楼上夜间噪音影响休息，多次沟通未果，申请调解。", grid_id=rng.choice(grids),
                                  urgency="urgent" if k % 17 == 0 else "normal", tier="grid",
                                  status="closed" if closed else "open", outcome="resolved" if closed else None,
                                  violence_risk=False, rights_notified=True, voluntary_statement=True,
                                  private_hearing=True, for_joint_meeting=False, reported_by_id=c["staff_id"],
                                  opened_at=opened, closed_at=opened + timedelta(days=12) if closed else None,
                                  updated_at=opened + timedelta(days=12 if closed else 1)))
                for role in ("applicant", "respondent"):
                    parties.append(dict(case_id=cid, role=role, name="张先生" if role == "applicant" else "李女士",
                                        phone="13900000000", consent="agreed", consent_at=opened))
                if k % 5 == 0:
                    assigns.append(dict(case_id=cid, user_id=c["mediator_id"], assigned_by_id=c["staff_id"],
                                        assigned_at=opened))
                history.append(dict(case_id=cid, kind="opened", to_tier="grid", actor_id=c["staff_id"],
                                    created_at=opened))
                if closed:
                    history.append(dict(case_id=cid, kind="closed", actor_id=c["mediator_id"],
                                        created_at=opened + timedelta(days=12)))
            if len(cases) >= 20_000:
                _flush_mediation(w, md, cases, parties, assigns, history)
                cases, parties, assigns, history = [], [], [], []
        _flush_mediation(w, md, cases, parties, assigns, history)
    c1 = comms["bench-1"]
    return [dict(name="mediation case list (mediator)", kind="read", method="GET", path="/c/bench-1/mediation/",
                 cookie_user=c1["mediator_id"], curve=True)]


def _flush_mediation(w, md, cases, parties, assigns, history):
    w.insert(md["mediation_case"], cases)
    w.insert(md["mediation_party"], parties)
    w.insert(md["mediation_assignment"], assigns)
    w.insert(md["mediation_history"], history)


# ── meetings: a body per community with organisations and delegates; meetings with agendas ─
def _meetings(app, engine, md, fx, comms, cfg, rng, counts, out):
    now = _now()
    n = cfg["meetings"]
    if not n:
        return []
    per = max(1, n // len(comms))
    orgs_names = ["社区党委", "居委会", "业委会", "物业公司", "派出所", "社区民警"]
    first_meeting = None
    with engine.begin() as conn:
        w = Writer(conn, counts)
        ids = {t: conn.execute(select(func.coalesce(func.max(md[t].c.id), 0))).scalar()
               for t in ("meetings_body", "meetings_org", "meetings_delegate", "meetings_meeting",
                         "meetings_agenda_item")}
        bodies, orgs, delegates, meetings, items, attendance, resolutions = [], [], [], [], [], [], []
        for slug, c in comms.items():
            ids["meetings_body"] += 1
            body_id = ids["meetings_body"]
            bodies.append(dict(id=body_id, community_id=c["id"], name="四方联席会议", description="每月第一个周三召开。",
                               quorum_rule="majority", topic_deadline_days=3, rotation_index=0,
                               created_at=now - timedelta(days=800)))
            dels = []
            for pos, oname in enumerate(orgs_names):
                ids["meetings_org"] += 1
                orgs.append(dict(id=ids["meetings_org"], body_id=body_id, name=oname, position=pos))
                for role in ("delegate", "substitute"):
                    ids["meetings_delegate"] += 1
                    delegates.append(dict(id=ids["meetings_delegate"], body_id=body_id, org_id=ids["meetings_org"],
                                          name=f"{oname}代表", role=role,
                                          user_id=c["first_user"] + 10 + pos * 2 + (role == "substitute"),
                                          active=True))
                    if role == "delegate":
                        dels.append(ids["meetings_delegate"])
            proposals = [r[0] for r in conn.execute(
                text("SELECT id FROM proposal WHERE community_id = :c AND state = 'coordinating' LIMIT 200"),
                {"c": c["id"]})]
            for k in range(per):
                ids["meetings_meeting"] += 1
                mid = ids["meetings_meeting"]
                starts = now - timedelta(days=30 * (per - k) - 60)
                held = starts < now
                meetings.append(dict(id=mid, community_id=c["id"], body_id=body_id, title=f"第{k + 1}次四方联席会议",
                                     starts_at=starts, ends_at=starts + timedelta(hours=2), place="社区活动中心二楼会议室",
                                     chair_org_id=ids["meetings_org"] - len(orgs_names) + 1 + k % len(orgs_names),
                                     status="held" if held else "scheduled", quorum_met=True if held else None,
                                     uid=f"bench-{mid}@linli", sequence=0, topics_deadline=starts - timedelta(days=3),
                                     minutes="会议纪要：\n\n1. 通报上月工作。\n2. 讨论议题。" if held else "",
                                     minutes_state="published" if held else "draft",
                                     minutes_published_at=starts + timedelta(days=2) if held else None,
                                     created_by_id=c["staff_id"], created_at=starts - timedelta(days=10),
                                     updated_at=starts))
                if first_meeting is None and held and slug == "bench-1" and k >= per // 2:
                    first_meeting = mid
                for pos in range(6):
                    ids["meetings_agenda_item"] += 1
                    pid = proposals[(k * 6 + pos) % len(proposals)] if proposals and pos < 3 else None
                    items.append(dict(id=ids["meetings_agenda_item"], meeting_id=mid, position=pos,
                                      kind="proposal" if pid else "free", title=f"议题 {pos + 1}",
                                      description="讨论并形成决议。", ref=f"proposal:{pid}" if pid else f"free:{pos}",
                                      proposal_id=pid, submitted_by_id=c["staff_id"],
                                      created_at=starts - timedelta(days=5)))
                    if held:
                        resolutions.append(dict(meeting_id=mid, agenda_item_id=ids["meetings_agenda_item"],
                                                outcome="decided", text="同意，由物业公司负责落实。", votes_for=5,
                                                votes_against=0, votes_abstain=1, recorded_by_id=c["staff_id"],
                                                created_at=starts + timedelta(hours=1)))
                if held:
                    for d in dels:
                        attendance.append(dict(meeting_id=mid, delegate_id=d, status="present",
                                               recorded_by_id=c["staff_id"], recorded_at=starts))
        w.insert(md["meetings_body"], bodies)
        w.insert(md["meetings_org"], orgs)
        w.insert(md["meetings_delegate"], delegates)
        w.insert(md["meetings_meeting"], meetings)
        w.insert(md["meetings_agenda_item"], items)
        w.insert(md["meetings_attendance"], attendance)
        w.insert(md["meetings_resolution"], resolutions)
    return [dict(name="meeting page", kind="read", method="GET", path=f"/c/bench-1/meetings/{first_meeting}")]


# ── points: store items; a ledger of earnings (double entry, lots) ───────────────────────
def _points(app, engine, md, fx, comms, cfg, rng, counts, out):
    now = _now()
    n_items = cfg["store_items"]
    n_entries = cfg["ledger_entries"]
    if not n_items:
        return []
    item_ids = []
    with engine.begin() as conn:
        w = Writer(conn, counts)
        ids = {t: conn.execute(select(func.coalesce(func.max(md[t].c.id), 0))).scalar()
               for t in ("points_item", "points_account", "points_transfer")}
        items = []
        per = max(1, n_items // len(comms))
        for slug, c in comms.items():
            for k in range(per):
                ids["points_item"] += 1
                items.append(dict(id=ids["points_item"], community_id=c["id"], name=f"兑换品 {k + 1}：洗衣液一瓶",
                                  description="社区爱心超市提供。", kind="goods" if k % 4 else "service",
                                  price=10 + (k % 10) * 5, stock=1_000_000, per_resident_limit=None, low_stock=3,
                                  created_at=now - timedelta(days=100), updated_at=now - timedelta(days=100)))
                if slug == "bench-1":
                    item_ids.append(ids["points_item"])
        w.insert(md["points_item"], items)
        # Accounts: the system ones per community and one per resident who earned points.
        writers_lo, writers_hi = fx["writers"]
        accounts, transfers, entries, lots = [], [], [], []
        n_transfers = n_entries // 2
        earners_per_comm = {}
        sys_acc = {}
        for slug, c in comms.items():
            for kind in ("ISSUED", "STORE", "EXPIRED", "ADJUSTMENTS"):
                ids["points_account"] += 1
                accounts.append(dict(id=ids["points_account"], community_id=c["id"], key=kind, kind=kind,
                                     user_id=None, balance=0, created_at=now - timedelta(days=400)))
                sys_acc[(c["id"], kind)] = accounts[-1]
            users = list(range(c["first_user"], c["last_user"] + 1))
            if slug == "bench-1":
                users = list(range(writers_lo, writers_hi + 1)) + [u for u in users if not writers_lo <= u <= writers_hi]
            earners = users[: max(1, len(users) // 2)]
            accs = []
            for u in earners:
                ids["points_account"] += 1
                accounts.append(dict(id=ids["points_account"], community_id=c["id"], key=f"user:{u}", kind="resident",
                                     user_id=u, balance=0, created_at=now - timedelta(days=400)))
                accs.append(accounts[-1])
            earners_per_comm[c["id"]] = accs
        acc_list = [(cid, a) for cid, accs in earners_per_comm.items() for a in accs]
        # Every bench-1 writer gets a large earning first (the redemption bench spends it).
        plan = [(1, a, 100_000) for a in earners_per_comm[1][: writers_hi - writers_lo + 1]]
        while len(plan) < n_transfers:
            cid, a = acc_list[rng.randrange(len(acc_list))]
            plan.append((cid, a, rng.choice((5, 10, 20, 50))))
        for cid, a, amount in plan[:max(n_transfers, len(plan))]:
            ids["points_transfer"] += 1
            t_id = ids["points_transfer"]
            at = now - timedelta(days=rng.randrange(1, 360), minutes=rng.randrange(0, 1440))
            issued = sys_acc[(cid, "ISSUED")]
            transfers.append(dict(id=t_id, community_id=cid, kind="earn", source_id=issued["id"],
                                  destination_id=a["id"], amount=amount, ref=f"bench:{t_id}",
                                  details={"event": "volunteer.hours"}, actor_id=None, created_at=at))
            entries.append(dict(transfer_id=t_id, account_id=issued["id"], amount=-amount, created_at=at))
            entries.append(dict(transfer_id=t_id, account_id=a["id"], amount=amount, created_at=at))
            lots.append(dict(account_id=a["id"], transfer_id=t_id, amount=amount, remaining=amount, earned_at=at,
                             expires_at=None))
            issued["balance"] -= amount
            a["balance"] += amount
        w.insert(md["points_account"], accounts)
        w.insert(md["points_transfer"], transfers)
        w.insert(md["points_entry"], entries)
        w.insert(md["points_lot"], lots)
    w_lo, w_hi = fx["writers"]
    return [
        dict(name="store catalogue", kind="read", method="GET", path="/c/bench-1/points/store"),
        dict(name="redeem (API POST)", kind="write", method="POST", target="redeem",
             path=f"/api/v1/c/bench-1/points/items/{item_ids[0]}/redeem",
             count_path=f"/api/v1/c/bench-1/points/items/{item_ids[-1]}/redeem", token=token_for(w_hi),
             json={"quantity": 1},
             wrk_env={"BENCH_PATH": "/api/v1/c/bench-1/points/items/%d/redeem",
                      "BENCH_OBJECTS": ",".join(map(str, item_ids)), "BENCH_USER_LO": str(w_lo),
                      "BENCH_USERS": str(w_hi - w_lo), "BENCH_BODY": json.dumps({"quantity": 1})}),
    ]


# ── voting: ballots on proposals, 5,000 counted ballots each, closed with their result ──
def _voting(app, engine, md, fx, comms, cfg, rng, counts, out):
    """One template ballot per community goes through the plugin's own services (electorate,
    manifest, genesis hash); the others are copies of it made in SQL, their ballots written in
    bulk with a real hash chain, and then closed by the plugin's ``close`` (which counts)."""
    from core.extensions import db
    from core.models import Community, Proposal, User
    from plugins.voting import integrity, services
    from plugins.voting.models import Ballot

    n_ballots = cfg["ballots"]
    if not n_ballots:
        return []
    per_comm = max(1, n_ballots // len(comms))
    # Three ballots of the first community stay open (the vote bench); the others carry the total.
    per_ballot = -(-cfg["ballot_entries"] // max(1, per_comm * len(comms) - 3))
    now = _now()
    closed_ids, open_ids, detail_proposal = [], [], None
    B, V = md["voting_ballot"], md["voting_voter"]
    for slug, c in comms.items():
        community = db.session.get(Community, c["id"])
        admin = db.session.get(User, fx["admin_id"])
        props = (Proposal.query.filter_by(community_id=c["id"], state="coordinating", scope="community")
                 .order_by(Proposal.id)
                 .limit(per_comm).all())
        if not props:
            continue
        props[0].state = "voting"
        tmpl = services.set_up(community, admin, {"days": 10, "unit": "person"}, proposal=props[0], open_now=True)
        db.session.commit()
        tmpl_id = tmpl.id
        voters = db.session.execute(select(V.c.id, V.c.ref, V.c.heads, V.c.area).where(V.c.ballot_id == tmpl_id)
                                    .order_by(V.c.id)).all()
        cols = [col.name for col in B.c if col.name != "id"]
        vcols = [col.name for col in V.c if col.name not in ("id", "ballot_id")]
        ballot_ids = [tmpl_id]
        with engine.begin() as conn:
            for p in props[1:]:
                conn.execute(text("UPDATE proposal SET state = 'voting' WHERE id = :p"), {"p": p.id})
                res = conn.execute(B.insert().from_select(
                    cols, select(*[(literal(p.id, Integer) if n == "proposal_id" else B.c[n])
                                   for n in cols]).where(B.c.id == tmpl_id)))
                new_id = res.inserted_primary_key[0] if res.inserted_primary_key else None
                if new_id is None:
                    new_id = conn.execute(select(func.max(B.c.id))).scalar()
                conn.execute(md["voting_option"].insert().from_select(
                    ["ballot_id", "position", "label"],
                    select(literal(new_id, Integer), md["voting_option"].c.position,
                           md["voting_option"].c.label).where(md["voting_option"].c.ballot_id == tmpl_id)))
                conn.execute(V.insert().from_select(
                    ["ballot_id"] + vcols,
                    select(literal(new_id, Integer), *[V.c[n] for n in vcols]).where(V.c.ballot_id == tmpl_id)))
                ballot_ids.append(new_id)
            counts["voting_ballot"] = counts.get("voting_ballot", 0) + len(ballot_ids)
            counts["voting_voter"] = counts.get("voting_voter", 0) + len(ballot_ids) * len(voters)
        # Ballots: the first voters of the roll vote (choices 6:3:1), a real chain per ballot.
        for i, b_id in enumerate(ballot_ids):
            keep_open = slug == "bench-1" and i >= len(ballot_ids) - 3
            b = db.session.get(Ballot, b_id)
            prev = b.genesis_hash
            n = min(per_ballot, len(voters)) if not keep_open else 0
            vid_map = dict(db.session.execute(select(V.c.ref, V.c.id).where(V.c.ballot_id == b_id)).all())
            rows = []
            at = (now - timedelta(hours=1)).isoformat()
            for seq, (_vid, ref, heads, area) in enumerate(voters[:n], start=1):
                choice = [rng.choices((0, 1, 2), (6, 3, 1))[0]]
                area_s = str(Decimal(area).quantize(Decimal("0.01")))
                payload = integrity.entry_payload(seq, ref, choice, heads, area_s, "online", at,
                                                  b.counting_rule_source)
                digest = integrity.link(prev, payload)
                rows.append(dict(ballot_id=b_id, seq=seq, voter_tag=ref, voter_id=vid_map[ref], choice=choice,
                                 heads=heads, area=Decimal(area_s), source="online", counted=True,
                                 rule_source=b.counting_rule_source, at=at, prev_hash=prev, hash=digest,
                                 receipt=integrity.receipt_of(digest, 16), created_at=now))
                prev = digest
            with engine.begin() as conn:
                for k in range(0, len(rows), BATCH):
                    conn.execute(md["voting_entry"].insert(), rows[k:k + BATCH])
                if n:
                    conn.execute(V.update().where(V.c.ballot_id == b_id, V.c.ref.in_([r[1] for r in voters[:n]]))
                                 .values(voted_at=now, voted_via="online"))
                    conn.execute(B.update().where(B.c.id == b_id).values(entries_count=n, head_hash=prev,
                                                                       voted_count=n))
            counts["voting_entry"] = counts.get("voting_entry", 0) + n
            db.session.expire_all()
            if keep_open:
                open_ids.append(b_id)
                continue
            b = db.session.get(Ballot, b_id)
            services.count_and_close(b, None, "bench")
            db.session.commit()
            closed_ids.append((c["id"], b_id))
            if slug == "bench-1" and detail_proposal is None:
                detail_proposal = b.proposal_id
    out["detail_proposal_with_ballot"] = detail_proposal
    c1_closed = [b for cid, b in closed_ids if cid == 1]
    eps = [dict(name="closed ballot results", kind="read", method="GET", path=f"/c/bench-1/voting/{c1_closed[0]}")]
    if open_ids:
        w_lo, w_hi = fx["writers"]
        eps.append(dict(name="vote (API POST)", kind="write", method="POST", target="vote",
                        path=f"/api/v1/c/bench-1/voting/ballots/{open_ids[0]}/votes",
                        count_path=f"/api/v1/c/bench-1/voting/ballots/{open_ids[-1]}/votes", token=token_for(w_hi),
                        json={"choice": "yes"},
                        wrk_env={"BENCH_PATH": "/api/v1/c/bench-1/voting/ballots/%d/votes",
                                 "BENCH_OBJECTS": ",".join(map(str, open_ids)), "BENCH_USER_LO": str(w_lo),
                                 "BENCH_USERS": str(w_hi - w_lo), "BENCH_BODY": json.dumps({"choice": "yes"})}))
    return eps
