"""Acting for a resident without an account, in a real browser (issue 20): the building head opens
"替不会用手机的居民操作？" on a proposal, picks an elderly resident of his building from the register
(she has no phone, no account), gives a reason and seconds for her; the count rises, the second is
hers, his own second is still his to give, and staff read in the audit log who did it, for whom
and why. Phone in zh_Hans with JavaScript, desktop in en without."""
import itertools

import pytest

RUNS = [("zh_Hans", "phone", True), ("en", "desktop", False)]
RESIDENTS = ["钱桂芳", "钱秀兰"]  # one per run, on the register of the building head's building, no account
REASONS = ["老人不会用手机，上门听取意见后代为附议", "She has no phone; I asked her at home"]
_serial = itertools.count(0)


def _title(i):
    return f"单元门口加装休息座椅（{i + 1}）"


def seed(community):
    """Per run: an elderly resident without an account in the building head's building, and an
    open proposal by another resident with no seconds yet."""
    from core.extensions import db
    from core.models import Household, HouseholdMember, Membership, Unit
    from core.services import accounts, proposals

    head = accounts.find_user("loudongzhang")
    building_id = Membership.query.filter_by(user_id=head.id, community_id=community.id).one().building_id
    household = (Household.query.join(Unit, Unit.id == Household.unit_id)
                 .filter(Unit.building_id == building_id).order_by(Household.id).offset(1).first())
    author = accounts.find_user("resident3")
    for i, name in enumerate(RESIDENTS):
        db.session.add(HouseholdMember(household_id=household.id, name=name, relation="resident"))
        db.session.commit()
        proposals.create(community, author, {"title": _title(i), "body": "单元门口没有座椅，老人买菜回来没处歇脚。",
                                             "category": "facilities", "scope": "community"})


def ids(runs):
    return [f"{loc}-{vp}" + ("" if js else "-nojs") for loc, vp, js in runs]


def _count(person):
    return person.page.locator("main .seconds .big-number").inner_text().split("/")[0].strip()


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=ids(RUNS))
def test_building_head_seconds_for_a_resident_without_account(people, site, locale, viewport, js):
    n = next(_serial)
    resident, reason, title = RESIDENTS[n], REASONS[n], _title(n)
    head = people(locale=locale, viewport=viewport, js=js)
    head.login("loudongzhang")
    head.go("/c/demo/proposals/?state=open")
    head.submit(head.page.locator("main a", has_text=title).first)
    proposal_url = head.path
    assert _count(head) == "0"

    form = head.page.locator('main .seconds form:has(details.assist)')
    picker = head.reveal(form.locator('select[name="person_id"]'))
    option = picker.locator("option", has_text=resident)
    assert option.count() == 1  # listed by room, from the register of his building
    picker.select_option(option.get_attribute("value"))
    form.locator('input[name="assist_reason"]').fill(reason)
    head.submit(form.locator('button[type="submit"]'))
    head.expect_no_error_flash()
    assert head.path.startswith(proposal_url) and _count(head) == "1"

    # His own second is still his to give.
    own = head.page.locator('main .seconds form:not(:has(details.assist)) button[type="submit"]')
    assert own.count() == 1
    head.submit(own)
    head.expect_no_error_flash()
    assert _count(head) == "2"

    # Staff read who did it, for whom and why.
    staff = people(locale=locale, viewport=viewport, js=js)
    staff.login("admin")
    staff.go("/c/demo/admin/audit?action=proposal.seconded")
    rows = staff.page.locator("main table.audit > tbody > tr")
    helped = rows.filter(has_text=resident)
    assert helped.count() == 1
    text = helped.inner_text()
    assert "赵楼长" in text and reason in text
    # ... and his own second, for nobody else (two entries per run: the server serves every run).
    assert rows.filter(has_text="赵楼长").count() == 2 * (n + 1)
    assert rows.filter(has_text="赵楼长").filter(has=staff.page.locator(".assisted")).count() == n + 1
