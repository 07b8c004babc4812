"""`linli mediation ...` for operators."""
import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.plugins("mediation")


def test_holidays_and_deadline_from_the_command_line(app, world, runner):
    r = runner.invoke(args=["mediation", "holidays", "add", "2026-10-01", "--until", "2026-10-07", "--name", "国庆节",
                            "--community", "test"])
    assert r.exit_code == 0, r.output
    assert "7" in r.output
    r = runner.invoke(args=["mediation", "holidays", "list", "--community", "test"])
    assert "2026-10-03  国庆节" in r.output
    r = runner.invoke(args=["mediation", "deadline", "2026-09-02", "--community", "test"])
    assert r.output.strip() == "2026-10-08"
    r = runner.invoke(args=["mediation", "holidays", "add", "2026-13-01", "--name", "x", "--community", "test"])
    assert r.exit_code != 0 and "YYYY-MM-DD" in r.output
    r = runner.invoke(args=["mediation", "holidays", "add", "2026-10-01", "--name", "x", "--community", "nope"])
    assert r.exit_code != 0


def test_export_and_followups(app, world, case, runner, tmp_path):
    path = tmp_path / "register.xlsx"
    r = runner.invoke(args=["mediation", "export", str(path), "--community", "test"])
    assert r.exit_code == 0, r.output
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == case.number
    assert not any("机密" in str(v) for v in rows[1])
    r = runner.invoke(args=["mediation", "followups", "--community", "test"])
    assert r.exit_code == 0 and "0" in r.output


def test_help_is_there(app, runner):
    r = runner.invoke(args=["mediation", "--help"])
    assert r.exit_code == 0 and "overdue" in r.output and "holidays" in r.output
