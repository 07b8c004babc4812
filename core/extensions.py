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
