"""Forms as a resident and a grid worker meet them on a phone (issue 20): a vote refused with a
question comes back with her choice still ticked; the witness a paper ballot or a written proxy
needs is marked as required before it is refused."""
import re

import pytest

from plugins.voting import services
from plugins.voting.models import Entry

pytestmark = pytest.mark.plugins("voting")


def _selected(html, select_id):
    select = re.search(rf'<select id="{select_id}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="(\d*)" selected>', select)


def test_a_refused_ranking_comes_back_as_she_ranked_it(world, login):
    b = services.create(world.community, world.staff, {"title": "活动中心开放时段", "method": "irv",
                                                       "options": ["上午", "下午", "晚上"], "days": 3},
                        open_now=True)
    c = login(world.resident)
    r = c.post(f"/c/test/voting/{b.id}/vote", data={"rank-0": "1", "rank-1": "1", "rank-2": "2"},
               follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Two options have rank 1" in html
    assert Entry.query.filter_by(ballot_id=b.id, source="online").count() == 0
    assert (_selected(html, "rank-0"), _selected(html, "rank-1"), _selected(html, "rank-2")) == (["1"], ["1"], ["2"])


def test_a_refused_approval_vote_keeps_its_ticks(world, login):
    b = services.create(world.community, world.staff, {"title": "健身器材选型", "method": "approval", "max_choices": 1,
                                                       "options": ["单杠", "太空漫步机", "扭腰器"], "days": 3},
                        open_now=True)
    r = login(world.resident).post(f"/c/test/voting/{b.id}/vote", data={"choice": ["0", "2"]},
                                   follow_redirects=True)
    html = r.get_data(as_text=True)
    assert 'class="flash flash-error"' in html
    assert Entry.query.filter_by(ballot_id=b.id, source="online").count() == 0
    ticked = re.findall(r'<input type="checkbox" name="choice" value="(\d+)" checked>', html)
    assert ticked == ["0", "2"]


@pytest.mark.parametrize("page", ["paper", "proxies"])
def test_the_witness_field_is_marked_required(world, login, page):
    b = services.create(world.community, world.staff, {"title": "小区停车位划线", "days": 7, "unit": "household"},
                        open_now=True)
    html = login(world.staff).get(f"/c/test/voting/{b.id}/{page}").get_data(as_text=True)
    label = re.search(r'<label for="witness">(.*?)</label>', html, re.S).group(1)
    assert "(required)" in label or "（必填）" in label
    assert re.search(r'<input[^>]*id="witness"[^>]*\brequired\b', html)


def test_closing_a_ballot_early_asks_first_and_shows_the_turnout(world, login):
    """GET and a POST without confirm show what will happen and change nothing; confirm=1 closes."""
    from core.extensions import db
    from plugins.voting.models import Ballot

    b = services.create(world.community, world.staff, {"title": "小区停车位划线", "days": 7}, open_now=True)
    login(world.resident).post(f"/c/test/voting/{b.id}/vote", data={"choice": "yes"})
    staff = login(world.staff)
    url = f"/c/test/voting/{b.id}/close"
    for r in (staff.get(url), staff.post(url, data={"reason": "提前结束"})):
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and 'name="confirm" value="1"' in html
        assert re.search(r"(Voted so far: 1 of \d+|目前已投票：1人)", html), html[:2000]
        db.session.expire_all()
        assert db.session.get(Ballot, b.id).state == "open"
    assert 'value="提前结束"' in html  # the reason typed on the ballot page is kept
    r = staff.post(url, data={"reason": "提前结束", "confirm": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).state == "closed"


def test_cancelling_a_ballot_asks_first(world, login):
    """A POST without confirm shows what cancelling does (no result, the votes not counted) and
    changes nothing; the page's own button (confirm=1) cancels."""
    from core.extensions import db
    from plugins.voting.models import Ballot

    b = services.create(world.community, world.staff, {"title": "楼道粉刷", "days": 7}, open_now=True)
    staff = login(world.staff)
    r = staff.post(f"/c/test/voting/{b.id}/cancel", data={"reason": "议题撤回"}, headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="confirm" value="1"' in html and 'value="议题撤回"' in html
    assert "votes cast so far are not counted" in html and f"/c/test/voting/{b.id}" in html
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).state == "open"
    r = staff.post(f"/c/test/voting/{b.id}/cancel", data={"reason": "议题撤回", "confirm": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).state == "cancelled"
