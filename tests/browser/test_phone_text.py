"""What an elderly resident sees on a 390×844 phone with the large-text switch on: numbers, codes,
dates and amounts stay whole on one line; the header and the bottom bar leave the screen to the
page; the English bottom bar never splits a word; the switch shows whether it is on."""
import pytest

from tests.browser.test_access import _large_text_off, _large_text_on

PHONE_HEIGHT = 844

# Every visible number-like run of characters (a count, -10, 3/5, 2026-12-07, 14:30, a pickup code
# such as K7F2Q9): the runs of it rendered on more than one line.
BROKEN_NUMBERS_JS = r"""() => {
  const out = [];
  const re = /[-+−]?\d[\d.,:\/\-]*\d%?|[-+−]\d|\b(?=[A-Z0-9]*\d)[A-Z0-9]{5,}\b/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('.visually-hidden, .skip, script, style, option, textarea') || !el.getClientRects().length) continue;
    re.lastIndex = 0;
    for (let m = re.exec(n.data); m; m = re.exec(n.data)) {
      const r = document.createRange();
      r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
      const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.bottom)));
      if (lines.size > 1) out.push(`"${m[0]}" on ${lines.size} lines in <${el.tagName.toLowerCase()} class="${el.className}">`);
    }
  }
  return out;
}"""

# The bar's labels: each word (a run of letters) rendered on one line.
BROKEN_WORDS_JS = r"""() => {
  const out = [];
  for (const a of document.querySelectorAll('nav.main-nav a')) {
    if (!a.getClientRects().length) continue;
    const walker = document.createTreeWalker(a, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const re = /[A-Za-z]+/g;
      for (let m = re.exec(n.data); m; m = re.exec(n.data)) {
        const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.bottom)));
        if (lines.size > 1) out.push(`"${m[0]}" split over ${lines.size} lines in "${a.textContent.trim()}"`);
      }
    }
  }
  return out;
}"""

CHROME_JS = """() => {
  const top = document.querySelector('header.top .top-inner').getBoundingClientRect();
  const bar = document.querySelector('nav.main-nav');
  return {header: top.height, bar: bar ? bar.getBoundingClientRect().height : 0};
}"""

PAGES = ["/c/demo/", "/c/demo/proposals/", "/c/demo/proposals/?state=voting", "/auth/account",
         "/auth/notifications"]
MODULE_PAGES = ["/c/demo/voting/", "/c/demo/points/", "/c/demo/points/store", "/c/demo/meetings/",
                "/c/demo/mediation/"]


def _pages(person):
    """The pages to look at: the lists above, the modules installed here, and the first proposal."""
    paths = list(PAGES) + [p for p in MODULE_PAGES if p.split("/")[3] in person.site.plugins]
    person.go("/c/demo/proposals/")
    first = person.page.locator("main a.big-link[href*='/proposals/']").first
    if first.count():
        paths.append(first.get_attribute("href"))
    return paths


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
@pytest.mark.parametrize("login", ["resident1", "staff"])
def test_large_text_never_breaks_a_number(people, site, locale, login):
    person = people(locale=locale, viewport="phone", audit=False)
    person.login(login)
    _large_text_on(person)
    try:
        broken = {}
        for path in _pages(person):
            person.go(path)
            found = person.page.evaluate(BROKEN_NUMBERS_JS)
            if found:
                broken[path] = found[:5]
        assert not broken, broken
    finally:
        person.go("/c/demo/")
        _large_text_off(person)


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_large_text_header_and_bar_leave_the_screen_to_the_page(people, site, locale):
    """Header and bottom bar together take under a quarter of a 844 px phone screen."""
    person = people(locale=locale, viewport="phone", audit=False)
    person.login("staff")
    _large_text_on(person)
    try:
        for path in ("/c/demo/", "/c/demo/proposals/"):
            person.go(path)
            chrome = person.page.evaluate(CHROME_JS)
            assert chrome["header"] + chrome["bar"] < PHONE_HEIGHT / 4, (path, chrome)
    finally:
        _large_text_off(person)


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_english_bottom_bar_never_splits_a_word(people, site, large):
    person = people(locale="en", viewport="phone", audit=False)
    person.login("staff")
    if large:
        _large_text_on(person)
    try:
        for path in ("/c/demo/", "/c/demo/proposals/"):
            person.go(path)
            assert person.page.evaluate(BROKEN_WORDS_JS) == [], path
    finally:
        if large:
            _large_text_off(person)


def test_large_text_switch_shows_whether_it_is_on(people, site):
    """The switch looks different when on (not only aria-pressed for screen readers)."""
    person = people(locale="en", viewport="phone", audit=False)
    person.go("/c/demo/")
    button = person.page.locator('header form[action="/text-size"] button')
    style = "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).borderTopStyle, b.innerText]"
    off = button.evaluate(style)
    assert button.get_attribute("aria-pressed") == "false"
    _large_text_on(person)
    button = person.page.locator('header form[action="/text-size"] button')
    assert button.get_attribute("aria-pressed") == "true"
    on = button.evaluate(style)
    assert on[0] != off[0] and on[2] != off[2], (off, on)
    _large_text_off(person)


WIDER_THAN_SCREEN_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_staff_pages_fit_a_phone(people, site, large):
    """A staff member's register and home on a 390 px phone never scroll sideways (the register's
    two figures, "6,528.30 m²" among them, share the width)."""
    person = people(locale="en", viewport="phone", audit=False)
    person.login("staff")
    if large:
        _large_text_on(person)
    try:
        wider = {}
        for path in ("/c/demo/", "/c/demo/structure/"):
            person.go(path)
            extra = person.page.evaluate(WIDER_THAN_SCREEN_JS)
            if extra > 0:
                wider[path] = extra
        assert not wider, wider
    finally:
        if large:
            _large_text_off(person)
