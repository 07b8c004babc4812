"""Storage: everything about the database that is not a rule.

Rules live in services (``core/services``, each plugin's ``services.py``); they read and write
through the ORM session and the helpers below, and never commit. What makes a path fast or works
around a database's habits lives here or in a plugin's ``store.py``:

* ``transaction()`` / ``transactional``: the one unit of work of an entry point (a view, an API
  handler, a command, a worker job). It commits when the block ends and rolls back on any error;
  blocks opened inside it join it. Services and hook implementations run inside the caller's.
  A request that ends with writes left uncommitted is an error (``check_left_writes``).
* row helpers (``insert_row``, ``insert_if_free``, ``attach_row``, ``complete_row``,
  ``record_now``): one INSERT with a statement built once, for the hottest writes; ``record_log``
  and ``logs_only`` for logs, whose writes change no page.
* ``built_once``: the one memo for statements built once per process.
* ``version``: the content version the page cache is keyed by, bumped by the commit of any write
  the engine sees; ``sqlite`` (writers take turns on a lock, pragmas) and ``pool`` (ping a pooled
  connection only when it may be dead).

``init_app(app)`` attaches all of this to that app's engines (never to SQLAlchemy's global
classes). See docs/architecture.md, "Layers".
"""
from core.db.memo import built_once
from core.db.rows import attach_row, complete_row, insert_if_free, insert_row, record_log, record_now
from core.db.transaction import keep_loaded, transaction, transactional
from core.db.version import logs_only

__all__ = ["attach_row", "built_once", "complete_row", "init_app", "insert_if_free",
           "insert_row", "keep_loaded", "logs_only", "record_log", "record_now", "transaction", "transactional"]


def init_app(app):
    """Set up the app's engines: SQLite's pragmas and writers' lock, the pool's ping elsewhere,
    the content version on all; and the end-of-request check for writes left uncommitted. Called
    last by the factory: the check then runs before every other ``after_request`` (a token's
    use written at the end, the page cache), and no connection has been opened yet."""
    from core.db import pool, sqlite, version
    from core.db.transaction import check_left_writes
    from core.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                sqlite.attach(engine)
            else:  # a file in this process has no server to lose touch with
                pool.ping_when_idle(engine, app.config["LINLI_DB_PING_AFTER"])
            version.watch(engine)
    check_left_writes(app)
