"""Dates of birth on the register and who is 18 or over (R12–R13, Organic Law Art. 9–10): the
service, the staff page, the API, the import and export, and the list of people without one."""
import html
import io
from datetime import date, datetime, timezone

import pytest

from core.errors import ServiceError
from core.extensions import db
from core.models import AuditEntry, HouseholdMember, Person
from core.services import imports, persons, settings


def page(r):
    return html.unescape(r.get_data(as_text=True))


def person_in(world, name, born=None, year_only=False, household=None):
    household = household or world.households[0]
    m = HouseholdMember(household_id=household.id, name=name, relation="resident")
    db.session.add(m)
    db.session.flush()
    m.person.birth_date, m.person.birth_year_only = born, year_only
    db.session.commit()
    return m.person


@pytest.mark.parametrize("text, expected", [
    ("1990-05-01", (date(1990, 5, 1), False)), ("1990/5/1", (date(1990, 5, 1), False)),
    ("1990.05.01", (date(1990, 5, 1), False)), ("19900501", (date(1990, 5, 1), False)),
    ("1990年5月1日", (date(1990, 5, 1), False)), ("1990-05-01 00:00:00", (date(1990, 5, 1), False)),
    (" 1990 ", (date(1990, 12, 31), True)), ("1990年", (date(1990, 12, 31), True)),
    ("", (None, False)), (None, (None, False)), (date(2000, 2, 29), (date(2000, 2, 29), False)),
])
def test_a_date_of_birth_as_staff_and_sheets_write_it(app, text, expected):
    assert persons.parse_birth_date(text) == expected


@pytest.mark.parametrize("text", ["1990-02-30", "90-05-01", "soon", "1879", "1879-12-31", "3000", "2999-01-01",
                                  "1990-13-01", "12", True])
def test_a_date_of_birth_that_is_none_is_refused_naming_the_field(app, text):
    with pytest.raises(ServiceError) as err:
        persons.parse_birth_date(text, field="birth")
    assert err.value.code == "invalid_birth_date" and "birth" in err.value.fields


@pytest.mark.parametrize("day, cutoff", [
    (date(2026, 12, 7), date(2008, 12, 7)), (date(2026, 3, 1), date(2008, 3, 1)),
    # born on 29 February 2008: 18 on 28 February 2026 (the month's last day, Civil Code Art. 202)
    (date(2026, 2, 28), date(2008, 2, 29)), (date(2028, 2, 29), date(2010, 2, 28)),
    (date(2028, 2, 28), date(2010, 2, 28)),
])
def test_the_last_day_of_birth_of_an_adult(day, cutoff):
    assert persons.adult_cutoff(day) == cutoff


def test_adults_are_18_on_the_day_in_the_communitys_calendar(world):
    on = date(2026, 12, 7)
    today18 = person_in(world, "今天十八", date(2008, 12, 7))
    tomorrow18 = person_in(world, "明天十八", date(2008, 12, 8))
    old = person_in(world, "老人", date(1950, 1, 1))
    year_done = person_in(world, "只知年份", date(2007, 12, 31), year_only=True)
    year_open = person_in(world, "今年满十八", date(2008, 12, 31), year_only=True)
    unknown = person_in(world, "不知生日")
    elsewhere = person_in(world, "别户", date(1980, 1, 1), household=world.households[1])
    ids = [p.id for p in persons.adults(world.community, on)]
    assert today18.id in ids and old.id in ids and year_done.id in ids and elsewhere.id in ids
    assert tomorrow18.id not in ids and year_open.id not in ids and unknown.id not in ids
    # only the people of the households asked about
    scoped = [p.id for p in persons.adults(world.community, on, households={world.households[1].id})]
    assert scoped == [elsewhere.id]
    # a moment is its day in the community's zone: 16:30 UTC on 6 December is 7 December in Beijing
    late = datetime(2026, 12, 6, 16, 30, tzinfo=timezone.utc)
    assert today18.id in [p.id for p in persons.adults(world.community, late)]
    settings.set(world.community, "core", "timezone", "Asia/Urumqi")  # UTC+6: still 6 December
    from core import dates
    dates.forget_zone(world.community)
    assert today18.id not in [p.id for p in persons.adults(world.community, late)]
    # whose age is not known that day: no date, or only the year in which they turn 18
    unsure = {p.id for p in persons.birth_date_unknown(world.community, on)}
    assert {unknown.id, year_open.id} <= unsure
    assert not unsure & {today18.id, tomorrow18.id, old.id, year_done.id, elsewhere.id}
    assert year_open.id not in {p.id for p in persons.birth_date_unknown(world.community, date(2026, 12, 31))}


def test_staff_record_a_date_of_birth_audited(world):
    p = person_in(world, "王阿姨")
    persons.set_birth_date(world.community, p, world.staff, "1961年3月5日")
    assert (p.birth_date, p.birth_year_only, persons.birth_label(p)) == (date(1961, 3, 5), False, "1961-03-05")
    persons.set_birth_date(world.community, p, world.staff, "1961")
    assert persons.birth_label(p) == "1961" and p.birth_year_only
    persons.set_birth_date(world.community, p, world.staff, "")
    assert p.birth_date is None and not p.birth_year_only
    actions = [a.action for a in AuditEntry.query.filter_by(object_type="person", object_id=str(p.id))
               .order_by(AuditEntry.id)]
    assert actions == ["person.birth_date_set", "person.birth_date_set", "person.birth_date_removed"]
    with pytest.raises(ServiceError):
        persons.set_birth_date(world.community, p, world.staff, "1961-02-30")
    db.session.refresh(p)
    assert p.birth_date is None


def test_staff_see_and_edit_the_date_of_birth_on_the_register(world, login):
    p = person_in(world, "王阿姨")
    c = login(world.staff)
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    text = page(c.get(f"/c/test/structure/people/{p.id}"))
    assert "Date of birth" in text and "not recorded" in text
    r = c.post(f"/c/test/structure/people/{p.id}", data={"form": "birth", "birth-birth_date": "1961/3/5"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, p.id).birth_date == date(1961, 3, 5)
    assert "1961-03-05" in page(c.get(f"/c/test/structure/households/{world.households[0].id}"))
    # a wrong date: said on the form, nothing saved
    text = page(c.post(f"/c/test/structure/people/{p.id}", data={"form": "birth", "birth-birth_date": "1961-02-30"}))
    assert "Give the date of birth as 1990-05-01" in text and 'value="1961-02-30"' in text
    db.session.expire_all()
    assert db.session.get(Person, p.id).birth_date == date(1961, 3, 5)
    # a resident sees no dates of birth, and not the list
    resident = login(world.resident)
    assert "1961-03-05" not in page(resident.get(f"/c/test/structure/households/{world.households[0].id}"))
    assert resident.get("/c/test/structure/people/birth-dates").status_code == 403


def test_staff_see_who_has_no_date_of_birth(world, login, api):
    known = person_in(world, "有生日", date(1970, 1, 1))
    unknown = person_in(world, "没生日")
    c = login(world.staff)
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Dates of birth missing" in page(c.get("/c/test/structure/"))
    text = page(c.get("/c/test/structure/people/birth-dates"))
    missing = persons.birth_date_unknown(world.community)
    assert f"{len(missing)} people on the register have no date of birth" in text
    assert "没生日" in text and "有生日" not in text
    data = api(world.staff).get("/api/v1/c/test/persons/birth-date-unknown").get_json()
    assert data["count"] == len(missing) and unknown.id in [i["id"] for i in data["items"]]
    assert known.id not in [i["id"] for i in data["items"]]


def test_the_api_records_a_date_of_birth(world, api):
    p = person_in(world, "王阿姨")
    client = api(world.staff)
    r = client.put(f"/api/v1/c/test/persons/{p.id}/birth-date", json={"birth_date": "1961"})
    assert r.status_code == 200 and r.get_json()["birth_date"] == "1961" and r.get_json()["birth_year_only"]
    r = client.put(f"/api/v1/c/test/persons/{p.id}/birth-date", json={"birth_date": "1961-13-01"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_birth_date"
    assert "birth_date" in r.get_json()["error"]["fields"]
    assert client.put(f"/api/v1/c/test/persons/{p.id}/birth-date", json={"birth_date": 1961}).status_code == 400
    assert client.get(f"/api/v1/c/test/persons/{p.id}").get_json()["birth_date"] == "1961"
    r = api(world.resident).put(f"/api/v1/c/test/persons/{p.id}/birth-date", json={"birth_date": "1970"})
    assert r.status_code == 403


HEAD = ["网格", "楼栋", "单元", "房号", "面积", "姓名", "关系", "出生日期"]


def csv(rows):
    return ("\r\n".join(",".join(r) for r in [HEAD] + rows) + "\r\n").encode("utf-8")


def test_the_import_reads_dates_of_birth_and_the_export_writes_them(world, login):
    rows = [["第一网格", "1号楼", "1单元", "601", "90", "赵大", "业主", "1950-06-01"],
            ["第一网格", "1号楼", "1单元", "601", "90", "赵小", "居民", "2010年"],
            ["第一网格", "1号楼", "1单元", "601", "90", "赵某", "居民", ""],
            ["第一网格", "1号楼", "1单元", "602", "60", "钱二", "业主", "1950-02-30"]]
    checked = imports.check_rows(world.community, imports.read_table("a.csv", csv(rows)))
    assert [bool(r["errors"]) for r in checked] == [False, False, False, True]
    assert "Date of birth “1950-02-30”" in checked[3]["errors"][0]
    imports.import_rows(world.community, world.staff, [r["values"] for r in checked if not r["errors"]],
                        filename="a.csv")
    born = {m.name: (m.person.birth_date, m.person.birth_year_only) for m in HouseholdMember.query.filter(
        HouseholdMember.name.in_(["赵大", "赵小", "赵某"]))}
    assert born == {"赵大": (date(1950, 6, 1), False), "赵小": (date(2010, 12, 31), True), "赵某": (None, False)}
    # again with a corrected date: the person's date changes, an empty cell leaves it alone
    rows[0][7], rows[1][7] = "1950-06-02", ""
    again = imports.check_rows(world.community, imports.read_table("b.csv", csv(rows[:3])))
    counts = imports.import_rows(world.community, world.staff, [r["values"] for r in again], filename="b.csv")
    assert counts["members"] == 0 and counts["updated"] == 1
    db.session.expire_all()
    zhao = HouseholdMember.query.filter_by(name="赵大").one().person
    assert zhao.birth_date == date(1950, 6, 2)
    assert HouseholdMember.query.filter_by(name="赵小").one().person.birth_date == date(2010, 12, 31)
    # the export has the column, as the import reads it
    import openpyxl

    data = login(world.staff).get("/c/test/structure/export.xlsx").data
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    table = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    column = table[0].index("出生日期")
    by_name = {row[7]: row[column] for row in table[1:]}
    assert by_name["赵大"] == "1950-06-02" and by_name["赵小"] == "2010" and by_name["赵某"] in ("", None)


def test_a_copy_of_ones_data_shows_the_date_of_birth_and_erasure_removes_it(world):
    from core.services import personal_data

    p = persons.of_user(world.community, world.resident.id)
    persons.set_birth_date(world.community, p, world.staff, "1980-05-01")
    [section] = personal_data.export(world.resident)["communities"]
    assert section["register_person"][0]["birth_date"] == "1980-05-01"
    summary = personal_data.erase(world.resident, world.staff, "书面申请")
    assert summary["core"]["birth_dates"] == 1
    db.session.expire_all()
    assert db.session.get(Person, p.id).birth_date is None
