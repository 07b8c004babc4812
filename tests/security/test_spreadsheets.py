"""Spreadsheets in and out (core/spreadsheets.py): a packed or oversized upload is refused before it
costs a worker minutes and gigabytes; every export writes user text as text (never a formula) and
survives any character already stored."""
import functools
import html
import io
import time
import zipfile

import openpyxl
import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from core.extensions import db
from core.models import Grid, Household, HouseholdMember, ImportBatch
from core.spreadsheets import Workbook, csv_bytes

HEAD = ["网格", "楼栋", "单元", "房号", "面积", "姓名"]
FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", '=HYPERLINK("http://127.0.0.1/x","点我")',
            "\t=1+1", "＝1+1"]
# Every C0 and C1 control character; NUL only where the database can store it (PostgreSQL cannot).
CONTROLS = "".join(chr(c) for c in range(1, 32)) + "".join(chr(c) for c in range(0x7f, 0xa0))


@pytest.fixture
def staff(world, login):
    c = login(world.staff)
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def upload(client, filename, data):
    # Encoded here in memory: the test client spools a body over 500 kB to a file it never closes.
    body, _length, boundary = stream_encode_multipart({"file": FileStorage(io.BytesIO(data), filename=filename)},
                                                      use_tempfile=False)
    r = client.post("/c/test/structure/import", data=body.getvalue(),
                    content_type=f"multipart/form-data; boundary={boundary}")
    assert r.status_code == 200
    text = html.unescape(r.get_data(as_text=True))
    return text[text.find("<main"):text.find("</main>")]


def cell_xml(value):
    return f'<c t="inlineStr"><is><t>{value}</t></is></c>'


def row_xml(values, r=None):
    return (f'<row r="{r}">' if r else "<row>") + "".join(cell_xml(v) for v in values) + "</row>"


def xlsx_with_sheet(chunks, *, level=9):
    """A .xlsx made by openpyxl whose first sheet is replaced by ``chunks`` (bytes, streamed in)."""
    wb = openpyxl.Workbook()
    wb.active.append(["x"])
    base = io.BytesIO()
    wb.save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base.getvalue())) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info.filename, zin.read(info))
                continue
            with zout.open(info.filename, "w") as f:
                f.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                        b'<dimension ref="A1:XFD1048576"/><sheetData>')
                for chunk in chunks:
                    f.write(chunk)
                f.write(b"</sheetData></worksheet>")
    return out.getvalue()


def empty_rows(n, step=100000):
    yield row_xml(HEAD).encode()
    for _ in range(n // step):
        yield b"<row/>" * step


@functools.lru_cache(maxsize=None)
def bomb():
    """The issue's file in small: 5 million empty rows (30 MB of XML) packed into about 40 kB."""
    return xlsx_with_sheet(empty_rows(5_000_000))


def nothing_imported(world, before):
    assert ImportBatch.query.count() == 0
    assert Household.query.filter_by(community_id=world.community.id).count() == before


# ── reading ────────────────────────────────────────────────────────────────────────────────────

def test_a_packed_bomb_is_refused_on_the_web_before_it_is_read(world, staff):
    data = bomb()
    assert len(data) < 100_000
    before = Household.query.count()
    started = time.monotonic()
    page = upload(staff, "户籍.xlsx", data)
    assert "This file holds more than 20 MB of data, the most one import reads." in page
    assert time.monotonic() - started < 10  # loose: unchecked, this file held a worker for minutes
    nothing_imported(world, before)


def test_a_packed_bomb_is_refused_on_the_command_line(world, runner, tmp_path):
    path = tmp_path / "户籍.xlsx"
    path.write_bytes(bomb())
    before = Household.query.count()
    result = runner.invoke(args=["residents", "import", str(path), "--community", "test"])
    assert result.exit_code == 1
    assert "This file holds more than 20 MB of data, the most one import reads." in result.output
    nothing_imported(world, before)


def test_a_bomb_under_the_size_limit_is_refused_by_its_packing(world, staff):
    data = xlsx_with_sheet(empty_rows(3_000_000))  # 18 MB of XML, under the size limit
    before = Household.query.count()
    page = upload(staff, "户籍.xlsx", data)
    assert "This .xlsx file is packed more than 100 times tighter than its contents" in page
    nothing_imported(world, before)


def data_rows(n):
    return [["第二网格", "5号楼", "1单元", str(1000 + i), "50", ""] for i in range(n)]


def test_a_file_over_the_row_limit_is_refused(world, staff, runner, tmp_path):
    rows = [HEAD] + data_rows(20001)
    csv_data = "\r\n".join(",".join(r) for r in rows).encode()
    # One number a row keeps the test quick; reading stops at the first row past the limit.
    xlsx_data = xlsx_with_sheet([row_xml(HEAD).encode()] + [b"<row><c><v>1</v></c></row>" * 20001])
    before = Household.query.count()
    assert "At most 20000 rows per file." in upload(staff, "大.csv", csv_data)
    assert "At most 20000 rows per file." in upload(staff, "大.xlsx", xlsx_data)
    path = tmp_path / "大.csv"
    path.write_bytes(csv_data)
    result = runner.invoke(args=["residents", "import", str(path), "--community", "test"])
    assert result.exit_code == 1 and "At most 20000 rows per file." in result.output
    nothing_imported(world, before)


def test_the_limits_are_settings(world, staff, app):
    app.config.update(LINLI_IMPORT_MAX_ROWS=2, LINLI_IMPORT_MAX_COLUMNS=8, LINLI_IMPORT_MAX_UNPACKED=1024 * 1024)
    rows = [HEAD] + data_rows(3)
    assert "At most 2 rows per file." in upload(staff, "a.csv", "\n".join(",".join(r) for r in rows).encode())
    wide = [HEAD + ["", "", "多余"]] + data_rows(1)
    assert "At most 8 columns per sheet." in upload(staff, "a.csv", "\n".join(",".join(r) for r in wide).encode())
    big = [HEAD] + data_rows(1) + [["", "", "", "", "", "备注" * 200000]]  # 1.2 MB
    assert "This file holds more than 1 MB of data" in upload(staff, "a.csv", "\n".join(",".join(r) for r in big).encode())
    assert ImportBatch.query.count() == 0


def test_the_limits_can_be_set_in_the_environment():
    from core.config import ConfigError, from_env

    assert from_env({"LINLI_IMPORT_MAX_ROWS": "5000", "LINLI_IMPORT_MAX_COLUMNS": "20",
                     "LINLI_IMPORT_MAX_UNPACKED_MB": "8"}) == {
        "LINLI_IMPORT_MAX_ROWS": 5000, "LINLI_IMPORT_MAX_COLUMNS": 20, "LINLI_IMPORT_MAX_UNPACKED": 8 * 1024 * 1024}
    for name, raw in (("LINLI_IMPORT_MAX_ROWS", "0"), ("LINLI_IMPORT_MAX_COLUMNS", "20000"),
                      ("LINLI_IMPORT_MAX_UNPACKED_MB", "lots")):
        with pytest.raises(ConfigError, match=name):
            from_env({name: raw})


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_value_past_the_column_limit_is_refused(world, staff, kind):
    rows = [HEAD, data_rows(1)[0] + [""] * 44 + ["第51列"]]
    assert len(rows[1]) == 51
    data = ("\n".join(",".join(r) for r in rows).encode() if kind == "csv"
            else xlsx_with_sheet(row_xml(r).encode() for r in rows))
    before = Household.query.count()
    assert "At most 50 columns per sheet." in upload(staff, f"宽.{kind}", data)
    nothing_imported(world, before)


# ── writing ────────────────────────────────────────────────────────────────────────────────────

def read_back(data):
    """{value: cell} of every text cell in every sheet of an .xlsx (styles included)."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {c.value: c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


def assert_text(cells, value):
    cell = cells[value]
    assert cell.data_type == "s" and cell.value == value
    assert cell.quotePrefix, f"{value!r} would become a formula when edited"


def add_people(world, names):
    for name in names:
        db.session.add(HouseholdMember(household_id=world.households[0].id, name=name, relation="resident"))
    db.session.commit()


def test_formulas_in_names_are_text_in_the_household_export(world, staff, runner, tmp_path):
    add_people(world, FORMULAS)
    db.session.get(Grid, world.grid.id).name = "=cmd"
    db.session.commit()
    r = staff.get("/c/test/structure/export.xlsx")
    assert r.status_code == 200
    path = tmp_path / "out.xlsx"
    result = runner.invoke(args=["residents", "export", str(path), "--community", "test"])
    assert result.exit_code == 0, result.output
    for data in (r.data, path.read_bytes()):
        cells = read_back(data)
        for value in FORMULAS + ["=cmd"]:
            assert_text(cells, value)
        area = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]["E2"]
        assert area.data_type == "n" and area.number_format == "0.00"  # numbers stay numbers


@pytest.mark.plugins("points")
def test_formulas_in_item_names_are_text_in_the_points_report(world, login):
    from plugins.points import services as svc

    svc.adjust(world.community, world.resident, 100, "纸质登记补记", world.admin)
    for name in FORMULAS[:5]:
        it = svc.save_item(world.community, world.staff, {"name": name, "price": 3, "stock": 5})
        svc.redeem(world.community, it, world.resident)
    r = login(world.staff).get("/c/test/points/reports.xlsx")
    assert r.status_code == 200
    cells = read_back(r.data)
    for name in FORMULAS[:5]:
        assert_text(cells, name)
    stock = openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[2]
    assert stock["B2"].value == 3 and stock["B2"].data_type == "n"


def open_case(world):
    from plugins.mediation import services as svc

    return svc.open_case(world.community, world.grid_worker, {
        "source": "grid_report", "category": "noise", "description": "楼上噪音", "grid_id": world.grid.id,
        "building_id": world.building.id, "rights_notified": True, "voluntary_statement": True,
        "parties": [{"role": "applicant", "login": "resident", "consent": "agreed", "pi_consent": "form"}]})


@pytest.mark.plugins("mediation")
def test_formulas_in_grid_names_are_text_in_the_mediation_register(world, login, runner, tmp_path):
    open_case(world)
    db.session.get(Grid, world.grid.id).name = "=HYPERLINK(\"http://127.0.0.1\")"
    db.session.commit()
    r = login(world.mediator).get("/c/test/mediation/stats/register.xlsx")
    assert r.status_code == 200
    path = tmp_path / "register.xlsx"
    result = runner.invoke(args=["mediation", "export", str(path), "--community", "test"])
    assert result.exit_code == 0, result.output
    for data in (r.data, path.read_bytes()):
        assert_text(read_back(data), "=HYPERLINK(\"http://127.0.0.1\")")


def stored_controls():
    nul = "\x00" if db.engine.dialect.name == "sqlite" else ""
    return f"王{nul}{CONTROLS}五"


def cleaned():
    return "王\t\n\n五"  # what XML holds of it (and reads a carriage return as a line feed)


@pytest.mark.plugins("points", "mediation")
def test_control_characters_already_stored_never_break_an_export(world, login, runner, tmp_path):
    from plugins.points import services as svc

    name = stored_controls()
    add_people(world, [name])
    db.session.get(Grid, world.grid.id).name = name
    svc.adjust(world.community, world.resident, 10, "纸质登记补记", world.admin)
    it = svc.save_item(world.community, world.staff, {"name": "毛巾", "price": 3, "stock": 5})
    svc.redeem(world.community, it, world.resident)
    it.name = name
    open_case(world)
    db.session.commit()
    staff = login(world.staff)
    exports = [staff.get("/c/test/structure/export.xlsx"), staff.get("/c/test/points/reports.xlsx"),
               login(world.mediator).get("/c/test/mediation/stats/register.xlsx")]
    assert [r.status_code for r in exports] == [200, 200, 200]
    files = [r.data for r in exports]
    for args in (["residents", "export"], ["mediation", "export"]):
        path = tmp_path / f"{args[0]}.xlsx"
        result = runner.invoke(args=args + [str(path), "--community", "test"])
        assert result.exit_code == 0, result.output
        files.append(path.read_bytes())
    for data in files:
        assert cleaned() in read_back(data)


def test_the_writers_take_any_text():
    """Lone surrogates cannot reach the databases (both drivers refuse them), but text from
    elsewhere can hold one: the writers drop it like any character XML cannot hold."""
    book = Workbook()
    book.create_sheet("名单[1]/?").append(["a\ud800b\x00c\ufffe", 42, None])
    ws = openpyxl.load_workbook(io.BytesIO(book.save())).worksheets[0]
    assert (ws["A1"].value, ws["B1"].value, ws.title) == ("abc", 42, "名单 1")
    text = csv_bytes([["名字", "数"]] + [[f, -2] for f in FORMULAS] + [["a\ud800\x01b", 1.5]]).decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "名字,数"
    for payload, line in zip(FORMULAS, lines[1:]):
        assert line.lstrip('"').startswith("'") and line.endswith(",-2"), line  # text quoted, numbers kept
    assert lines[len(FORMULAS) + 1] == "ab,1.5"
