"""Shared fixtures: an app per test (core only unless marked), a populated community, logins.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set. With
pytest-xdist each worker gets its own PostgreSQL database."""
import os
import shutil
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata

import pytest
from sqlalchemy.pool import NullPool
from flask import has_app_context
from flask.testing import FlaskClient, FlaskCliRunner

from core import create_app
from core.extensions import db

PASSWORD = "correct-horse-9"
PG_URL = os.environ.get("TEST_DATABASE_URL")

# Import every installed plugin's models so one schema serves every test app. LINLI_PLUGINS=a,b
# narrows this (for working on one plugin while another is unfinished); CI loads them all.
_ONLY = [n for n in os.environ.get("LINLI_PLUGINS", "").split(",") if n] or None
INSTALLED = sorted(ep.name for ep in metadata.entry_points(group="linli.plugins") if _ONLY is None or ep.name in _ONLY)
for _ep in metadata.entry_points(group="linli.plugins"):
    if _ep.name in INSTALLED:
        _ep.load()
pytest_plugins = ["tests.helpers", "tests.security.figures"]


def _share_url_builders():
    """Every test builds an app, and werkzeug compiles two URL builder functions per route for
    each (``Rule._compile_builder``: an AST and ``compile()``): about 90 % of ``create_app()``'s
    CPU time with the four plugins (about 0.2 s a test). The function it makes depends only on the
    rule's text, its parsed parts and its defaults (the rule is its first argument, bound later),
    so the suite compiles each once per process. Production apps are built once and keep the
    original."""
    from werkzeug.routing.rules import Rule

    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "_shared", False):
        return
    built = {}

    def _compile_builder(self, append_unknown=True):
        try:
            key = (self.rule, self.host, self.subdomain, tuple(self._trace), append_unknown,
                   tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items())),
                   tuple(sorted((k, type(c).__qualname__) for k, c in self._converters.items())))
            hash(key)
        except (AttributeError, TypeError):
            return original(self, append_unknown)
        func = built.get(key)
        if func is None:
            func = built[key] = original(self, append_unknown)
        return func

    _compile_builder._shared = True
    Rule._compile_builder = _compile_builder


_share_url_builders()


def pytest_configure(config):
    config.addinivalue_line("markers", "plugins(*names): plugins installed in the test app")


def _worker():
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One database per worker with every table; tests start from a clean copy of it."""
    if PG_URL:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(PG_URL)
        name = f"{url.database}_{_worker()}"
        admin = url.set(drivername="postgresql", database=url.database).render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
            # Tests need no durability against a crash of the server: commits need not wait for
            # the disk (nothing a test can see changes; the suite runs markedly faster).
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        worker_url = url.set(database=name).render_as_string(hide_password=False)
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": worker_url, "SECRET_KEY": "t"}, plugins=[])
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        return worker_url
    template = tmp_path_factory.mktemp("db") / "template.sqlite"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{template}", "SECRET_KEY": "t"},
                     plugins=[])
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return str(template)


_CLEAN = {}


def _clean_postgres(url):
    """Empty every table and restart every id at 1, in one round trip: DELETE on the few rows a
    test leaves is 2-8 ms where TRUNCATE of every table (new files for each) took 150-230 ms."""
    from sqlalchemy import create_engine, text

    engine = _CLEAN.get(url)
    if engine is None:
        engine = _CLEAN[url] = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        sequences = [r[0] for r in conn.execute(text("SELECT sequencename FROM pg_sequences "
                                                     "WHERE schemaname = 'public' ORDER BY 1"))]
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        existing = {r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
        sql = "; ".join(f'DELETE FROM "{t}"' for t in tables if t in existing)
        if sequences:
            sql += "; SELECT " + ", ".join(f"setval('\"{s}\"', 1, false)" for s in sequences)
        conn.exec_driver_sql(sql)


@pytest.fixture
def db_url(database_url, tmp_path):
    if PG_URL:
        _clean_postgres(database_url)
        return database_url
    path = tmp_path / "linli.sqlite"
    shutil.copy(database_url, path)
    return f"sqlite:///{path}"


_APPS = []


@pytest.fixture(autouse=True)
def _dispose_apps():
    """Close the connection pools of every app a test built (open connections are warnings)."""
    yield
    while _APPS:
        built = _APPS.pop()
        with built.app_context():
            db.session.remove()
            db.engine.dispose()


def make_app(db_url, plugins=(), **config):
    cfg = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "test-secret",
           "WTF_CSRF_ENABLED": False, "RATELIMIT_LOGIN": "1000 per minute", "SERVER_NAME": None,
           "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "IDENTITY_HASH_KEY": "test-identity-key"}
    cfg.update(config)
    built = create_app(cfg, plugins=list(plugins))
    # flask-babel caches loaded catalogs on the shared Domain, by language only; one app per
    # process never notices, but tests build apps with different modules (and catalogs).
    from core.extensions import babel

    with built.app_context():
        babel.domain_instance.cache.clear()
    _APPS.append(built)
    return built


@pytest.fixture
def app_config():
    """Override to change the test app's config."""
    return {}


def _commit_set_up():
    """Commit what the test set up by calling services directly in its own context: services never
    commit (the entry point owns the transaction, core.db), so the test acts as that entry point
    before a request or a command, which run in contexts and sessions of their own, reads it."""
    if has_app_context() and db.session().in_transaction():
        db.session.commit()


class FreshContextClient(FlaskClient):
    """Each request runs in its own app context, as in production: the test's own context (kept
    open for calling services directly) must not leak ``g`` or the DB session into requests."""

    def open(self, *args, **kwargs):
        _commit_set_up()
        with self.application.app_context():
            return super().open(*args, **kwargs)


class SetUpCommittingRunner(FlaskCliRunner):
    def invoke(self, *args, **kwargs):
        _commit_set_up()
        return super().invoke(*args, **kwargs)


@pytest.fixture
def app(request, db_url, app_config):
    marker = request.node.get_closest_marker("plugins")
    names = list(marker.args) if marker else []
    app = make_app(db_url, names, **app_config)
    app.test_client_class = FreshContextClient
    app.test_cli_runner_class = SetUpCommittingRunner
    ctx = app.app_context()
    ctx.push()
    yield app
    db.session.remove()
    db.engine.dispose()
    ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass
class World:
    community: object
    other: object
    grid: object
    building: object
    unit: object
    households: list
    admin: object
    staff: object
    resident: object
    resident2: object
    newbie: object
    building_head: object
    grid_worker: object
    mediator: object
    outsider: object


def _user(login, name, community, roles, household=None, verifier=None):
    from core.models import Membership
    from core.services import accounts

    user = accounts.create_user(login, PASSWORD, name)
    m = Membership(user_id=user.id, community_id=community.id)
    m.set_roles(roles)
    db.session.add(m)
    db.session.commit()
    if household is not None:
        accounts.verify_resident(m, household, "owner", verifier, reason="test")
    return user


@pytest.fixture
def world(app):
    """A community with one grid, building and unit, four households and a user per role; and a
    second community with an outsider."""
    from core.models import Building, Grid, Household, Membership, Unit
    from core.services import structure

    community = structure.create_community("test", "测试社区", enable_all=True, seconds_threshold=3)
    other = structure.create_community("other", "别的社区", enable_all=True)
    grid = Grid(community_id=community.id, name="第一网格")
    db.session.add(grid)
    db.session.flush()
    building = Building(community_id=community.id, grid_id=grid.id, name="1号楼")
    db.session.add(building)
    db.session.flush()
    unit = Unit(building_id=building.id, name="1单元")
    db.session.add(unit)
    db.session.flush()
    households = []
    for i, area in enumerate(["89.50", "120.00", "65.25", "100.00"]):
        h = Household(community_id=community.id, unit_id=unit.id, room=f"10{i + 1}", floor_area=Decimal(area))
        db.session.add(h)
        households.append(h)
    db.session.commit()
    admin = _user("admin", "管理员", community, ["admin", "staff"])
    staff = _user("staff", "社工", community, ["staff"])
    w = World(
        community=community, other=other, grid=grid, building=building, unit=unit, households=households,
        admin=admin, staff=staff,
        resident=_user("resident", "居民甲", community, ["resident"], households[0], staff),
        resident2=_user("resident2", "居民乙", community, ["resident"], households[1], staff),
        newbie=_user("newbie", "新居民", community, ["resident"]),
        building_head=_user("buildinghead", "楼长", community, ["resident", "building_head"], households[2], staff),
        grid_worker=_user("gridworker", "网格员", community, ["resident", "grid_worker"], households[3], staff),
        mediator=_user("mediator", "调解员", community, ["resident", "mediator"]),
        outsider=_user("outsider", "外人", other, ["resident", "staff", "admin"]),
    )
    bh = Membership.query.filter_by(user_id=w.building_head.id, community_id=community.id).one()
    bh.building_id = building.id
    gw = Membership.query.filter_by(user_id=w.grid_worker.id, community_id=community.id).one()
    gw.grid_id = grid.id
    db.session.commit()
    return w
