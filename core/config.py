"""Default configuration, then `instance/config.py`, then the environment (docs/deploy.md).

``from_env`` reads every ``LINLI_*`` setting from the environment; the factory applies it on top of
``instance/config.py`` (not in tests, which pass their own config), so one image serves any number
of app servers configured only by environment variables."""
import logging
import os
from datetime import timedelta

# name: (config key(s), parser, what it is) -- docs/deploy.md lists the same table.
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting in the environment cannot be understood; the app refuses to start."""


def _bool(name, raw):
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name}={raw!r}: expected 1/0, true/false, yes/no or on/off")


def _whole(name, raw, high, unit=""):
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number{unit} (0, 1, 2, ...)") from None
    if value < 0 or value > high:
        raise ConfigError(f"{name}={raw!r}: expected a whole number{unit} from 0 to {high}")
    return value


def _count(name, raw):
    return _whole(name, raw, 10)


def _seconds(name, raw):
    return _whole(name, raw, 86400, " of seconds")


def _megabytes(name, raw):
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number of megabytes") from None
    if value < 1:
        raise ConfigError(f"{name}={raw!r}: expected at least 1 (megabyte)")
    return value * 1024 * 1024


def _limit(high, unit):
    def parse(name, raw):
        value = _whole(name, raw, high, unit)
        if value < 1:
            raise ConfigError(f"{name}={raw!r}: expected at least 1")
        return value
    return parse


_rows = _limit(1000000, " of rows")
_columns = _limit(16384, " of columns")  # Excel's widest sheet


MAX_REMEMBER_DAYS = 30


def _days(name, raw):
    """A whole number of days from 1 to MAX_REMEMBER_DAYS, as a timedelta."""
    value = _whole(name, raw, MAX_REMEMBER_DAYS, " of days")
    if value < 1:
        raise ConfigError(f"{name}={raw!r}: expected at least 1 (day)")
    return timedelta(days=value)


def _log_level(name, raw):
    value = raw.strip().upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"{name}={raw!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return value


def _text(name, raw):
    if not raw.strip():
        raise ConfigError(f"{name} is set but empty")
    return raw.strip()


def _plugins(name, raw):
    return [n.strip() for n in raw.split(",") if n.strip()]


# environment variable -> (config keys it sets, parser)
ENVIRONMENT = {
    "LINLI_SECRET_KEY": (("SECRET_KEY",), _text),
    "LINLI_IDENTITY_HASH_KEY": (("IDENTITY_HASH_KEY",), _text),
    "LINLI_DATABASE_URL": (("SQLALCHEMY_DATABASE_URI",), _text),
    "LINLI_REDIS_URL": (("RATELIMIT_STORAGE_URI",), _text),
    "RATELIMIT_STORAGE_URI": (("RATELIMIT_STORAGE_URI",), _text),
    "LINLI_PROXY_COUNT": (("LINLI_PROXY_COUNT",), _count),
    "LINLI_SECURE_COOKIES": (("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"), _bool),
    "LINLI_PLUGINS": (("LINLI_PLUGINS",), _plugins),
    "LINLI_LOG_LEVEL": (("LINLI_LOG_LEVEL",), _log_level),
    "LINLI_MAX_UPLOAD_MB": (("MAX_CONTENT_LENGTH",), _megabytes),
    "LINLI_IMPORT_MAX_ROWS": (("LINLI_IMPORT_MAX_ROWS",), _rows),
    "LINLI_IMPORT_MAX_COLUMNS": (("LINLI_IMPORT_MAX_COLUMNS",), _columns),
    "LINLI_IMPORT_MAX_UNPACKED_MB": (("LINLI_IMPORT_MAX_UNPACKED",), _megabytes),
    "LINLI_RATELIMIT_LOGIN": (("RATELIMIT_LOGIN",), _text),
    "LINLI_LOGIN_LOCK": (("LOGIN_LOCK",), _text),
    "LINLI_LOGIN_ACCOUNT_LIMIT": (("LOGIN_ACCOUNT_LIMIT",), _text),
    "LINLI_REMEMBER_DAYS": (("REMEMBER_COOKIE_DURATION",), _days),
    "LINLI_TRACE_HOOKS": (("LINLI_TRACE_HOOKS",), _bool),
    "LINLI_DB_PING_AFTER": (("LINLI_DB_PING_AFTER",), _seconds),
}


def from_env(environ=None):
    """The settings the environment gives, as a config mapping. LINLI_REDIS_URL wins over
    RATELIMIT_STORAGE_URI when both are set. Raises ``ConfigError`` for a value it cannot read."""
    environ = os.environ if environ is None else environ
    settings = {}
    for name in sorted(ENVIRONMENT, key=lambda n: n == "LINLI_REDIS_URL"):  # LINLI_REDIS_URL last
        if name not in environ:
            continue
        keys, parse = ENVIRONMENT[name]
        value = parse(name, environ[name])
        for key in keys:
            settings[key] = value
    return settings


def parse_limit(name, value):
    """``value`` of setting ``name`` ("5 per 15 minutes") as (count, seconds); ValueError if bad."""
    from limits import parse

    try:
        item = parse(value) if isinstance(value, str) else None
    except ValueError:
        item = None
    if item is None or item.amount < 1:
        raise ValueError(f"{name}={value!r}: expected a number of failures per time, e.g. '5 per 15 minutes'")
    return item.amount, item.get_expiry()


def check_security_settings(config):
    """Refuse, at start-up, security settings that would be unsafe or cannot be read: a
    remember-me cookie longer than MAX_REMEMBER_DAYS, unreadable failed-login limits."""
    duration = config.get("REMEMBER_COOKIE_DURATION")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        duration = timedelta(seconds=duration)
    if not isinstance(duration, timedelta) or not timedelta(0) < duration <= timedelta(days=MAX_REMEMBER_DAYS):
        raise ConfigError(f"REMEMBER_COOKIE_DURATION={config.get('REMEMBER_COOKIE_DURATION')!r}: the "
                          f"remember-me cookie may last at most {MAX_REMEMBER_DAYS} days (a timedelta or "
                          f"seconds; LINLI_REMEMBER_DAYS=1..{MAX_REMEMBER_DAYS})")
    config["REMEMBER_COOKIE_DURATION"] = duration
    for name in ("LOGIN_LOCK", "LOGIN_ACCOUNT_LIMIT"):
        try:
            parse_limit(name, config.get(name))
        except ValueError as err:
            raise ConfigError(str(err)) from None


def apply_runtime(app):
    """Wire the settings that act on the WSGI app itself: the reverse-proxy fix and the log level.
    Unsafe security settings are refused first (``check_security_settings``)."""
    check_security_settings(app.config)
    count = app.config.get("LINLI_PROXY_COUNT") or 0
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Trust exactly ``count`` proxies' X-Forwarded-For/-Proto/-Host/-Port: the client address
        # (rate limits, the audit log) and https:// links come from the proxy, never the client.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)
    level = app.config.get("LINLI_LOG_LEVEL")
    if level:
        app.logger.setLevel(getattr(logging, level))


def _env_list(name):
    raw = os.environ.get(name)
    return None if raw is None else [n.strip() for n in raw.split(",") if n.strip()]


class Defaults:
    SQLALCHEMY_DATABASE_URI = None  # set by the factory to instance/linli.sqlite
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # Ping a pooled connection before use only after it sat idle this long (core.db.pool).
    LINLI_DB_PING_AFTER = 10
    SECRET_KEY = None
    # Keys the hashes of identity document numbers (core.services.persons). Its own key, never
    # the session secret: rotating SECRET_KEY must not make every stored hash unmatchable.
    IDENTITY_HASH_KEY = None
    # Installed plugins to load; None loads every entry point in `linli.plugins`.
    LINLI_PLUGINS = _env_list("LINLI_PLUGINS")
    LINLI_TRACE_HOOKS = bool(os.environ.get("LINLI_TRACE_HOOKS"))
    LINLI_PROXY_COUNT = 0  # reverse proxies in front of the app whose X-Forwarded-* headers count
    LINLI_LOG_LEVEL = None
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans", "zh_Hant", "en")
    # werkzeug's scrypt (memory-hard); tests use a cheaper setting to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # LINLI_SECURE_COOKIES=1 behind HTTPS
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = None
    # CSRF is checked by the app for every page form; the token-only API is exempt (core.web).
    WTF_CSRF_CHECK_DEFAULT = False
    RATELIMIT_STORAGE_URI = "memory://"  # redis://host:6379/0 with several app servers
    RATELIMIT_LOGIN = "10 per minute;50 per hour"  # sign-in attempts per address, any account
    # Failed sign-ins, counted in the database (core/services/login_limits.py): an address is
    # refused for an account after LOGIN_LOCK failures; after LOGIN_ACCOUNT_LIMIT failures from
    # all addresses, only addresses that have not failed may still try the account.
    LOGIN_LOCK = "5 per 15 minutes"
    LOGIN_ACCOUNT_LIMIT = "50 per hour"
    REMEMBER_COOKIE_DURATION = timedelta(days=MAX_REMEMBER_DAYS)  # at most that (refused at start-up)
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # What one household sheet may hold (core.spreadsheets): data rows, columns, and bytes of data
    # (a .csv's size, a .xlsx's once unpacked). Checked before and while reading, not after.
    LINLI_IMPORT_MAX_ROWS = 20000
    LINLI_IMPORT_MAX_COLUMNS = 50
    LINLI_IMPORT_MAX_UNPACKED = 20 * 1024 * 1024
    API_MAX_PER_PAGE = 100
    PER_PAGE = 20
