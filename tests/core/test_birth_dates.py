"""Dates of birth on the register and who is 18 or over (R12–R13, Organic Law Art. 9–10): the
service, the staff page, the API, the import and export, and the list of people without one."""
import html
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from core.errors import ServiceError
from core.extensions import db
from core.models import AuditEntry, Household, HouseholdMember, Person
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
