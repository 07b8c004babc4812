"""Accessibility journeys: keyboard-only seconding, large text at the phone viewport, the language
switch (with and without JavaScript). axe-core audits every page visited (conftest.Person)."""
import pytest

from tests.browser.conftest import Keyboard

@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_second_a_proposal_with_the_keyboard_only(people, site, viewport):
    """An elderly resident who cannot use a mouse logs in, finds a proposal and seconds it."""
    title = "禁止楼道飞线给电动车充电" if viewport == "desktop" else "楼道私堆乱放清理"
    who = "resident5" if viewport == "desktop" else "tiaojieyuan"
    person = people(viewport=viewport)
    person.go("/c/demo/")
    kb = Keyboard(person)
    kb.login(who)
    kb.tab_to('nav.main-nav a[href$="/c/demo/proposals/"]')
    kb.enter()
    kb.tab_to('input[name="q"]')
    kb.type(title)
    kb.enter()
    kb.tab_to(f'main a.big-link[href*="/proposals/"]')
    assert person.page.evaluate("document.activeElement.textContent.trim()") == title
    kb.enter()
    kb.tab_to('form[action$="/second"] button[type="submit"]')
    kb.enter()
    assert person.page.locator(".flash-success").count() == 1, person.flash()
    assert person.page.locator("main .badge.state-open, main .badge.state-coordinating").count() >= 1
    kb.assert_focus_visible()


def _large_text_on(person):
    if "large-text" not in (person.page.locator("body").get_attribute("class") or ""):  # saved from before?
        person.submit(person.page.locator('header form[action="/text-size"] button'))
    assert "large-text" in person.page.locator("body").get_attribute("class")


def _visit(person, paths):
    for path in paths:
        person.go(path)


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_large_text_fits_the_phone(people, site, locale):
    """With the large-text switch on, no page scrolls sideways at 390 px and nothing is cut off."""
    visitor = people(locale=locale, viewport="phone", large_text_checks=True)
    visitor.go("/c/demo/")
    _large_text_on(visitor)
    _visit(visitor, ["/c/demo/register", "/auth/login", "/c/demo/proposals/"])

    resident = people(locale=locale, viewport="phone", large_text_checks=True)
    resident.login("resident1")
    _large_text_on(resident)
    _visit(resident, ["/c/demo/", "/c/demo/proposals/", "/c/demo/proposals/?state=open", "/c/demo/proposals/new",
                      "/auth/account", "/auth/notifications", "/c/demo/proposals/?state=voting"])
    resident.submit(resident.page.locator("main .proposal-list a.big-link").first)
    modules = resident.page.locator("nav.main-nav a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    _visit(resident, [m for m in modules if m.rstrip("/") not in ("/c/demo", "/c/demo/proposals")])
    resident.go("/c/demo/")  # the modules' less frequent pages, under "More"
    _visit(resident, resident.page.locator("main .chips a").evaluate_all("els => els.map(a => a.getAttribute('href'))"))
    _large_text_off(resident)  # resident1 votes in other journeys

    admin = people(locale=locale, viewport="phone", large_text_checks=True)
    admin.login("admin")
    _large_text_on(admin)
    _visit(admin, ["/c/demo/manage", "/c/demo/admin/modules", "/c/demo/admin/settings", "/c/demo/admin/audit",
                   "/c/demo/members"])
    admin.submit(admin.page.locator("main table a").first)
    # The large-text choice persists: it is saved with the account.
    again = people(locale=locale, viewport="phone")
    again.login("admin")
    assert "large-text" in again.page.locator("body").get_attribute("class")
    _large_text_off(again)


def _large_text_off(person):
    person.submit(person.page.locator('header form[action="/text-size"] button'))
    assert "large-text" not in (person.page.locator("body").get_attribute("class") or "")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_language_switch(people, site, js):
    person = people(locale="zh_Hans", viewport="phone", js=js)
    person.go("/c/demo/proposals/")
    for code, lang in (("zh_Hant", "zh-Hant"), ("en", "en"), ("zh_Hans", "zh-Hans")):
        person.page.locator("#lang-select").select_option(code)
        person.html_lang = lang
        person.submit(person.page.locator('header form[action="/language"] button'))
        assert person.path.startswith("/c/demo/proposals/"), "the switch should stay on the same page"
