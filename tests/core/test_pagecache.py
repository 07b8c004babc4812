"""The page cache for visitors who are not logged in (core/pagecache.py): a write shows at once,
in this app and in another app instance on the same database; a cached page never carries
another visitor's CSRF token or another user's name."""
import re

import pytest

from core.db import transaction
from core.extensions import db
from core.services import proposals
from tests.conftest import make_app

GOOD = {"title": "修复中心广场路灯", "body": "中心广场有四盏路灯不亮已两个月，晚上散步不安全。",
        "category": "facilities", "scope": "community"}
LIST = "/c/test/proposals/"


def _token(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_second_anonymous_visit_is_served_from_the_cache(world, client):
    proposals.create(world.community, world.resident, GOOD)
    first = client.get(LIST)
    second = client.get(LIST)
    assert first.status_code == second.status_code == 200
    assert second.headers.get("X-Linli-Cache") == "hit"
    assert "修复中心广场路灯" in second.get_data(as_text=True)


def test_a_write_shows_on_the_next_visit(world, client):
    p = proposals.create(world.community, world.resident, GOOD)
    client.get(LIST)
    assert client.get(LIST).headers.get("X-Linli-Cache") == "hit"
    proposals.create(world.community, world.resident2, {**GOOD, "title": "增设电动车充电桩"})
    page = client.get(LIST).get_data(as_text=True)
    assert "增设电动车充电桩" in page and "2 个议题" in page
    client.get(f"/c/test/proposals/{p.id}")
    assert client.get(f"/c/test/proposals/{p.id}").headers.get("X-Linli-Cache") == "hit"
    p.title = "修复中心广场的四盏路灯"
    db.session.commit()
    assert "修复中心广场的四盏路灯" in client.get(f"/c/test/proposals/{p.id}").get_data(as_text=True)
    assert "修复中心广场的四盏路灯" in client.get(LIST).get_data(as_text=True)


def test_a_write_through_another_app_instance_shows_at_once(world, client, db_url, login):
    """Two workers (two apps, each with its own in-memory cache) on one database."""
    with transaction():
        proposals.create(world.community, world.resident, GOOD)
    other = make_app(db_url)
    other_client = other.test_client()
    assert "修复中心广场路灯" in other_client.get(LIST).get_data(as_text=True)
    assert other_client.get(LIST).headers.get("X-Linli-Cache") == "hit"
    # a resident submits a proposal through the first app, in the browser
    r = login(world.resident2).post("/c/test/proposals/new", data={
        **GOOD, "title": "楼道堆物清理", "grid_id": 0, "building_id": 0, "action": "submit"})
    assert r.status_code == 302
    page = other_client.get(LIST)
    assert page.headers.get("X-Linli-Cache") != "hit"
    assert "楼道堆物清理" in page.get_data(as_text=True)


def test_a_rolled_back_write_changes_nothing(world, client):
    p = proposals.create(world.community, world.resident, GOOD)
    client.get(LIST)
    p.title = "不会保存的标题"
    db.session.flush()
    db.session.rollback()
    page = client.get(LIST)
    assert page.headers.get("X-Linli-Cache") == "hit"
    assert "不会保存的标题" not in page.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_each_visitor_gets_their_own_csrf_token(world, app):
    proposals.create(world.community, world.resident, GOOD)
    a, b = app.test_client(), app.test_client()
    page_a = a.get(LIST).get_data(as_text=True)
    hit = b.get(LIST)
    assert hit.headers.get("X-Linli-Cache") == "hit"
    page_b = hit.get_data(as_text=True)
    assert _token(page_a) != _token(page_b)
    # each token works for its own visitor (switching the language is a form with a token)...
    r = b.post("/language", data={"locale": "en", "next": LIST, "csrf_token": _token(page_b)})
    assert r.status_code == 302
    assert "Proposals" in b.get(LIST).get_data(as_text=True)
    # ...and not for the other one
    r = a.post("/language", data={"locale": "en", "next": LIST, "csrf_token": _token(page_b)})
    assert r.status_code == 400


def test_a_logged_in_users_page_is_never_shown_to_visitors(world, client, login):
    proposals.create(world.community, world.resident, GOOD)
    resident = login(world.resident)
    mine = resident.get(LIST).get_data(as_text=True)
    assert "/auth/account" in mine and 'action="/auth/logout"' in mine
    for _ in range(2):
        page = client.get(LIST).get_data(as_text=True)
        assert "居民甲" in page  # the author's name on the proposal is public...
        assert 'action="/auth/logout"' not in page  # ...but nobody is logged in here
        assert "/auth/account" not in page
    # and the resident, now that visitors' pages are cached, still sees their own header
    again = resident.get(LIST)
    assert again.headers.get("X-Linli-Cache") != "hit"
    assert "/auth/account" in again.get_data(as_text=True)


def test_language_and_large_text_choices_are_kept_apart(world, app):
    proposals.create(world.community, world.resident, GOOD)
    zh, en = app.test_client(), app.test_client()
    zh.get(LIST)
    zh.get(LIST)
    en.post("/language", data={"locale": "en", "next": LIST})
    assert "Proposals" in en.get(LIST).get_data(as_text=True)
    assert "Proposals" not in zh.get(LIST).get_data(as_text=True)
    en.post("/text-size", data={"large": "1", "next": LIST})
    assert 'class="large-text' in en.get(LIST).get_data(as_text=True)
    assert 'class="large-text' not in zh.get(LIST).get_data(as_text=True)


API_LIST = "/api/v1/c/test/proposals"


def test_the_api_without_a_token_is_cached_and_a_write_shows_at_once(world, client, api):
    proposals.create(world.community, world.resident, GOOD)
    assert client.get(API_LIST).get_json()["total"] == 1
    hit = client.get(API_LIST)
    assert hit.headers.get("X-Linli-Cache") == "hit" and hit.get_json()["total"] == 1
    assert hit.headers["Content-Type"] == "application/json"
    r = api(world.resident2).post(API_LIST, json={**GOOD, "title": "增设电动车充电桩"})
    assert r.status_code == 201
    after = client.get(API_LIST)
    assert after.headers.get("X-Linli-Cache") != "hit"
    assert after.get_json()["total"] == 2
    # another query string is another answer
    assert client.get(API_LIST + "?per_page=1").get_json()["per_page"] == 1


def test_the_api_with_a_token_is_never_cached(world, client, api):
    proposals.create(world.community, world.resident, GOOD)
    client.get(API_LIST)
    client.get(API_LIST)
    resident = api(world.resident)
    for _ in range(2):
        r = resident.get(API_LIST)
        assert r.status_code == 200 and r.headers.get("X-Linli-Cache") != "hit"


def test_api_errors_and_their_language_are_kept_apart(world, client):
    missing = "/api/v1/c/test/proposals/999999"
    for _ in range(2):
        r = client.get(missing)
        assert r.status_code == 404 and r.headers.get("X-Linli-Cache") != "hit"
    client.get(API_LIST, headers={"Accept-Language": "en"})
    zh = client.get(API_LIST, headers={"Accept-Language": "zh-CN"})
    assert zh.headers.get("X-Linli-Cache") != "hit"
