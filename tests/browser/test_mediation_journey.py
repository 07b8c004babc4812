"""The mediation journey in a real browser: a grid worker reports a neighbours' dispute from a
phone → the mediator escalates it and takes it on → an agreement is refused before the parties'
consent → records their consent and a session → records the agreement and
its signatures → the follow-up visit comes due (the test moves its date) and is recorded → the case
is closed, and the applicant sees what was agreed."""
import itertools
import re
import sqlite3

import pytest

from tests.browser.conftest import MODULE_RUNS, local_date, run_ids

NEEDS_PLUGIN = "mediation"
_serial = itertools.count(1)
PAIRS = [("resident1", "resident2"), ("resident3", "resident4"), ("resident5", "loudongzhang"),
         ("resident2", "resident3")]
REFUSAL = {"zh_Hans": "调解协议须在前提条件齐备后方可制作、签署或生效。尚缺：",
           "zh_Hant": "調解協議須在前提條件齊備後方可製作、簽署或生效。尚缺：",
           "en": "An agreement can be drafted, signed or take effect only once everything it needs is recorded. Missing:"}


def fill_form(form, values):
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]')
        tag = field.evaluate("e => e.tagName + (e.type ? ':' + e.type : '')")
        if tag.startswith("SELECT"):
            field.select_option(value)
        elif tag.endswith(":checkbox"):
            field.check() if value else field.uncheck()
        else:
            field.fill(value)


@pytest.mark.parametrize("locale,viewport,js", MODULE_RUNS, ids=run_ids(MODULE_RUNS))
def test_report_escalate_session_agreement_followup(people, site, locale, viewport, js):
    n = next(_serial)
    kw = dict(locale=locale, viewport=viewport, js=js)
    applicant, respondent = PAIRS[n - 1]
    story = f"502室夜间练琴噪音，楼下402多次投诉（第{n}例）"

    worker = people(**kw)
    worker.login("wanggeyuan")
    worker.go("/c/demo/mediation/new")
    form = worker.page.locator("main form").last
    fill_form(form, {"source": "grid_report", "category": "noise", "description": story, "urgency": "normal",
                     "applicant_login": applicant, "respondent_login": respondent, "rights_notified": True,
                     "voluntary_statement": True})
    worker.submit(form.locator('button[type="submit"]').last)
    worker.expect_no_error_flash()
    m = re.search(r"/c/demo/mediation/cases/(\d+)", worker.path)
    assert m, worker.path
    case = f"/c/demo/mediation/cases/{m.group(1)}"

    mediator = people(**kw)
    mediator.login("tiaojieyuan")
    mediator.go("/c/demo/mediation/")
    mediator.submit(mediator.page.locator(f'main a[href$="{case}"]').first)
    assert story in mediator.page.locator("main").inner_text()

    def act(action_suffix, values):
        f = mediator.page.locator(f'main form[action*="{action_suffix}"]').first
        mediator.reveal(f)
        fill_form(f, values)
        mediator.submit(f.locator('button[type="submit"]').first)  # a pointer click: nothing may cover it
        mediator.expect_no_error_flash()

    act("/escalate", {"rs-reason": "网格调解未果"})
    act("/assign", {"as-login": "tiaojieyuan"})

    # No agreement before consent (R16): the page says what is missing, and nothing is saved.
    missing = mediator.page.locator("main #agreement-needs").inner_text()
    early = mediator.page.locator('main form[action$="/agreements"]')
    mediator.reveal(early)
    fill_form(early, {"ag-form": "oral", "ag-facts": "夜间练琴影响楼下休息", "ag-terms": "晚上九点后不练琴"})
    mediator.submit(early.locator('button[type="submit"]'), expect_status=409)
    refusal = mediator.page.locator(".flash-error").inner_text()
    assert REFUSAL[locale] in refusal, refusal
    for line in missing.splitlines()[1:]:  # each precondition the page listed is named in the refusal
        assert line.strip() in refusal, (line, refusal)
    with sqlite3.connect(site.db_path) as db:
        assert db.execute("SELECT count(*) FROM mediation_agreement WHERE case_id = ?",
                          (int(m.group(1)),)).fetchone() == (0,)
    mediator.go(case)
    # R16: each party's voluntary consent to mediation
    for i in range(mediator.page.locator('main form[action*="/consent"]:not([action*="pi-consent"])').count()):
        f = mediator.page.locator('main form[action*="/consent"]:not([action*="pi-consent"])').nth(i)
        f.locator('select[name="consent"]').select_option("agreed")
        mediator.submit(f.locator('button[type="submit"]'))
        mediator.expect_no_error_flash()
    # R22: the parties' separate consent to processing their personal data comes before any session
    act("/pi-consent-paper", {"pc-on": local_date()})
    act("/sessions", {"ss-held_on": local_date(), "ss-held_at": "19:00", "ss-place": "社区调解室",
                      "ss-attendees": "双方当事人、调解员", "ss-notes": "听取双方陈述，双方同意调解"})
    parties = mediator.page.locator('main form[action$="/agreements"] select[name="ag-ob1_party"] option')
    respondent_party = parties.nth(parties.count() - 1).get_attribute("value")
    act("/agreements", {"ag-form": "written", "ag-facts": "夜间练琴影响楼下休息",
                        "ag-terms": "晚上九点后不练琴，钢琴加装静音垫", "ag-ob1_party": respondent_party,
                        "ag-ob1_text": "加装静音垫", "ag-ob1_due": local_date()})
    for _ in range(4):  # both parties, the mediator, the committee's seal
        sign = mediator.page.locator('main form[action*="/sign"]')
        if not sign.count():
            break
        sign.locator('select[name="sg-who"]').select_option(index=0)
        mediator.submit(sign.locator('button[type="submit"]'))
        mediator.expect_no_error_flash()
    assert mediator.page.locator('main form[action*="/sign"]').count() == 0, "every signature is recorded"

    # Three days later the follow-up visit is due.
    with sqlite3.connect(site.db_path) as db:
        db.execute("UPDATE mediation_followup SET due_on = ? WHERE case_id = ?", (local_date(), int(m.group(1))))
    mediator.go(case)
    act("/followups/", {"fu-result": "performed", "fu-findings": "已加装静音垫，双方满意"})
    act("/close", {"cl-outcome": "resolved"})

    party = people(**kw)
    party.login(applicant)
    party.go(case)
    assert "晚上九点后不练琴" in party.page.locator("main").inner_text()
