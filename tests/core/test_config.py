"""Settings from the environment (docs/deploy.md): every variable, its default, bad values."""
import pytest

from core import create_app
from core.config import ENVIRONMENT, ConfigError, from_env

ALL_OFF = {name: None for name in ENVIRONMENT}


@pytest.fixture
def env_app(tmp_path, monkeypatch):
    """create_app() as production builds it: instance/config.py, then the environment."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LINLI_PLUGINS", "none")

    def build(instance_config="", **env):
        (tmp_path / "config.py").write_text(instance_config, encoding="utf-8")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return create_app(plugins=[])
    return build


def test_defaults_without_environment(env_app, tmp_path):
    app = env_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'linli.sqlite'}"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["LINLI_PROXY_COUNT"] == 0
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    assert len(app.config["SECRET_KEY"]) == 64  # a throwaway key, never empty


def test_environment_overrides_instance_config(env_app):
    app = env_app(
        "SECRET_KEY = 'from-file'\nSQLALCHEMY_DATABASE_URI = 'sqlite:////tmp/file.sqlite'\n",
        LINLI_SECRET_KEY="from-env", LINLI_DATABASE_URL="postgresql+psycopg://linli@db.internal/linli",
        LINLI_REDIS_URL="redis://cache.internal:6379/2", LINLI_SECURE_COOKIES="yes",
        LINLI_MAX_UPLOAD_MB="4", LINLI_RATELIMIT_LOGIN="5 per minute", LINLI_LOG_LEVEL="warning")
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://linli@db.internal/linli"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/2"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["MAX_CONTENT_LENGTH"] == 4 * 1024 * 1024
    assert app.config["RATELIMIT_LOGIN"] == "5 per minute"
    assert app.logger.level == 30


def test_instance_config_used_when_environment_is_silent(env_app):
    app = env_app("SECRET_KEY = 'from-file'\nRATELIMIT_STORAGE_URI = 'redis://127.0.0.1:6379/3'\n")
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"


def test_linli_redis_url_wins_over_ratelimit_storage_uri():
    got = from_env({"RATELIMIT_STORAGE_URI": "redis://a/1", "LINLI_REDIS_URL": "redis://b/2"})
    assert got == {"RATELIMIT_STORAGE_URI": "redis://b/2"}
    assert from_env({"RATELIMIT_STORAGE_URI": "redis://a/1"}) == {"RATELIMIT_STORAGE_URI": "redis://a/1"}


def test_plugin_list():
    assert from_env({"LINLI_PLUGINS": "voting, points,,"}) == {"LINLI_PLUGINS": ["voting", "points"]}
    assert from_env({"LINLI_PLUGINS": ""}) == {"LINLI_PLUGINS": []}


@pytest.mark.parametrize("raw, expected", [("1", True), ("TRUE", True), ("on", True), ("0", False),
                                           ("no", False), ("", False)])
def test_secure_cookies_values(raw, expected):
    assert from_env({"LINLI_SECURE_COOKIES": raw})["SESSION_COOKIE_SECURE"] is expected


@pytest.mark.parametrize("name, raw", [("LINLI_PROXY_COUNT", "two"), ("LINLI_PROXY_COUNT", "-1"),
                                       ("LINLI_PROXY_COUNT", "99"), ("LINLI_SECURE_COOKIES", "maybe"),
                                       ("LINLI_MAX_UPLOAD_MB", "0"), ("LINLI_MAX_UPLOAD_MB", "lots"),
                                       ("LINLI_LOG_LEVEL", "loud"), ("LINLI_SECRET_KEY", "  "),
                                       ("LINLI_DATABASE_URL", ""), ("LINLI_DB_PING_AFTER", "soon"),
                                       ("LINLI_DB_PING_AFTER", "-5")])
def test_bad_values_refuse_to_start_and_name_the_variable(name, raw, env_app):
    with pytest.raises(ConfigError, match=name):
        env_app(**{name: raw})


def test_proxy_count_trusts_exactly_that_many_proxies(env_app):
    app = env_app(LINLI_PROXY_COUNT="1", LINLI_SECRET_KEY="k")

    @app.get("/whoami")
    def whoami():
        from flask import request
        return f"{request.remote_addr} {request.scheme}"

    headers = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Forwarded-Proto": "https"}
    got = app.test_client().get("/whoami", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    # the proxy appended the real client (198.51.100.7); the earlier address is the client's claim
    assert got.get_data(as_text=True) == "198.51.100.7 https"


def test_without_proxy_count_forwarded_headers_are_ignored(env_app):
    app = env_app(LINLI_SECRET_KEY="k")

    @app.get("/whoami")
    def whoami():
        from flask import request
        return f"{request.remote_addr} {request.scheme}"

    got = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
                                environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert got.get_data(as_text=True) == "127.0.0.1 http"


def test_secure_cookie_flag_on_the_session_cookie(env_app):
    app = env_app(LINLI_SECURE_COOKIES="1", LINLI_SECRET_KEY="k")
    resp = app.test_client().post("/language", data={"locale": "en"}, base_url="https://localhost")
    cookie = resp.headers.get("Set-Cookie", "")
    assert "session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
