"""Pages as an elderly resident and a grid worker meet them on a phone (issue 20): printouts fit
the phone and lead back; phone numbers bring up the phone's number pad; a field that must be
filled in says so; numbers in running text are kept on one line."""
import re

from markupsafe import Markup

from core.i18n import nobreak
from core.services import proposals

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def test_a_printout_fits_the_phone_and_leads_back(world, client):
    p = proposals.create(world.community, world.resident, {
        "title": "修复中心广场路灯", "body": "中心广场的路灯坏了三盏，晚上散步很不安全。", "category": "facilities"})
    html = client.get(f"/c/test/proposals/{p.id}/print").get_data(as_text=True)
    assert VIEWPORT in html  # without it a phone lays the page out 980 px wide
    assert f'href="/c/test/proposals/{p.id}"' in html


def test_a_household_member_phone_brings_up_the_number_pad(world, login):
    html = login(world.staff).get(f"/c/test/structure/households/{world.households[0].id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="m-phone"[^>]*type="tel"|<input[^>]*type="tel"[^>]*id="m-phone"', html), \
        re.findall(r'<input[^>]*id="m-phone"[^>]*>', html)


def test_a_required_field_says_so(client):
    html = client.get("/auth/login").get_data(as_text=True)
    label = re.search(r'<label for="login">(.*?)</label>', html, re.S).group(1)
    assert "(required)" in label or "（必填）" in label


def test_numbers_in_running_text_stay_on_one_line():
    assert nobreak("Case 2026-0001 is due 2026-12-14, -10 <b>") == Markup(
        'Case <span class="nowrap">2026-0001</span> is due <span class="nowrap">2026-12-14</span>, '
        '<span class="nowrap">-10</span> &lt;b&gt;')
    # In HTML only the text is touched, never a tag's attributes or an entity.
    assert nobreak(Markup('<a href="/c/x/12">第 12 次</a> &#39;')) == Markup(
        '<a href="/c/x/12">第 <span class="nowrap">12</span> 次</a> &#39;')
