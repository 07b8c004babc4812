"""linli (邻里): the core application and its factory."""
import os
import secrets
from pathlib import Path

from flask import Flask

from core.config import Defaults, apply_runtime, from_env

CORE_DIR = Path(__file__).resolve().parent
ROOT_DIR = CORE_DIR.parent


def create_app(test_config=None, plugins=None):
    """Build the app. ``plugins`` (names or modules) replaces entry-point discovery in tests."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("LINLI_INSTANCE_PATH") or str(ROOT_DIR / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT_DIR / "templates"),
        static_folder=str(CORE_DIR / "static"),
    )
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_mapping(from_env())  # the environment wins over instance/config.py
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "linli.sqlite")
    if not app.config.get("SECRET_KEY"):
        # Without instance/config.py (e.g. `linli --help` before `linli init`): a throwaway key.
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    apply_runtime(app)

    from core import web
    from core.plugins import PluginRegistry

    registry = PluginRegistry(app, plugins)
    app.extensions["linli.plugins"] = registry
    web.init_app(app, registry)
    from core import db as storage

    storage.init_app(app)  # last: see its docstring
    return app
