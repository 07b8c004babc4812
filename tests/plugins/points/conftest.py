"""Helpers for the points tests."""
import importlib
from datetime import timedelta
from functools import wraps

import pytest

from core.db import transaction
from core.extensions import db
from core.models import utcnow


class EntryPoint:
    """A services module called as an entry point calls it (a view, the API, a command): each
    call runs in one ``transaction()`` (core.db) that commits, or rolls back everything the call
    wrote when it raises. Services never commit: a test calling them directly acts as the entry
    point."""

    def __init__(self, module_name):
        self._module_name = module_name

    def __getattr__(self, name):
        value = getattr(importlib.import_module(self._module_name), name)
        if not callable(value) or isinstance(value, type):
            return value

        @wraps(value)
        def call(*args, **kwargs):
            with transaction():
                return value(*args, **kwargs)

        return call


SERVICES = EntryPoint("plugins.points.services")  # the points services, each call an entry point's transaction


def expire_due(now=None, community=None):
    """Expire every due lot as `linli points expire` does (one transaction per lot); the transfers."""
    from plugins.points import services as module

    done = []
    for lot_id in module.due_lots(now, community):
        with transaction():
            transfer = module.expire_lot(lot_id, now)
        if transfer is not None:
            done.append(transfer)
    return done


@pytest.fixture
def pts(app, world):
    """Shortcuts over the points services for the test community."""
    from plugins.points import ledger

    svc = SERVICES

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

        def expire(self, now=None):
            return expire_due(now)

        def check(self):
            problems = ledger.check()
            assert problems == [], problems

    return P()


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app, tmp_path):
    """Pictures go to the test's own folder, not the developer's instance/."""
    app.instance_path = str(tmp_path / "instance")
    yield
