"""Convening a residents' meeting on request, in a real browser: a request by households is two
supports short of one fifth → a resident supports it from the Votes page → the building head
records the support of an elderly owner without a phone (代办) and the threshold is reached →
staff, told in the app, open it and answer: set up the meeting's ballot (linked to the request),
or reply with reasons. Phone and desktop, zh_Hans (desktop without JavaScript), en and zh_Hant;
the progress is checked with large text on the phone."""
import itertools

import pytest

from tests.browser.conftest import MODULE_RUNS, run_ids

NEEDS_PLUGIN = "voting"
RUNS = MODULE_RUNS
_serial = itertools.count(1)
SEEDED = {}  # run number -> (request id, the person the building head acts for)


def _subject(i):
    return f"地面停车位重新划线（第{i}次提议）"


def seed(community):
    """Per run: a request by households started by 黄先生 (resident4), supported (through staff,
    for people without an account) by as many other households as leave it two short — none in
    the building head's building, nor 吴奶奶's (resident5) household."""
    from core.extensions import db
    from core.models import Household, HouseholdMember, Person, Unit
    from core.services import accounts
    from plugins.voting import convening

    starter, staff, head = (accounts.find_user(x) for x in ("resident4", "staff", "loudongzhang"))
    granny = accounts.find_user("resident5")

    def building_of(user):
        return (db.session.query(Unit.building_id).join(Household, Household.unit_id == Unit.id)
                .join(HouseholdMember, HouseholdMember.household_id == Household.id)
                .filter(HouseholdMember.user_id == user.id).scalar())

    head_building = building_of(head)
    avoid = {h for (h,) in db.session.query(HouseholdMember.household_id).filter(
        HouseholdMember.user_id.in_([starter.id, granny.id]))}
    rows = (db.session.query(Person.id, Household.id, Unit.building_id)
            .join(HouseholdMember, HouseholdMember.person_id == Person.id)
            .join(Household, Household.id == HouseholdMember.household_id).join(Unit, Unit.id == Household.unit_id)
            .filter(Person.community_id == community.id, Person.user_id.is_(None), HouseholdMember.relation == "owner")
            .order_by(Household.id).all())
    used = set()
    for i in range(1, len(RUNS) + 1):
        req = convening.start(community, starter, {"subject": _subject(i), "base": "households",
                                                   "reason": "晚上消防通道常被占用，请居委会召集居民会议讨论停车位划线方案。"})
        need = convening.needed("households", req.base_total)
        elder = next(p for p, h, b in rows if b == head_building and h not in used and h not in avoid)
        used.add(next(h for p, h, b in rows if p == elder))
        for person, household, building in rows:
            if req.progress >= need - 2:
                break
            if building == head_building or household in avoid or household in used:
                continue
            convening.support(req, staff, person_id=person, reason="入户走访时签字支持，社工代为登记")
        assert req.progress == need - 2, (req.progress, need)
        SEEDED[i] = (req.id, elder)


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=run_ids(RUNS))
def test_residents_reach_the_threshold_and_staff_answer(people, site, locale, viewport, js):
    n = next(_serial)
    request_id, elder = SEEDED[n]
    kw = dict(locale=locale, viewport=viewport, js=js)
    detail = f"/c/demo/voting/convening/{request_id}"

    # 吴奶奶 finds the request from the Votes page and supports it.
    granny = people(**kw)
    granny.login("resident5")
    granny.go("/c/demo/")
    granny.menu("/c/demo/voting/")
    granny.submit(granny.page.locator('main a[href$="/voting/convening"]'))
    large = viewport == "phone"
    if large:  # 200 % text: the pages of requests still fit the phone, numbers and words beside the bar
        granny.large_text_checks = True
        granny.submit(granny.page.locator('header form[action="/text-size"] button'))
        assert "large-text" in granny.page.locator("body").get_attribute("class")
    granny.submit(granny.page.locator(f'main a[href$="{detail}"]'))
    progress = granny.page.locator("main progress")
    before = int(progress.get_attribute("value"))
    needed = int(progress.get_attribute("max"))
    assert before == needed - 2
    granny.submit(granny.form(f"{detail}/support").locator('button[type="submit"]').first)
    granny.expect_no_error_flash()
    assert int(granny.page.locator("main progress").get_attribute("value")) == needed - 1
    assert granny.page.locator(f'main form[action$="{detail}/support"] input[name="action"][value="withdraw"]').count() == 1
    # The numbers are written out beside the bar, big: readable with large text on a phone.
    assert str(needed - 1) in granny.page.locator("main .convening-progress .big-number").inner_text()

    # The building head records the support of an elderly owner of their building without a phone.
    head = people(**kw)
    head.login("loudongzhang")
    head.go(detail)
    form = head.page.locator(f'main form.stack[action$="{detail}/support"]')
    head.reveal(form.locator('select[name="person_id"]'))
    form.locator('select[name="person_id"]').select_option(str(elder))
    form.locator('[name="assist_reason"]').fill("老人不会用手机，当面表示支持，楼长代为登记")
    head.submit(form.locator('button[name="action"][value="support"]'))
    head.expect_no_error_flash()
    assert head.page.locator("main #answer").count() == 1, "the threshold should be reached"
    assert head.page.locator("main .badge.ok").count() >= 1

    # Staff are told in the app and answer from the request's page.
    staff = people(**kw)
    staff.login("staff")
    staff.go("/auth/notifications")
    assert staff.page.locator(f'main a[href$="{detail}"]').count() >= 1, "staff should be notified"
    staff.go(detail)
    assert staff.page.locator("main section.card li").count() >= needed  # who supports it
    staff.submit(staff.page.locator(f'main a[href$="{detail}/answer"]'))
    form = staff.page.locator("main form")
    if n % 2:
        staff.submit(form.locator('button[name="action"][value="ballot"]'))
        staff.expect_no_error_flash()
        assert "/c/demo/voting/" in staff.path and "convening" not in staff.path  # the new ballot's page
        ballot_path = staff.path
        staff.go(detail)
        assert staff.page.locator(f'main #answer a[href$="{ballot_path}"]').count() == 1
    else:
        form.locator('[name="reply"]').fill("该事项已列入下月居民代表会议议程，届时一并讨论，欢迎旁听。")
        staff.submit(form.locator('button[name="action"][value="reply"]'))
        staff.expect_no_error_flash()
        assert "居民代表会议" in staff.page.locator("main #answer").inner_text()

    # The residents see the answer.
    granny.go(detail)
    assert granny.page.locator("main #answer").count() == 1
    if large:
        granny.large_text_checks = False
        granny.submit(granny.page.locator('header form[action="/text-size"] button'))
