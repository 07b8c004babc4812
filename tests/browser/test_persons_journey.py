"""One person, one head, in a real browser: staff set to open an owners' ballot are warned that two
owners of one name may be one person entered twice, resolve it on Possible duplicates (merge),
go back to the ballot and open it; the roll then has that owner once, with both flats. Phone in
zh_Hans with JavaScript, desktop in en without."""
import itertools
from datetime import timedelta
from decimal import Decimal

import pytest

NEEDS_PLUGIN = "voting"
RUNS = [("zh_Hans", "phone", True), ("en", "desktop", False)]
NAMES = ["王伟", "张伟"]  # one common name per run, so that the runs do not see each other's people
_serial = itertools.count(0)


def _title(i):
    return f"续聘物业服务企业（{i + 1}号议题）"


def seed(community):
    """Per run: a building whose two flats have owners of one name (no phone, no account), a third
    owner, and an owners' ballot on that building whose notice went up 16 days ago."""
    from core.extensions import db
    from core.models import Building, Grid, Household, HouseholdMember, Unit, utcnow
    from core.services import accounts
    from plugins.voting import services

    staff = accounts.find_user("staff")
    grid = Grid.query.filter_by(community_id=community.id).order_by(Grid.id).first()
    for i, name in enumerate(NAMES):
        building = Building(community_id=community.id, grid_id=grid.id, name=f"{90 + i}号楼")
        db.session.add(building)
        db.session.flush()
        unit = Unit(building_id=building.id, name="1单元")
        db.session.add(unit)
        db.session.flush()
        for room, area, owner in (("101", "70.00", name), ("102", "55.50", name), ("103", "80.00", "李娜")):
            h = Household(community_id=community.id, unit_id=unit.id, room=room, floor_area=Decimal(area))
            db.session.add(h)
            db.session.flush()
            db.session.add(HouseholdMember(household_id=h.id, name=owner, relation="owner", is_representative=True))
        db.session.flush()
        b = services.create(community, staff, {"title": _title(i), "unit": "owners", "matter_class": "ordinary",
                                               "scope": "building", "building_id": building.id, "days": 10})
        services.publish_notice(b, staff, at=utcnow() - timedelta(days=16))
    db.session.commit()


def ids(runs):
    return [f"{loc}-{vp}" + ("" if js else "-nojs") for loc, vp, js in runs]


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=ids(RUNS))
def test_staff_resolve_a_possible_duplicate_before_opening_an_owners_ballot(people, site, locale, viewport, js):
    n = next(_serial)
    name, title = NAMES[n], _title(n)
    staff = people(locale=locale, viewport=viewport, js=js)
    staff.login("staff")
    staff.go("/c/demo/voting/")
    staff.submit(staff.page.locator("main a", has_text=title).first)
    ballot_url = staff.path

    # Opening warns: two owners called {name} may be one person.
    staff.submit(staff.page.locator('main form[action$="/open"] button[type="submit"]'))
    warning = staff.page.locator("main").inner_text()
    assert name in warning and staff.page.locator('main input[name="confirm_duplicates"]').count() == 1
    assert "/open" in staff.path  # not opened: still the confirmation page

    # Possible duplicates: staff checked the property certificates, it is one owner.
    staff.submit(staff.page.locator('main a[href*="/structure/people/duplicates"]'))
    duplicates_url = staff.path
    group = staff.page.locator("main section.card", has=staff.page.locator("h2", has_text=name))
    assert group.locator('input[name="person_id"]').count() == 2
    # One of them, on their own page: where they are on the register, and the identity document
    # form with why it is asked.
    staff.submit(group.locator('a[href*="/structure/people/"]').first)
    assert staff.page.locator('main input[name="id-id_number"]').count() == 1
    assert staff.page.locator("main table tbody tr", has_text=name).count() == 1
    staff.go(duplicates_url)
    group = staff.page.locator("main section.card", has=staff.page.locator("h2", has_text=name))
    assert group.locator('input[name="person_id"]:checked').count() == 2
    staff.submit(group.locator('button[value="merge"]'))
    staff.expect_no_error_flash()
    assert staff.page.locator(".flash-success").count() >= 1
    assert staff.page.locator("main h2", has_text=name).count() == 0

    # Back to the ballot, which now opens at once.
    staff.submit(staff.page.locator(f'main a[href$="{ballot_url}"]').first)
    staff.submit(staff.page.locator('main form[action$="/open"] button[type="submit"]'))
    staff.expect_no_error_flash()
    assert staff.page.locator(".flash-success").count() >= 1 and staff.path == ballot_url

    # The roll: the owner once, with both flats and their areas summed; 李娜 apart.
    staff.go(ballot_url + "/electorate")
    rows = staff.page.locator("main table tbody tr")
    assert rows.count() == 2
    owner_row = staff.page.locator("main table tbody tr", has_text=name)
    assert owner_row.count() == 1
    text = owner_row.inner_text()
    assert "101" in text and "102" in text and "125.5" in text
