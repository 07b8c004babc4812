"""Templates of the core and of every installed module may not bind a name the templates share:
``{% set _ = ... %}`` in the points pager replaced the translation function for the rest of the
page, and every page past the first answered 500 (issue 16, item 5)."""
import pytest
from jinja2 import nodes

from tests.conftest import INSTALLED

# What every template is given besides the environment's globals (Flask, Flask-Login, Flask-WTF,
# flask-babel); the environment's own globals are added in the test.
SHARED = {"_", "gettext", "ngettext", "pgettext", "npgettext", "url_for", "request", "g", "config", "session",
          "get_flashed_messages", "current_user", "csrf_token", "self", "varargs", "kwargs", "caller", "loop"}


def shared_names(app):
    with app.test_request_context():
        context = {}
        app.update_template_context(context)
    return SHARED | set(app.jinja_env.globals) | set(context)


def bindings(tree):
    """(name, line) of every name ``tree`` binds: set, for, with, macro and call-block arguments,
    macro names and imports."""
    for node in tree.find_all(nodes.Name):
        if node.ctx in ("store", "param"):
            yield node.name, node.lineno
    for node in tree.find_all(nodes.Macro):
        yield node.name, node.lineno
    for node in tree.find_all(nodes.Import):
        yield node.target, node.lineno
    for node in tree.find_all(nodes.FromImport):
        for name in node.names:
            yield (name[1] if isinstance(name, tuple) else name), node.lineno


def rebinding(app):
    shared, found = shared_names(app), []
    for name in app.jinja_env.list_templates(extensions=["html", "txt", "ics", "xml", "svg", "j2"]):
        source, filename, _uptodate = app.jinja_env.loader.get_source(app.jinja_env, name)
        for bound, line in bindings(app.jinja_env.parse(source, name, filename)):
            if bound in shared:
                found.append(f"{name}:{line} binds {bound!r}")
    return found


@pytest.mark.plugins(*INSTALLED)
def test_no_template_binds_a_shared_name(app):
    assert len(app.jinja_env.list_templates()) > 50  # the core's and every module's templates
    assert rebinding(app) == []


@pytest.mark.plugins(*INSTALLED)
def test_the_check_finds_a_rebound_name(app):
    from jinja2 import ChoiceLoader, DictLoader

    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "bad.html": '{% set args = {} %}{% set _ = args.update(a=1) %}{% for url_for in [] %}{% endfor %}'
                    '{% macro m(request) %}{% endmacro %}{% from "x.html" import y as gettext %}'}),
        app.jinja_env.loader])
    assert sorted(rebinding(app)) == ["bad.html:1 binds '_'", "bad.html:1 binds 'gettext'",
                                      "bad.html:1 binds 'request'", "bad.html:1 binds 'url_for'"]
