"""`linli backup` then `linli restore` gives back every row of every table exactly, on SQLite and
PostgreSQL; a wrong or missing file changes nothing and says why (in the user's language)."""
import sqlite3

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Community, Proposal, User
from tests.conftest import INSTALLED, PG_URL

pytestmark = pytest.mark.plugins(*INSTALLED)


@pytest.fixture(autouse=True)
def chinese(monkeypatch):
    monkeypatch.setenv("LINLI_LANG", "zh_Hans")
    from flask_babel import refresh

    refresh()


def snapshot():
    """Every row of every table, in primary-key order."""
    db.session.remove()
    rows = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows[table.name] = [tuple(r) for r in db.session.execute(select(table).order_by(*order)).all()]
    db.session.remove()
    return rows


@pytest.fixture
def demo(app):
    from core.demo import load_demo

    community, created = load_demo("demo")
    assert created
    return community


def damage():
    """Change, delete and add rows in several tables (and in every module's tables through cascades)."""
    User.query.filter_by(username="resident1").update({"display_name": "改过的名字"})
    Proposal.query.filter(Proposal.id % 2 == 0).delete(synchronize_session=False)
    db.session.add(Community(slug="after", name="备份之后"))
    db.session.commit()
    db.session.remove()


def test_backup_restore_gives_back_every_row(demo, runner, tmp_path):
    before = snapshot()
    assert sum(len(r) for r in before.values()) > 500  # the demo and every module's demo data
    for name in INSTALLED:  # every module's demo data is in the backup
        assert any(rows for t, rows in before.items() if t.startswith(name + "_")), name
    target = tmp_path / ("backup.dump" if PG_URL else "backup.sqlite")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    damage()
    assert snapshot() != before
    result = runner.invoke(args=["restore", str(target)])
    assert result.exit_code == 0, result.output
    after = snapshot()
    for table in before:
        assert after[table] == before[table], table
    # the app keeps working on the restored database
    assert Community.query.filter_by(slug="after").first() is None
    assert User.query.filter_by(username="resident1").one().display_name == "陈阿姨"


def _fails_without_change(runner, args, before, expected):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert expected in result.output, result.output
    assert snapshot() == before


def test_bad_input_changes_nothing(demo, runner, tmp_path):
    before = snapshot()
    _fails_without_change(runner, ["restore", str(tmp_path / "missing.dump")], before, "没有文件")
    junk = tmp_path / "notes.txt"
    junk.write_text("这不是备份", encoding="utf-8")
    _fails_without_change(runner, ["restore", str(junk)], before, "不是 linli backup 生成的备份")
    if PG_URL:
        lite = tmp_path / "other.sqlite"
        sqlite3.connect(lite).execute("create table user (id integer)").connection.close()
        _fails_without_change(runner, ["restore", str(lite)], before, "是 SQLite 数据库")
        broken = tmp_path / "broken.dump"
        broken.write_bytes(b"PGDMP" + b"\x00" * 200)
        _fails_without_change(runner, ["restore", str(broken)], before, "pg_restore")
    else:
        dump = tmp_path / "pg.dump"
        dump.write_bytes(b"PGDMP\x01\x0f\x00" + b"\x00" * 200)
        _fails_without_change(runner, ["restore", str(dump)], before, "是 PostgreSQL 备份")
        other = tmp_path / "other.sqlite"
        sqlite3.connect(other).execute("create table notes (id integer)").connection.close()
        _fails_without_change(runner, ["restore", str(other)], before, "不是 linli backup 生成的备份")


@pytest.mark.skipif(bool(PG_URL), reason="SQLite only: PostgreSQL restores inside one transaction")
def test_sqlite_restore_refuses_a_database_in_use_without_force(demo, runner, tmp_path):
    target = tmp_path / "backup.sqlite"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    damage()
    before = snapshot()
    other = sqlite3.connect(db.engine.url.database)  # another process still has the database open
    other.execute("select count(*) from user").fetchone()
    try:
        _fails_without_change(runner, ["restore", str(target)], before, "--force")
        result = runner.invoke(args=["restore", "--force", str(target)])
        assert result.exit_code == 0, result.output
        assert other.execute("select count(*) from community where slug = 'after'").fetchone() == (0,)
    finally:
        other.close()
    assert Community.query.filter_by(slug="after").first() is None
