"""Pooled PostgreSQL connections are checked only after sitting idle (core.db_pool)."""
import pytest
from sqlalchemy import create_engine, text

from core import db_pool
from core.extensions import db
from tests.conftest import PG_URL, make_app

pytestmark = pytest.mark.skipif(not PG_URL, reason="a SQLite file cannot go away under the app")


def _backend_pid(app):
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()  # the connection goes back to the pool
    return pid


def _kill(db_url, pid):
    """What a server restart does to one pooled connection."""
    other = create_engine(db_url)
    try:
        with other.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        other.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_the_next_request(db_url, monkeypatch):
    app = make_app(db_url, LINLI_DB_PING_AFTER=10)
    pid = _backend_pid(app)
    _kill(db_url, pid)
    # Eleven seconds later, as the pool sees it: the connection is checked and replaced.
    now = db_pool.time.monotonic()
    monkeypatch.setattr(db_pool.time, "monotonic", lambda: now + 11)
    assert app.test_client().get("/").status_code == 200
    assert _backend_pid(app) != pid


def test_a_busy_connection_is_used_without_a_ping(db_url):
    """Under load no request pays a round trip for the check; a connection lost in between fails
    one request, after which the pool reconnects."""
    app = make_app(db_url, LINLI_DB_PING_AFTER=3600)
    pid = _backend_pid(app)
    _kill(db_url, pid)
    with app.app_context():
        with pytest.raises(Exception):  # noqa: B017  (psycopg's OperationalError, wrapped)
            db.session.execute(text("SELECT 1"))
        db.session.remove()
    assert app.test_client().get("/").status_code == 200
    assert _backend_pid(app) != pid
