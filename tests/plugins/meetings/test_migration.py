"""The migration to named delegate approvals keeps existing minutes honest: an approval given by
the organisation's own delegate is linked to that delegate; one a staff member gave for an
organisation they do not sit on shows as recorded for it, with no delegate named. Existing bodies
decide by a simple majority and existing resolutions keep theirs. SQLite and PostgreSQL."""
from datetime import datetime

import sqlalchemy as sa

from core import create_app
from core.extensions import alembic, db
from tests.core.test_migrations import fresh_database

BEFORE = "1795303473"  # the meetings tables as first created
T = datetime(2026, 1, 5, 3, 0)


def _insert(table, **values):
    cols = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    return db.session.execute(sa.text(f"INSERT INTO {table} ({cols}) VALUES ({params}) RETURNING id"), values).scalar()


TABLES = ("meetings_body", "meetings_org", "meetings_delegate", "meetings_meeting", "meetings_agenda_item",
          "meetings_resolution", "meetings_minutes_approval")


def _counts():
    counts = [db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES]
    db.session.commit()  # no open transaction to hold a lock the migration waits for
    return counts


def test_existing_approvals_and_resolutions_are_carried_over(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_database(tmp_path, "meetings_approvals"),
                      "SECRET_KEY": "t"}, plugins=["meetings"])
    with app.app_context():
        alembic.upgrade("default@head")
        alembic.upgrade(BEFORE)
        from core.services import accounts, structure

        community = structure.create_community("old", "老社区")
        staff = accounts.create_user("oldstaff", "correct-horse-9", "老社工")
        chief = accounts.create_user("oldchief", "correct-horse-9", "老书记")
        db.session.commit()
        body = _insert("meetings_body", community_id=community.id, name="联席会", description="", quorum_rule="majority",
                       topic_deadline_days=3, rotation_index=0, created_at=T)
        party = _insert("meetings_org", body_id=body, name="社区党委", position=0)
        company = _insert("meetings_org", body_id=body, name="物业公司", position=1)
        own = _insert("meetings_delegate", body_id=body, org_id=party, name="王书记", role="delegate", user_id=chief.id,
                      active=True)
        _insert("meetings_delegate", body_id=body, org_id=company, name="张经理", role="delegate", active=True)
        meeting = _insert("meetings_meeting", community_id=community.id, body_id=body, title="例会", starts_at=T,
                          ends_at=T, place="会议室", status="held", uid="old@linli", sequence=1, topics_deadline=T,
                          minutes="纪要", minutes_state="approved", created_at=T, updated_at=T)
        item = _insert("meetings_agenda_item", meeting_id=meeting, position=0, kind="free", title="议题", description="",
                       created_at=T)
        _insert("meetings_resolution", meeting_id=meeting, agenda_item_id=item, outcome="decided", text="通过",
                votes_for=2, votes_against=0, created_at=T)
        _insert("meetings_minutes_approval", meeting_id=meeting, org_id=party, user_id=chief.id, approved_at=T)
        _insert("meetings_minutes_approval", meeting_id=meeting, org_id=company, user_id=staff.id, approved_at=T)
        db.session.commit()
        counts = _counts()
        alembic.upgrade()
        assert _counts() == counts  # nothing lost (a copied table would cascade deletes on SQLite)
        rows = db.session.execute(sa.text(
            "SELECT org_id, user_id, delegate_id, on_behalf, reason FROM meetings_minutes_approval ORDER BY org_id"))
        assert [tuple(r) for r in rows] == [(party, chief.id, own, False, None), (company, staff.id, None, True, None)]
        assert db.session.execute(sa.text("SELECT decision_rule FROM meetings_body")).scalar() == "majority"
        res = db.session.execute(sa.text("SELECT rule, rescinds_id, notice_given FROM meetings_resolution")).one()
        assert tuple(res) == ("majority", None, False)
        db.session.commit()
        # Down and up again: still nothing lost, and an approval recorded for a delegate stays so.
        db.session.execute(sa.text("UPDATE meetings_minutes_approval SET delegate_id = :d, reason = '纸质签字' "
                                   "WHERE org_id = :o"), {"d": own + 1, "o": company})
        db.session.commit()
        alembic.downgrade(BEFORE)
        assert _counts() == counts
        alembic.upgrade()
        assert _counts() == counts
        if db.engine.dialect.name == "sqlite":  # the columns stayed
            row = db.session.execute(sa.text("SELECT delegate_id, on_behalf, reason FROM meetings_minutes_approval "
                                             "WHERE org_id = :o"), {"o": company}).one()
            assert tuple(row) == (own + 1, True, "纸质签字")
        db.session.remove()
        db.engine.dispose()
