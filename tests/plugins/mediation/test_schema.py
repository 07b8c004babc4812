"""The migrations create exactly the mediation tables the models describe, on SQLite and
PostgreSQL; and every message of the module is translated."""
import os
from pathlib import Path

import pytest

from core import create_app
from core.extensions import alembic

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "plugins" / "mediation"


def _read(path):
    import io

    from babel.messages.pofile import read_po

    return read_po(io.BytesIO(Path(path).read_bytes()))


def _fresh_url(tmp_path):
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp_path / 'migrate.sqlite'}"
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg)
    name = f"{url.database}_medmig_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def test_migrations_match_the_models(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _fresh_url(tmp_path), "SECRET_KEY": "t"},
                     plugins=["mediation"])
    with app.app_context():
        alembic.upgrade()
        diff = [d for d in alembic.compare_metadata() if "mediation" in repr(d)]
        from core.extensions import db

        tables = set(db.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {"mediation_case", "mediation_access_log", "mediation_holiday"} <= tables


@pytest.mark.parametrize("lang", ["zh_Hans", "zh_Hant", "en"])
def test_every_message_is_translated(lang):
    pot = _read(PLUGIN_DIR / "translations" / "messages.pot")
    po = _read(PLUGIN_DIR / "translations" / lang / "LC_MESSAGES" / "messages.po")
    wanted = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in pot if m.id}
    missing = []
    for msgid, context in wanted:  # a message with a context (pgettext) is found only with it
        m = po.get(msgid, context=context)
        strings = [m.string] if m is not None and isinstance(m.string, str) else list(m.string or []) if m else []
        if m is None or not all(strings) or m.fuzzy:
            missing.append(msgid)
    assert missing == []


def test_the_catalog_has_every_message_in_the_code(tmp_path):
    """The .pot is up to date: re-extracting finds no new message."""
    from babel.messages.frontend import CommandLineInterface

    root = PLUGIN_DIR.parents[1]
    out = tmp_path / "fresh.pot"
    CommandLineInterface().run(["pybabel", "extract", "-F", str(root / "babel.cfg"), "-k", "_l", "-k", "N_",
                                "-k", "lazy_gettext", "--no-location", "-o", str(out), str(PLUGIN_DIR)])
    fresh = {m.id for m in _read(out) if m.id}
    known = {m.id for m in _read(PLUGIN_DIR / "translations" / "messages.pot") if m.id}
    assert fresh - known == set()
