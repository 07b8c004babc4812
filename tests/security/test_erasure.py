"""Erasure on request (PIPL Art. 47) touches the erased person's own rows only, found by key.

An outside attack run named a resident ``00``, had them erased, and the old text search rewrote
every ``00`` in the database: other people's password hashes and API tokens, vote timestamps and
a published ballot's chain. Here people named ``00``, ``的``, ``a`` and ``李社`` (part of the staff
member 李社工's name) are erased from the demo community with every module switched on, and every
row of every table is compared before and after: only the rows that belong to the person (by their
id, or the id of a record of theirs) may change, and only in their name fields.

Second, who may erase whom: staff cannot erase (and so deactivate) a staff member or an admin;
only a community admin or a site administrator can; nobody can erase a community's last admin."""
import json

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import (ApiToken, AuditEntry, HouseholdMember, Membership, Notification, Proposal,
                         ProposalComment, User)
from core.services import accounts, personal_data, tokens
from tests.conftest import INSTALLED, PASSWORD

DEMO_PASSWORD = "linli-demo-2026"
CACHE_TABLES = {"content_version"}  # page-cache counters, not data
REFUSED_ZH = "社区工作人员或管理员的个人信息，只有社区管理员才能删除。"
TARGETS = [("resident1", "00"), ("resident2", "的"), ("resident3", "a"), ("loudongzhang", "李社")]


# ── erasing one person changes nobody else's data ─────────────────────────────────────────────
@pytest.fixture
def demo(app, monkeypatch, request):
    """The demo community (every module) with the target account renamed before it is loaded, so
    the name is written wherever the demo writes names; closed mediation cases; API tokens of
    several people; a volunteer certificate where the person has verified hours."""
    from core import demo as core_demo
    from core.errors import ServiceError

    login, name = request.param
    monkeypatch.setattr(core_demo, "DEMO_ACCOUNTS", [
        (lg, name if lg == login else n, roles, hh) for lg, n, roles, hh in core_demo.DEMO_ACCOUNTS])
    community, _created = core_demo.load_demo("demo")
    person = User.query.filter_by(username=login).one()
    assert person.display_name == name
    person.phone = "13912345678"
    db.session.commit()
    if "mediation" in INSTALLED:  # closed cases keep the other parties' records
        from plugins.mediation.models import MediationCase, MediationParty

        ids = [c for (c,) in db.session.query(MediationParty.case_id).filter_by(user_id=person.id)]
        MediationCase.query.filter(MediationCase.id.in_(ids)).update({"status": "closed"}, synchronize_session=False)
        db.session.commit()
    if "points" in INSTALLED:
        from plugins.points import services as points

        staff = User.query.filter_by(username="staff").one()
        for user in (person, User.query.filter_by(username="resident5").one()):
            try:
                points.issue_certificate(community, user, staff)
            except ServiceError:
                db.session.rollback()
    raw = {u.username: tokens.create(u, "app")[1] for u in User.query.order_by(User.id)}
    return community, person, raw


def snapshot():
    """Every row of every table: {table: {primary key: {column: value}}}."""
    db.session.commit()  # a fresh read, after what the test set up (services never commit)
    out = {}
    for t in db.metadata.sorted_tables:
        if t.name in CACHE_TABLES:
            continue
        pk = list(t.primary_key.columns)
        out[t.name] = {tuple(r._mapping[c.name] for c in pk): dict(r._mapping)
                       for r in db.session.execute(select(t).order_by(*pk))}
    return out


def own_roll_keys(uid):
    """The person's roll keys: by account on rolls from before persons, by person (alone) since."""
    entries = HouseholdMember.query.filter_by(user_id=uid).all()
    return [f"person:user:{uid}", f"owner:user:{uid}"] + [f"{kind}:{e.person_id}" for e in entries
                                                          for kind in ("person", "owner")]


def owned(uid):
    """What erasing ``uid`` may change, found by key: {(table, pk): columns that may change} and
    the (table, pk) that may be deleted. Read before the erasure."""
    may, gone = {(("user", (uid,))): {"username", "phone", "display_name", "password_hash", "locale",
                                      "is_active_account", "session_version"}}, set()
    objects = {("user", str(uid))}

    def own(table, column, where, cols):
        model_table = db.metadata.tables[table]
        pk = list(model_table.primary_key.columns)
        for r in db.session.execute(select(*pk).where(where(model_table))):
            key = tuple(r)
            if cols is None:
                gone.add((table, key))
            else:
                may[(table, key)] = set(cols)
            if len(key) == 1:
                objects.add((table, str(key[0])))

    own("membership", None, lambda t: t.c.user_id == uid, set())
    entries = HouseholdMember.query.filter_by(user_id=uid).all()
    names = {e.name for e in entries} | {db.session.get(User, uid).display_name}
    homes = {e.household_id for e in entries}
    roll_keys = own_roll_keys(uid)
    own("household_member", None, lambda t: t.c.user_id == uid, {"name", "phone"})
    own("proposal", None, lambda t: t.c.author_id == uid, {"author_name"})
    own("proposal_comment", None, lambda t: t.c.author_id == uid, {"author_name"})
    for table in ("notification", "api_token", "idempotent_request"):
        own(table, None, lambda t: t.c.user_id == uid, None)
    if "voting" in INSTALLED:
        own("voting_voter", None, lambda t: (t.c.user_id == uid) | t.c.key.in_(roll_keys)
            | (t.c.household_id.in_(homes) & t.c.name.in_(names)), {"name", "key"})
        own("voting_proxy", None, lambda t: t.c.user_id == uid, {"name"})
    if "meetings" in INSTALLED:
        own("meetings_delegate", None, lambda t: t.c.user_id == uid, {"name"})
        own("meetings_action_item", None, lambda t: t.c.owner_user_id == uid, {"owner_name"})
    if "mediation" in INSTALLED:
        own("mediation_party", None, lambda t: t.c.user_id == uid, {"name", "phone", "address"})
        own("mediation_committee_member", None, lambda t: t.c.user_id == uid, {"name"})
    if "points" in INSTALLED:
        own("points_certificate", None, lambda t: t.c.user_id == uid,
            {"holder_name", "holder_id_type", "holder_id_number", "volunteer_number"})
        own("points_profile", None, lambda t: t.c.user_id == uid, None)
    for e in AuditEntry.query:
        cols = set()
        if e.on_behalf_of_id == uid:
            cols.add("on_behalf_of_name")
        if (e.object_type, e.object_id) in objects:
            cols |= {"before", "after"}
        if cols:
            may[("audit_entry", (e.id,))] = cols
    return may, gone


def diff(before, after, may, gone):
    """Every change outside what ``may`` change, and every allowed column that changed."""
    wrong, changed = [], set()
    for table, rows in before.items():
        new = after[table]
        for key, row in rows.items():
            if key not in new:
                if (table, key) not in gone:
                    wrong.append(("deleted", table, key))
                continue
            cols = {c for c in row if row[c] != new[key][c]}
            extra = cols - may.get((table, key), set())
            if extra:
                wrong.append(("changed", table, key, sorted(extra)))
            changed |= {(table, c) for c in cols}
        for key in set(new) - set(rows):
            if not (table == "audit_entry" and new[key]["action"] == personal_data.ERASED_ACTION):
                wrong.append(("added", table, key))
    return wrong, changed


def export_closed_ballots(runner, tmp_path):
    from plugins.voting.models import Ballot

    files = {}
    for b in Ballot.query.filter_by(state="closed").order_by(Ballot.id):
        path = tmp_path / f"ballot-{b.id}.json"
        r = runner.invoke(args=["ballots", "export", str(b.id), "-o", str(path)])
        assert r.exit_code == 0, r.output
        files[b.id] = path
    return files


@pytest.mark.plugins(*INSTALLED)
@pytest.mark.parametrize("demo", TARGETS, indirect=True, ids=[n for _l, n in TARGETS])
def test_erasure_changes_only_the_persons_own_rows(demo, app, runner, tmp_path):
    community, person, raw = demo
    uid, name, login_name = person.id, person.display_name, person.username
    staff = User.query.filter_by(username="staff").one()
    ballots = export_closed_ballots(runner, tmp_path) if "voting" in INSTALLED else {}
    assert not ballots or len(ballots) >= 2  # the demo closes ballots the person voted on
    files = {b: p.read_bytes() for b, p in ballots.items()}
    before = snapshot()
    may, gone = owned(uid)
    roll_keys = own_roll_keys(uid)

    summary = personal_data.erase(db.session.get(User, uid), staff, "居民书面申请 2026-11-22")
    assert summary["changed"] > 0
    after = snapshot()
    wrong, changed = diff(before, after, may, gone)
    assert wrong == []
    # ... and what belongs to the person did change: their name is gone from their own rows
    label = summary["anonymous_id"]
    user = after["user"][(uid,)]
    assert (user["display_name"], user["username"], user["phone"], user["is_active_account"]) == (label, label, None,
                                                                                                False)
    assert {r["name"] for r in after["household_member"].values() if r["user_id"] == uid} == {label}
    assert {r["author_name"] for r in after["proposal"].values() if r["author_id"] == uid} <= {label}
    assert {r["author_name"] for r in after["proposal_comment"].values() if r["author_id"] == uid} <= {label}
    assert not [r for r in after["api_token"].values() if r["user_id"] == uid]
    assert not [r for r in after["notification"].values() if r["user_id"] == uid]
    if "mediation" in INSTALLED:
        parties = [r for r in after["mediation_party"].values() if r["user_id"] == uid]
        assert {(r["name"], r["phone"], r["address"]) for r in parties} <= {(label, None, None)}
        assert parties or login_name == "loudongzhang"  # the demo makes the residents parties
    if "meetings" in INSTALLED and login_name == "loudongzhang":  # a delegate seat under another name
        assert {r["name"] for r in after["meetings_delegate"].values() if r["user_id"] == uid} == {label}
    if "voting" in INSTALLED:
        assert name not in {r["name"] for r in after["voting_voter"].values() if r["key"] in roll_keys}
    assert ("audit_entry", "on_behalf_of_name") in changed or not any(
        r["on_behalf_of_id"] == uid for r in before["audit_entry"].values())

    # Everyone else still logs in (page and API) and their tokens work.
    for login in raw:
        if login != login_name:
            assert accounts.authenticate(login, DEMO_PASSWORD) is not None, login
            r = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw[login]}"})
            assert r.status_code == 200, login
    c = app.test_client()
    assert c.post("/auth/login", data={"login": "admin", "password": DEMO_PASSWORD}).status_code == 302
    assert accounts.authenticate(login_name, DEMO_PASSWORD) is None

    # Published ballots: the file is the same, byte for byte, and recounts to the published result.
    for b, path in ballots.items():
        r = runner.invoke(args=["ballots", "recount", str(path)])
        assert r.exit_code == 0, r.output
        out = json.loads(r.output)
        assert out["chain"]["ok"] and out["matches_published_result"] is True
        again = tmp_path / f"again-{b}.json"
        assert runner.invoke(args=["ballots", "export", str(b), "-o", str(again)]).exit_code == 0
        assert again.read_bytes() == files[b]

    # A second run changes nothing.
    state = snapshot()
    assert personal_data.erase(db.session.get(User, uid), staff, "重复")["changed"] == 0
    assert snapshot() == state


# ── who may erase whom ────────────────────────────────────────────────────────────────────────
def _membership(world, user, community=None):
    return Membership.query.filter_by(user_id=user.id, community_id=(community or world.community).id).one()


def _extra(world, login, name, roles):
    from tests.conftest import _user

    return _user(login, name, world.community, roles)


def test_staff_cannot_erase_an_admin_or_another_staff_member_through_the_api(world, api):
    staff2 = _extra(world, "staff2", "社工乙", ["staff"])
    world.staff.locale = "zh_Hans"
    db.session.commit()
    client = api(world.staff)
    token = ApiToken.query.filter_by(user_id=world.staff.id).one().id

    def state():
        rows = snapshot()
        del rows["api_token"][(token,)]  # the staff member's token records its last use
        return rows

    before = state()
    for target in (world.admin, staff2):
        r = client.post(f"/api/v1/c/test/members/{_membership(world, target).id}/erase", json={"reason": "书面申请"})
        assert r.status_code == 403, r.json
        assert r.json["error"]["code"] == "erase_staff"
        assert r.json["error"]["message"] == REFUSED_ZH  # in the staff member's language
    assert state() == before
    assert accounts.authenticate("admin", PASSWORD) is not None and accounts.authenticate("staff2", PASSWORD)
    # A community admin may: the erasure is written to the audit log.
    r = api(world.admin).post(f"/api/v1/c/test/members/{_membership(world, staff2).id}/erase",
                              json={"reason": "书面申请 第3号"})
    assert r.status_code == 200, r.json
    db.session.rollback()
    [entry] = AuditEntry.query.filter_by(action=personal_data.ERASED_ACTION).all()
    assert (entry.actor_id, entry.object_id, entry.reason) == (world.admin.id, str(staff2.id), "书面申请 第3号")
    assert accounts.authenticate("staff2", PASSWORD) is None
    assert ApiToken.query.filter_by(user_id=staff2.id).count() == 0


def test_the_last_admin_cannot_be_erased_by_anyone(world, api, runner):
    site = accounts.create_user("siteadmin", PASSWORD, "站点管理员")
    site.is_superadmin = True
    db.session.commit()
    m = _membership(world, world.admin)
    client = api(site)
    token = ApiToken.query.filter_by(user_id=site.id).one().id

    def state():
        rows = snapshot()
        del rows["api_token"][(token,)]  # the site admin's token records its last use
        return rows

    before = state()
    r = client.post(f"/api/v1/c/test/members/{m.id}/erase", json={"reason": "书面申请"})
    assert r.status_code == 409 and r.json["error"]["code"] == "last_admin", r.json
    assert "测试社区" in r.json["error"]["message"]
    result = runner.invoke(args=["residents", "erase", "admin", "--reason", "书面申请"])
    assert result.exit_code != 0 and "测试社区" in result.output
    assert state() == before
    # With a second admin, one admin may erase the other; then the one left is the last.
    admin2 = _extra(world, "admin2", "管理员乙", ["staff", "admin"])
    r = api(admin2).post(f"/api/v1/c/test/members/{m.id}/erase", json={"reason": "书面申请"})
    assert r.status_code == 200, r.json
    r = client.post(f"/api/v1/c/test/members/{_membership(world, admin2).id}/erase", json={"reason": "书面申请"})
    assert r.status_code == 409 and r.json["error"]["code"] == "last_admin"


def test_the_erase_page_refuses_staff_for_an_admin_and_lets_the_admin_erase_staff(world, login):
    staff = login(world.staff)
    m = _membership(world, world.admin)
    page = staff.get(f"/c/test/admin/members/{m.id}/erase")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert REFUSED_ZH in text and 'name="reason"' not in text
    before = snapshot()
    r = staff.post(f"/c/test/admin/members/{m.id}/erase", data={"reason": "书面申请", "confirm": "1"})
    assert r.status_code == 403 and REFUSED_ZH in r.get_data(as_text=True)
    assert snapshot() == before
    # staff still erase a resident
    r = staff.post(f"/c/test/admin/members/{_membership(world, world.resident2).id}/erase", data={"reason": "书面申请", "confirm": "1"})
    assert r.status_code == 302
    admin = login(world.admin)
    target = _membership(world, world.staff)
    assert 'name="reason"' in admin.get(f"/c/test/admin/members/{target.id}/erase").get_data(as_text=True)
    r = admin.post(f"/c/test/admin/members/{target.id}/erase", data={"reason": "书面申请", "confirm": "1"})
    assert r.status_code == 302
    db.session.rollback()
    entries = AuditEntry.query.filter_by(action=personal_data.ERASED_ACTION).order_by(AuditEntry.id).all()
    assert [(e.actor_id, e.object_id) for e in entries] == [(world.staff.id, str(world.resident2.id)),
                                                            (world.admin.id, str(world.staff.id))]
    assert staff.get("/auth/account").status_code == 302  # the erased staff member's session ended


def test_a_name_inside_another_name_in_the_core(world):
    """Core only: a resident named 居民, part of 居民乙's name, who wrote and commented."""
    from core.services import proposals

    world.resident.display_name = "居民"
    db.session.commit()
    p = proposals.create(world.community, world.resident2, {
        "title": "居民活动室开放时间", "body": "建议居民活动室周末也开放。", "category": "other"})
    proposals.comment(p, world.resident, "同意居民乙的建议。")
    proposals.second(p, world.resident)
    before = snapshot()
    may, gone = owned(world.resident.id)
    summary = personal_data.erase(world.resident, world.staff, "书面申请")
    wrong, _changed = diff(before, snapshot(), may, gone)
    assert wrong == []
    db.session.expire_all()
    assert db.session.get(User, world.resident2.id).display_name == "居民乙"
    assert db.session.get(Proposal, p.id).title == "居民活动室开放时间"
    [c] = ProposalComment.query.filter_by(proposal_id=p.id).all()
    assert (c.author_name, c.body) == (summary["anonymous_id"], "同意居民乙的建议。")
    assert Notification.query.filter_by(user_id=world.resident.id).count() == 0


def test_two_admins_erasing_each_other_at_once_leave_one(world, extra_app):
    """The last-admin check is made under a lock: while one erasure of an admin is under way,
    a second one waits, then finds the first admin erased and refuses."""
    import threading
    import time

    from core.errors import Conflict

    admin2 = _extra(world, "admin2", "管理员乙", ["staff", "admin"])
    first, second = world.admin.id, admin2.id
    other = extra_app(plugins=[])
    outcome = {}

    def erase_second():
        with other.app_context():
            try:
                personal_data.erase(db.session.get(User, second), db.session.get(User, first), "书面申请")
                outcome["second"] = "erased"
            except Conflict as err:
                outcome["second"] = err.code
            finally:
                db.session.rollback()

    # The first erasure, up to its end: checked (and locked), the account switched off, not committed.
    personal_data._check_may_erase(db.session.get(User, first), db.session.get(User, second), lock=True)
    User.query.filter_by(id=first).update({"is_active_account": False}, synchronize_session=False)
    thread = threading.Thread(target=erase_second)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive()  # waiting for the first erasure
    db.session.commit()
    thread.join(20)
    assert outcome == {"second": "last_admin"}
    db.session.expire_all()
    assert db.session.get(User, second).is_active_account
