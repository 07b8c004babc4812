"""Points' personal data: the copy holds the person's balance and statement; erasure keeps every
amount (the ledger is append-only) and drops the sharing choice."""
import pytest
from sqlalchemy import func

from core.extensions import db
from core.services import personal_data

pytestmark = pytest.mark.plugins("points")


def test_statement_exported_then_amounts_kept(world, pts):
    from plugins.points.models import PointsAccount, PointsEntry, PointsProfile

    pts.give(world.resident, 30)
    pts.give(world.resident2, 7)
    db.session.add(PointsProfile(community_id=world.community.id, user_id=world.resident.id, share_volunteering=True))
    db.session.commit()
    [section] = personal_data.export(world.resident)["communities"]
    points = section["modules"]["points"]
    assert points["balance"] == 30 and [e["amount"] for e in points["ledger"]] == [30]
    assert points["share_volunteering"] is True
    before = (sorted(db.session.query(PointsAccount.id, PointsAccount.balance).all()),
              db.session.query(func.count(PointsEntry.id), func.sum(PointsEntry.amount)).one())
    summary = personal_data.erase(world.resident, world.staff, "书面申请")
    assert summary["modules"]["points"] == {"profiles": 1, "certificates": 0}
    after = (sorted(db.session.query(PointsAccount.id, PointsAccount.balance).all()),
             db.session.query(func.count(PointsEntry.id), func.sum(PointsEntry.amount)).one())
    assert after == before
    account = PointsAccount.query.filter_by(user_id=world.resident.id).one()
    assert account.label == summary["anonymous_id"]  # the statement shows the anonymous id
    assert personal_data.erase(world.resident, world.staff, "again")["changed"] == 0
