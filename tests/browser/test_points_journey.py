"""The points journey in a real browser: staff publish a volunteer activity → a resident signs up
and reports her hours → staff verify them → points in her account → she redeems an item in the
store → staff hand it over at the counter by its pickup code."""
import itertools
import re
from datetime import timedelta

import pytest

from tests.browser.conftest import MODULE_RUNS, local_time, run_ids

NEEDS_PLUGIN = "points"
_serial = itertools.count(1)
VOLUNTEERS = ["resident3", "resident4", "loudongzhang", "wanggeyuan"]


def balance(person):
    person.go("/c/demo/")
    person.menu("/c/demo/points/")
    text = person.page.locator("main .big-number, main .stat-number").first.inner_text()
    return int(re.sub(r"[^\d-]", "", text))


@pytest.mark.parametrize("locale,viewport,js", MODULE_RUNS, ids=run_ids(MODULE_RUNS))
def test_activity_hours_points_redeem_pickup(people, site, locale, viewport, js):
    n = next(_serial)
    kw = dict(locale=locale, viewport=viewport, js=js)
    title = f"楼道清理志愿服务（第{n}场）"

    staff = people(**kw)
    staff.login("staff")
    staff.go("/c/demo/points/activities/new")
    form = staff.page.locator("main form")
    form.locator('[name="title"]').fill(title)
    form.locator('[name="location"]').fill("3号楼")
    form.locator('[name="starts_at"]').fill(local_time(timedelta(hours=-1)))
    form.locator('[name="ends_at"]').fill(local_time(timedelta(hours=2)))
    form.locator('[name="places"]').fill("10")
    form.locator('[name="description"]').fill("清理楼道杂物，带好手套。")
    staff.submit(form.locator('button[type="submit"]'))
    staff.expect_no_error_flash()
    activity = staff.path

    volunteer = people(**kw)
    volunteer.login(VOLUNTEERS[n - 1])
    before = balance(volunteer)
    # Volunteering and the store are one tap from "My points" (and under "More" on the home page),
    # not in the phone's bottom bar.
    assert volunteer.page.locator('nav.main-nav a[href*="/c/demo/points/"]').count() == 1
    volunteer.submit(volunteer.page.locator('main a[href$="/c/demo/points/activities"]'))
    volunteer.submit(volunteer.page.locator("main a", has_text=title).first)
    volunteer.submit(volunteer.page.locator('main form[action$="/signup"] button[type="submit"]').first)
    volunteer.expect_no_error_flash()
    claim = volunteer.page.locator('main form[action$="/claim"]')
    # More hours than the activity lasts (3 hours) are refused with the activity's times; nothing saved.
    claim.locator('[name="hours"]').fill("5")
    claim.locator('[name="content"]').fill("清理了三层楼道的杂物")
    volunteer.submit(claim.locator('button[type="submit"]'))
    refusal = " ".join(volunteer.page.locator(".flash-error, .has-error .error").all_inner_texts())
    assert any(w in refusal for w in ("no more can be claimed", "不能超过活动时长", "不能超過活動時長")), refusal
    claim = volunteer.page.locator('main form[action$="/claim"]')
    assert claim.count() == 1  # still nothing reported: the form is offered again
    claim.locator('[name="hours"]').fill("2")
    claim.locator('[name="content"]').fill("清理了三层楼道的杂物")
    volunteer.submit(claim.locator('button[type="submit"]'))
    volunteer.expect_no_error_flash()

    staff.go(activity)
    staff.submit(staff.page.locator('main form[action$="/verify"] button[type="submit"]').first)
    staff.expect_no_error_flash()

    earned = balance(volunteer)
    assert earned > before, f"verified hours should earn points ({before} → {earned})"

    volunteer.go("/c/demo/")
    volunteer.submit(volunteer.page.locator('main .chips a[href$="/c/demo/points/store"]'))
    volunteer.submit(volunteer.page.locator("main a", has_text="环保购物袋").first)
    redeem = volunteer.page.locator('main form[action$="/redeem"]')
    volunteer.submit(redeem.locator('button[type="submit"]'))
    # redeeming asks first, saying what it costs and the balance afterwards
    confirm = volunteer.page.locator('main form[action$="/redeem"]:has(input[name="confirm"][value="1"])')
    assert confirm.count() == 1, "redeeming asks first"
    assert str(earned) in volunteer.page.locator("main dl.facts").inner_text()
    volunteer.submit(confirm.locator('button[type="submit"]'))
    volunteer.expect_no_error_flash()
    code = volunteer.page.locator("main .big-number").inner_text().strip()
    assert code, "the order page shows the pickup code"
    order = volunteer.path
    assert balance(volunteer) < earned

    staff.go("/c/demo/points/counter")
    hand = staff.page.locator('main form[action$="/counter/handover"]')
    hand.locator('input[name$="code"]').fill(code)
    staff.submit(hand.locator('button[type="submit"]'))
    staff.expect_no_error_flash()
    assert "环保购物袋" in staff.flash()

    volunteer.go(order)
    assert volunteer.page.locator("main .big-number").count() == 0, "a collected order shows no code any more"
