"""Storage: everything about the database that is not a rule.

Rules live in services (``core/services``, each plugin's ``services.py``); they read and write
through the ORM session and the helpers below, and never commit. What makes a path fast or works
around a database's habits lives here or in a plugin's ``store.py``:

* ``transaction()`` / ``transactional``: the one unit of work of an entry point (a view, an API
  handler, a command, a worker job). It commits when the block ends and rolls back on any error;
  blocks opened inside it join it. Services and hook implementations run inside the caller's.
* row helpers (``insert_row``, ``insert_if_free``, ``attach_row``, ``complete_row``,
  ``record_now``): one INSERT with a statement built once, for the hottest writes.
* ``built_once``: the one memo for statements built once per process.
* ``sqlite`` (writers take turns on a lock, pragmas) and ``pool`` (ping a pooled connection only
  when it may be dead), attached to the app's engines by ``init_app``.

See docs/architecture.md, "Layers".
"""
from core.db.memo import built_once
from core.db.rows import attach_row, complete_row, insert_if_free, insert_row, record_now
from core.db.transaction import in_transaction, keep_loaded, transaction, transactional

__all__ = ["attach_row", "built_once", "complete_row", "in_transaction", "insert_if_free", "insert_row",
           "keep_loaded", "record_now", "transaction", "transactional"]
