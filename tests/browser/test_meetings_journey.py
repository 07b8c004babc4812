"""The meetings journey in a real browser: staff schedule a joint meeting (the delegates are
invited) → put a proposal and a topic on the agenda → record attendance → record a resolution with
an action item (a show of hands that contradicts the outcome is refused first) → close the meeting
→ write the minutes → each organisation's own delegate approves: staff member 李社工 for the
residents' committee, 王书记 (admin) for the party committee, and staff record the approvals of
张经理 and 孙警官, who have no account, for them with a reason → published, and a resident reads
them and the printed page names each delegate."""
import itertools
import re
from datetime import timedelta

import pytest

from tests.browser.conftest import MODULE_RUNS, local_date, run_ids

NEEDS_PLUGIN = "meetings"
_serial = itertools.count(1)
RECORDED_FOR_THEM = {"zh_Hans": "代为登记", "zh_Hant": "代為登記", "en": "recorded for them by"}
NO_MAJORITY = {"zh_Hans": "不能记为通过", "zh_Hant": "不能記為通過", "en": "cannot be recorded as decided"}


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

    resolution = 'main form[action*="/resolution"]:has([name="action_title"])'
    res = staff.reveal(staff.page.locator(resolution).first)
    res.locator('[name="outcome"]').select_option("decided")
    res.locator('[name="text"]').fill("物业于两周内清理楼道堆物，居委会张贴通知。")
    res.locator('[name="votes_for"]').fill("1")
    res.locator('[name="votes_against"]').fill("3")
    staff.submit(res.locator('button[type="submit"]'))
    assert NO_MAJORITY[locale] in staff.flash(), staff.flash()  # 1 for, 3 against is no decision
    res = staff.reveal(staff.page.locator(resolution).first)
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
    # Staff approve for the residents' committee only, where 李社工 is the delegate ...
    own = staff.page.locator('main form[action$="/minutes/approve"]:not(:has([name="delegate_id"]))')
    assert own.count() == 1
    staff.submit(own.locator('button[type="submit"]'))
    staff.expect_no_error_flash()
    # ... and record the approvals of 张经理 and 孙警官, who have no account, naming them.
    for name in ("张经理", "孙警官"):
        form = staff.page.locator('main form[action$="/minutes/approve"]:has([name="delegate_id"])') \
            .filter(has=staff.page.locator(f'option:text-is("{name}")')).first
        staff.reveal(form)
        form.locator('[name="delegate_id"]').select_option(label=name)
        form.locator('[name="reason"]').fill(f"{name}已在纸质纪要上签字")
        staff.submit(form.locator('button[type="submit"]'))
        staff.expect_no_error_flash()
    chair = people(**kw)
    chair.login("admin")  # 王书记, the party committee's delegate
    chair.go(meeting)
    mine = chair.page.locator('main form[action$="/minutes/approve"]:not(:has([name="delegate_id"]))')
    assert mine.count() == 1
    chair.submit(mine.locator('button[type="submit"]'))
    chair.expect_no_error_flash()
    staff.go(meeting)
    staff.submit(staff.reveal(staff.page.locator('main form[action$="/minutes/publish"]')).locator('button[type="submit"]'))
    staff.expect_no_error_flash()

    resident = people(**kw)
    resident.login("resident1")
    resident.go(meeting)
    assert "物业两周内清理楼道堆物" in resident.page.locator("#minutes").inner_text()
    resident.go(meeting + "/minutes/print")
    printed = resident.page.locator("main").inner_text()
    for name in ("王书记", "李社工", "张经理", "孙警官"):
        assert name in printed
    assert printed.count(RECORDED_FOR_THEM[locale]) == 2, printed
