"""The audit log as staff read it on a 390×844 phone, in normal and large text (issue 20): every
entry is a sentence with its changed fields in a small table, never a raw key or JSON, and no
name is split over lines (it used to stand one character per line)."""
import re

import pytest

from tests.browser.test_access import _large_text_off, _large_text_on

# The names in the "who" cells rendered on more than one line.
SPLIT_NAMES_JS = r"""() => {
  const out = [];
  for (const td of document.querySelectorAll('table.audit td.who')) {
    const n = td.firstChild;
    if (!n || n.nodeType !== Node.TEXT_NODE || !n.data.trim() || !td.getClientRects().length) continue;
    const r = document.createRange();
    r.setStart(n, 0); r.setEnd(n, n.data.trimEnd().length);
    const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.bottom)));
    if (lines.size > 1) out.push(`"${n.data.trim()}" on ${lines.size} lines`);
  }
  return out;
}"""
AUDIT_KEY = re.compile(r"\b(proposal|membership|account|household|voting|points|meetings|mediation)\.[a-z_.]+\b")


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_the_audit_log_reads_as_sentences_and_keeps_names_whole(people, site, locale, large):
    person = people(locale=locale, viewport="phone", audit=False)
    person.login("admin")
    person.go("/c/demo/admin/audit")
    if large:
        _large_text_on(person)  # switched on from the audit log, which it comes back to
    try:
        assert person.path.endswith("/admin/audit")
        assert person.page.locator("table.audit tbody tr").count() > 5
        text = person.page.locator("main").inner_text()
        assert not AUDIT_KEY.search(text), AUDIT_KEY.search(text).group(0)
        assert '{"' not in text
        assert person.page.locator("table.audit-fields").count() > 0
        assert person.page.evaluate(SPLIT_NAMES_JS) == []
        person.assert_no_sideways_scroll()
    finally:
        if large:
            _large_text_off(person)
