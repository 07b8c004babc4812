"""The content version: a number that grows with every committed write that changes what a page
shows. The page cache (core/pagecache.py) keys pages by it, so a write made in any worker or on
any server shows on the very next request everywhere.

Seen by the engine, not said by the code that writes: every INSERT, UPDATE, DELETE or REPLACE
(or a ``WITH`` holding one) executed on a connection of the app's engines marks that connection
(``before_cursor_execute``: the ORM's flushes, ``session.execute``, ``Connection.execute`` and
``exec_driver_sql`` alike), and its commit bumps the version:

* SQLite: the row ``content_version`` (id 1) is bumped inside the writing transaction, as the last
  statement before COMMIT (the engine's ``commit`` event comes after everything the session
  flushes and its ``before_commit`` listeners write: a token's last use, the points ledger's
  system accounts). SQLite's writers take turns anyway (core/db/sqlite.py).
* PostgreSQL: the sequence ``content_version_seq`` is advanced right after the commit, when the
  connection goes back to the pool (``nextval()`` in autocommit on that same connection: one
  round trip, before the writer's answer leaves). A row bumped inside every write transaction was
  a lock that every write of every community held through its COMMIT (and its wait for the
  disk): the writes of the whole site went one at a time there. ``nextval()`` takes no lock and
  waits for no disk. Between the COMMIT and the ``nextval()`` a reader may still get the page
  cached before the write (for well under a millisecond); every request made after the writer's
  answer sees the write. If the server dies in between, pages are renewed after
  ``PAGE_CACHE_SECONDS`` as for any change that comes with the clock.

A rolled-back transaction bumps nothing. Writes to the tables declared by ``logs_only`` (a log no
page shows: a token's last use, failed sign-ins, the mediation access log) bump nothing either,
but a request that wrote anything, even a log, is never answered from nor kept in the page cache
(``wrote_in_request``): answering it from the cache would skip the write.

Two values live on Flask's ``g`` for the request (nothing else sets or reads them):
``g._db_wrote`` (set here by the first write of each transaction; ``wrote_in_request``) and
``g._content_version`` (the version read along with the community, ``remember``; used by
``current_version`` while the request has written nothing).
"""
import logging
import re
import sqlite3

from flask import g, has_request_context
from sqlalchemy import column, event, select, table, text

log = logging.getLogger(__name__)

READ = text("SELECT n FROM content_version WHERE id = 1")
BUMP = ("INSERT INTO content_version (id, n) VALUES (1, 1) "
        "ON CONFLICT (id) DO UPDATE SET n = content_version.n + 1")
READ_SEQ = text("SELECT last_value FROM content_version_seq")
BUMP_SEQ = "SELECT nextval('content_version_seq')"

WROTE = "linli_wrote"  # conn.info: this transaction wrote something
CHANGED = "linli_changed"  # conn.info: ... something a page may show
BUMP_AFTER = "linli_bump_after"  # conn.info (PostgreSQL): committed a change, bump at check-in
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.I)
_TABLE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)',
                    re.I)

# Tables whose rows no page shows (core's own; a plugin declares its logs with ``logs_only``).
# Never declare a table that an access check reads: a cached page is served to a user on the
# promise that whatever could refuse them now changed the version (core/pagecache.py).
LOGS = {"content_version", "api_token", "password_reset_code", "login_failure", "idempotent_request"}


def logs_only(*tables):
    """Declare tables (names, or models) whose writes change no page: they bump no version."""
    for t in tables:
        LOGS.add(t if isinstance(t, str) else t.__tablename__)


def _changes_pages(statement) -> bool:
    found = _TABLE.match(statement)
    return found is None or found.group(1).lower() not in LOGS  # a WITH ...: assume it does


def _on_statement(conn, _cursor, statement, _params, _context, _executemany):
    head = statement.lstrip()[:6].upper()
    if head not in _WRITES and (head[:4] != "WITH" or _DML.search(statement) is None):
        return  # not a write (a WITH may hold one)
    info = conn.info
    if not info.get(WROTE):
        info[WROTE] = True
        if has_request_context():
            g._db_wrote = True
    if not info.get(CHANGED) and _changes_pages(statement):
        info[CHANGED] = True


def _on_commit(conn):
    info = conn.info
    info.pop(WROTE, None)
    if info.pop(CHANGED, False):
        _bump(conn)


def _on_rollback(conn):
    info = conn.info
    info.pop(WROTE, None)
    if info.pop(CHANGED, False) and conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        _bump(conn)  # each statement committed by itself: the "rollback" undid nothing


def _bump(conn):
    if conn.dialect.name == "postgresql":
        conn.info[BUMP_AFTER] = True  # when the connection is checked in (_bump_at_checkin)
        return
    # On the driver's connection, inside the transaction that is about to commit: through
    # conn.execute it would mark the connection again (and begin anew under the commit).
    driver = conn.connection.dbapi_connection
    try:
        driver.execute(BUMP)
    except sqlite3.OperationalError:
        if driver.execute("SELECT 1 FROM sqlite_master WHERE name = 'content_version'").fetchone():
            raise
        # the migrations that create it have not run yet (``linli init``, an old database)


def _bump_at_checkin(dbapi_conn, record):
    if record is None or not record.info.pop(BUMP_AFTER, False) or dbapi_conn is None:
        return  # (None: the connection was invalidated; pages renew within PAGE_CACHE_SECONDS)
    try:
        was = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute(BUMP_SEQ)
            cursor.close()
        finally:
            dbapi_conn.autocommit = was
    except Exception:  # noqa: BLE001  the write stands; cached pages renew within PAGE_CACHE_SECONDS
        log.warning("content version not advanced after a commit", exc_info=True)


def watch(engine):
    """Detect writes on ``engine`` and bump the version when they commit (core.db.init_app)."""
    event.listen(engine, "before_cursor_execute", _on_statement)
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)
    if engine.dialect.name == "postgresql":
        event.listen(engine.pool, "checkin", _bump_at_checkin)


def wrote_in_request() -> bool:
    """Whether this request wrote anything (even a log, even rolled back) on the app's engines."""
    return g.get("_db_wrote", False)


def version_subquery(dialect_name):
    """The content version as a scalar subquery, to read it along with something else."""
    if dialect_name == "postgresql":
        return select(column("last_value")).select_from(table("content_version_seq")).scalar_subquery()
    version = table("content_version", column("id"), column("n"))
    return select(version.c.n).where(version.c.id == 1).scalar_subquery()


def remember(version):
    """Keep the version read along with the request's community (core.plugins.load_community) in
    ``g._content_version``: ``current_version`` answers it while the request has written nothing."""
    g._content_version = version or 0


def current_version():
    """The content version now (0 before the first write)."""
    from core.extensions import db

    known = g.get("_content_version")
    if known is not None and not wrote_in_request():
        return known
    read = READ_SEQ if db.engine.dialect.name == "postgresql" else READ
    if db.session().in_transaction():
        return db.session.execute(read).scalar() or 0
    # The request's first statement (an anonymous page): read outside a transaction. On
    # PostgreSQL that is one round trip instead of three (BEGIN, the SELECT, and the ROLLBACK when
    # the request ends), so that a hit in the cache costs the server and the app one statement.
    with db.engine.connect() as conn:
        return conn.execution_options(isolation_level="AUTOCOMMIT").execute(read).scalar() or 0
