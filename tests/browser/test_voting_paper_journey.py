"""No vote changes behind the voter's back, in a real browser: a resident has voted online; a grid
worker enters her signed paper ballot, is shown the online vote first (when and how, and what on a
named ballot), confirms it with a reason; the resident then sees the notice in the app and which
ballot counts. The community's rule is "paper wins". zh_Hans on a phone, en on a desktop without
JavaScript."""
import itertools

import pytest

from tests.browser.conftest import run_ids

NEEDS_PLUGIN = "voting"
RUNS = [("zh_Hans", "phone", True), ("en", "desktop", False)]
NO = {"zh_Hans": "反对", "en": "No"}
_serial = itertools.count(1)


def _title(i):
    return f"小区快递柜选址（第{i}轮）"


def seed(community):
    """The rule "paper wins"; per run an open ballot on which 杨女士 (resident3) voted yes online."""
    from core.services import accounts
    from core.services import settings as settings_svc
    from plugins.voting import services

    settings_svc.set(community, "voting", "paper_rule", "paper_wins")
    staff, voter = accounts.find_user("staff"), accounts.find_user("resident3")
    for i in range(1, len(RUNS) + 1):
        b = services.create(community, staff, {"title": _title(i), "days": 7}, open_now=True)
        services.cast(b, voter, "yes")


@pytest.mark.parametrize("locale,viewport,js", RUNS, ids=run_ids(RUNS))
def test_paper_ballot_over_an_online_vote_is_confirmed_and_the_voter_is_told(people, site, locale, viewport, js):
    title = _title(next(_serial))
    kw = dict(locale=locale, viewport=viewport, js=js)

    worker = people(**kw)
    worker.login("wanggeyuan")
    worker.go("/c/demo/voting/")
    worker.submit(worker.page.locator("main a", has_text=title).first)
    ballot_url = worker.path
    assert worker.page.locator("#paper-rule").count() == 1  # the rule is on the ballot page
    worker.submit(worker.page.locator(f'main a[href$="{ballot_url}/paper"]'))
    form = worker.page.locator("main form").last
    option = form.locator('select[name="voter_id"] option', has_text="杨女士").first
    form.locator('select[name="voter_id"]').select_option(option.get_attribute("value"))
    form.locator('label.check:has(input[name="choice"][value="no"])').click()
    form.locator('[name="witness"]').fill("赵楼长")
    worker.submit(form.locator('button[type="submit"]:not([data-picker-button])').first)
    # Not recorded yet: the online vote is shown, and must be confirmed with a reason.
    box = worker.page.locator("#online-vote")
    assert box.count() == 1 and "杨女士" in box.inner_text()
    assert worker.page.locator(".flash-error").count() == 1
    form = worker.page.locator("main form").last
    assert form.locator('input[name="choice"][value="no"]').is_checked()  # the choice is kept
    form.locator('label.check:has(input[name="confirm_online"])').click()
    form.locator('[name="note"]').fill("本人到社区服务站补签纸质票")
    worker.submit(form.locator('button[type="submit"]:not([data-picker-button])').first)
    worker.expect_no_error_flash()
    assert "杨女士" in worker.flash()

    voter = people(**kw)
    voter.login("resident3")
    voter.go("/auth/notifications")
    notice = voter.page.locator("main").inner_text()
    assert title in notice and "孙网格员" in notice, notice[:1000]
    voter.go(ballot_url)
    counted = voter.page.locator("#vote").inner_text()
    assert NO[locale] in counted, counted
