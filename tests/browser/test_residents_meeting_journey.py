"""A residents' meeting (居民会议, R12) in a real browser: staff set up a ballot of one building's
household representatives on the ballot form → the representatives vote (two yes, two abstain)
→ staff close and count → the result shows the quorum met (4 of 4 present) and the decision not
taken: 2 yes of the 4 present is not more than half, because abstaining counts as present."""
import itertools
from datetime import datetime, timedelta

import pytest

from tests.browser.conftest import run_ids

NEEDS_PLUGIN = "voting"
RUNS = [("zh_Hans", "phone", True), ("en", "desktop", False)]
VOTERS = ("resident1", "resident2", "resident3", "wanggeyuan")
_serial = itertools.count(1)


def _building(i):
    return f"{90 + i}号楼"


def seed(community):
    """Per run, a building of four households whose representatives are four verified residents
    of the demo (their persons on the register, so their accounts vote for the household)."""
    from core.extensions import db
    from core.models import Building, Grid, Household, HouseholdMember, Unit
    from core.services import accounts, persons

    grid = Grid.query.filter_by(community_id=community.id).order_by(Grid.id).first()
    for i in range(1, len(RUNS) + 1):
        b = Building(community_id=community.id, grid_id=grid.id, name=_building(i))
        db.session.add(b)
        db.session.flush()
        unit = Unit(building_id=b.id, name="1单元")
        db.session.add(unit)
        db.session.flush()
        for n, login in enumerate(VOTERS, start=1):
            h = Household(community_id=community.id, unit_id=unit.id, room=f"10{n}", floor_area="80.00")
            db.session.add(h)
            db.session.flush()
            user = accounts.find_user(login)
            person = persons.of_user(community, user.id)
            db.session.add(HouseholdMember(household_id=h.id, name=person.label, relation="owner",
                                           is_representative=True, person_id=person.id, user_id=user.id))
    db.session.commit()


def vote(person, ballot_url, choice):
    person.go(ballot_url)
    form = person.page.locator('main form[action$="/vote"]')
    form.locator(f'label:has(input[name="choice"][value="{choice}"])').first.click()
    person.submit(form.locator('button[type="submit"]'))
    person.expect_no_error_flash()


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=run_ids(RUNS))
def test_a_meeting_of_household_representatives_decides_on_those_present(people, site, locale, viewport, js):
    n = next(_serial)
    kw = dict(locale=locale, viewport=viewport, js=js)
    title = f"楼道加装扶手（第{n}次居民会议）"

    staff = people(**kw)
    staff.login("staff")
    staff.go("/c/demo/voting/new")
    form = staff.page.locator("main form")
    form.locator('[name="title"]').fill(title)
    form.locator('[name="method"]').select_option("majority")
    form.locator('[name="rule"]').select_option("residents_meeting")
    form.locator('[name="electorate_mode"]').select_option("households")
    form.locator('[name="scope"]').select_option("building")
    building = form.locator('[name="building_id"] option', has_text=_building(n)).first.get_attribute("value")
    form.locator('[name="building_id"]').select_option(building)
    closes = (datetime.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    form.locator('[name="closes_at"]').fill(closes)
    staff.submit(form.locator('button[type="submit"]').last)
    staff.expect_no_error_flash()
    ballot_url = staff.path
    assert staff.page.locator("main .badge.state-voting").count() >= 1, "the ballot should be open"
    meeting = staff.page.locator("#residents-meeting")
    assert meeting.count() == 1
    assert {"zh_Hans": "每户派一名代表", "en": "One representative of each household"}[locale] in meeting.inner_text()

    # The four household representatives vote: two yes, two abstain.
    for login, choice in zip(VOTERS, ("yes", "yes", "abstain", "abstain")):
        voter = people(**kw)
        voter.login(login)
        vote(voter, ballot_url, choice)
        voter.close()

    # Staff close and count (closing asks first).
    staff.go(ballot_url)
    close = staff.page.locator('main form[action$="/close"]')
    close.locator('[name="reason"]').fill("会议表决结束")
    staff.submit(close.locator('button[type="submit"]'))
    confirm = staff.page.locator('main form[action$="/close"]')
    staff.submit(confirm.locator('button[type="submit"]').first)
    staff.expect_no_error_flash()

    # The result: quorum met (4 of 4 present), the decision not taken (2 of the 4 present).
    result = staff.page.locator("#result")
    text = result.inner_text()
    labels = {"zh_Hans": ("法定人数", "决定：到会人员过半数赞成"),
              "en": ("Quorum (of the electorate)", "Decision: yes from more than half of those present")}[locale]
    for label in labels:
        assert label in text, text
    items = result.locator("li", has_text=labels[1])
    assert items.locator(".badge.off").count() == 1, items.inner_text()
    quorum = result.locator("li", has_text=labels[0])
    assert quorum.locator(".badge.ok").count() == 1, quorum.inner_text()
    assert "50.00%" in items.inner_text() and "100.00%" in quorum.inner_text()
