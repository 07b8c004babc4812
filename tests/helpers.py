"""Helpers as fixtures: log a client in, call the API with a token."""
import pytest

PASSWORD = "correct-horse-9"
# What the registration form needs besides the account: where the resident lives and their
# consent to the privacy notice.
REGISTRATION = {"address": "3号楼 2单元 502", "consent": "y"}


class ApiClient:
    """A test client that sends a bearer token with every request."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def _h(self, headers):
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        h.update(headers or {})
        return h

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._h(headers), **kw)

    def post(self, url, json=None, headers=None, **kw):
        return self.client.post(url, json=json, headers=self._h(headers), **kw)

    def put(self, url, json=None, headers=None, **kw):
        return self.client.put(url, json=json, headers=self._h(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.client.delete(url, headers=self._h(headers), **kw)


@pytest.fixture
def login(app):
    """login(user) -> a test client logged in as ``user`` (a fresh client each call)."""

    def do(user):
        c = app.test_client()
        r = c.post("/auth/login", data={"login": user.login_name, "password": PASSWORD})
        assert r.status_code == 302, r.data[:500]
        return c

    return do


@pytest.fixture
def api(app):
    """api(user or None) -> ApiClient authenticated with a new token for ``user``."""
    from core.services import tokens

    def make(user=None):
        raw = tokens.create(user, "test")[1] if user is not None else None
        return ApiClient(app.test_client(), raw)

    return make


def residents_with_points(world, prefix, n, points):
    """``n`` verified residents of the test community holding ``points`` each (the points module
    must be installed), with an API token each: (user ids, tokens). For the race and fault tests."""
    from core.extensions import db
    from core.models import Membership
    from core.services import accounts, tokens
    from plugins.points import services as points_services

    ids, toks = [], []
    for i in range(n):
        user = accounts.create_user(f"{prefix}{i:03d}", PASSWORD, f"居民{prefix}{i:03d}")
        m = Membership(user_id=user.id, community_id=world.community.id)
        m.set_roles(["resident"])
        db.session.add(m)
        db.session.commit()
        accounts.verify_resident(m, world.households[i % len(world.households)], "resident", world.staff,
                                 reason="test")
        if points:
            points_services.adjust(world.community, user, points, "test: starting balance", world.admin)
        ids.append(user.id)
        toks.append(tokens.create(user, "race")[1])
    return ids, toks
