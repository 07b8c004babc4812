"""Flask extensions, created unbound and initialised in the app factory."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Stable constraint names so migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))

# Whether new SQLite connections enforce foreign keys (core.web's PRAGMA listener). Off only while
# migrations run (LazyAlembic): see ``_sqlite_foreign_keys_off``.
SQLITE_FOREIGN_KEYS = {"on": True}


def _sqlite_foreign_keys_off(run):
    """Run a migration command with SQLite's foreign keys off, then check them.

    SQLite has no ALTER for most schema changes, so a batch migration copies a table and drops the
    old one; with foreign keys on, that DROP deletes every row referring to the table (ON DELETE
    CASCADE), so an upgrade would silently wipe meetings, votes or register entries. SQLite's own
    procedure for schema changes turns them off first and runs ``PRAGMA foreign_key_check`` after:
    so do we, refusing to go on if anything no longer matches."""
    from functools import wraps

    @wraps(run)
    def wrapped(*args, **kwargs):
        engines = [e for e in db.engines.values()
                   if e.dialect.name == "sqlite" and e.url.database not in (None, "", ":memory:")]
        if not engines:
            return run(*args, **kwargs)
        for engine in engines:
            engine.dispose()
        SQLITE_FOREIGN_KEYS["on"] = False
        try:
            result = run(*args, **kwargs)
        finally:
            for engine in engines:
                engine.dispose()
            SQLITE_FOREIGN_KEYS["on"] = True
        for engine in engines:
            with engine.connect() as conn:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows whose references do not match: {broken[:5]}")
        return result

    return wrapped


class LazyAlembic:
    """Flask-Alembic, imported on first use. Alembic takes a good part of a second to import and
    only ``linli init``, ``linli db ...``, the bench's data builder and the migration tests need
    it: a worker answering requests never does. The real extension is created and bound to the
    current app on the first attribute access (``alembic.upgrade()``, ...)."""

    def __init__(self):
        self._ext = None

    def get(self, app=None):
        from flask import current_app

        if self._ext is None:
            from flask_alembic import Alembic

            self._ext = Alembic(run_mkdir=False, command_name="")
            # ``linli db upgrade`` and the code alike (the command uses this same object).
            self._ext.upgrade = _sqlite_foreign_keys_off(self._ext.upgrade)
            self._ext.downgrade = _sqlite_foreign_keys_off(self._ext.downgrade)
        app = app or current_app._get_current_object()
        if app.extensions.get("alembic") is not self._ext:
            self._ext.init_app(app)
        return self._ext

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get(), name)


alembic = LazyAlembic()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
