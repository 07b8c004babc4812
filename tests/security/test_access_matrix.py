"""The access matrix (issue 7, ASVS V8): every route and API endpoint of the URL map, requested
as every role, answers what is declared for it.

Core routes are declared in tests/security/access_core.py, a plugin's in
tests/plugins/<name>/access.py (docs/plugins.md, "Access declarations"). A core route without a
declaration fails; a plugin without an access.py is skipped outside CI (CI unset) and fails in CI."""
import os

import pytest

from tests.conftest import INSTALLED
from tests.security import matrix as m
from tests.security.figures import add

WHO = [pytest.param("core", id="core")] + [pytest.param(name, id=name, marks=pytest.mark.plugins(name))
                                           for name in INSTALLED]


def _declarations_or_skip(who):
    decl = m.load_declarations(who)
    if decl is None:
        message = (f"plugin {who!r} has no access declarations yet: add tests/plugins/{who}/access.py "
                   "(docs/plugins.md, 'Access declarations')")
        if not os.environ.get("CI"):
            pytest.skip("no access declarations yet")
        pytest.fail(message)
    return decl


@pytest.mark.parametrize("who", WHO)
def test_every_route_is_declared_and_answers_as_declared(app, world, login, api, who):
    _declarations_or_skip(who)
    assert m.routes(app, who), f"no routes found for {who}"
    undeclared, mismatches, answers = m.run_matrix(app, world, login, api, who)
    report = []
    if undeclared:
        report.append(f"{len(undeclared)} route(s) of {who} have no access declaration:\n  " + "\n  ".join(undeclared))
    if mismatches:
        report.append(f"{len(mismatches)} answer(s) differ from the declaration:\n  " + "\n  ".join(mismatches))
    assert not report, "\n".join(report)
    assert answers  # something was requested
    add("routes × roles checked", len(answers))


@pytest.mark.parametrize("who", WHO)
def test_another_communitys_slug_with_this_communitys_ids_is_404(app, world, login, api, who):
    """The admin of another community puts their own slug in a URL with ids from this community."""
    _declarations_or_skip(who)
    failures, checked = m.cross_community(app, world, api, login, who)
    assert not failures, "\n".join(failures)
    if who == "core":
        assert checked >= 15


def test_declarations_name_only_existing_routes_and_roles(app):
    """A typo in a declaration would silently leave a route unchecked."""
    from tests.security.access_core import ACCESS
    from tests.security.roles import ROLES

    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    for key, expected in ACCESS.items():
        endpoint = key.split(" ")[-1]
        assert endpoint in endpoints, key
        assert set(expected) == set(ROLES), key


def test_an_undeclared_core_route_fails_the_matrix(app, world, login, api, monkeypatch):
    from tests.security import access_core

    trimmed = dict(access_core.ACCESS)
    del trimmed["c.admin.audit"]
    monkeypatch.setattr(access_core, "ACCESS", trimmed)
    undeclared, _mismatches, _answers = m.run_matrix(app, world, login, api, "core", roles=("anonymous",))
    assert undeclared == ["GET c.admin.audit (/c/<community>/admin/audit)"]


def test_a_wrong_declaration_is_reported(app, world, login, api, monkeypatch):
    from tests.security import access_core
    from tests.security.roles import public

    changed = dict(access_core.ACCESS, **{"c.admin.audit": public()})
    monkeypatch.setattr(access_core, "ACCESS", changed)
    _undeclared, mismatches, _answers = m.run_matrix(app, world, login, api, "core", roles=("resident",))
    assert [x for x in mismatches if "c.admin.audit" in x] == [
        "GET /c/test/admin/audit [c.admin.audit] as resident: got 403, declared [200]"]
