"""Pages past the first answer (issue 16, item 5): the points pager rebound the translation
function ``_`` and every page past the first was a 500. The contract test
tests/contract/test_templates.py keeps any template from binding a shared name again."""
import pytest

from core.extensions import db


@pytest.mark.plugins("points")
def test_points_pages_past_the_first_render(app, world, login):
    """The staff's account list with more than 50 accounts and a statement longer than a page:
    every page answers 200 with working links (it was a 500 past the first page)."""
    from core.models import Membership
    from core.services import accounts
    from plugins.points import services as points

    for i in range(55):
        user = accounts.create_user(f"many{i:02d}", "correct-horse-9", f"居民{i:02d}")
        membership = Membership(user_id=user.id, community_id=world.community.id)
        membership.set_roles(["resident"])
        db.session.add(membership)
    db.session.commit()
    for i in range(35):
        points.adjust(world.community, world.resident, 1, f"活动补记 {i}", world.admin)
    staff = login(world.admin)
    first = staff.get("/c/test/points/accounts")
    assert first.status_code == 200 and 'rel="next"' in first.get_data(as_text=True)
    second = staff.get("/c/test/points/accounts?page=2")
    text = second.get_data(as_text=True)
    assert second.status_code == 200, text[:500]
    assert 'rel="prev"' in text and "/c/test/points/accounts?page=1" in text
    for url in (f"/c/test/points/accounts/{world.resident.id}", "/c/test/points/statement"):
        who = staff if "accounts" in url else login(world.resident)
        assert 'rel="next"' in who.get(url).get_data(as_text=True)
        r = who.get(url + "?page=2")
        text = r.get_data(as_text=True)
        assert r.status_code == 200, (url, text[:500])
        assert "活动补记 0" in text and f'href="{url}?page=1"' in text
