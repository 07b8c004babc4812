"""Importing households and residents from .xlsx and .csv, and exporting them to .xlsx."""
import html
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from core.extensions import db
from core.models import Building, Grid, Household, HouseholdMember, ImportBatch, Unit
from core.services import imports

HEAD = ["网格", "楼栋", "单元", "房号", "面积", "面积来源", "开发商未售", "姓名", "电话", "关系", "户代表"]
GOOD = [
    ["第二网格", "5号楼", "1单元", "101", "89.5", "登记", "", "赵一", "13800000001", "业主", "是"],
    ["第二网格", "5号楼", "1单元", "101", "89.5", "登记", "", "赵二", "", "居民", ""],
    ["第二网格", "5号楼", "2单元", "201", "1,234.56", "实测", "是", "", "", "", ""],
    ["第二网格", "6号楼", "1单元", "0102", "65.25", "合同", "", "钱三", "139-0000-0002", "租户", ""],
]


def csv_bytes(rows, encoding="utf-8"):
    text = "\r\n".join(",".join(f'"{c}"' if "," in str(c) else str(c) for c in row) for row in rows) + "\r\n"
    return text.encode(encoding)


def xlsx_bytes(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def staff(world, login):
    c = login(world.staff)
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def upload(client, filename, data, community="test"):
    return client.post(f"/c/{community}/structure/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def page(r):
    text = html.unescape(r.get_data(as_text=True))
    return text[text.find("<main"):text.find("</main>")]


def token(r):
    m = re.search(r'name="token" value="([^"]+)"', r.get_data(as_text=True))
    return m.group(1) if m else None


def snapshot(community):
    """Everything an import can change, as comparable tuples."""
    rows = (db.session.query(Grid.name, Building.name, Unit.name, Household.room, Household.floor_area,
                             Household.area_source, Household.developer_held)
            .join(Building, Building.grid_id == Grid.id).join(Unit, Unit.building_id == Building.id)
            .join(Household, Household.unit_id == Unit.id).filter(Household.community_id == community.id)
            .order_by(Building.name, Unit.name, Household.room).all())
    people = (db.session.query(Building.name, Unit.name, Household.room, HouseholdMember.name,
                               HouseholdMember.phone, HouseholdMember.relation, HouseholdMember.is_representative)
              .join(Household, HouseholdMember.household_id == Household.id).join(Unit, Household.unit_id == Unit.id)
              .join(Building, Unit.building_id == Building.id).filter(Household.community_id == community.id)
              .order_by(Building.name, Unit.name, Household.room, HouseholdMember.name).all())
    return [tuple(r) for r in rows], [tuple(p) for p in people]


def counts():
    return (Grid.query.count(), Building.query.count(), Unit.query.count(), Household.query.count(),
            HouseholdMember.query.count())


def room(name, building="5号楼"):
    return Household.query.join(Unit).join(Building).filter(Household.room == name, Building.name == building).one()


# --- the page flow -----------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_preview_then_import_a_csv(world, staff, encoding):
    before = counts()
    r = upload(staff, "住户.csv", csv_bytes([HEAD] + GOOD, encoding))
    assert r.status_code == 200
    assert "4 rows are ready; 0 rows have errors." in page(r)
    assert counts() == before  # nothing is saved by the preview
    r = staff.post("/c/test/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "Imported: 3 new households, 3 new people, 0 records updated." in page(r)
    h = room("101")
    assert h.floor_area == Decimal("89.50") and h.unit.building.grid.name == "第二网格"
    big = room("201")
    assert big.floor_area == Decimal("1234.56") and big.area_source == "survey" and big.developer_held
    assert room("0102", "6号楼").area_source == "contract"  # leading zero kept
    people = {m.name: m for m in HouseholdMember.query.filter(HouseholdMember.name.in_(["赵一", "赵二", "钱三"]))}
    assert people["赵一"].relation == "owner" and people["赵一"].is_representative
    assert people["赵一"].phone == "13800000001"
    assert people["赵二"].relation == "resident" and not people["赵二"].is_representative
    assert people["钱三"].relation == "tenant" and people["钱三"].phone == "13900000002"


def test_a_file_with_errors_shows_every_error_and_imports_nothing_without_consent(world, staff):
    rows = [HEAD,
            ["第二网格", "5号楼", "1单元", "101", "89.5", "", "", "甲", "", "业主", ""],        # 2 good
            ["第二网格", "5号楼", "1单元", "102", "89.555", "", "", "乙", "", "业主", ""],      # 3 decimals
            ["第二网格", "5号楼", "1单元", "103", "-3", "", "", "", "", "", ""],               # 4 negative
            ["第二网格", "5号楼", "1单元", "104", "abc", "", "", "", "", "", ""],              # 5 text
            ["第二网格", "5号楼", "1单元", "105", "", "", "", "", "", "", ""],                 # 6 empty
            ["第二网格", "5号楼", "1单元", "106", "1,234.56", "", "", "", "", "房东", ""],      # 7 relation
            ["", "5号楼", "", "107", "50", "", "", "", "", "", ""],                            # 8 grid, unit
            ["第二网格", "5号楼", "1单元", "108", "60", "", "", "丙", "12ab", "", ""],          # 9 phone
            ["第二网格", "5号楼", "1单元", "109", "60", "估计", "", "", "", "", ""],            # 10 source
            ["第二网格", "5号楼", "1单元", "110", "70.10", "", "", "", "", "", ""]]            # 11 good
    before = counts()
    r = upload(staff, "有错.csv", csv_bytes(rows))
    text = page(r)
    assert "2 rows are ready; 8 rows have errors." in text
    expected = {3: "with at most two decimals", 4: "from 0 to 100,000", 5: "Enter the floor area in m², e.g. 89.5.",
                6: "面积 is empty.", 7: "Relation “房东” is not owner, resident or tenant.", 8: "网格 is empty.",
                9: "“12ab” is not a mobile number: a mobile number has 11 digits, this one has 2.", 10: "Area source “估计” is not register"}
    for line, message in expected.items():
        assert re.search(rf"<td>{line}</td>.*?{re.escape(message)}", text, re.S), (line, message)
    assert "单元 is empty." in text
    assert "<td>2</td>" not in text and "<td>11</td>" not in text  # good rows are not listed as errors
    t = token(r)
    r = staff.post("/c/test/structure/import", data={"token": t}, follow_redirects=True)
    assert "The file has 8 rows with errors." in page(r)
    assert "<td>3</td>" in page(r)  # the report is shown again
    assert counts() == before
    r = staff.post("/c/test/structure/import", data={"token": t, "accept_partial": "1"}, follow_redirects=True)
    assert "Imported: 2 new households, 1 new people, 0 records updated." in page(r)
    assert {h.room for h in Household.query.join(Unit).join(Building).filter(Building.name == "5号楼")} == \
        {"101", "110"}
    assert room("110").floor_area == Decimal("70.10")
    # The same batch cannot be imported twice.
    r = staff.post("/c/test/structure/import", data={"token": t, "accept_partial": "1"}, follow_redirects=True)
    assert "This file was already imported." in page(r)
    assert Household.query.join(Unit).join(Building).filter(Building.name == "5号楼").count() == 2


def test_a_file_where_every_row_is_bad_offers_no_import(world, staff):
    r = upload(staff, "全错.csv", csv_bytes([HEAD, ["第二网格", "5号楼", "1单元", "101", "x"]]))
    assert "0 rows are ready; 1 rows have errors." in page(r)
    assert token(r) is None
    batch = ImportBatch.query.one()
    r = staff.post("/c/test/structure/import", data={"token": batch.token, "accept_partial": "1"},
                   follow_redirects=True)
    assert "No row of this file can be imported." in page(r)
    assert Household.query.count() == 4


def test_unknown_token(world, staff):
    r = staff.post("/c/test/structure/import", data={"token": "nope"}, follow_redirects=True)
    assert "This import is unknown or expired; upload the file again." in page(r)


def test_a_batch_belongs_to_its_community(world, staff, login):
    r = upload(staff, "a.csv", csv_bytes([HEAD] + GOOD))
    outsider = login(world.outsider)
    outsider.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert outsider.post("/c/test/structure/import", data={"token": token(r)}).status_code == 403
    r = outsider.post("/c/other/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "unknown or expired" in page(r)
    assert Household.query.filter_by(community_id=world.other.id).count() == 0


@pytest.mark.parametrize("filename,data,message", [
    ("住户.txt", b"a,b,c\n", "Upload an .xlsx or .csv file."),
    ("住户.xls", b"\xd0\xcf\x11\xe0", "Old Excel files (.xls) cannot be read. Save the file as .xlsx and retry."),
    ("住户.xlsx", b"not a zip file", "This .xlsx file cannot be read."),
    ("住户.csv", b"", "The file is empty."),
    ("住户.csv", b"\r\n,,\r\n", "The file is empty."),
    ("住户.csv", "网格,楼栋,单元,房号,面积\r\n".encode(), "The file has no data rows."),
    ("住户.csv", b"\xff\xfe\xff\xfe\x80\x80", "The CSV file is neither UTF-8 nor GBK."),
    ("住户.csv", "姓名,电话\r\n张三,1\r\n".encode(), "missing: 网格, 楼栋, 单元, 房号, 面积"),
    ("住户.csv", "网格,楼栋,单元,房号,姓名\r\n一,1,1,1,张\r\n".encode(), "missing: 面积"),
    ("住户.csv", "网格,楼栋,单元,房号,面积,面積\r\n一,1,1,1,1,1\r\n".encode(), "The column 面积 appears twice."),
])
def test_unusable_files_are_refused_with_a_clear_message(world, staff, filename, data, message):
    before = counts()
    r = upload(staff, filename, data)
    assert r.status_code == 200
    assert message in page(r)
    assert token(r) is None
    assert counts() == before
    assert ImportBatch.query.count() == 0


def test_empty_xlsx(world, staff):
    r = upload(staff, "空.xlsx", xlsx_bytes([]))
    assert "The file is empty." in page(r)


def test_no_file_chosen(world, staff):
    r = staff.post("/c/test/structure/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 200 and "Choose a file." in page(r)


def test_row_limit(world, staff, app):
    app.config["LINLI_IMPORT_MAX_ROWS"] = 3
    rows = [HEAD] + [["第二网格", "5号楼", "1单元", str(100 + i), "50"] for i in range(4)]
    r = upload(staff, "大.csv", csv_bytes(rows))
    assert "At most 3 rows per file." in page(r)
    r = upload(staff, "大.xlsx", xlsx_bytes(rows))
    assert "At most 3 rows per file." in page(r)
    assert ImportBatch.query.count() == 0
    r = upload(staff, "刚好.csv", csv_bytes(rows[:4]))
    assert "3 rows are ready; 0 rows have errors." in page(r)


def test_a_csv_quoted_against_formulas_imports_the_names_as_they_were(world, staff):
    """Exports (ours and many other systems') put an apostrophe before a cell that starts like a
    formula; importing such a file gives back the name itself."""
    rows = [HEAD, ["第二网格", "5号楼", "1单元", "101", "50", "", "", "'=1+1", "", "", ""],
            ["第二网格", "5号楼", "1单元", "101", "50", "", "", "'-2", "", "", ""],
            ["第二网格", "5号楼", "1单元", "101", "50", "", "", "'李", "", "", ""]]
    r = upload(staff, "quoted.csv", csv_bytes(rows))
    staff.post("/c/test/structure/import", data={"token": token(r)})
    names = ["=1+1", "-2", "'李", "'=1+1", "'-2"]
    assert {m.name for m in HouseholdMember.query.filter(HouseholdMember.name.in_(names))} == {"=1+1", "-2", "'李"}


# --- checking rows -----------------------------------------------------------------------------

def check(world, rows):
    return imports.check_rows(world.community, rows)


def test_excel_numbers_are_read_exactly(world, staff):
    rows = [HEAD,
            ["第二网格", "5号楼", "1单元", 101, 89.5, "", "", "孙四", 13800138000, "业主", "是"],
            ["第二网格", "5号楼", "1单元", 102, 65.25, "", "", "", None, None, None],
            ["第二网格", "5号楼", "1单元", 103, 120, "", "", "", None, None, None],
            ["第二网格", "5号楼", "1单元", 104, 89.55, "", "", "", None, None, None],
            ["第二网格", "5号楼", "1单元", 105, 0.1 + 0.2, "", "", "", None, None, None],
            ["第二网格", "5号楼", "1单元", 106, 89.5000001, "", "", "", None, None, None],
            ["第二网格", "5号楼", "1单元", 107.0, 60.0, "", "", "周五", 13800138001.0, "", ""],
            ["第二网格", "5号楼", "1单元", 108, 89.5 + 1e-14, "", "", "", None, None, None],
            ["第二网格", "5号楼", "1单元", 109, 89.555, "", "", "", None, None, None],
            ["第二网格", "5号楼", "1单元", 110, 123.45, "", "", "", None, None, None]]
    data = xlsx_bytes(rows)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<v>89.50000000000001</v>" in sheet  # float noise, as a formula's result would leave it
    r = upload(staff, "数字.xlsx", data)
    text = page(r)
    assert "8 rows are ready; 2 rows have errors." in text
    assert re.search(r"<td>7</td>.*?89\.5000001.*?at most two decimals", text, re.S)
    assert re.search(r"<td>10</td>.*?89\.555.*?at most two decimals", text, re.S)
    staff.post("/c/test/structure/import", data={"token": token(r), "accept_partial": "1"})
    assert room("101").floor_area == Decimal("89.50")
    assert room("102").floor_area == Decimal("65.25")
    assert room("103").floor_area == Decimal("120.00")
    assert room("104").floor_area == Decimal("89.55")
    assert room("105").floor_area == Decimal("0.30")
    assert room("108").floor_area == Decimal("89.50")
    assert room("110").floor_area == Decimal("123.45")
    assert HouseholdMember.query.filter_by(name="孙四").one().phone == "13800138000"
    assert HouseholdMember.query.filter_by(name="周五").one().phone == "13800138001"
    assert room("107").floor_area == Decimal("60.00")


def test_a_building_under_two_grids(world):
    rows = [HEAD[:5],
            ["第二网格", "5号楼", "1单元", "101", "50"],
            ["第三网格", "5号楼", "1单元", "102", "50"],
            ["第三网格", "1号楼", "1单元", "109", "50"]]  # 1号楼 is in 第一网格 already
    result = check(world, rows)
    assert result[0]["errors"] == []
    assert result[1]["errors"] == ["Building 5号楼 belongs to grid 第二网格, not 第三网格."]
    assert result[2]["errors"] == ["Building 1号楼 belongs to grid 第一网格, not 第三网格."]


def test_a_row_without_grid_does_not_hide_a_building_under_two_grids(world):
    rows = [HEAD[:5],
            ["", "5号楼", "1单元", "100", "50"],
            ["第二网格", "5号楼", "1单元", "101", "50"],
            ["第三网格", "5号楼", "1单元", "102", "50"]]
    result = check(world, rows)
    assert result[0]["errors"] == ["网格 is empty."]
    assert result[1]["errors"] == []
    assert result[2]["errors"] == ["Building 5号楼 belongs to grid 第二网格, not 第三网格."]


def test_the_same_room_with_two_areas(world):
    rows = [HEAD[:8],
            ["第二网格", "5号楼", "1单元", "101", "89.5", "", "", "甲"],
            ["第二网格", "5号楼", "1单元", "101", "89.50", "", "", "乙"],  # same area, other spelling
            ["第二网格", "5号楼", "1单元", "101", "90", "", "", "丙"],
            ["第二网格", "5号楼", "2单元", "101", "90", "", "", "丁"]]    # another unit: another room
    result = check(world, rows)
    assert [r["errors"] for r in result] == [[], [], ["Room 101 has two different areas in this file."], []]


def test_people_and_representatives_are_not_doubled(world):
    rows = [HEAD,
            ["第二网格", "5号楼", "1单元", "101", "89.5", "", "", "甲", "13800000001", "业主", "是"],
            ["第二网格", "5号楼", "1单元", "101", "89.5", "", "", "甲", "13800000001", "业主", ""],
            ["第二网格", "5号楼", "1单元", "101", "89.5", "", "", "乙", "", "业主", "是"],
            ["第二网格", "5号楼", "1单元", "101", "89.5", "", "", "", "13800000009", "", ""],
            ["第二网格", "5号楼", "1单元", "101", "89.5", "", "也许", "", "", "", ""],
            ["第二网格", "5号楼", "1单元", "101", "89.5", "", "", "丙", "1" * 21, "", ""]]
    errors = [r["errors"] for r in check(world, rows)]
    assert errors[0] == []
    assert errors[1] == ["This person is listed twice for the same room."]
    assert errors[2] == ["Room 101 has more than one household representative in this file."]
    assert errors[3] == ["姓名 is empty."]
    assert errors[4] == ["开发商未售 should be 是 or empty, not “也许”."]
    assert errors[5] == [f"“{'1' * 21}” is not a mobile number: a mobile number has 11 digits, this one has 21."]


def test_too_long_names_are_errors_not_crashes(world, staff):
    rows = [HEAD[:8], ["网" * 81, "楼" * 81, "单" * 41, "1" * 21, "50", "", "", "名" * 81]]
    r = upload(staff, "长.csv", csv_bytes(rows))
    text = page(r)
    for column, n in (("网格", 80), ("楼栋", 80), ("单元", 40), ("房号", 20), ("姓名", 80)):
        assert f"{column} is longer than {n} characters." in text


@pytest.mark.parametrize("head", [
    ["網格", "樓棟", "單元", "房號", "面積", "面積來源", "開發商未售", "姓名", "電話", "關係", "戶代表"],
    ["Grid", "Building", "Unit", "Room", "Floor area (m²)", "Area source", "Developer held", "Name", "Phone",
     "Relation", "Representative"],
    ["网格", "楼号", "单元", "门牌号", "建筑面积（㎡）", "面积来源", "开发商未售", "姓名", "联系电话", "身份", "户代表"],
])
def test_traditional_english_and_office_headings(world, staff, head):
    words = {"網格": ["業主", "登記", "是"], "Grid": ["owner", "register", "yes"]}.get(head[0], ["业主", "登记", "是"])
    rows = [head, ["第二网格", "5号楼", "1单元", "101", "89.5", words[1], "", "甲", "13800000001", words[0], words[2]]]
    r = upload(staff, "h.csv", csv_bytes(rows))
    assert "1 rows are ready; 0 rows have errors." in page(r)
    staff.post("/c/test/structure/import", data={"token": token(r)})
    m = HouseholdMember.query.filter_by(name="甲").one()
    assert (m.relation, m.is_representative, m.phone) == ("owner", True, "13800000001")
    assert m.household.floor_area == Decimal("89.50")


def test_a_title_row_above_the_headings(world, staff):
    rows = [["幸福社区住户登记表（2026年）"], [], HEAD[:5], ["第二网格", "5号楼", "1单元", "101", "abc"]]
    r = upload(staff, "t.xlsx", xlsx_bytes(rows))
    assert re.search(r"<td>4</td>.*?Enter the floor area", page(r), re.S)  # the line as Excel numbers it


def test_tab_separated_csv(world, staff):
    data = "\r\n".join("\t".join(r) for r in [HEAD[:5], ["第二网格", "5号楼", "1单元", "101", "1,234.56"]]).encode()
    r = upload(staff, "tab.csv", data)
    assert "1 rows are ready; 0 rows have errors." in page(r)


# --- re-imports and updates --------------------------------------------------------------------

def test_importing_the_same_file_twice_adds_nothing(world, staff):
    data = xlsx_bytes([HEAD] + GOOD)
    staff.post("/c/test/structure/import", data={"token": token(upload(staff, "a.xlsx", data))})
    first = snapshot(world.community), counts()
    r = upload(staff, "a.xlsx", data)
    assert "4 rows are ready; 0 rows have errors." in page(r)
    r = staff.post("/c/test/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "Imported: 0 new households, 0 new people, 0 records updated." in page(r)
    assert (snapshot(world.community), counts()) == first


def test_a_new_area_for_a_known_room_is_shown_and_applied(world, staff):
    rows = [HEAD[:5] + ["面积来源"], ["第一网格", "1号楼", "1单元", "101", "90", "实测"],
            ["第一网格", "1号楼", "1单元", "102", "120", ""]]
    r = upload(staff, "new-area.csv", csv_bytes(rows))
    assert "Floor area changes from 89.50 to 90.00 m²." in page(r)
    r = staff.post("/c/test/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "Imported: 0 new households, 0 new people, 1 records updated." in page(r)
    db.session.expire_all()
    h = db.session.get(Household, world.households[0].id)
    assert (h.floor_area, h.area_source) == (Decimal("90.00"), "survey")
    assert db.session.get(Household, world.households[1].id).area_source == "register"  # empty cell: kept


# --- export ------------------------------------------------------------------------------------

def read_xlsx(data):
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def test_export_has_the_import_columns(world, staff):
    db.session.add(HouseholdMember(household_id=world.households[2].id, name="=HYPERLINK(\"x\")", relation="tenant"))
    db.session.get(Household, world.households[2].id).developer_held = True
    db.session.commit()
    r = staff.get("/c/test/structure/export.xlsx")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "test-households.xlsx" in r.headers["Content-Disposition"]
    rows = read_xlsx(r.data)
    assert rows[0] == HEAD + ["出生日期"]
    by_room = {}
    for row in rows[1:]:
        by_room.setdefault(row[3], []).append(row)
    assert by_room["101"][0][:5] == ["第一网格", "1号楼", "1单元", "101", 89.5]
    assert by_room["101"][0][7:] == ["居民甲", None, "业主", None, None]
    assert ["=HYPERLINK(\"x\")", None, "租户", None, None] in [row[7:] for row in by_room["103"]]
    assert by_room["103"][0][6] == "是"
    assert len(by_room["104"]) == 1


def test_export_then_import_round_trips(world, staff, login, runner):
    from core.services import structure

    h = world.households[1]
    structure.add_household_member(world.community, h, None, name="吴六", phone="13900000006", relation="tenant",
                                   is_representative=True)
    structure.add_household_member(world.community, h, None, name="=1+1", relation="resident")
    h3 = structure.save_household(world.community, None, unit=world.unit, room="0105", floor_area="1,234.56",
                                  area_source="contract", developer_held=True)
    assert h3.floor_area == Decimal("1234.56")
    data = staff.get("/c/test/structure/export.xlsx").data
    original = snapshot(world.community)
    # Into the same community: nothing new, nothing changed.
    r = upload(staff, "export.xlsx", data)
    assert "7 rows are ready; 0 rows have errors." in page(r)
    r = staff.post("/c/test/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "Imported: 0 new households, 0 new people, 0 records updated." in page(r)
    assert snapshot(world.community) == original
    # Into another community: the same register.
    outsider = login(world.outsider)
    outsider.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = upload(outsider, "export.xlsx", data, community="other")
    r = outsider.post("/c/other/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "Imported: 5 new households" in page(r)
    assert snapshot(world.other) == original


def test_an_old_preview_expires(world, staff):
    from datetime import timedelta

    from core.models import utcnow

    r = upload(staff, "a.csv", csv_bytes([HEAD] + GOOD))
    old = token(r)
    ImportBatch.query.filter_by(token=old).update({"created_at": utcnow() - timedelta(days=3)})
    db.session.commit()
    r = staff.post("/c/test/structure/import", data={"token": old}, follow_redirects=True)
    assert "This import is unknown or expired; upload the file again." in page(r)
    assert Household.query.count() == 4
    upload(staff, "b.csv", csv_bytes([HEAD] + GOOD))  # a new preview clears the old one away
    assert ImportBatch.query.filter_by(token=old).first() is None


def test_an_edited_export_updates_the_register(world, staff):
    data = staff.get("/c/test/structure/export.xlsx").data
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=2):
        if row[3].value == "102":
            row[4].value = 121.5       # area
            row[9].value = "租户"       # relation of 居民乙
            row[6].value = "是"         # developer held
    out = io.BytesIO()
    wb.save(out)
    r = upload(staff, "edited.xlsx", out.getvalue())
    assert "Floor area changes from 120.00 to 121.50 m²." in page(r)
    r = staff.post("/c/test/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "Imported: 0 new households, 0 new people, 2 records updated." in page(r)
    db.session.expire_all()
    h = db.session.get(Household, world.households[1].id)
    assert (h.floor_area, h.developer_held) == (Decimal("121.50"), True)
    assert [m.relation for m in h.members] == ["tenant"]
    assert db.session.get(Household, world.households[0].id).floor_area == Decimal("89.50")


def test_headings_far_below_the_top_are_not_guessed(world):
    table = [[] for _ in range(12)] + [HEAD[:5], ["第二网格", "5号楼", "1单元", "101", "50"]]
    with pytest.raises(imports.ServiceError) as err:
        imports.check_rows(world.community, table)
    assert err.value.code == "missing_columns"


def test_a_phone_number_added_later_does_not_double_the_person(world, staff):
    rows = [HEAD, ["第一网格", "1号楼", "1单元", "101", "89.50", "", "", "居民甲", "13800000099", "业主", ""]]
    r = upload(staff, "phones.csv", csv_bytes(rows))
    r = staff.post("/c/test/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "Imported: 0 new households, 0 new people, 1 records updated." in page(r)
    people = HouseholdMember.query.filter_by(household_id=world.households[0].id).all()
    assert [(m.name, m.phone, m.user_id) for m in people] == [("居民甲", "13800000099", world.resident.id)]
    # Without the number again: still the same person, number kept.
    rows[1][8] = ""
    r = upload(staff, "phones.csv", csv_bytes(rows))
    r = staff.post("/c/test/structure/import", data={"token": token(r)}, follow_redirects=True)
    assert "Imported: 0 new households, 0 new people, 0 records updated." in page(r)
    assert HouseholdMember.query.filter_by(household_id=world.households[0].id).one().phone == "13800000099"
