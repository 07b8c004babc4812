"""The meetings journey in a real browser: staff schedule a joint meeting (the delegates are
invited) → put a proposal and a topic on the agenda → record attendance → record a resolution with
an action item → close the meeting → write the minutes → each organisation approves → published,
and a resident reads them."""
import itertools
import re
from datetime import timedelta

import pytest

from tests.browser.conftest import MODULE_RUNS, local_date, run_ids

NEEDS_PLUGIN = "meetings"
_serial = itertools.count(1)


@pytest.mark.parametrize("locale,viewport,js", MODULE_RUNS, ids=run_ids(MODULE_RUNS))
def test_invitation_agenda_attendance_resolution_minutes(people, site, locale, viewport, js):
    n = next(_serial)
    kw = dict(locale=locale, viewport=viewport, js=js)
    title = f"四方联席会议专题会（第{n}次）"

    staff = people(**kw)
    staff.login("staff")
    staff.go("/c/demo/")
    staff.menu("/c/demo/meetings/")
    staff.submit(staff.page.locator('main a[href*="/meetings/bodies/"]').first)
    staff.submit(staff.page.locator('main a[href$="/schedule"]'))
    form = staff.page.locator("main form")
    form.locator('[name="title"]').fill(title)
    form.locator('[name="date"]').fill(local_date(timedelta(days=10 + n)))
    form.locator('[name="time"]').select_option("19:00")
    form.locator('[name="duration"]').select_option("120")
    form.locator('[name="place"]').fill("社区党群服务中心")
    staff.submit(form.locator('button[type="submit"]').first)
    staff.expect_no_error_flash()
    assert re.search(r"/c/demo/meetings/\d+$", staff.path), staff.path
    meeting = staff.path

    topic = staff.reveal(staff.page.locator('main form[action$="/agenda"]:has(input[name="kind"][value="free"])'))
    topic.locator('[name="title"]').fill("楼道堆物清理")
    staff.submit(topic.locator('button[type="submit"]'))
    staff.expect_no_error_flash()
    prop = staff.page.locator('main form[action$="/agenda"]:has(input[name="kind"][value="proposal"])')
    if prop.count():
        staff.reveal(prop)
        staff.submit(prop.locator('button[type="submit"]'))
        staff.expect_no_error_flash()

    attendance = staff.reveal(staff.page.locator('main form[action$="/attendance"]'))
    for select in attendance.locator('select[name^="status_"]').all():
        select.select_option("present")
    staff.submit(attendance.locator('button[type="submit"]'))
    staff.expect_no_error_flash()

    res = staff.reveal(staff.page.locator('main form[action*="/resolution"]:has([name="action_title"])').first)
    res.locator('[name="outcome"]').select_option("decided")
    res.locator('[name="text"]').fill("物业于两周内清理楼道堆物，居委会张贴通知。")
    res.locator('[name="votes_for"]').fill("4")
    res.locator('[name="votes_against"]').fill("0")
    res.locator('[name="votes_abstain"]').fill("0")
    res.locator('[name="action_title"]').fill("张贴清理通知")
    res.locator('[name="owner_name"]').fill("李社工")
    res.locator('[name="due_date"]').fill(local_date(timedelta(days=14)))
    staff.submit(res.locator('button[type="submit"]'))
    staff.expect_no_error_flash()
    assert "张贴清理通知" in staff.page.locator("main").inner_text()

    staff.submit(staff.reveal(staff.page.locator('main form[action$="/close"]')).locator('button[type="submit"]'))
    staff.expect_no_error_flash()
    staff.go(meeting + "/minutes")
    minutes = staff.page.locator("main form")
    minutes.locator('[name="minutes"]').fill("## 决定\n- 物业两周内清理楼道堆物\n- 居委会张贴通知")
    staff.submit(minutes.locator('button[name="action"][value="submit"]'))
    staff.expect_no_error_flash()
    staff.go(meeting)
    for _ in range(8):
        approve = staff.page.locator('main form[action$="/minutes/approve"]')
        if not approve.count():
            break
        staff.submit(staff.reveal(approve.first).locator('button[type="submit"]'))
        staff.expect_no_error_flash()
    staff.submit(staff.reveal(staff.page.locator('main form[action$="/minutes/publish"]')).locator('button[type="submit"]'))
    staff.expect_no_error_flash()

    resident = people(**kw)
    resident.login("resident1")
    resident.go(meeting)
    assert "物业两周内清理楼道堆物" in resident.page.locator("#minutes").inner_text()
    resident.go(meeting + "/minutes/print")
