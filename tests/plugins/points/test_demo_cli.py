"""Demo data and the `linli points` commands."""
import pytest

from core.extensions import db

pytestmark = pytest.mark.plugins("points")


def test_demo_data(app):
    from core.demo import load_demo
    from plugins.points import ledger
    from plugins.points.models import PointsActivity, PointsItem, PointsOrder, PointsRecord

    community, created = load_demo("demo")
    assert created
    items = PointsItem.query.filter_by(community_id=community.id).all()
    assert len(items) >= 12 and any("大米" in i.name for i in items)
    assert any(i.kind == "service" for i in items)
    assert PointsOrder.query.filter_by(status="handed_over").count() >= 1
    assert PointsRecord.query.filter_by(status="verified").count() >= 6
    assert PointsActivity.query.count() == 7
    assert ledger.check() == []


def test_cli_balance_and_check(app, world, runner):
    from tests.plugins.points.conftest import SERVICES as svc

    svc.adjust(world.community, world.resident, 12, "纸质登记补记", world.admin)
    r = runner.invoke(args=["points", "balance", "resident", "--community", "test"])
    assert r.exit_code == 0 and r.output.strip() == "12"
    assert runner.invoke(args=["points", "balance", "nobody", "--community", "test"]).exit_code != 0
    assert runner.invoke(args=["points", "check", "--community", "test"]).exit_code == 0
    assert runner.invoke(args=["points", "expire", "--community", "nope"]).exit_code != 0
    db.session.remove()
