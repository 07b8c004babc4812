"""Attacks a browser or a script can make (issue 7, ASVS V3, V6, V7, V5): CSRF, stored XSS, SQL
meta-characters, security headers, sessions after login/logout/password change, password policy
and login rate limiting."""
import io
import re

import pytest

from core.extensions import db
from tests.conftest import INSTALLED, PASSWORD
from tests.helpers import REGISTRATION
from tests.security import inert
from tests.security import matrix as m
from tests.security.figures import add


@pytest.fixture
def app_config():
    # The XSS test registers more accounts than the registration limit allows per hour.
    return {"RATELIMIT_ENABLED": False}


def fingerprint():
    """Every row of every table: equal fingerprints mean nothing was changed."""
    out = []
    db.session.commit()  # what the test set up first, as its entry point would (services never commit)
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            cols = [c for c in table.columns if c.name != "last_used_at"]  # API tokens note their use
            rows = conn.execute(table.select().with_only_columns(*cols)).fetchall()
            out.append((table.name, sorted(repr(tuple(r)) for r in rows)))
    return out


def csrf_token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert found, "no csrf_token field on the page"
    return found.group(1).decode()


def csrf_app(extra_app, plugins=()):
    return extra_app(plugins=plugins, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=False)


def csrf_login(app, user):
    client = app.test_client()
    token = csrf_token(client.get("/auth/login").data)
    r = client.post("/auth/login", data={"login": user.login_name, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.data[:300]
    return client


# ── CSRF ────────────────────────────────────────────────────────────────────────────────
@pytest.mark.plugins(*INSTALLED)
def test_every_form_route_refuses_a_post_without_csrf_token(app, world, extra_app):
    """Every POST route outside the API, core and installed plugins, as the community admin (and
    anonymous for log-in and registration): 400 and not one row changed."""
    from tests.security.access_core import url_args

    values = {"community": world.community.slug, **url_args(world)}
    for who in INSTALLED:
        decl = m.load_declarations(who)
        if decl and decl[1]:
            values.update(decl[1](world) or {})
    capp = csrf_app(extra_app, INSTALLED)
    admin = csrf_login(capp, world.admin)
    anonymous = capp.test_client()
    before = fingerprint()
    checked = []
    for rule in capp.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        path = m.build(rule, values)
        for name, client in (("admin", admin), ("anonymous", anonymous)):
            r = client.post(path, data={"title": "x" * 10, "body": "y" * 20, "name": "z", "reason": "r"})
            assert r.status_code == 400, (name, path, r.status_code)
            checked.append(path)
    assert fingerprint() == before
    assert len(checked) >= 2 * 20
    add("attack payloads tried", len(checked))
    # the same client with a token does change things: the check above could fail
    page = admin.get("/c/test/proposals/new").data
    r = admin.post("/c/test/proposals/new", data={"csrf_token": csrf_token(page), "title": "跨站请求测试",
                                                  "body": "这是一条正常提交的提案内容。", "category": "other",
                                                  "scope": "community", "grid_id": 0, "building_id": 0})
    assert r.status_code == 302
    assert fingerprint() != before


def test_a_token_from_another_session_is_refused(app, world, extra_app):
    capp = csrf_app(extra_app)
    attacker = csrf_login(capp, world.outsider)
    stolen = csrf_token(attacker.get("/auth/account").data)
    victim = csrf_login(capp, world.resident)
    before = fingerprint()
    r = victim.post("/auth/account", data={"csrf_token": stolen, "form": "token", "tok-name": "evil"})
    assert r.status_code == 400
    assert fingerprint() == before


# ── stored XSS ──────────────────────────────────────────────────────────────────────────
def _assert_inert(page, where, must_show=()):
    html = page.decode()
    bad = inert.problems(html)
    assert not bad, f"{where}: {bad[:5]}"
    visible = inert.text(html)
    for marker in must_show:
        assert marker in visible, f"{where}: {marker} is not shown"


def test_xss_corpus_renders_inert_everywhere(app, world, login, client):
    """≥ 20 payloads through proposal titles and bodies, comments, names at registration, names on
    a household register, spreadsheet cells and community names; every page that shows them is
    inert and still shows the text (so the payload was displayed, not dropped)."""
    from core.models import Proposal
    from core.services import structure

    corpus = inert.corpus()
    assert len(corpus) >= 15
    author, staff = login(world.resident), login(world.staff)
    ids = []
    for marker, payload in corpus:
        r = author.post("/c/test/proposals/new", data={
            "title": f"{marker} {payload}"[:120], "body": f"{payload}\n\n{marker} body", "category": "other",
            "scope": "community", "grid_id": 0, "building_id": 0})
        assert r.status_code == 302, (marker, r.data[:300])
        pid = Proposal.query.filter(Proposal.title.startswith(marker)).one().id
        r = author.post(f"/c/test/proposals/{pid}/comment", data={"body": payload})
        assert r.status_code == 302
        ids.append((marker, pid))
        # a resident registers with the payload as their name
        reg = app.test_client()
        r = reg.post("/c/test/register", data={"display_name": payload[:80], "login": f"x{marker.lower()}",
                                               "password": "long-enough-pw", "confirm": "long-enough-pw",
                                               **REGISTRATION})
        assert r.status_code == 302, (marker, r.data[:300])
        structure.add_household_member(world.community, world.households[0], world.staff, name=payload[:80])
        structure.create_community(f"x{marker.lower()}", payload[:80])
    # a spreadsheet whose cells are payloads
    rows = ["网格,楼栋,单元,房号,面积,姓名"] + [
        f'"{p[:80].replace(chr(34), chr(34) * 2)}","{m_}楼","1单元","{i + 1}01","88.00","{p[:80].replace(chr(34), chr(34) * 2)}"'
        for i, (m_, p) in enumerate(corpus)]
    r = staff.post("/c/test/structure/import", data={"file": (io.BytesIO("\n".join(rows).encode()), "x.csv")},
                   content_type="multipart/form-data")
    assert r.status_code == 200
    _assert_inert(r.data, "import preview")
    token = re.search(rb'name="token" value="([^"]+)"', r.data)
    assert token, r.data[:2000]
    r = staff.post("/c/test/structure/import", data={"token": token.group(1).decode(), "accept_partial": "1"})
    assert r.status_code == 302

    pages = [("/", ()), ("/c/test/", ()), ("/c/test/proposals/", ()), ("/c/test/structure/", ()),
             (f"/c/test/structure/households/{world.households[0].id}", ()),
             (f"/c/test/structure/buildings/{world.building.id}", ())]
    pages += [(f"/c/test/proposals/?page={n}", ()) for n in (1, 2)]
    pages += [(f"/c/test/members?page={n}", ()) for n in (1, 2, 3)]
    pages += [(f"/c/test/admin/audit?page={n}", ()) for n in (1, 2, 3, 4)]
    for n, (marker, pid) in enumerate(ids):
        pages.append((f"/c/test/proposals/{pid}", (marker,)))
        if n % 3 == 0:  # the print notice and the community's own home share the same templates
            pages.append((f"/c/test/proposals/{pid}/print", (marker,)))
            pages.append((f"/c/x{marker.lower()}/", ()))
    admin = login(world.admin)
    for url, show in pages:
        public = not any(x in url for x in ("structure", "members", "audit"))
        for who, c in (("admin", admin), ("anonymous", client) if public else ("staff", staff)):
            r = c.get(url)
            assert r.status_code == 200, (url, who, r.status_code)
            _assert_inert(r.data, f"{url} as {who}", show)
    # and the names are really shown (a page that hid them would also be "inert")
    add("attack payloads tried", 7 * len(corpus))  # title, body, comment, name, register, cells, community
    shown = inert.text(staff.get("/").data) + inert.text(staff.get("/c/test/members?q=XSS").data)
    assert "XSS03" in inert.text(client.get("/").data)
    assert "{{7*7}}XSS22" in inert.text(client.get(f"/c/test/proposals/{ids[22][1]}").data)
    assert shown
    for marker, _p in corpus[:5]:
        r = staff.get(f"/c/test/members?q=x{marker.lower()}")
        member = re.search(rb'/c/test/members/(\d+)"', r.data)
        assert member, marker
        r = staff.get(f"/c/test/members/{member.group(1).decode()}")
        _assert_inert(r.data, f"member page of {marker}", [marker])
    r = staff.get(f"/c/test/structure/households/{world.households[0].id}")
    assert all(mk in inert.text(r.data.decode()) for mk, _p in corpus[:8])


def test_xss_through_the_api_is_escaped_in_json_consumers_pages(app, world, api, client):
    """Text sent through the API comes back verbatim in JSON (the API does not mangle it) and is
    shown inert on the web page."""
    marker, payload = inert.corpus("A")[1]
    r = api(world.resident).post("/api/v1/c/test/proposals", json={
        "title": f"{marker} {payload}", "body": payload, "category": "other"})
    assert r.status_code == 201, r.get_json()
    pid = r.get_json()["id"]
    assert r.get_json()["title"] == f"{marker} {payload}"
    assert r.headers["Content-Type"].startswith("application/json")
    page = client.get(f"/c/test/proposals/{pid}").data
    _assert_inert(page, "proposal page", [marker])


# ── SQL meta-characters ─────────────────────────────────────────────────────────────────
SQL = ["'", "\"", "' OR '1'='1", "' OR 1=1 --", "1; DROP TABLE proposal; --", "%", "_", "\\", "%' --",
       "') OR ('a'='a", "1 UNION SELECT password_hash FROM \"user\" --", "\x00", "😀' --", "-1", "99999999999999999999"]
SWEEP = ["' OR '1'='1", "1; DROP TABLE proposal; --", "%' --", "\\", "\x00", "99999999999999999999",
         "1 UNION SELECT password_hash FROM \"user\" --"]
PARAMS = ["q", "state", "status", "category", "scope", "page", "per_page", "action", "actor", "from", "to",
          "building_id", "unit", "sort", "order", "month", "year", "kind", "type", "user", "tag"]


@pytest.mark.plugins(*INSTALLED)
def test_sql_meta_characters_in_every_query_parameter_never_500(app, world, login, api):
    """Every GET route (core and installed plugins) with every search/filter parameter set to each
    payload, as an admin on the pages and the API: never a 500, and no row changed."""
    from tests.security.access_core import url_args

    values = {"community": world.community.slug, **url_args(world)}
    for who in INSTALLED:
        decl = m.load_declarations(who)
        if decl and decl[1]:
            values.update(decl[1](world) or {})
    page, token = login(world.admin), api(world.admin)
    before = fingerprint()
    tried = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        path = m.build(rule, values)
        for payload in SWEEP:
            query = {p: payload for p in PARAMS}
            r = (token.get if path.startswith("/api/") else page.get)(path, query_string=query)
            tried += 1
            assert r.status_code < 500, (path, payload, r.status_code, r.data[:300])
    assert tried > 20 * len(SWEEP)
    add("attack payloads tried", tried * len(PARAMS))
    assert fingerprint() == before


def test_search_with_sql_meta_characters_finds_nothing_instead_of_everything(app, world, login, api):
    from core.services import proposals

    for title in ("楼道灯坏了需要修理", "增设电动车充电桩方案"):
        proposals.create(world.community, world.resident, {"title": title, "body": "具体内容见标题，请大家讨论。",
                                                          "category": "facilities"})
    client = api(world.staff)
    everything = client.get("/api/v1/c/test/proposals").get_json()["total"]
    assert everything == 2
    assert client.get("/api/v1/c/test/proposals", query_string={"q": "充电桩"}).get_json()["total"] == 1
    for payload in SQL:
        r = client.get("/api/v1/c/test/proposals", query_string={"q": payload})
        assert r.status_code in (200, 400), payload  # 400: a NUL character is refused
        assert r.status_code == 400 or r.get_json()["total"] == 0, payload
        r = client.get("/api/v1/c/test/proposals", query_string={"state": payload})
        assert r.status_code == 400 and r.get_json()["error"]["code"] in ("invalid_filter", "invalid_text"), payload
    staff = login(world.staff)
    all_members = len(re.findall(rb'href="/c/test/members/\d+"', staff.get("/c/test/members").data))
    assert all_members >= 8
    for payload in SQL:
        r = staff.get("/c/test/members", query_string={"q": payload})
        assert r.status_code in (200, 400)
        assert re.findall(rb'href="/c/test/members/\d+"', r.data) == [], payload
        r = staff.get("/c/test/proposals/", query_string={"q": payload})
        assert "楼道灯" not in r.data.decode(), payload


# ── security headers ────────────────────────────────────────────────────────────────────
def _csp(value):
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = [w.lower() for w in words[1:]]
    return out


def _check_headers(resp, where):
    h = resp.headers
    csp = _csp(h.get("Content-Security-Policy", ""))
    assert csp, f"{where}: no Content-Security-Policy"
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts is not None, f"{where}: CSP without script-src/default-src"
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        assert unsafe not in scripts, f"{where}: script-src allows {unsafe}"
    assert csp.get("object-src") == ["'none'"], where
    assert csp.get("frame-ancestors") == ["'none'"], where
    assert "'unsafe-inline'" not in csp.get("style-src", csp.get("default-src")), where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin",
                                        "strict-origin-when-cross-origin"), where
    assert h.get("X-Frame-Options") == "DENY", where


def test_security_headers_on_pages_api_files_and_errors(app, world, login):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/__boom")
    def boom():
        raise RuntimeError("boom")

    client, resident = app.test_client(), login(world.resident)
    cases = [(client, "GET", "/", None), (client, "GET", "/c/test/", 200), (client, "GET", "/auth/login", 200),
             (resident, "GET", "/c/test/proposals/new", 200), (client, "GET", "/static/linli.css", 200),
             (client, "GET", "/api/v1/communities", 200), (client, "GET", "/api/v1/me", 401),
             (client, "GET", "/api/v1/openapi.json", 200), (client, "GET", "/no/such/page", 404),
             (client, "GET", "/api/v1/no/such", 404), (client, "GET", "/auth/logout", 405),
             (resident, "GET", "/c/test/admin/audit", 403), (client, "GET", "/__boom", 500),
             (client, "POST", "/api/v1/c/test/proposals", 401)]
    for c, method, url, status in cases:
        r = c.open(url, method=method)
        if status:
            assert r.status_code == status, (url, r.status_code)
        _check_headers(r, f"{method} {url} ({r.status_code})")
        r.close()
    r = client.get("/__boom")
    assert b"RuntimeError" not in r.data and b"Traceback" not in r.data


# ── sessions ────────────────────────────────────────────────────────────────────────────
def _cookie(client, name="session"):
    c = client.get_cookie(name)
    return c.value if c else None


def _logged_in_with(app, cookies):
    """A new browser with only these cookies: is it logged in?"""
    c = app.test_client()
    for name, value in cookies.items():
        if value:
            c.set_cookie(name, value)
    r = c.get("/auth/account")
    return r.status_code == 200


def test_session_cookie_changes_at_login(app, world):
    c = app.test_client()
    c.post("/language", data={"locale": "en"})
    before = _cookie(c)
    assert before
    r = c.post("/auth/login", data={"login": "resident", "password": PASSWORD})
    assert r.status_code == 302
    after = _cookie(c)
    assert after and after != before
    assert not _logged_in_with(app, {"session": before})
    assert _logged_in_with(app, {"session": after})


def test_a_stolen_cookie_is_useless_after_logout(app, world):
    c = app.test_client()
    c.post("/auth/login", data={"login": "resident", "password": PASSWORD, "remember": "y"})
    stolen = {"session": _cookie(c), "remember_token": _cookie(c, "remember_token")}
    assert stolen["remember_token"]
    assert _logged_in_with(app, stolen)
    assert c.post("/auth/logout").status_code == 302
    assert not _logged_in_with(app, {"session": stolen["session"]})
    assert not _logged_in_with(app, {"remember_token": stolen["remember_token"]})
    assert not _logged_in_with(app, stolen)
    # logging in again works, and the new session is a different one
    c.post("/auth/login", data={"login": "resident", "password": PASSWORD})
    assert _logged_in_with(app, {"session": _cookie(c)})
    assert _cookie(c) != stolen["session"]


def test_password_change_ends_every_other_session(app, world, login):
    here, elsewhere = login(world.resident), login(world.resident)
    stolen_here, stolen_elsewhere = _cookie(here), _cookie(elsewhere)
    r = here.post("/auth/account", data={"form": "password", "pw-old_password": PASSWORD,
                                         "pw-new_password": "a new long passphrase", "pw-confirm": "a new long passphrase"})
    assert r.status_code == 302
    assert here.get("/auth/account").status_code == 200  # this browser stays logged in
    assert elsewhere.get("/auth/account").status_code == 302
    assert not _logged_in_with(app, {"session": stolen_elsewhere})
    assert not _logged_in_with(app, {"session": stolen_here})


def test_a_tampered_session_cookie_is_refused(app, world, login, extra_app):
    c = login(world.resident)
    value = _cookie(c)
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert not _logged_in_with(app, {"session": forged})
    # a session signed with another key (another installation) is refused too
    other = extra_app(SECRET_KEY="another-key", RATELIMIT_ENABLED=False)
    oc = other.test_client()
    with other.app_context():
        oc.post("/auth/login", data={"login": "resident", "password": PASSWORD})
    assert not _logged_in_with(app, {"session": _cookie(oc)})


def test_session_cookies_are_httponly_and_samesite(app, world):
    c = app.test_client()
    r = c.post("/auth/login", data={"login": "resident", "password": PASSWORD, "remember": "y"})
    cookies = r.headers.getlist("Set-Cookie")
    for name in ("session=", "remember_token="):
        line = next(x for x in cookies if x.startswith(name))
        assert "HttpOnly" in line, line
        assert "SameSite=Lax" in line or "SameSite=Strict" in line, line


# ── passwords (ASVS V6) ─────────────────────────────────────────────────────────────────
def _register(app, login_name, password):
    c = app.test_client()
    r = c.post("/c/test/register", data={"display_name": "测试", "login": login_name, "password": password,
                                         "confirm": password, **REGISTRATION})
    return r


def _can_log_in(app, login_name, password):
    r = app.test_client().post("/auth/login", data={"login": login_name, "password": password})
    return r.status_code == 302


ACCEPTED = ["kqzvtrwm", "correcthorsebatterystaple", "4829105736", "我家门口的老槐树", "🔑 open sesame 🚪",
            "   spaces   around   ", "x" * 64, "长" * 64, ("ab" * 64)]
REFUSED_SHORT = ["", "1234567", "七个字的密码啊", "🔑🔑🔑🔑🔑🔑🔑"]
REFUSED_COMMON = ["password", "PASSWORD", "12345678", "woaini1314", "qwerty123", "Passw0rd", "88888888"]


def test_password_rules_follow_asvs_v6(app, world):
    for i, pw in enumerate(ACCEPTED):
        name = f"pwok{i}"
        r = _register(app, name, pw)
        assert r.status_code == 302, (pw, r.data[:300])
        assert _can_log_in(app, name, pw), pw
        assert not _can_log_in(app, name, pw[:-1] + ("y" if pw[-1] != "y" else "z")), pw  # no truncation
    assert _can_log_in(app, "pwok6", "x" * 64) and not _can_log_in(app, "pwok6", "x" * 63)
    assert not _can_log_in(app, "pwok8", "ab" * 36)  # not cut at 72 bytes (bcrypt's limit)
    for i, pw in enumerate(REFUSED_SHORT + REFUSED_COMMON):
        r = _register(app, f"pwbad{i}", pw)
        assert r.status_code == 200, pw
        assert not _can_log_in(app, f"pwbad{i}", pw), pw
    text = inert.text(_register(app, "pwbadx", "password").data.decode())
    assert "guess" in text or "猜" in text
    # the login name itself is refused as a password
    assert _register(app, "samesame", "samesame").status_code == 200


def test_thousands_of_common_passwords_are_refused_with_a_translated_message(app, world):
    """ASVS V6.2.4: the top common passwords (≥ 3,000, from the zxcvbn package, plus those common in
    China) are refused at registration, in the visitor's language; a long random passphrase and a
    password of 64+ characters are accepted."""
    import secrets

    from core.services.passwords import check_password_policy, common_passwords

    assert len(common_passwords()) >= 3000
    messages = {"en": "too easy to guess", "zh_Hans": "太容易被猜到", "zh_Hant": "太容易被猜到"}
    common = ["sunshine1", "football", "trustno1", "1qaz2wsx3edc", "qazwsxedc", "iloveyou1",
              "woaini1314", "qq123456", "a123456", "5201314", "123456", "wo5201314", "QQ5201314"]
    for i, pw in enumerate(common):
        locale = list(messages)[i % 3]
        c = app.test_client()
        c.post("/language", data={"locale": locale})
        r = c.post("/c/test/register", data={"display_name": "测试", "login": f"common{i}", "password": pw,
                                             "confirm": pw})
        assert r.status_code == 200, pw
        if len(pw) >= 8:  # shorter ones are refused for their length first
            assert messages[locale] in inert.text(r.data), (pw, locale)
        assert not _can_log_in(app, f"common{i}", pw), pw
    with app.test_request_context():
        assert check_password_policy("x7Q!" + "kq" * 2) is None  # 8 characters, not on any list
        for pw in ["correct horse battery staple " + secrets.token_hex(8), secrets.token_urlsafe(48),
                   "门前大桥下游过一群鸭" * 7]:
            assert len(pw) >= 20
            assert check_password_policy(pw) is None, pw
    passphrase = "mulberry window " + secrets.token_hex(24)  # 64 characters
    assert len(passphrase) == 64
    assert _register(app, "longpass", passphrase).status_code == 302
    assert _can_log_in(app, "longpass", passphrase)


def test_password_change_follows_the_same_rules(app, world, login):
    c = login(world.resident)
    for pw in ("short", "12345678"):
        r = c.post("/auth/account", data={"form": "password", "pw-old_password": PASSWORD, "pw-new_password": pw,
                                          "pw-confirm": pw})
        assert r.status_code == 200
        assert _can_log_in(app, "resident", PASSWORD)
    r = c.post("/auth/account", data={"form": "password", "pw-old_password": "wrong-password",
                                      "pw-new_password": "a new long passphrase", "pw-confirm": "a new long passphrase"})
    assert r.status_code == 200 and _can_log_in(app, "resident", PASSWORD)


# ── login rate limiting ─────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "5 per minute",
                                         "LOGIN_ACCOUNT_LIMIT": "5 per minute"}])
def test_login_is_rate_limited_per_account_and_per_address(app, world):
    def attempt(login_name, password, addr):
        c = app.test_client()
        return c.post("/auth/login", data={"login": login_name, "password": password},
                      environ_base={"REMOTE_ADDR": addr}).status_code

    # guessing one account's password from many addresses
    assert [attempt("resident", f"guess-{i}-xx", f"10.0.0.{i}") for i in range(5)] == [200] * 5
    assert attempt("resident", PASSWORD, "10.0.0.1") == 429  # even the right password, from those addresses
    assert attempt("resident", PASSWORD, "10.0.1.1") == 302  # but the owner, elsewhere, is not locked out
    assert attempt("resident2", PASSWORD, "10.0.1.2") == 302  # other accounts are not locked out
    # one address trying many accounts
    assert [attempt(f"nobody{i}", "whatever-pw", "10.9.9.9") for i in range(5)] == [200] * 5
    r = app.test_client().post("/auth/login", data={"login": "staff", "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert r.status_code == 429
    assert "Retry-After" in r.headers or "X-RateLimit-Reset" in r.headers
    _check_headers(r, "429 page")


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "5 per minute"}])
def test_guessing_the_current_password_with_a_stolen_session_is_rate_limited(app, world):
    thief = app.test_client()
    assert thief.post("/auth/login", data={"login": "resident", "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "10.1.0.1"}).status_code == 302
    tries = [thief.post("/auth/account", data={"form": "password", "pw-old_password": f"guess-{i}-pw",
                                               "pw-new_password": "stolen-account-pw", "pw-confirm": "stolen-account-pw"},
                        environ_base={"REMOTE_ADDR": f"10.1.1.{i}"}).status_code for i in range(6)]
    assert tries == [200] * 5 + [429]
    r = thief.post("/auth/account", data={"form": "password", "pw-old_password": PASSWORD,
                                          "pw-new_password": "stolen-account-pw", "pw-confirm": "stolen-account-pw"})
    assert r.status_code == 429
    assert _can_log_in(app, "resident", PASSWORD)  # the password was not changed
    assert not _can_log_in(app, "resident2", "stolen-account-pw")
