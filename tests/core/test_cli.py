"""The `linli` command line: every command answers --help, does its job, and fails clearly."""
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from core import ROOT_DIR
from core.models import Community, Household, HouseholdMember, User
from tests import example_plugin
from tests.conftest import INSTALLED, PASSWORD

HEAD = "网格,楼栋,单元,房号,面积,姓名,电话,关系,户代表\r\n"


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """Messages in English, whatever the machine's LANG is."""
    monkeypatch.setenv("LINLI_LANG", "en")


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def households(community):
    return Household.query.filter_by(community_id=community.id).count()


# --- --help ------------------------------------------------------------------------------------

COMMANDS = [["init"], ["demo"], ["run"], ["plugins"], ["plugins", "list"], ["plugins", "enable"],
            ["plugins", "disable"], ["users"], ["users", "create-admin"], ["tokens"], ["tokens", "create"],
            ["community"], ["community", "create"], ["residents"], ["residents", "import"],
            ["residents", "export"]]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_has_help(runner, args):
    result = runner.invoke(args=args + ["--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ") and " ".join(args) in result.output.splitlines()[0]
    description = result.output.split("\n\n")[1].strip()
    assert len(description) > 10  # a sentence, not just the usage line


def test_run_help_names_the_port(runner):
    result = runner.invoke(args=["run", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "Port to listen on." in result.output and "$PORT" in result.output


# --- plugins -----------------------------------------------------------------------------------

@pytest.mark.plugins(example_plugin)
def test_plugins_list_shows_version_hooks_and_state(runner, world):
    result = runner.invoke(args=["plugins", "list"])
    assert result.exit_code == 0, result.output
    assert "example" in result.output and "Example" in result.output
    assert "nav_items" in result.output and "register_blueprints" in result.output
    assert "other: on" in result.output and "test: on" in result.output
    bare = runner.invoke(args=["plugins"])
    assert bare.exit_code == 0 and bare.output == result.output
    data = json.loads(runner.invoke(args=["plugins", "list", "--json"]).output)
    assert data[0]["name"] == "example" and data[0]["communities"] == {"other": True, "test": True}
    only = runner.invoke(args=["plugins", "list", "--community", "test"])
    assert "test: on" in only.output and "other" not in only.output


@pytest.mark.plugins(example_plugin)
def test_plugins_disable_and_enable(runner, world, app):
    registry = app.extensions["linli.plugins"]
    result = runner.invoke(args=["plugins", "disable", "example", "--community", "test"])
    assert result.exit_code == 0, result.output
    assert "example is now off in test." in result.output
    assert registry.is_enabled(world.community, "example") is False
    assert registry.is_enabled(world.other, "example") is True
    assert "test: off" in runner.invoke(args=["plugins", "list"]).output
    result = runner.invoke(args=["plugins", "enable", "example", "--community", "test"])
    assert result.exit_code == 0 and "example is now on in test." in result.output
    assert registry.is_enabled(world.community, "example") is True


@pytest.mark.plugins(example_plugin)
@pytest.mark.parametrize("args,message", [
    (["plugins", "enable", "nope", "--community", "test"], "No module called nope is installed."),
    (["plugins", "disable", "example", "--community", "nope"], "No community with the short name nope."),
    (["plugins", "list", "--community", "nope"], "No community with the short name nope."),
])
def test_plugins_bad_input(runner, world, app, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output
    assert app.extensions["linli.plugins"].is_enabled(world.community, "example") is True


def test_plugins_enable_needs_a_community(runner, world):
    result = runner.invoke(args=["plugins", "enable", "example"])
    assert result.exit_code == 2 and "--community" in result.output


def test_plugins_list_without_plugins(runner, world):
    result = runner.invoke(args=["plugins", "list"])
    assert result.exit_code == 0 and "No modules are installed." in result.output


# --- accounts and tokens -----------------------------------------------------------------------

def test_create_admin(runner, app):
    result = runner.invoke(args=["users", "create-admin", "boss", "--name", "主任", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "Created administrator boss." in result.output
    user = User.query.filter_by(username="boss").one()
    assert user.is_superadmin and user.display_name == "主任"
    # It can log in with that password.
    r = app.test_client().post("/auth/login", data={"login": "boss", "password": PASSWORD})
    assert r.status_code == 302


def test_create_admin_asks_for_the_password_twice(runner):
    result = runner.invoke(args=["users", "create-admin", "boss2"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert User.query.filter_by(username="boss2").one().is_superadmin


@pytest.mark.parametrize("args,message", [
    (["users", "create-admin", "weak", "--password", "short"], "at least 8 characters"),
    (["users", "create-admin", "staff", "--password", PASSWORD], "already registered"),
])
def test_create_admin_bad_input(runner, world, args, message):
    before = User.query.count()
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output
    assert User.query.count() == before


def test_tokens_create_prints_a_working_token(runner, world, app):
    result = runner.invoke(args=["tokens", "create", "staff", "--name", "脚本"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    r = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 200 and "社工" in r.get_data(as_text=True)  # the staff member's name
    assert app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_tokens_create_for_an_unknown_account(runner, world):
    result = runner.invoke(args=["tokens", "create", "nobody"])
    assert result.exit_code == 1 and "No account nobody." in result.output


# --- communities and demo ----------------------------------------------------------------------

def test_community_create(runner):
    result = runner.invoke(args=["community", "create", "xingfu", "幸福社区", "--street", "示范街道"])
    assert result.exit_code == 0, result.output
    assert "Created community 幸福社区 (/c/xingfu/)." in result.output
    c = Community.query.filter_by(slug="xingfu").one()
    assert (c.name, c.street) == ("幸福社区", "示范街道")


@pytest.mark.parametrize("args,messages", [
    (["community", "create", "Bad Slug", "名字"], ["Use 2–40 lower-case letters, digits and hyphens."]),
    (["community", "create", "ok-slug", ""], ["Give a name of up to 120 characters."]),
    (["community", "create", "test", "重复"], ["A community with this short name exists."]),
])
def test_community_create_bad_input(runner, world, args, messages):
    before = Community.query.count()
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    for m in messages:
        assert m in result.output
    assert Community.query.count() == before


def test_demo_loads_once(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo community: " in result.output and "/c/demo/" in result.output
    assert "Every demo account has the password:" in result.output
    demo = Community.query.filter_by(slug="demo").one()
    assert households(demo) > 0
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "The demo community demo exists already." in again.output
    assert Community.query.count() == 1


def test_demo_with_a_bad_slug(runner):
    result = runner.invoke(args=["demo", "--slug", "Not A Slug"])
    assert result.exit_code == 1
    assert "Use 2–40 lower-case letters, digits and hyphens." in result.output
    assert Community.query.count() == 0


# --- residents import / export -----------------------------------------------------------------

GOOD = HEAD + "第二网格,5号楼,1单元,101,89.5,赵一,13800000001,业主,是\r\n" \
              "第二网格,5号楼,1单元,101,89.5,赵二,,居民,\r\n" \
              "第二网格,5号楼,2单元,201,\"1,234.56\",,,,\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_residents_import(runner, world, tmp_path, encoding):
    path = write(tmp_path, "住户.csv", GOOD, encoding)
    result = runner.invoke(args=["residents", "import", path, "--community", "test"])
    assert result.exit_code == 0, result.output
    assert "3 good rows, 0 rows with errors." in result.output
    assert "Imported: 2 new households, 2 new people, 0 records updated." in result.output
    assert households(world.community) == 6
    big = Household.query.filter_by(room="201").one()
    assert big.floor_area == Decimal("1234.56")
    rep = HouseholdMember.query.filter_by(name="赵一").one()
    assert rep.is_representative and rep.relation == "owner" and rep.phone == "13800000001"
    # The same file again adds nothing.
    result = runner.invoke(args=["residents", "import", path, "--community", "test"])
    assert result.exit_code == 0
    assert "Imported: 0 new households, 0 new people, 0 records updated." in result.output
    assert households(world.community) == 6 and HouseholdMember.query.filter_by(name="赵一").count() == 1


BAD = HEAD + "第二网格,5号楼,1单元,101,89.5,赵一,,业主,\r\n" \
             "第二网格,5号楼,1单元,102,89.555,,,,\r\n" \
             "第二网格,5号楼,1单元,103,abc,,,,\r\n"


def test_residents_import_with_errors_imports_nothing(runner, world, tmp_path):
    path = write(tmp_path, "bad.csv", BAD)
    result = runner.invoke(args=["residents", "import", path, "--community", "test"])
    assert result.exit_code == 1
    assert "line 3: Floor area “89.555”" in result.stderr
    assert "line 4: Floor area “abc”" in result.stderr
    assert "1 good rows, 2 rows with errors." in result.output
    assert "Nothing was imported." in result.output and "--skip-bad-rows" in result.output
    assert households(world.community) == 4


def test_residents_import_skip_bad_rows(runner, world, tmp_path):
    path = write(tmp_path, "bad.csv", BAD)
    result = runner.invoke(args=["residents", "import", path, "--community", "test", "--skip-bad-rows"])
    assert result.exit_code == 0, result.output
    assert "Imported: 1 new households, 1 new people, 0 records updated." in result.output
    assert households(world.community) == 5


def test_residents_import_dry_run(runner, world, tmp_path):
    bad = runner.invoke(args=["residents", "import", write(tmp_path, "bad.csv", BAD), "--community", "test",
                              "--dry-run"])
    assert bad.exit_code == 1 and "line 3:" in bad.stderr
    good = runner.invoke(args=["residents", "import", write(tmp_path, "good.csv", GOOD), "--community", "test",
                               "--dry-run"])
    assert good.exit_code == 0 and "3 good rows, 0 rows with errors." in good.output
    assert households(world.community) == 4


@pytest.mark.parametrize("name,content,code,message", [
    ("住户.txt", GOOD, 1, "Upload an .xlsx or .csv file."),
    ("empty.csv", "", 1, "The file is empty."),
    ("head.csv", HEAD, 1, "The file has no data rows."),
    ("cols.csv", "姓名,电话\r\n张三,1\r\n", 1, "missing: 网格, 楼栋, 单元, 房号, 面积"),
    ("broken.xlsx", "not a zip", 1, "This .xlsx file cannot be read."),
])
def test_residents_import_bad_files(runner, world, tmp_path, name, content, code, message):
    result = runner.invoke(args=["residents", "import", write(tmp_path, name, content), "--community", "test"])
    assert result.exit_code == code
    assert message in result.output
    assert households(world.community) == 4


def test_residents_import_bad_arguments(runner, world, tmp_path):
    result = runner.invoke(args=["residents", "import", str(tmp_path / "missing.csv"), "--community", "test"])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(args=["residents", "import", write(tmp_path, "a.csv", GOOD), "--community", "nope"])
    assert result.exit_code == 1 and "No community with the short name nope." in result.output
    assert households(world.community) == 4


def test_residents_export_and_import_round_trip(runner, world, tmp_path):
    from core.services import structure

    structure.add_household_member(world.community, world.households[1], None, name="吴六", phone="13900000006",
                                   relation="tenant", is_representative=True)
    out = tmp_path / "register.xlsx"
    result = runner.invoke(args=["residents", "export", str(out), "--community", "test"])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}." in result.output
    rows = list(openpyxl.load_workbook(io.BytesIO(out.read_bytes()), read_only=True).worksheets[0]
                .iter_rows(values_only=True))
    assert rows[0][:5] == ("网格", "楼栋", "单元", "房号", "面积")
    assert len(rows) == 1 + 5  # four households, one with two people
    result = runner.invoke(args=["residents", "import", str(out), "--community", "other"])
    assert result.exit_code == 0, result.output
    assert "Imported: 4 new households, 5 new people, 0 records updated." in result.output

    def register(community):
        return sorted((h.unit.building.grid.name, h.unit.building.name, h.unit.name, h.room, h.floor_area,
                       tuple(sorted((m.name, m.phone, m.relation, m.is_representative) for m in h.members)))
                      for h in Household.query.filter_by(community_id=community.id))

    assert register(world.other) == register(world.community)
    assert Household.query.filter_by(community_id=world.other.id, room="101").one().floor_area == Decimal("89.50")


@pytest.mark.parametrize("target,message", [
    ("register.csv", "give a file name ending in .xlsx"),
    ("no-such-dir/register.xlsx", "Cannot write"),
])
def test_residents_export_bad_target(runner, world, tmp_path, target, message):
    result = runner.invoke(args=["residents", "export", str(tmp_path / target), "--community", "test"])
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / target).exists()


def test_residents_export_unknown_community(runner, world, tmp_path):
    result = runner.invoke(args=["residents", "export", str(tmp_path / "x.xlsx"), "--community", "nope"])
    assert result.exit_code == 1 and "No community with the short name nope." in result.output
    assert not (tmp_path / "x.xlsx").exists()


# --- the real console script -------------------------------------------------------------------

def test_the_linli_console_script(tmp_path):
    linli = Path(sys.executable).parent / "linli"
    env = {k: v for k, v in os.environ.items() if k not in ("LINLI_DATABASE_URL", "FLASK_APP")}
    env.update(LINLI_INSTANCE_PATH=str(tmp_path), LINLI_LANG="en")

    def run(*args):
        return subprocess.run([str(linli), *args], env=env, capture_output=True, text=True, timeout=120)

    r = run("--help")
    assert r.returncode == 0, r.stderr
    for command in ("init", "demo", "run", "plugins", "users", "tokens", "community", "residents"):
        assert f"  {command} " in r.stdout
    english = run("users", "--help").stdout
    assert "Manage accounts." in english
    env["LINLI_LANG"] = "zh_Hans"
    chinese = run("users", "--help").stdout
    env["LINLI_LANG"] = "en"
    assert chinese.startswith("Usage: linli users")
    if (ROOT_DIR / "core/translations/zh_Hans/LC_MESSAGES/messages.mo").exists():  # compiled by `make install`
        assert chinese != english  # help in the user's language
    r = run("init")
    assert r.returncode == 0, r.stderr
    assert "The database is up to date." in r.stdout
    config = (tmp_path / "config.py").read_text()
    assert "SECRET_KEY = " in config and (tmp_path / "linli.sqlite").exists()
    assert run("init").returncode == 0 and (tmp_path / "config.py").read_text() == config  # kept
    assert run("community", "create", "xingfu", "幸福社区").returncode == 0
    r = run("plugins", "list")
    assert r.returncode == 0, r.stderr
    if INSTALLED:
        for name in INSTALLED:
            assert name in r.stdout
        assert "xingfu: " in r.stdout
    else:
        assert "No modules are installed." in r.stdout
    r = run("plugins", "enable", "no-such-module", "--community", "xingfu")
    assert r.returncode == 1 and "No module called no-such-module is installed." in r.stderr


def test_backup_copies_the_database(world, runner, tmp_path, app):
    import sqlite3

    from tests.conftest import PG_URL

    target = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    if PG_URL:  # a pg_dump archive (tests/core/test_backup_restore.py restores it)
        assert target.read_bytes()[:5] == b"PGDMP"
        return
    with sqlite3.connect(target) as conn:
        assert conn.execute("select slug from community order by slug").fetchall() == [("other",), ("test",)]
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0  # never overwrites


def test_db_commands_have_help_in_the_users_language(runner, monkeypatch):
    monkeypatch.setenv("LINLI_LANG", "en")
    result = runner.invoke(args=["db", "--help"])
    assert result.exit_code == 0
    assert "Apply every pending migration" in result.output  # ours, not Flask-Alembic's English
    monkeypatch.setenv("LINLI_LANG", "zh_Hans")
    from flask_babel import refresh

    refresh()  # the test keeps one app context; a real command line starts afresh
    result = runner.invoke(args=["db", "--help"])
    assert "执行所有待执行的迁移" in result.output
