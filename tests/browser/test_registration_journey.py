"""Registering and a forgotten password in a real browser (issue 20).

A newcomer registers giving the building, unit and room they live in and agreeing to the privacy
notice; staff open their page and find the room given and pre-selected, and verify them. A resident
who forgot their password gets a reset code from staff and sets a new password with it. Each runs
at the phone viewport in zh_Hans with JavaScript, and at the desktop in en without."""
import itertools

import pytest

from tests.browser.conftest import NEW_PASSWORD

RUNS = [("zh_Hans", "phone", True), ("en", "desktop", False)]
RUN_IDS = [f"{loc}-{vp}" + ("" if js else "-nojs") for loc, vp, js in RUNS]
_serial = itertools.count(1)
REGISTER = 'button[type="submit"]:not([data-picker-button])'  # not the unit picker's Find


def _member_page(staff, query, name):
    staff.go(f"/c/demo/members?q={query}")
    staff.submit(staff.page.locator("main table a", has_text=name).first)


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=RUN_IDS)
def test_register_with_building_room_and_consent_then_staff_verify_seeing_the_room(people, site, locale,
                                                                                   viewport, js):
    n = next(_serial)
    kw = dict(locale=locale, viewport=viewport, js=js)
    name, phone = f"新住户{n}号", f"1391000{n:04d}"
    newcomer = people(**kw)
    newcomer.go("/c/demo/register")
    form = newcomer.page.locator("main form")
    form.locator('[name="display_name"]').fill(name)
    form.locator('[name="login"]').fill(phone)
    form.locator('[name="password"]').fill(NEW_PASSWORD)
    form.locator('[name="confirm"]').fill(NEW_PASSWORD)
    form.locator('[name="unit_id"]').select_option(label="1号楼 1单元")
    form.locator('[name="room"]').fill("102")
    # the privacy notice is one link away, and consent is required
    assert newcomer.page.locator('main a[href$="/c/demo/privacy"]').count() == 1
    newcomer.submit(form.locator(REGISTER))
    assert newcomer.page.locator("main .error").count() >= 1, "registering without consent is refused"
    form = newcomer.page.locator("main form")
    form.locator('[name="password"]').fill(NEW_PASSWORD)
    form.locator('[name="confirm"]').fill(NEW_PASSWORD)
    form.locator('[name="consent"]').check()
    newcomer.submit(form.locator(REGISTER))
    newcomer.expect_no_error_flash()
    assert newcomer.path.startswith("/c/demo/"), newcomer.path

    staff = people(**kw)
    staff.login("staff")
    _member_page(staff, phone, name)
    assert "1号楼 1单元 102" in staff.page.locator("main #address-given").inner_text()
    verify = staff.page.locator('main form:has(input[name="form"][value="verify"])')
    chosen = verify.locator('[name="v-household_id"]').evaluate("s => s.options[s.selectedIndex].text")
    assert "1号楼 1单元 102" in chosen, chosen
    verify.locator('[name="v-relation"]').select_option("tenant")
    verify.locator('[name="v-reason"]').fill("核对租房合同 / checked the lease")
    staff.submit(verify.locator('button[type="submit"]:not([data-picker-button])'))
    staff.expect_no_error_flash()
    assert staff.page.locator("main .badge.ok").count() >= 1


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=RUN_IDS)
def test_a_reset_code_from_staff_sets_a_new_password(people, site, locale, viewport, js):
    login_name = {"zh_Hans": "resident3", "en": "resident4"}[locale]
    kw = dict(locale=locale, viewport=viewport, js=js)
    staff = people(**kw)
    staff.login("staff")
    staff.go(f"/c/demo/members?q={login_name}")
    staff.submit(staff.page.locator("main table a").first)
    staff.submit(staff.page.locator('main form[action$="/reset-code"] button[type="submit"]'))
    code = staff.page.locator("main #reset-code").inner_text().strip()
    assert len(code.replace(" ", "")) == 8, code
    assert staff.page.locator('main a[href*="/c/demo/members/"]').count() >= 1, "the code page leads back"

    resident = people(**kw)
    resident.go("/auth/login")
    resident.submit(resident.page.locator('main a[href$="/auth/reset"]'))
    form = resident.page.locator("main form")
    form.locator('[name="login"]').fill(login_name)
    form.locator('[name="code"]').fill(code)
    form.locator('[name="new_password"]').fill(NEW_PASSWORD)
    form.locator('[name="confirm"]').fill(NEW_PASSWORD)
    resident.submit(form.locator('button[type="submit"]'))
    resident.expect_no_error_flash()
    assert resident.path == "/auth/login"
    resident.login(login_name, NEW_PASSWORD)
