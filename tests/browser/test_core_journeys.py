"""The core journeys in a real browser: register → staff verify → submit a proposal → residents
second it → it moves to coordination → staff move it to voting with a reason; an admin switches
modules off and on; keyboard-only seconding; large text at the phone viewport.

Each journey runs at the phone (390×844) and desktop viewports in zh_Hans, once in en and once in
zh_Hant, and once with JavaScript disabled. Every page visited is audited (see conftest.Person)."""
import itertools
import re

import pytest

from tests.browser.conftest import NEW_PASSWORD, THRESHOLD

SERVER_WORKERS = 2  # switching a module off must be seen by both gunicorn workers at once

RUNS = [  # (locale, viewport, JavaScript)
    ("zh_Hans", "phone", True),
    ("zh_Hans", "desktop", True),
    ("en", "phone", True),
    ("zh_Hant", "desktop", True),
    ("zh_Hans", "phone", False),
]
RUN_IDS = [f"{loc}-{vp}" + ("" if js else "-nojs") for loc, vp, js in RUNS]
_serial = itertools.count(1)
SECONDERS = ["resident1", "resident2", "resident3", "resident4", "loudongzhang"]


def register(person, name, login):
    person.go("/c/demo/")
    person.submit(person.page.locator('main a[href$="/c/demo/register"]').first)
    form = person.page.locator("main form")
    form.locator('[name="display_name"]').fill(name)
    form.locator('[name="login"]').fill(login)
    form.locator('[name="password"]').fill(NEW_PASSWORD)
    form.locator('[name="confirm"]').fill(NEW_PASSWORD)
    # where one lives (here in words: the building is "not listed") and consent to the privacy notice
    form.locator('[name="address"]').fill("幸福路8号 老粮站宿舍")
    form.locator('[name="consent"]').check()
    person.submit(form.locator('button[type="submit"]:not([data-picker-button])'))  # not the unit picker's Find
    assert person.path.startswith("/c/demo/"), person.path
    person.expect_no_error_flash()
    assert person.page.locator(".flash-success").count() == 1
    # Not verified yet: the home page says so, and the account page shows it waiting.
    assert person.page.locator(".callout").count() == 1
    person.go("/auth/account")
    assert person.page.locator("main .badge.wait").count() == 1


def verify(staff, name, login, household_index):
    staff.go("/c/demo/manage")
    staff.submit(staff.page.locator('main a[href$="/c/demo/members"]'))
    filters = staff.page.locator("main form.filters")
    filters.locator('[name="q"]').fill(login)
    filters.locator('[name="status"]').select_option("unverified")
    staff.submit(filters.locator('button[type="submit"]'))
    staff.submit(staff.page.locator("main table a", has_text=name))
    form = staff.page.locator('main form:has(input[name="form"][value="verify"])')
    form.locator('[name="v-household_id"]').select_option(index=household_index)
    form.locator('[name="v-relation"]').select_option("owner")
    form.locator('[name="v-reason"]').fill("核对户口本 / checked the household register")
    staff.submit(form.locator('button[type="submit"]:not([data-picker-button])'))  # not the picker's Find
    staff.expect_no_error_flash()
    assert staff.page.locator("main .badge.ok").count() >= 1


def submit_proposal(person, title):
    person.go("/c/demo/")
    person.submit(person.page.locator('main a[href$="/c/demo/proposals/new"]').first)
    form = person.page.locator("main form")
    form.locator('[name="title"]').fill(title)
    form.locator('[name="body"]').fill("中心花园的长椅坏了三张，老人散步没处歇脚。\n\n- 修好旧长椅\n- 再加两张")
    form.locator('[name="category"]').select_option("facilities")
    form.locator('[name="scope"]').select_option("community")
    person.submit(form.locator('button[name="action"][value="submit"]'))
    person.expect_no_error_flash()
    m = re.search(r"/c/demo/proposals/(\d+)$", person.path)
    assert m, person.path
    assert person.page.locator("main h1").inner_text() == title
    assert person.page.locator("main .badge.state-open").count() >= 1
    return int(m.group(1))


def second(person, title):
    """Find the proposal with the search form and second it."""
    person.go("/c/demo/")
    person.submit(person.page.locator('nav.main-nav a[href$="/c/demo/proposals/"]'))
    search = person.page.locator('main form[role="search"]')
    search.locator('[name="q"]').fill(title)
    person.submit(search.locator('button[type="submit"]'))
    person.submit(person.page.locator("main .proposal-list a", has_text=title))
    person.submit(person.form("/second").locator('button[type="submit"]').first)
    person.expect_no_error_flash()
    assert person.page.locator(".flash-success").count() == 1


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=RUN_IDS)
def test_register_verify_propose_second_move_to_voting(people, site, locale, viewport, js):
    n = next(_serial)
    kw = dict(locale=locale, viewport=viewport, js=js)
    name, login = f"新邻居{n}号", f"neighbour{n}{locale.lower().replace('_', '')}{viewport}{int(js)}"

    newcomer = people(**kw)
    register(newcomer, name, login)

    staff = people(**kw)
    staff.login("staff")
    verify(staff, name, login, household_index=10 + n * 7)

    newcomer.go("/auth/account")
    assert newcomer.page.locator("main .badge.ok").count() == 1, "the newcomer should now be verified"
    title = f"修理中心花园长椅 #{n}"
    pid = submit_proposal(newcomer, title)
    detail = f"/c/demo/proposals/{pid}"

    for i, login_name in enumerate(SECONDERS[:THRESHOLD]):
        neighbour = people(**kw)
        neighbour.login(login_name)
        second(neighbour, title)
        if i < THRESHOLD - 1:
            assert neighbour.page.locator("main .badge.state-open").count() >= 1
        neighbour.close()

    newcomer.go(detail)
    assert newcomer.page.locator("main .badge.state-coordinating").count() >= 1, \
        "enough seconds should move the proposal to coordination"
    assert newcomer.page.locator(f'form[action$="/proposals/{pid}/second"]').count() == 0

    staff.go(detail)
    form = staff.form(f"/proposals/{pid}/transition")
    form.locator('[name="new_state"]').select_option("voting")
    reason = "协调会已达成一致，付诸表决"
    form.locator('[name="reason"]').fill(reason)
    staff.submit(form.locator('button[type="submit"]'))
    staff.expect_no_error_flash()
    assert staff.page.locator("main .badge.state-voting").count() >= 1
    assert reason in staff.page.locator("main .timeline").inner_text()

    # The author hears about it.
    newcomer.go("/auth/notifications")
    assert newcomer.page.locator("main .list li:not(.empty)").count() >= 1
    newcomer.go(f"{detail}/print")


def test_a_staff_reason_is_required_to_move_a_proposal(people, site):
    """Moving a proposal without a reason is refused with a message, and nothing moves."""
    staff = people(viewport="desktop", js=False)
    staff.login("staff")
    staff.go("/c/demo/proposals/?state=coordinating")
    staff.submit(staff.page.locator("main .proposal-list a.big-link").first)
    before = staff.page.locator("main .timeline li").count()
    form = staff.page.locator('main form[action$="/transition"]')
    form.locator('[name="new_state"]').select_option(index=0)
    staff.submit(form.locator('button[type="submit"]'))
    assert staff.page.locator(".flash-error").count() == 1
    assert staff.page.locator("main .timeline li").count() == before


MODULE_RUNS = [("zh_Hans", "desktop", True), ("zh_Hans", "phone", True), ("en", "desktop", True),
               ("zh_Hant", "phone", True), ("zh_Hans", "phone", False)]


@pytest.mark.parametrize("locale,viewport,js", MODULE_RUNS,
                         ids=[f"{a}-{b}" + ("" if c else "-nojs") for a, b, c in MODULE_RUNS])
def test_admin_switches_each_module_off_and_on(people, site, locale, viewport, js):
    if not site.plugins:
        pytest.skip("no module is installed (LINLI_PLUGINS=none)")
    admin = people(locale=locale, viewport=viewport, js=js)
    admin.login("admin")
    resident = people(locale=locale, viewport=viewport, js=js, audit=False)
    resident.login("resident1")

    def menu(person):
        person.go("/c/demo/")
        return set(person.page.locator("nav.main-nav a").evaluate_all("els => els.map(a => a.getAttribute('href'))"))

    def status(person, path):
        return [person.page.request.get(person.site.url(path)).status for _ in range(4)]  # both workers

    for plugin in site.plugins:
        root = f"/c/demo/{plugin}/"
        before_menu = menu(resident)
        page_before = status(resident, root)[0]
        admin.go("/c/demo/manage")
        admin.submit(admin.page.locator('main a[href$="/c/demo/admin/modules"]'))
        card = admin.page.locator(f'main li.module:has(input[name="plugin"][value="{plugin}"])')
        assert card.locator(".badge.ok").count() == 1, f"{plugin} should start on"
        admin.submit(card.locator('button[type="submit"]'))
        # Switching off asks first, showing what people still have open in the module.
        confirm = admin.page.locator('main form:has(input[name="confirm"]) button[type="submit"]')
        assert confirm.count() == 1, f"{plugin}: switching off should ask first"
        admin.submit(confirm)
        admin.expect_no_error_flash()
        card = admin.page.locator(f'main li.module:has(input[name="plugin"][value="{plugin}"])')
        assert card.locator(".badge.off").count() == 1

        off_menu = menu(resident)
        assert not any(h.startswith(root) for h in off_menu), f"{plugin}'s menu entry stayed: {off_menu}"
        assert set(status(resident, root)) == {404}, f"{plugin}'s pages should answer 404 when it is off"

        admin.submit(card.locator('button[type="submit"]'))
        card = admin.page.locator(f'main li.module:has(input[name="plugin"][value="{plugin}"])')
        assert card.locator(".badge.ok").count() == 1
        assert menu(resident) == before_menu, f"{plugin}'s menu entries should come back"
        assert set(status(resident, root)) == {page_before}
