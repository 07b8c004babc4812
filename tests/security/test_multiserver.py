"""Several app servers (docs/deploy.md): two gunicorn servers on different ports share ONE
PostgreSQL database and ONE Redis. A module switched on one is switched on the other at once; a
session made on one works on the other, and logging out on either ends it; the login rate limit
counts attempts on both together.

Needs PostgreSQL (TEST_DATABASE_URL) and a Redis on 127.0.0.1:6379 (it uses db 7 and flushes only
that one)."""
import http.cookies
import urllib.error
import urllib.parse
import urllib.request

import pytest

from core.extensions import db
from tests.conftest import PASSWORD, PG_URL
from tests.live import live_server

REDIS_URL = "redis://127.0.0.1:6379/7"

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL): several servers cannot share "
                                          "one SQLite file the way they share a database server"),
    pytest.mark.plugins("points"),
]


@pytest.fixture
def redis_db():
    try:
        import redis
    except ImportError:
        pytest.skip("the redis package is not installed (pip install redis)")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as err:
        pytest.skip(f"Redis does not answer on {REDIS_URL}: {err}")
    client.flushdb()  # db 7 only: this test's own
    yield client
    client.flushdb()
    client.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping client that may send its cookies to either server."""

    def __init__(self):
        self.cookies = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, method, url, form=None, token=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            resp = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as e:
            resp = e
        for header in resp.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie(header)
            for name, morsel in jar.items():
                if morsel["expires"] and "1970" in morsel["expires"] or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        body = resp.read().decode("utf-8", errors="replace")
        return resp.status if hasattr(resp, "status") else resp.code, body

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, form=None, **kw):
        return self.request("POST", url, form=form or {}, **kw)


@pytest.fixture
def servers(world, db_url, tmp_path, redis_db):
    config = (f"RATELIMIT_ENABLED = True\nRATELIMIT_STORAGE_URI = {REDIS_URL!r}\n"
              "RATELIMIT_LOGIN = '5 per minute'\nWTF_CSRF_ENABLED = False\n")
    with live_server(db_url, tmp_path, plugins=("points",), extra_config=config) as a, \
            live_server(db_url, tmp_path, plugins=("points",), extra_config=config) as b:
        assert a != b
        yield a, b


def login(browser, base, user):
    status, _body = browser.post(base + "/auth/login", {"login": user.login_name, "password": PASSWORD})
    assert status == 302, _body[:300]


def test_a_module_switched_on_one_server_is_switched_on_every_server(world, servers):
    from core.services import tokens

    a, b = servers
    token = tokens.create(world.resident, "multiserver")[1]
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    admin, resident = Browser(), Browser()
    login(admin, a, world.admin)
    login(resident, b, world.resident)
    assert resident.get(b + "/c/test/points/")[0] == 200
    assert resident.get(b + "/api/v1/c/test/points/balance", token=token)[0] == 200
    assert 'href="/c/test/points/"' in resident.get(b + "/c/test/")[1]

    assert admin.post(a + "/c/test/admin/modules", {"plugin": "points", "enabled": "0"})[0] == 200  # asks first
    assert resident.get(b + "/c/test/points/")[0] == 200
    assert admin.post(a + "/c/test/admin/modules", {"plugin": "points", "enabled": "0", "confirm": "1"})[0] == 302
    assert resident.get(b + "/c/test/points/")[0] == 404
    assert resident.get(b + "/api/v1/c/test/points/balance", token=token)[0] == 404
    assert 'href="/c/test/points/"' not in resident.get(b + "/c/test/")[1]

    assert admin.post(a + "/c/test/admin/modules", {"plugin": "points", "enabled": "1"})[0] == 302
    assert resident.get(b + "/c/test/points/")[0] == 200
    assert resident.get(b + "/api/v1/c/test/points/balance", token=token)[0] == 200
    assert 'href="/c/test/points/"' in resident.get(b + "/c/test/")[1]


def test_a_session_made_on_one_server_works_on_the_other_and_ends_on_both(world, servers):
    a, b = servers
    browser = Browser()
    assert browser.get(b + "/auth/account")[0] == 302  # not logged in: to the login page
    login(browser, a, world.resident)
    stolen = dict(browser.cookies)  # a copy of the cookie, as a second device or a thief would have
    assert browser.get(b + "/auth/account")[0] == 200
    assert browser.get(a + "/auth/account")[0] == 200
    assert browser.post(b + "/auth/logout")[0] == 302
    copy = Browser()
    copy.cookies = stolen
    assert copy.get(a + "/auth/account")[0] == 302  # logout on B ended the session on A
    assert copy.get(b + "/auth/account")[0] == 302


def test_the_login_limit_counts_attempts_on_every_server(world, servers):
    a, b = servers
    wrong = {"login": world.resident.login_name, "password": "not-the-password"}
    for _ in range(4):
        assert Browser().post(a + "/auth/login", wrong)[0] == 200  # the form again
    assert Browser().post(b + "/auth/login", wrong)[0] == 200  # the 5th attempt, on the other server
    assert Browser().post(a + "/auth/login", wrong)[0] == 429
    assert Browser().post(b + "/auth/login", wrong)[0] == 429
    # even the right password waits now, on both
    right = {"login": world.resident.login_name, "password": PASSWORD}
    assert Browser().post(b + "/auth/login", right)[0] == 429
