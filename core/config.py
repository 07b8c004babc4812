"""Default configuration. `instance/config.py` and the test config override it."""
import os


class Defaults:
    SQLALCHEMY_DATABASE_URI = None  # set by the factory to instance/linli.sqlite
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = None
    # Installed plugins to load; None loads every entry point in `linli.plugins`.
    LINLI_PLUGINS = [n.strip() for n in os.environ["LINLI_PLUGINS"].split(",") if n.strip()] \
        if os.environ.get("LINLI_PLUGINS") is not None else None
    LINLI_TRACE_HOOKS = bool(os.environ.get("LINLI_TRACE_HOOKS"))
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans", "zh_Hant", "en")
    # werkzeug's scrypt (memory-hard); tests use a cheaper setting to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # CSRF is checked by the app for every page form; the token-only API is exempt (core.web).
    WTF_CSRF_CHECK_DEFAULT = False
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    API_MAX_PER_PAGE = 100
    PER_PAGE = 20
