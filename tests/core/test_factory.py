from core import create_app


def test_config_defaults_to_not_testing(tmp_path, monkeypatch):
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    assert not create_app(plugins=[]).testing


def test_testing_config(app):
    assert app.testing


def test_security_headers(client, world):
    r = client.get("/c/test/")
    assert r.status_code == 200
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_unknown_community_is_404(client, world):
    assert client.get("/c/nope/").status_code == 404
    assert client.get("/c/nope/proposals/").status_code == 404
