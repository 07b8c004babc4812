"""Pooled PostgreSQL connections are checked before use only when they may be dead (core.db.pool)."""
import pytest
from sqlalchemy import create_engine, text

from core.db import pool as db_pool
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
            # With a timeout it returns once the backend has exited, as a restart would have it.
            assert conn.execute(text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid}).scalar()
    finally:
        other.dispose()


def test_a_connection_idle_for_long_is_checked_before_the_next_request(db_url, monkeypatch):
    """A server that went away without a word (nothing waits on the socket) is found by the ping."""
    app = make_app(db_url, LINLI_DB_PING_AFTER=10)
    pid = _backend_pid(app)
    _kill(db_url, pid)
    monkeypatch.setattr(db_pool, "_server_spoke", lambda conn: False)
    # Eleven seconds later, as the pool sees it: the connection is checked and replaced.
    now = db_pool.time.monotonic()
    monkeypatch.setattr(db_pool.time, "monotonic", lambda: now + 11)
    assert app.test_client().get("/").status_code == 200
    assert _backend_pid(app) != pid


def test_a_connection_the_server_ended_moments_ago_is_replaced_too(db_url):
    """A restart of PostgreSQL: the next request still works, with no idle time in between."""
    app = make_app(db_url, LINLI_DB_PING_AFTER=3600)
    pid = _backend_pid(app)
    _kill(db_url, pid)
    assert app.test_client().get("/").status_code == 200
    assert _backend_pid(app) != pid


def test_a_connection_in_use_is_not_pinged(db_url, monkeypatch):
    """Under load no request pays a round trip for the check."""
    app = make_app(db_url, LINLI_DB_PING_AFTER=3600)
    _backend_pid(app)
    with app.app_context():
        dialect = db.engine.dialect
    pings = []
    monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(conn) or True)
    for _i in range(3):
        assert app.test_client().get("/").status_code == 200
    assert pings == []
