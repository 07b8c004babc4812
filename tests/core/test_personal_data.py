"""Personal data (PIPL Art. 45 copy, Art. 47 erasure): the copy holds the person's data and no one
else's; erasure leaves their name and phone in none of their own records, keeps amounts and
counts, ends the account, and is idempotent; a disabled module takes no part. What others wrote
about the person is not searched and rewritten (tests/security/test_erasure.py)."""
import json

import pytest
from sqlalchemy import JSON, String, Text, func, select

from core.db import transaction
from core.extensions import db
from core.models import (HouseholdMember, Membership, Proposal, ProposalComment, ProposalSecond, User)
from core.services import accounts, personal_data
from core.services.plugins import set_enabled
from tests.conftest import INSTALLED

pytestmark = pytest.mark.plugins(*INSTALLED)
PHONE = "13912345678"
NAME = "陈阿姨"
OTHERS = ["刘大爷", "杨女士", "黄先生", "吴奶奶", "赵楼长", "孙网格员", "周调解员"]


def written_by_others(*names):
    """Where the demo has other people write these names as free text, which erasure leaves: the
    mediator's list of who attended a session."""
    return [("mediation_session", "attendees", n) for n in names] if "mediation" in INSTALLED else []


@pytest.fixture
def demo(app):
    from core.demo import load_demo

    community, _created = load_demo("demo")
    person = User.query.filter_by(username="resident1").one()
    person.phone = PHONE
    # the register entry made at verification, with the phone the office wrote down
    entry = HouseholdMember.query.filter_by(user_id=person.id).first()
    if entry is None:
        m = Membership.query.filter_by(user_id=person.id).one()
        entry = HouseholdMember(household_id=m.household_id, name=NAME, relation="owner", user_id=person.id)
        db.session.add(entry)
    entry.phone = PHONE
    db.session.commit()
    return community


def person():
    return User.query.filter(User.id == db.session.query(func.min(User.id)).filter(
        User.display_name.in_([NAME]) | User.username.like("anon-%")).scalar_subquery()).one()


def text_hits(*needles):
    """(table, column) of every text or JSON cell that contains one of ``needles``."""
    db.session.rollback()  # a fresh read (requests ran in their own sessions)
    hits = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text)):
                for needle in needles:
                    if db.session.execute(select(func.count()).select_from(table).where(
                            column.contains(needle, autoescape=True))).scalar():
                        hits.append((table.name, column.name, needle))
            elif isinstance(column.type, JSON):
                for (value,) in db.session.execute(select(column).where(column.isnot(None))):
                    text = json.dumps(value, ensure_ascii=False)
                    hits += [(table.name, column.name, n) for n in needles if n in text]
    return sorted(set(hits))


def totals():
    """Amounts and counts erasure must not change."""
    out = {"proposals": Proposal.query.count(), "comments": ProposalComment.query.count(),
           "seconds": ProposalSecond.query.count(),
           "seconds_count": db.session.query(func.sum(Proposal.seconds_count)).scalar(),
           "members": Membership.query.count(), "register": HouseholdMember.query.count()}
    if "points" in INSTALLED:
        from plugins.points.models import PointsAccount, PointsEntry, PointsRecord

        out["points_balances"] = sorted(db.session.query(PointsAccount.id, PointsAccount.balance).all())
        out["points_entries"] = db.session.query(func.count(PointsEntry.id), func.sum(PointsEntry.amount)).one()
        out["minutes"] = db.session.query(func.sum(PointsRecord.minutes)).scalar()
    if "voting" in INSTALLED:
        from plugins.voting.models import Entry, Voter

        out["voters"] = db.session.query(func.count(Voter.id), func.sum(Voter.heads), func.sum(Voter.area)).one()
        out["entries"] = db.session.query(func.count(Entry.id)).scalar()
    return out


CACHE_TABLES = {"content_version"}  # page-cache counters, not data


def snapshot():
    db.session.rollback()  # a fresh read (requests ran in their own sessions)
    return {t.name: db.session.execute(select(t).order_by(*t.primary_key.columns)).all()
            for t in db.metadata.sorted_tables if t.name not in CACHE_TABLES}


def test_export_has_the_persons_data_and_no_one_elses(demo):
    user = User.query.filter_by(username="resident1").one()
    data = personal_data.export(user)
    text = json.dumps(data, ensure_ascii=False)
    assert data["account"]["display_name"] == NAME and data["account"]["phone"] == PHONE
    [section] = data["communities"]
    assert section["community"]["slug"] == "demo"
    assert section["household_register"] and section["household_register"][0]["phone"] == PHONE
    authored = Proposal.query.filter_by(author_id=user.id).count()
    assert authored and len(section["proposals"]) == authored
    assert len(section["comments"]) == ProposalComment.query.filter_by(author_id=user.id).count()
    assert len(section["seconds"]) == ProposalSecond.query.filter_by(user_id=user.id).count()
    assert set(section["modules"]) <= set(INSTALLED)
    for other in OTHERS:
        assert other not in text, other
    assert "password" not in text and user.password_hash not in text


def test_a_disabled_module_is_left_out(demo):
    if not INSTALLED:
        pytest.skip("no module installed")
    user = User.query.filter_by(username="resident1").one()
    with_all = personal_data.export(user)["communities"][0]["modules"]
    assert with_all, "the demo gives resident1 data in at least one module"
    name = sorted(with_all)[0]
    set_enabled(demo, name, False, confirm=True)  # the demo has business open in every module
    assert name not in personal_data.export(user)["communities"][0]["modules"]
    summary = personal_data.erase(user, None, "申请 2026-11-22 第1号")
    assert name not in summary["modules"]
    assert set(summary["modules"]) == {n for n in INSTALLED if n != name}


def test_erasure_leaves_no_trace_keeps_amounts_and_is_idempotent(demo, client):
    user = User.query.filter_by(username="resident1").one()
    uid = user.id
    assert text_hits(NAME, PHONE)  # the demo writes the name in many places
    before = totals()
    staff = User.query.filter_by(username="staff").one()
    with transaction():  # the test is the entry point: it commits the erasure
        summary = personal_data.erase(user, staff, "居民书面申请，2026-11-22，编号 PIPL-1")
    assert summary["changed"] > 0
    assert text_hits(NAME, PHONE) == written_by_others(NAME)
    assert totals() == before
    user = db.session.get(User, uid)
    assert user.display_name == summary["anonymous_id"] and not user.is_active
    assert accounts.find_user("resident1") is None
    r = client.post("/auth/login", data={"login": "resident1", "password": "linli-demo-2026"})
    assert r.status_code == 200  # the form again: no session
    r = client.post("/auth/login", data={"login": summary["anonymous_id"], "password": "linli-demo-2026"})
    assert r.status_code == 200
    from core.models import AuditEntry

    [entry] = AuditEntry.query.filter_by(action="personal_data.erased").all()
    assert entry.actor_id == staff.id and entry.reason.startswith("居民书面申请")
    # twice: nothing more changes, no second audit entry
    state = snapshot()
    again = personal_data.erase(db.session.get(User, uid), staff, "重复执行")
    assert again["changed"] == 0
    assert snapshot() == state


def test_erasure_needs_a_reason_and_the_right_people(demo):
    from core.errors import ServiceError
    from core.services import structure

    user = User.query.filter_by(username="resident1").one()
    staff = User.query.filter_by(username="staff").one()
    elsewhere = structure.create_community("other", "别的社区")
    other_staff = accounts.create_user("otherstaff", "correct-horse-9", "别处社工")
    om = Membership(user_id=other_staff.id, community_id=elsewhere.id)
    om.set_roles(["staff", "admin"])
    db.session.add(om)
    db.session.commit()
    state = snapshot()
    for actor, reason in [(staff, "  "), (other_staff, "申请"), (User.query.filter_by(username="resident2").one(), "申请"),
                          (user, "我自己")]:
        with pytest.raises(ServiceError):
            personal_data.erase(db.session.get(User, user.id), actor, reason)
        db.session.rollback()
    assert snapshot() == state


def test_pages_api_and_command_line(demo, app, login, api, tmp_path):
    user = User.query.filter_by(username="resident1").one()
    c = login_demo(app, "resident1")
    r = c.get("/auth/account/personal-data")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert r.get_json()["account"]["display_name"] == NAME
    assert "/auth/account/personal-data" in c.get("/auth/account").get_data(as_text=True)
    r = api(user).get("/api/v1/me/personal-data")
    assert r.status_code == 200 and r.json["account"]["phone"] == PHONE
    path = tmp_path / "copy.json"
    result = app.test_cli_runner().invoke(args=["residents", "export-data", "resident1", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text(encoding="utf-8"))["account"]["display_name"] == NAME
    bad = app.test_cli_runner().invoke(args=["residents", "export-data", "nobody", str(tmp_path / "x.json")])
    assert bad.exit_code != 0 and not (tmp_path / "x.json").exists()
    # a resident cannot erase anyone through the API; staff can
    m = Membership.query.filter_by(user_id=user.id).one()
    other = User.query.filter_by(username="resident2").one()
    assert api(other).post(f"/api/v1/c/demo/members/{m.id}/erase", json={"reason": "x"}).status_code == 403
    staff = User.query.filter_by(username="staff").one()
    r = api(staff).post(f"/api/v1/c/demo/members/{m.id}/erase", json={})
    assert r.status_code == 400 and r.json["error"]["code"] == "reason_required"
    r = api(staff).post(f"/api/v1/c/demo/members/{m.id}/erase", json={"reason": "书面申请"})
    assert r.status_code == 200 and r.json["changed"] > 0
    assert c.get("/auth/account").status_code == 302  # the resident's session ended
    # the command line, by the anonymous id: nothing more to do
    label = r.json["anonymous_id"]
    result = app.test_cli_runner().invoke(args=["residents", "erase", label, "--reason", "重复"])
    assert result.exit_code == 0, result.output
    assert text_hits(NAME, PHONE) == written_by_others(NAME)


def test_admin_page_erases(demo, app):
    user = User.query.filter_by(username="resident2").one()
    m = Membership.query.filter_by(user_id=user.id).one()
    staff = login_demo(app, "staff")
    page = staff.get(f"/c/demo/admin/members/{m.id}/erase")
    assert page.status_code == 200
    r = staff.post(f"/c/demo/admin/members/{m.id}/erase", data={"reason": "", "confirm": "1"})
    assert r.status_code == 200 and db.session.get(User, user.id).display_name == "刘大爷"
    # the page says whose data goes; a POST that did not come from its button erases nothing
    assert "刘大爷" in page.get_data(as_text=True) and 'name="confirm" value="1"' in page.get_data(as_text=True)
    r = staff.post(f"/c/demo/admin/members/{m.id}/erase", data={"reason": "书面申请"})
    assert r.status_code == 200 and db.session.get(User, user.id).display_name == "刘大爷"
    r = staff.post(f"/c/demo/admin/members/{m.id}/erase", data={"reason": "书面申请", "confirm": "1"})
    assert r.status_code == 302
    db.session.rollback()  # a fresh read (requests ran in their own sessions)
    assert text_hits("刘大爷") == written_by_others("刘大爷")
    resident = login_demo(app, "resident3")
    assert resident.get(f"/c/demo/admin/members/{m.id}/erase").status_code == 403


def login_demo(app, login):
    c = app.test_client()
    r = c.post("/auth/login", data={"login": login, "password": "linli-demo-2026"})
    assert r.status_code == 302
    return c
