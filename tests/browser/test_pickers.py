"""Long lists on a 390×844 phone (issue 20): the paper-ballot voter picker narrows as one types, and
without JavaScript through its own search form; the electorate is a card per voter in which no
name breaks one character per line, in normal and large text."""
import pytest

from tests.browser.test_access import _large_text_off, _large_text_on

NEEDS_PLUGIN = "voting"
TITLE = "楼道声控灯选型"

# For each name cell of the electorate: the name and on how many lines it is drawn.
NAME_LINES_JS = r"""() => [...document.querySelectorAll('#electorate td.name')].map(td => {
  const r = document.createRange(); r.selectNodeContents(td);
  const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.bottom)));
  return [td.textContent.trim(), lines.size, getComputedStyle(td.parentElement).display];
})"""


def seed(community):
    from core.services import accounts
    from plugins.voting import services

    services.create(community, accounts.find_user("staff"), {"title": TITLE, "days": 7, "unit": "person"},
                    open_now=True)


def _ballot_path(person):
    person.go("/c/demo/voting/")
    return person.page.locator("main a", has_text=TITLE).first.get_attribute("href").split("?")[0].rstrip("/")


def _options(select):
    return select.evaluate("s => [...s.options].filter(o => o.value !== '0').map(o => o.text)")


def test_voter_picker_narrows_as_one_types(people, site):
    person = people(locale="zh_Hans", viewport="phone")
    person.login("staff")
    person.go(_ballot_path(person) + "/paper")
    page = person.page
    select, box = page.locator("select#voter_id"), page.locator("input#voter_id-q")
    everyone = _options(select)
    assert len(everyone) > 20
    assert page.locator("[data-picker-button]").is_hidden()  # nothing to press: the list follows the typing
    ref, name, rooms = everyone[len(everyone) // 2].split(" · ")
    box.press_sequentially(name)
    narrowed = _options(select)
    assert 1 <= len(narrowed) < len(everyone) and all(name in o for o in narrowed)
    assert f"共 {len(everyone)} 项，找到 {len(narrowed)} 项" in page.locator("[data-picker-count]").inner_text()
    box.fill(f"{rooms.split('、')[0]} {ref} ")
    box.dispatch_event("input")
    assert _options(select) == [f"{ref} · {name} · {rooms}"]
    assert select.evaluate("s => s.selectedOptions[0].text") == f"{ref} · {name} · {rooms}"
    assert "voter_id_q" not in page.url  # no page was loaded for it
    box.fill("没有这个人")
    box.dispatch_event("input")
    assert _options(select) == [] and page.locator("[data-picker-count]").inner_text().strip()


def test_voter_picker_without_javascript(people, site):
    person = people(locale="zh_Hans", viewport="phone", js=False)
    person.login("staff")
    person.go(_ballot_path(person) + "/paper")
    page = person.page
    everyone = _options(page.locator("select#voter_id"))
    ref, name, _rooms = everyone[3].split(" · ")
    page.locator("input#voter_id-q").fill(ref)
    person.submit(page.locator("[data-picker-button]"))
    assert "voter_id_q=" in page.url
    narrowed = _options(page.locator("select#voter_id"))
    assert narrowed and all(ref in o for o in narrowed) and len(narrowed) < len(everyone)


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_electorate_cards_keep_names_whole(people, site, large):
    person = people(locale="zh_Hans", viewport="phone", audit=not large)
    person.login("staff")
    path = _ballot_path(person) + "/electorate"
    person.go(path)
    if large:
        _large_text_on(person)
    try:
        person.go(path)
        cells = person.page.evaluate(NAME_LINES_JS)
        assert len(cells) > 20
        assert {display for _n, _l, display in cells} == {"block"}  # a card per voter, not a table row
        broken = [(n, lines) for n, lines, _d in cells if lines > 1 and len(n) <= 6]
        assert not broken, broken[:5]
    finally:
        if large:
            _large_text_off(person)
