"""The voting journey in a real browser: staff move a proposal to voting with a reason and set up
its ballot → residents vote (one by keyboard only), one changes the vote → a grid worker enters a
paper ballot for an elderly owner → staff close and count → results with chart → the proposal is
accepted. Phone and desktop in zh_Hans (desktop without JavaScript), once in en and zh_Hant."""
import itertools
from datetime import datetime, timedelta

import pytest

from tests.browser.conftest import MODULE_RUNS, Keyboard, run_ids

NEEDS_PLUGIN = "voting"
RUNS = MODULE_RUNS
_serial = itertools.count(1)

# Controls in a form a finger cannot hit: under 44 px high (a radio button or checkbox counts by
# the label around it), or hidden under the phone's fixed bottom bar once scrolled into view.
TAP_TARGETS_JS = """(sel) => {
  const out = [], bar = document.querySelector('nav.main-nav');
  for (const el of document.querySelectorAll(sel + ' :is(button, select, textarea, a, input:not([type=hidden]))')) {
    const target = el.closest('label') || el;
    const r = target.getBoundingClientRect();
    if (r.width <= 1 && r.height <= 1) continue;
    if (r.height < 44) out.push(el.tagName + '[name=' + (el.name || '') + '] ' + Math.round(r.height) + ' px high');
    el.scrollIntoView({block: 'end'});
    const q = el.getBoundingClientRect(), b = bar && getComputedStyle(bar).position === 'fixed' && bar.getBoundingClientRect();
    if (b && q.bottom > b.top + 1) out.push(el.tagName + '[name=' + (el.name || '') + '] is under the bottom bar');
  }
  window.scrollTo(0, 0);
  return out;
}"""


def _title(i):
    return f"加装电动车集中充电桩（第{i}批）"


def seed(community):
    """One proposal in coordination per run, submitted by a resident and moved on by staff."""
    from core.services import accounts
    from core.services import proposals as svc

    author, staff = accounts.find_user("resident4"), accounts.find_user("staff")
    for i in range(1, len(RUNS) + 1):
        p = svc.create(community, author, {"title": _title(i), "body": "地下车库增设集中充电桩，杜绝飞线充电。",
                                           "category": "safety", "scope": "community", "grid_id": 0,
                                           "building_id": 0})
        svc.transition(p, "coordinating", staff, "附议人数已够")


def open_proposal(person, title):
    person.go("/c/demo/proposals/?q=" + title)
    person.submit(person.page.locator("main .proposal-list a", has_text=title))


def open_ballot(person, title):
    person.go("/c/demo/")
    person.menu("/c/demo/voting/")
    person.submit(person.page.locator("main a", has_text=title).first)


def vote(person, title, choice):
    open_ballot(person, title)
    form = person.page.locator('main form[action$="/vote"]')
    form.locator(f'input[name="choice"][value="{choice}"]').check()
    person.submit(form.locator('button[type="submit"]'))
    person.expect_no_error_flash()
    assert person.page.locator(".flash-success").count() >= 1


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=run_ids(RUNS))
def test_vote_change_close_results_accepted(people, site, locale, viewport, js):
    n = next(_serial)
    title = _title(n)
    kw = dict(locale=locale, viewport=viewport, js=js)

    staff = people(**kw)
    staff.login("staff")
    open_proposal(staff, title)
    form = staff.page.locator('main form[action$="/transition"]')
    form.locator('[name="new_state"]').select_option("voting")
    form.locator('[name="reason"]').fill("协调会后付诸表决")
    staff.submit(form.locator('button[type="submit"]'))
    assert staff.page.locator("main .badge.state-voting").count() >= 1

    # Moving to voting opens the ballot (the voting module's auto_open setting), or the panel on
    # the proposal offers to set it up.
    setup = staff.page.locator('main a[href*="/voting/new?proposal_id="]')
    if setup.count():
        staff.submit(setup)
        form = staff.page.locator("main form")
        assert form.locator('[name="title"]').input_value() == title
        closes = (datetime.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
        form.locator('[name="closes_at"]').fill(closes)
        staff.submit(form.locator('button[type="submit"]').last)
        staff.expect_no_error_flash()
    else:
        staff.submit(staff.page.locator("main section.panel a.big-link[href*='/voting/']").first)
    ballot_url = staff.path
    assert staff.page.locator("main .badge.state-voting").count() >= 1, "the ballot should be open"

    # Residents vote; one votes with the keyboard only, one changes their mind.
    first = people(**kw)
    if viewport == "desktop":
        first.go("/c/demo/")
        kb = Keyboard(first)
        kb.login("resident1")
        kb.tab_to('nav.main-nav a[href$="/c/demo/voting/"]')
        kb.enter()
        kb.tab_to(f'main a[href$="{ballot_url}"]')
        kb.enter()
        kb.tab_to('main form[action$="/vote"] input[name="choice"]')
        kb.press("Space")  # the first option: yes
        kb.tab_to('main form[action$="/vote"] button[type="submit"]')
        kb.enter()
        assert first.page.locator(".flash-success").count() >= 1
        kb.assert_focus_visible()
    else:
        first.login("resident1")
        vote(first, title, "yes")

    changer = people(**kw)
    changer.login("resident2")
    vote(changer, title, "no")
    vote(changer, title, "yes")
    assert changer.page.locator("main details.earlier-ballots").count() == 1, "the earlier ballot should be listed as superseded"

    # A grid worker enters the paper ballot of an elderly owner (吴奶奶) who has no phone.
    worker = people(**kw)
    worker.login("wanggeyuan")
    worker.go(ballot_url)
    worker.submit(worker.page.locator(f'main a[href$="{ballot_url}/paper"]'))
    form = worker.page.locator("main form").last
    if viewport == "phone":
        small = worker.page.evaluate(TAP_TARGETS_JS, "main form")
        assert not small, f"{worker.path}: too small to tap on a phone (under 44 px):\n" + "\n".join(small)
    option = form.locator('select[name="voter_id"] option', has_text="吴奶奶").first
    form.locator('select[name="voter_id"]').select_option(option.get_attribute("value"))
    form.locator('label.check:has(input[name="choice"][value="yes"])').click()  # the label is the tap target
    assert form.locator('input[name="choice"][value="yes"]').is_checked()
    form.locator('[name="witness"]').fill("赵楼长")
    worker.submit(form.locator('button[type="submit"]:not([data-picker-button])').first)
    worker.expect_no_error_flash()
    assert "吴奶奶" in worker.flash()
    entered = worker.page.locator("main section.card").last.inner_text()
    assert "吴奶奶" in entered and "赵楼长" in entered, entered

    # Staff close and count; the result has a chart, and the proposal is accepted.
    staff.go(ballot_url)
    close = staff.page.locator('main form[action$="/close"]')
    close.locator('[name="reason"]').fill("表决期满")
    staff.submit(close.locator('button[type="submit"]'))
    # Closing cannot be undone: a confirmation page first, with the turnout so far.
    confirm = staff.page.locator('main form[action$="/close"]')
    assert confirm.locator('input[name="confirm"]').count() == 1
    assert confirm.locator('[name="reason"]').input_value() == "表决期满"
    staff.submit(confirm.locator('button[type="submit"]'))
    staff.expect_no_error_flash()
    result = staff.page.locator("#result")
    assert result.locator("svg.chart").count() == 1
    assert result.locator(".badge.ok").count() >= 1, result.inner_text()
    assert result.locator("table").first.inner_text().count("\n") >= 3

    first.go(ballot_url)
    assert first.page.locator("#result svg.chart").count() == 1
    open_proposal(first, title)
    assert first.page.locator("main .badge.state-accepted").count() >= 1
