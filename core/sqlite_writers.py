"""SQLite: the writers of one process queue on a lock instead of polling the database's.

SQLite lets one connection write at a time. A second writer is refused with SQLITE_BUSY and its
busy handler (``PRAGMA busy_timeout``) sleeps and retries: 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
50, 100 ms... It is not woken when the lock is released, so under a burst of API writes (the
gthread workers run several threads per process) writers spend much of their time asleep while
the database is idle, and latencies grow to hundreds of milliseconds.

Here a write transaction first takes a per-process ``threading.Lock`` (just before its first
INSERT/UPDATE/DELETE, where pysqlite starts the transaction: the same point at which SQLite takes
its own write lock) and gives it back right after the database has committed or rolled back: the
threads of a worker take turns without sleeping; only writers in different worker processes still
meet SQLite's busy handler. Reads never wait (WAL). A writer that waits longer than the busy
timeout goes on without the lock and gets SQLite's own answer, as before.

PostgreSQL is not concerned (row locks, no database-wide writer lock).
"""
import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

WAIT_SECONDS = 15  # as PRAGMA busy_timeout
_lock = threading.Lock()
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


class QueuedWriterConnection(sqlite3.Connection):
    """A pysqlite connection that gives the process's writer lock back when its transaction ends."""

    holds_writer_lock = False

    def _release(self):
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            _lock.release()

    def commit(self):
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release()

    def close(self):
        try:
            super().close()
        finally:
            self._release()


@event.listens_for(Engine, "do_connect")
def _use_queued_connection(dialect, conn_rec, cargs, cparams):
    if dialect.name == "sqlite" and dialect.driver == "pysqlite":
        cparams.setdefault("factory", QueuedWriterConnection)


@event.listens_for(Engine, "before_cursor_execute")
def _queue_writer(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name != "sqlite":
        return
    dbapi_conn = conn.connection.dbapi_connection
    if (not isinstance(dbapi_conn, QueuedWriterConnection) or dbapi_conn.holds_writer_lock
            or dbapi_conn.in_transaction or statement.lstrip()[:6].upper() not in _WRITES):
        return
    if _lock.acquire(timeout=WAIT_SECONDS):
        dbapi_conn.holds_writer_lock = True
