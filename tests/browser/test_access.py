"""Accessibility journeys: keyboard-only seconding, large text at the phone viewport, the language
switch (with and without JavaScript). axe-core audits every page visited (conftest.Person)."""
import re

import pytest

from tests.browser.conftest import Keyboard, page_kind

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


ROOT_PX = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
BODY_PX = "parseFloat(getComputedStyle(document.body).fontSize)"
NORMAL_ROOT_PX = 18  # linli.css --base


def _large_text_on(person):
    if "large-text" not in (person.page.locator("body").get_attribute("class") or ""):  # saved from before?
        assert person.page.evaluate(ROOT_PX) == NORMAL_ROOT_PX
        person.submit(person.page.locator('header form[action="/text-size"] button'))
    assert "large-text" in person.page.locator("body").get_attribute("class")
    # WCAG 1.4.4: the switch doubles the text, and the text sized in rem/em follows.
    assert person.page.evaluate(ROOT_PX) == 2 * NORMAL_ROOT_PX
    assert person.page.evaluate(BODY_PX) == 2 * NORMAL_ROOT_PX


def _large_text_off(person):
    person.submit(person.page.locator('header form[action="/text-size"] button'))
    assert "large-text" not in (person.page.locator("body").get_attribute("class") or "")
    assert person.page.evaluate(ROOT_PX) == NORMAL_ROOT_PX


def _visit(person, paths):
    for path in paths:
        person.go(path)


# Links a crawl does not follow: downloads, printouts (laid out for A4), the API, other sites.
NOT_PAGES = re.compile(r"/print|export|download|\.(csv|xlsx|ics|json|pdf|zip)(\?|$)|^/api/|^/static/|/personal-data")


def _crawl(person, start, limit=120):
    """Every kind of page (page_kind) reachable by links from ``start``, each visited once; the
    Person checks each as it loads (with large_text_checks: fits the phone, nothing cut off)."""
    seen, queue, visited = set(), list(start), []
    while queue and len(visited) < limit:
        path = queue.pop(0).split("#", 1)[0]
        kind = page_kind(path)
        if not path.startswith("/") or NOT_PAGES.search(path) or kind in seen:
            continue
        seen.add(kind)
        person.go(path)
        visited.append(path)
        hrefs = person.page.locator("a[href]").evaluate_all("els => els.map(a => a.getAttribute('href'))")
        queue.extend(h for h in hrefs if h.startswith(("/c/demo", "/auth/")))
    return visited


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_large_text_fits_the_phone(people, site, locale):
    """With the large-text switch on (200 % text), no page scrolls sideways at 390 px and nothing is
    cut off: every kind of page a visitor, a resident, a mediator, staff and the admin reach by links."""
    visitor = people(locale=locale, viewport="phone", large_text_checks=True)
    visitor.go("/c/demo/")
    _large_text_on(visitor)
    _visit(visitor, ["/c/demo/register", "/auth/login", "/c/demo/proposals/"])
    _crawl(visitor, ["/c/demo/"])

    for login in ("resident1", "tiaojieyuan", "staff", "admin"):
        person = people(locale=locale, viewport="phone", large_text_checks=True)
        person.login(login)
        _large_text_on(person)
        try:
            visited = _crawl(person, ["/c/demo/", "/c/demo/proposals/?state=voting", "/auth/account",
                                      "/auth/notifications", "/c/demo/proposals/new"])
            assert len(visited) >= 10, visited
        finally:
            person.go("/c/demo/")
            _large_text_off(person)  # these accounts act in other journeys

    # The large-text choice persists: it is saved with the account.
    admin = people(locale=locale, viewport="phone")
    admin.login("admin")
    _large_text_on(admin)
    again = people(locale=locale, viewport="phone")
    again.login("admin")
    assert "large-text" in again.page.locator("body").get_attribute("class")
    assert again.page.evaluate(ROOT_PX) == 2 * NORMAL_ROOT_PX
    _large_text_off(again)


BAR_JS = """() => {
  const bar = document.querySelector('nav.main-nav ul');
  const shown = [...bar.querySelectorAll('a')].filter(a => a.getClientRects().length);
  return {scrolls: bar.scrollWidth > bar.clientWidth + 1, width: window.innerWidth,
          shown: shown.map(a => ({text: a.textContent.trim(), href: a.getAttribute('href'),
                                  left: a.getBoundingClientRect().left, right: a.getBoundingClientRect().right}))};
}"""


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_phone_bottom_bar_fits_without_sideways_scrolling(people, site, large):
    """Staff see seven main entries (Home, Proposals, Votes, Meetings, My points, Mediation, Manage):
    the phone's bottom bar shows what fits and "More"; the rest are under More on the home page."""
    person = people(locale="en", viewport="phone", large_text_checks=large)
    person.login("staff")
    if large:
        _large_text_on(person)
    try:
        desktop = people(locale="en", viewport="desktop")
        desktop.login("staff")
        everything = desktop.page.locator("nav.main-nav a").evaluate_all(
            "els => els.filter(a => a.getClientRects().length).map(a => a.getAttribute('href'))")
        assert "/c/demo/manage" in everything and len(everything) >= 6, everything
        assert desktop.page.locator("nav.main-nav a:visible", has_text="More").count() == 0

        person.go("/c/demo/proposals/")
        bar = person.page.evaluate(BAR_JS)
        assert not bar["scrolls"], "the bottom bar scrolls sideways"
        assert len(bar["shown"]) <= (3 if large else 5), bar["shown"]
        for a in bar["shown"]:
            assert 0 <= a["left"] and a["right"] <= bar["width"] + 1, a
        assert bar["shown"][-1]["text"] == "More"
        in_bar = [a["href"] for a in bar["shown"][:-1]]
        person.submit(person.page.locator("nav.main-nav a", has_text="More"))
        assert person.path.startswith("/c/demo/")
        under_more = person.page.locator("#more a").evaluate_all(
            "els => els.filter(a => a.getClientRects().length).map(a => a.getAttribute('href'))")
        for href in everything:  # every entry is in the bar or under More
            assert href in in_bar or href in under_more, (href, in_bar, under_more)
        # On a page that lives under More, More lights up.
        person.go("/c/demo/manage")
        assert person.page.locator('nav.main-nav a[aria-current="page"]:visible').inner_text() == "More"
    finally:
        if large:
            _large_text_off(person)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_language_switch(people, site, js):
    person = people(locale="zh_Hans", viewport="phone", js=js)
    person.go("/c/demo/proposals/")
    for code, lang in (("zh_Hant", "zh-Hant"), ("en", "en"), ("zh_Hans", "zh-Hans")):
        person.page.locator("#lang-select").select_option(code)
        person.html_lang = lang
        person.submit(person.page.locator('header form[action="/language"] button'))
        assert person.path.startswith("/c/demo/proposals/"), "the switch should stay on the same page"
