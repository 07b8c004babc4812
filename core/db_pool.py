"""Checking pooled database connections before use, only when they may have gone stale.

SQLAlchemy's ``pool_pre_ping`` asks the server ``SELECT 1`` on every checkout, that is on every
request: on PostgreSQL one more round trip per request, about 0.2 ms of CPU in the app and as much
in the server on a small machine (issue 8). A connection that was handed back moments ago is alive
unless the server restarted in between, so the ping is made only for a connection that has been
idle for ``LINLI_DB_PING_AFTER`` seconds (default 10). A connection that was busy when the server
went away fails its request once; SQLAlchemy then discards every connection of that pool, and the
next request gets a fresh one.
"""
import time

from sqlalchemy import event, exc

IDLE_SINCE = "linli_idle_since"


def ping_when_idle(engine, after_seconds):
    """Ping ``engine``'s connections at checkout when idle for ``after_seconds`` or more."""
    dialect = engine.dialect

    def checkin(_dbapi_conn, record):
        if record is not None:
            record.info[IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_conn, record, _proxy):
        since = record.info.pop(IDLE_SINCE, None)
        if since is None or time.monotonic() - since < after_seconds:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as err:
            # The pool drops this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError(str(err)) from err

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)
