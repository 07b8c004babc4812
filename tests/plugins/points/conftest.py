"""Helpers for the points tests."""
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import utcnow


@pytest.fixture
def pts(app, world):
    """Shortcuts over the points services for the test community."""
    from plugins.points import ledger
    from plugins.points import services as svc

    class P:
        community = world.community

        def balance(self, user):
            return ledger.balance_of(world.community.id, user.id)

        def give(self, user, amount, reason="test credit"):
            return svc.adjust(world.community, user, amount, reason, world.admin)

        def item(self, **kw):
            data = {"name": "大米（5公斤）", "price": 30, "stock": 10, "kind": "goods"} | kw
            return svc.save_item(world.community, world.staff, data)

        def activity(self, past=True, **kw):
            start = utcnow() - timedelta(days=1) if past else utcnow() + timedelta(days=1)
            data = {"title": "楼道清理", "location": "3号楼", "starts_at": start,
                    "ends_at": start + timedelta(hours=6)} | kw
            return svc.save_activity(world.community, world.staff, data)

        def signup_past(self, activity, user):
            from plugins.points.models import PointsSignup

            s = PointsSignup(activity_id=activity.id, user_id=user.id)
            db.session.add(s)
            activity.signups_count += 1
            db.session.commit()
            return s

        def check(self):
            problems = ledger.check()
            assert problems == [], problems

    return P()


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app, tmp_path):
    """Pictures go to the test's own folder, not the developer's instance/."""
    app.instance_path = str(tmp_path / "instance")
    yield
