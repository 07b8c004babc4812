"""The layers of a plugin (issue 21; docs/architecture.md and docs/plugins.md, "Layers").

Read by the AST, never imported, over every module of every plugin of the entry-point group
``linli.plugins`` (its ``migrations/`` apart):

* **Storage stays in storage modules.** Only a plugin's ``store.py`` (and points' ``ledger.py``)
  may import ``core.pagecache``, use ``bindparam``, read ``dialect.name`` or touch the driver's
  own connection (``dbapi_connection``, ``driver_connection``, ``raw_connection``, a
  ``.cursor()``). Rules (services), pages (views), the API and the hooks (``__init__``) do not.
* **Services never commit.** No module but an entry point (``views.py``, ``api.py``,
  ``*_views.py``, ``*_api.py``, ``cli.py``, ``demo.py``) calls ``session.commit()`` or
  ``session.rollback()``: the entry point's ``core.db.transaction()`` does. No function of such a
  module takes a ``commit`` or ``system`` flag, and ``plugins/*/services.py`` do not contain the
  text ``commit=`` at all.
* **Shared helpers have one home.** No plugin defines its own ``iso``, ``_int``, ``_id``,
  ``_whole``, ``_community``, ``local_date`` or ``local_today``: use ``core.dates``,
  ``core.inputs.whole_number`` and ``core/cli/support.py``. A page or API module does not import
  the private (``_x``) helpers of another module of its plugin.

Each violation is named by file and line."""
import ast
from importlib import metadata, resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EPS = {ep.name: ep for ep in metadata.entry_points(group="linli.plugins")}

STORAGE = ("store.py", "ledger.py")
ENTRY_POINTS = ("views.py", "api.py", "cli.py", "demo.py")
SKIPPED_DIRS = ("migrations", "templates", "static", "translations")
SHARED_HELPERS = {
    "iso": "core.dates.iso",
    "local_date": "core.dates.local_date",
    "local_today": "core.dates.today",
    "_int": "core.inputs.whole_number",
    "_id": "core.inputs.whole_number",
    "_whole": "core.inputs.whole_number",
    "_community": "core.cli.support.community",
}
RAW_CONNECTION = ("dbapi_connection", "driver_connection", "raw_connection")
FLAGS = ("commit", "system")


def kind(rel):
    """"storage", "entry" (an entry point: may commit), "module" (rules, hooks, forms, models)
    or None (not checked) for a path relative to the plugin's package."""
    rel = Path(rel)
    if rel.suffix != ".py" or (len(rel.parts) > 1 and rel.parts[0] in SKIPPED_DIRS):
        return None
    name = rel.name
    if name in STORAGE or "store" in rel.parts[:-1]:
        return "storage"
    if name in ENTRY_POINTS or name.endswith(("_api.py", "_views.py")):
        return "entry"
    return "module"


def _dotted(node):
    """``db.session`` for the expression ``db.session`` (calls written as ``()``), else ""."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append("()")
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return ".".join(reversed(parts)).replace(".()", "()")
        else:
            return ""


def _session_like(node):
    text = _dotted(node)
    return text.endswith(("session", "session()"))


def _storage_violations(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "core.pagecache" or alias.name.startswith("core.pagecache."):
                    yield node.lineno, "imports core.pagecache"
        elif isinstance(node, ast.ImportFrom):
            if node.module == "core.pagecache" or (node.module or "").startswith("core.pagecache."):
                yield node.lineno, "imports core.pagecache"
            elif node.module == "core" and any(a.name == "pagecache" for a in node.names):
                yield node.lineno, "imports core.pagecache"
            if any(a.name == "bindparam" for a in node.names):
                yield node.lineno, "imports bindparam"
        elif isinstance(node, ast.Name) and node.id == "bindparam" and isinstance(node.ctx, ast.Load):
            yield node.lineno, "uses bindparam"
        elif isinstance(node, ast.Attribute):
            if node.attr == "bindparam":
                yield node.lineno, "uses bindparam"
            elif node.attr == "name" and (
                    (isinstance(node.value, ast.Attribute) and node.value.attr == "dialect")
                    or (isinstance(node.value, ast.Name) and node.value.id == "dialect")):
                yield node.lineno, "reads dialect.name"
            elif node.attr in RAW_CONNECTION:
                yield node.lineno, f"touches the driver's connection ({node.attr})"
            elif node.attr == "cursor":
                yield node.lineno, "opens a driver cursor (.cursor)"


def _transaction_violations(tree):
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "rollback") and _session_like(node.func.value)):
            yield node.lineno, f"calls {_dotted(node.func)}() (services never commit: the entry point does)"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in args.posonlyargs + args.args + args.kwonlyargs:
                if arg.arg in FLAGS:
                    yield arg.lineno, f"{node.name}() takes a {arg.arg}= flag"


def _functions_not_methods(tree):
    """Every function defined in the module, at its top level or inside functions (not methods)."""
    stack = [(tree, False)]
    while stack:
        node, in_class = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not in_class:
                    yield child
                stack.append((child, False))
            elif isinstance(child, ast.ClassDef):
                stack.append((child, True))
            else:
                stack.append((child, in_class))


def _helper_violations(tree):
    for node in _functions_not_methods(tree):
        if node.name in SHARED_HELPERS:
            yield node.lineno, f"defines its own {node.name}() (use {SHARED_HELPERS[node.name]})"


def _private_import_violations(tree, package):
    """A page or API module importing the private helpers of its plugin's rules (``from .services
    import _x``, or ``svc._x`` where ``svc`` is such a module). Pages and API modules may share
    their own helpers."""

    def rules_module(dotted):
        last = (dotted or "").split(".")[-1]
        return bool(last) and kind(f"{last}.py") != "entry"

    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if not (node.level > 0 or (node.module or "").startswith(f"plugins.{package}")):
                continue
            for alias in node.names:
                if node.module and rules_module(node.module) and alias.name.startswith("_") \
                        and not alias.name.startswith("__"):
                    yield node.lineno, f"imports the private {alias.name} of {node.module}"
                elif rules_module(alias.name):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(f"plugins.{package}.") and alias.asname and rules_module(alias.name):
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            yield node.lineno, f"uses the private {node.value.id}.{node.attr}"


def check_source(source, rel, package="example"):
    """[(line, problem)] of the module ``rel`` (a path inside the plugin ``package``) with ``source``."""
    what = kind(rel)
    if what is None:
        return []
    tree = ast.parse(source)
    found = list(_helper_violations(tree))
    if what != "storage":
        found += _storage_violations(tree)
    if what != "entry":
        found += _transaction_violations(tree)
    else:
        found += _private_import_violations(tree, package)
    return sorted(set(found))


def plugin_dir(name):
    return Path(str(resources.files(EPS[name].load().__name__)))


def _shown(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def violations(name):
    """["path:line: problem"] of the plugin ``name``."""
    base = plugin_dir(name)
    found = []
    for path in sorted(base.rglob("*.py")):
        for line, problem in check_source(path.read_text(encoding="utf-8"), path.relative_to(base), name):
            found.append((str(_shown(path)), line, problem))
    services = base / "services.py"  # the issue's own measure: grep -c "commit=" plugins/*/services.py
    if services.exists():
        for number, text in enumerate(services.read_text(encoding="utf-8").splitlines(), 1):
            if "commit=" in text:
                found.append((str(_shown(services)), number, "contains 'commit=' (services never commit)"))
    return [f"{where}:{line}: {problem}" for where, line, problem in sorted(set(found))]


@pytest.mark.parametrize("name", sorted(EPS))
def test_plugin_keeps_its_layers(name):
    found = violations(name)
    assert not found, (f"{len(found)} layer violation(s) in plugin {name} (docs/plugins.md, 'Layers'):\n  "
                       + "\n  ".join(found))


# ── the checker itself: it must catch what it is meant to, so that it cannot pass vacuously ──
PLANTED = '''\
from core import pagecache
from core.pagecache import mark_changed
from sqlalchemy import bindparam
import sqlalchemy as sa

STMT = sa.select(1).where(sa.column("x") == bindparam("x"))


def cast(ballot, voter, *, commit=True, system=False):
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        cur = conn.connection.driver_connection.cursor()
    raw = db.engine.raw_connection()
    db.session.commit()
    db.session.rollback()


def iso(dt):
    return dt.isoformat()


def _int(value):
    return int(value)


class Form:
    def _id(self):  # a method: not a copy of the shared helper
        return 1
'''


def test_the_checker_catches_planted_violations():
    found = check_source(PLANTED, "services.py")
    problems = {(line, problem.split(" (")[0]) for line, problem in found}
    assert {
        (1, "imports core.pagecache"), (2, "imports core.pagecache"), (3, "imports bindparam"),
        (6, "uses bindparam"), (9, "cast() takes a commit= flag"), (9, "cast() takes a system= flag"),
        (11, "reads dialect.name"), (12, "touches the driver's connection"), (12, "opens a driver cursor"),
        (13, "touches the driver's connection"), (14, "calls db.session.commit()"),
        (15, "calls db.session.rollback()"), (18, "defines its own iso()"), (22, "defines its own _int()"),
    } <= problems, found
    assert not any(line == 27 for line, _problem in found), "a method is not a copy of a shared helper"


def test_the_checker_lets_each_layer_do_its_own_work():
    storage = check_source(PLANTED, "store.py")
    assert storage and all(p.startswith(("calls", "cast()", "defines")) for _line, p in storage), storage
    view = check_source("from .services import _whole, cast\nfrom . import services as svc\n"
                        "db.session.commit()\nsvc._int('1')\nfrom .api import _ballot\n",
                        "election_views.py", "voting")
    assert view == [(1, "imports the private _whole of services"), (4, "uses the private svc._int")]
    assert check_source("def helper():\n    with transaction():\n        db.session.flush()\n", "services.py") == []
    assert check_source("from sqlalchemy import bindparam\n", "migrations/versions/x.py") == []
    assert kind("__init__.py") == kind("personal_data.py") == "module"
    assert kind("convening_api.py") == kind("cli.py") == kind("demo.py") == "entry"


def test_the_checker_reads_every_installed_plugin():
    """Each plugin's package is found and its modules are read (not an empty directory)."""
    for name in EPS:
        modules = [p for p in plugin_dir(name).rglob("*.py") if kind(p.relative_to(plugin_dir(name)))]
        assert any(p.name == "services.py" for p in modules), name
