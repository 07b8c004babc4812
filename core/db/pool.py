"""Checking pooled database connections before use, without a round trip when they are fine.

SQLAlchemy's ``pool_pre_ping`` asks the server ``SELECT 1`` on every checkout, that is on every
request: on PostgreSQL one more round trip per request, about 0.2 ms of CPU in the app and as much
in the server on a small machine (issue 8). Here a connection is pinged at checkout only

* when the server sent something while it sat in the pool: a session the server ended (a
  restart, ``pg_terminate_backend``) has its last message and the end of the stream waiting on
  the socket, which one ``select()`` with no timeout sees, and
* when it has been idle for ``LINLI_DB_PING_AFTER`` seconds (default 10), for a server that went
  away without a word (a host that died, a network cut).

A failed ping makes the pool drop the connection and check out another, so the request goes on.
"""
import select
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
        if since is None:  # a new connection
            return
        if time.monotonic() - since < after_seconds and not _server_spoke(dbapi_conn):
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as err:
            # The pool drops this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError(str(err)) from err

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)


def _server_spoke(dbapi_conn) -> bool:
    """Whether anything arrived on an idle connection (nothing should: a query is not running)."""
    try:
        readable, _w, _x = select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError, AttributeError):
        return True  # no usable socket: let the ping decide
    except Exception:  # noqa: BLE001  (a driver's own "connection is closed" error)
        return True
    return bool(readable)
