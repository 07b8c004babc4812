"""The engine of the access matrix: enumerate routes from the URL map, log in one client per
role, request every route as every role and compare with the declarations."""
import importlib
import importlib.util
from pathlib import Path

from werkzeug.routing import AnyConverter

from tests.helpers import ApiClient
from tests.security.roles import ROLES

TESTS = Path(__file__).resolve().parent.parent
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def role_users(world):
    return {"unverified": world.newbie, "resident": world.resident, "building_head": world.building_head,
            "grid_worker": world.grid_worker, "mediator": world.mediator, "staff": world.staff,
            "admin": world.admin, "outsider": world.outsider}


def owner(endpoint):
    """The plugin a route belongs to, or "core"."""
    parts = endpoint.split(".")
    if len(parts) >= 3 and parts[0] in ("c", "api_c"):
        name = parts[1][:-4] if parts[1].endswith("_api") else parts[1]
        if name not in ("core", "community", "proposals", "structure", "admin"):
            return name
    return "core"


def routes(app, who):
    """[(rule, method)] of ``who`` ("core" or a plugin name), in a stable order."""
    found = []
    for rule in app.url_map.iter_rules():
        if owner(rule.endpoint) != who:
            continue
        for method in sorted(set(rule.methods) & set(METHODS)):
            found.append((rule, method))
    return sorted(found, key=lambda rm: (rm[0].rule, rm[1]))


def load_declarations(who):
    """(ACCESS dict, url_args callable or None, module) for "core" or a plugin; None if undeclared."""
    if who == "core":
        mod = importlib.import_module("tests.security.access_core")
    else:
        path = TESTS / "plugins" / who / "access.py"
        if not path.exists():
            return None
        mod = importlib.import_module(f"tests.plugins.{who}.access")
    return mod.ACCESS, getattr(mod, "url_args", None), mod


def declared(access, rule, method):
    return access.get(f"{method} {rule.endpoint}", access.get(rule.endpoint))


def build(rule, values):
    """The path of ``rule`` with ``values``; missing ids are 0 (never a row), other strings "x"."""
    vals = {}
    for arg in rule.arguments:
        if arg in values:
            vals[arg] = values[arg]
        else:
            conv = rule._converters.get(arg)
            if isinstance(conv, AnyConverter):
                vals[arg] = sorted(conv.items)[0] if hasattr(conv, "items") else "x"
            elif conv is not None and type(conv).__name__ in ("IntegerConverter", "NumberConverter"):
                vals[arg] = 0
            else:
                vals[arg] = "x"
    return rule.build(vals, append_unknown=False)[1]


class Requester:
    """One client per role (pages: a logged-in session; API: a bearer token)."""

    def __init__(self, app, world, login, api):
        self.app, self.world, self._login, self._api = app, world, login, api
        self.users = role_users(world)
        self.pages, self.apis = {}, {}

    def page_client(self, role, fresh=False):
        if role == "anonymous":
            return self.app.test_client()
        if fresh or role not in self.pages:
            client = self._login(self.users[role])
            if fresh:
                return client
            self.pages[role] = client
        return self.pages[role]

    def api_client(self, role):
        if role not in self.apis:
            self.apis[role] = self._api(None if role == "anonymous" else self.users[role])
        return self.apis[role]

    def status(self, role, method, path, fresh=False):
        if path.startswith("/api/"):
            client = self.api_client(role)
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            resp = getattr(client, method.lower())(path, **kwargs)
        else:
            client = self.page_client(role, fresh=fresh)
            kwargs = {"data": {}} if method in ("POST", "PUT", "PATCH") else {}
            resp = client.open(path, method=method, **kwargs)
        code, location = resp.status_code, resp.headers.get("Location") or ""
        resp.close()
        if fresh:  # logging out ends every session of the user: log the role in again
            self.pages.pop(role, None)
        if code in (301, 302, 303, 307, 308) and location.split("?")[0].endswith(
                "/auth/login"):
            return 401
        return code


# Requests that end the role's session get a fresh client, so later routes still see the role.
SESSION_ENDING = {"auth.logout"}


def run_matrix(app, world, login, api, who, roles=ROLES):
    """Check every route of ``who`` as every role. Returns (undeclared, mismatches, answers)."""
    decl = load_declarations(who)
    access, url_args, _mod = decl
    values = {"community": world.community.slug}
    if url_args is not None:
        values.update(url_args(world) or {})
    req = Requester(app, world, login, api)
    undeclared, mismatches, answers = [], [], {}
    for rule, method in routes(app, who):
        expected = declared(access, rule, method)
        if expected is None:
            undeclared.append(f"{method} {rule.endpoint} ({rule.rule})")
            continue
        path = build(rule, values)
        for role in roles:
            got = req.status(role, method, path, fresh=rule.endpoint in SESSION_ENDING)
            answers[(method, rule.endpoint, role)] = got
            want = expected.get(role)
            if want is None or got not in want:
                mismatches.append(f"{method} {path} [{rule.endpoint}] as {role}: got {got}, "
                                  f"declared {sorted(want) if want else 'nothing'}")
    return undeclared, mismatches, answers


def cross_community(app, world, api, login, who):
    """As the staff and admin of another community, request every route that names an object,
    with that community's slug and this community's ids: each must answer 404."""
    access, url_args, mod = load_declarations(who)
    exempt = set(getattr(mod, "CROSS_COMMUNITY_EXEMPT", ()))
    values = dict(url_args(world) or {}) if url_args is not None else {}
    values["community"] = world.other.slug
    req = Requester(app, world, login, api)
    failures, checked = [], 0
    for rule, method in routes(app, who):
        id_args = set(getattr(mod, "CROSS_COMMUNITY_ARGS", ()))
        ids = [a for a in rule.arguments if a in id_args or type(rule._converters.get(a)).__name__ == "IntegerConverter"]
        if "community" not in rule.arguments or not ids or rule.endpoint in exempt:
            continue
        if not any(a in values for a in ids):
            continue
        path = build(rule, values)
        checked += 1
        got = req.status("outsider", method, path)
        if got != 404:
            failures.append(f"{method} {path} [{rule.endpoint}] as the other community's admin: got {got}")
    return failures, checked
