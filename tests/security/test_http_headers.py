"""Caching and cookie headers (issue 16, item 12): nothing made for one person is kept by the
browser or a proxy (``Cache-Control: no-store``), while the pages every visitor gets alike keep
the page cache's own header; the remember-me cookie lasts 30 days at most."""
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest

from core import create_app
from core.config import ConfigError, from_env
from core.models import Proposal
from core.services import proposals
from tests.conftest import PASSWORD


def _no_store(resp, what):
    assert "no-store" in resp.headers.get("Cache-Control", ""), (what, resp.status_code, resp.headers)


@pytest.fixture
def proposal(world):
    return proposals.create(world.community, world.resident, {
        "title": "小区东门加装照明", "body": "东门晚上太黑，老人进出不方便，建议加装照明。", "category": "facilities"}).id


def test_everything_for_a_signed_in_user_is_no_store(app, world, login, api, proposal):
    c = login(world.staff)
    for url in ("/c/test/", "/c/test/proposals/", f"/c/test/proposals/{proposal}", "/auth/account",
                "/auth/notifications", "/c/test/members", "/c/test/structure/export.xlsx", "/c/test/no-such-page",
                "/auth/account/personal-data"):
        _no_store(c.get(url), url)
    _no_store(c.post("/language", data={"locale": "en", "next": "/c/test/"}), "a redirect")
    r = app.test_client().post("/auth/login", data={"login": "resident", "password": PASSWORD})
    assert r.status_code == 302
    _no_store(r, "the answer that signs in (it sets the session cookie)")
    token_api = api(world.resident)
    for url in ("/api/v1/me", f"/api/v1/c/test/proposals/{proposal}", "/api/v1/c/test/proposals"):
        _no_store(token_api.get(url), url)


def test_anonymous_pages_not_from_the_public_cache_are_no_store(client, world):
    for resp, what in ((client.get("/auth/login"), "the login form"),
                       (client.post("/auth/login", data={"login": "resident", "password": "wrong-pw-1"}), "refused"),
                       (client.get("/"), "the list of communities")):
        _no_store(resp, what)


def test_public_pages_keep_the_page_caches_own_header(app, client, world, proposal):
    for url in ("/c/test/", "/c/test/proposals/", f"/c/test/proposals/{proposal}"):
        visitor = app.test_client()
        first, second = visitor.get(url), visitor.get(url)
        assert second.headers.get("X-Linli-Cache") == "hit", url  # still served from the cache
        for r in (first, second):
            assert r.headers["Cache-Control"] == "private, no-cache", url
    api_first, api_second = client.get("/api/v1/c/test/proposals"), client.get("/api/v1/c/test/proposals")
    assert api_second.headers.get("X-Linli-Cache") == "hit"
    assert api_first.headers["Cache-Control"] == api_second.headers["Cache-Control"] == "no-cache"
    css = client.get("/static/linli.css")
    css.close()
    assert "no-store" not in css.headers.get("Cache-Control", "")  # the same for everyone
    assert Proposal.query.count() == 1


def _remember_cookie_expiry(app):
    r = app.test_client().post("/auth/login", data={"login": "resident", "password": PASSWORD, "remember": "y"})
    cookie = next(v for v in r.headers.getlist("Set-Cookie") if v.startswith("remember_token="))
    expires = next(p.split("=", 1)[1] for p in cookie.split("; ") if p.lower().startswith("expires="))
    return parsedate_to_datetime(expires) - datetime.now(timezone.utc)


def test_the_remember_me_cookie_lasts_30_days_at_most_or_as_set(app, world, extra_app):
    assert timedelta(days=29, hours=23) < _remember_cookie_expiry(app) <= timedelta(days=30)
    shorter = extra_app(REMEMBER_COOKIE_DURATION=timedelta(days=7))
    assert timedelta(days=6, hours=23) < _remember_cookie_expiry(shorter) <= timedelta(days=7)


def test_a_longer_remember_me_cookie_is_refused_at_start_up(tmp_path):
    def build(**config):
        return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite",
                           "SECRET_KEY": "x", **config}, plugins=[])

    for too_long in (timedelta(days=31), timedelta(days=365), 31 * 86400, None, timedelta(0)):
        with pytest.raises(ConfigError) as err:
            build(REMEMBER_COOKIE_DURATION=too_long)
        assert "REMEMBER_COOKIE_DURATION" in str(err.value) and "30 days" in str(err.value)
    assert build(REMEMBER_COOKIE_DURATION=3600).config["REMEMBER_COOKIE_DURATION"] == timedelta(hours=1)
    assert from_env({"LINLI_REMEMBER_DAYS": "14"}) == {"REMEMBER_COOKIE_DURATION": timedelta(days=14)}
    for bad in ("31", "0", "a month"):
        with pytest.raises(ConfigError, match="LINLI_REMEMBER_DAYS"):
            from_env({"LINLI_REMEMBER_DAYS": bad})
