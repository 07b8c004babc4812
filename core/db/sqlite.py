"""SQLite: writers queue on a lock instead of polling the database's.

SQLite lets one connection write at a time. A second writer is refused with SQLITE_BUSY and its
busy handler (``PRAGMA busy_timeout``) sleeps and retries: 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
50, 100 ms... It is not woken when the lock is released, so under a burst of API writes (several
gunicorn workers, several threads each) writers spend much of their time asleep while the
database is idle, and latencies grow to hundreds of milliseconds.

Here a write transaction first takes the writer lock (just before its first INSERT/UPDATE/DELETE,
where pysqlite starts the transaction: the same point at which SQLite takes its own write lock)
and gives it back right after the database has committed or rolled back. The lock has two parts:

* a per-process ``threading.Lock``, so the threads of a worker take turns without sleeping, and
* an advisory ``flock`` on a file beside the database (``<database>-writer.lock``), opened once
  per process, so the worker processes take turns too. The kernel frees it when a process dies
  (a SIGKILLed worker never leaves it held). Waiting polls it every half millisecond rather than
  blocking, so that a wait is bounded like the busy timeout.

Reads never wait (WAL). A writer that waits longer than the busy timeout goes on without the lock
and gets SQLite's own answer, as before. PostgreSQL is not concerned (row locks, no
database-wide writer lock). In-memory databases have no file and use the thread lock only.

``attach(engine)`` (called by core.db.init_app for each of the app's SQLite engines) also sets
each new connection's pragmas.
"""
import fcntl
import os
import sqlite3
import threading
import time

from sqlalchemy import event

from core.extensions import SQLITE_FOREIGN_KEYS

WAIT_SECONDS = 15  # as PRAGMA busy_timeout
POLL_SECONDS = 0.0005
_lock = threading.Lock()
_files = {}  # (pid, lock file path) -> file descriptor of this process
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


def _lock_file(database):
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = os.path.abspath(database) + "-writer.lock"
    key = (os.getpid(), path)  # a descriptor inherited through fork shares its lock: open our own
    fd = _files.get(key)
    if fd is None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None  # a read-only directory: the thread lock and SQLite's busy handler remain
        _files[key] = fd
    return fd


def _take_file_lock(fd, deadline):
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)


class QueuedWriterConnection(sqlite3.Connection):
    """A pysqlite connection that gives the writer lock back when its transaction ends."""

    holds_writer_lock = False
    writer_lock_fd = None

    def _release(self):
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            fd, self.writer_lock_fd = self.writer_lock_fd, None
            try:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
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


def attach(engine):
    """Pragmas for each new connection of ``engine`` and, with pysqlite, the writers' lock."""
    event.listen(engine, "connect", _pragmas)
    if engine.dialect.driver == "pysqlite":
        event.listen(engine, "do_connect", _use_queued_connection)
        event.listen(engine, "before_cursor_execute", _queue_writer)


def _pragmas(dbapi_conn, _record):
    """WAL for concurrent readers, enforced foreign keys, and waiting instead of failing on locks."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON" if SQLITE_FOREIGN_KEYS["on"] else "PRAGMA foreign_keys=OFF")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _use_queued_connection(_dialect, _conn_rec, _cargs, cparams):
    cparams.setdefault("factory", QueuedWriterConnection)


def _queue_writer(conn, _cursor, statement, _parameters, _context, _executemany):
    dbapi_conn = conn.connection.dbapi_connection
    if (not isinstance(dbapi_conn, QueuedWriterConnection) or dbapi_conn.holds_writer_lock
            or dbapi_conn.in_transaction or statement.lstrip()[:6].upper() not in _WRITES):
        return
    deadline = time.monotonic() + WAIT_SECONDS
    if not _lock.acquire(timeout=WAIT_SECONDS):
        return
    fd = _lock_file(conn.engine.url.database)
    if fd is not None and not _take_file_lock(fd, deadline):
        _lock.release()  # waited as long as SQLite would have: let SQLite answer
        return
    dbapi_conn.writer_lock_fd = fd
    dbapi_conn.holds_writer_lock = True
