"""Open redirects (issue 16, item 8): every redirect to a user-supplied target (``next``, the
referrer) stays on this site, whatever a browser would make of the target (core/urls.py)."""
import unicodedata
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest

from tests.conftest import PASSWORD
from tests.plugins.meetings.conftest import body  # noqa: F401  (fixture: a body with delegates)
from tests.security.figures import add

# Targets that lead a browser elsewhere (or to a script), as typed into a link or a form field.
CORPUS = [
    "//evil.example", "//evil.example/c/test/", "/\\evil.example", "\\\\evil.example", "\\/evil.example",
    "/\\/evil.example", "///evil.example", "////evil.example", "/%09/evil.example", "%2F%09%2Fevil.example",
    "/\t/evil.example", "\t//evil.example", "/\t\t/evil.example", "/\r\n/evil.example", "\r\n//evil.example",
    "/\n/evil.example", "/%2F/evil.example", "/%2f%2fevil.example", "%2f%2fevil.example", "/%5C/evil.example",
    "/%5c%5cevil.example", "//%09evil.example", " //evil.example", "\x01//evil.example", "/\x0b/evil.example",
    "https:evil.example", "https://evil.example/", "http://127.0.0.1.evil.example", "http:/\\evil.example",
    "HTTPS://evil.example", "evil.example", "//localhost@evil.example", "//evil.example@localhost",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "/\uff0fevil.example", "\uff0f\uff0fevil.example",
    "/\uff3cevil.example", "/\u2028/evil.example", "/\u200b/evil.example", "%0d%0aSet-Cookie:x=1",
    "/\r\nSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1", "/" + "a" * 5000,
]
# The issue's own example, and others, exactly as they appear in a query string or a form body.
RAW = ["%2F%09%2Fevil.example", "/%09/evil.example", "%2F%2Fevil.example", "%5C%5Cevil.example",
       "/%0D%0A/evil.example", "%2F%0D%0ASet-Cookie%3Ax%3D1", "%EF%BC%8F%EF%BC%8Fevil.example",
       "%09%2F%2Fevil.example", "/%5C%09evil.example"]
# Targets of our own pages: followed exactly.
GOOD = ["/c/test/", "/c/test/proposals?page=2&q=%E4%B8%AD", "/c/test/proposals?", "/auth/account"]


def _browser_target(location, base="http://localhost/auth/login"):
    """Where a browser goes for ``location``: it drops tab/CR/LF, reads "\\" as "/", then resolves."""
    cleaned = location.strip(" \x00").replace("\t", "").replace("\r", "").replace("\n", "").replace("\\", "/")
    return urlsplit(urljoin(base, cleaned))


def _assert_same_site(resp, what):
    """A redirect to this site; or, for a target holding a control character (which the app sees
    once the query string or form is decoded), a 400 that redirects nowhere (core.inputs)."""
    if resp.status_code == 400 and any(unicodedata.category(ch) == "Cc" for ch in unquote(what)):
        assert "Location" not in resp.headers
        return None
    assert resp.status_code in (302, 303), (what, resp.status_code, resp.data[:300])
    location = resp.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, (what, location)
    assert location.startswith("/") and location[1:2] not in ("/", "\\"), (what, location)
    target = _browser_target(location)
    assert target.scheme == "http" and target.netloc == "localhost", (what, location)
    assert "evil" not in target.netloc and "Set-Cookie" not in resp.headers.get("Set-Cookie", "x=1").split("=")[0]
    return location


def _post_raw(client, url, body):
    return client.post(url, data=body.encode(), content_type="application/x-www-form-urlencoded")


def test_login_and_logout_never_send_the_browser_to_another_site(app, world):
    tried = 0
    for payload in CORPUS:
        c = app.test_client()
        r = c.post("/auth/login?next=" + quote(payload, safe=""), data={"login": "resident", "password": PASSWORD})
        _assert_same_site(r, payload)
        _assert_same_site(c.post("/auth/logout?next=" + quote(payload, safe=""), data={"next": payload}), payload)
        tried += 2
    for raw in RAW:
        c = app.test_client()
        r = c.post("/auth/login", query_string="next=" + raw,
                   data={"login": "resident", "password": PASSWORD})
        _assert_same_site(r, raw)
        tried += 1
    for good in GOOD:
        c = app.test_client()
        r = c.post("/auth/login?next=" + quote(good, safe=""), data={"login": "resident", "password": PASSWORD})
        assert r.headers["Location"] == good.rstrip("?")
    add("redirect payloads tried", tried)


def test_language_and_large_text_switches_never_send_the_browser_to_another_site(app, world, login):
    anonymous, resident = app.test_client(), login(world.resident)
    tried = 0
    # a target refused: back to the front page (the community's home when there is only one)
    assert anonymous.post("/language", data={"locale": "en", "next": "//evil.example"}).headers["Location"] == "/"
    for c in (anonymous, resident):
        for payload in CORPUS:
            _assert_same_site(c.post("/language", data={"locale": "en", "next": payload}), payload)
            _assert_same_site(c.post("/text-size", data={"large": "1", "next": payload}), payload)
            tried += 2
        for raw in RAW:
            _assert_same_site(_post_raw(c, "/language", "locale=zh_Hans&next=" + raw), raw)
            _assert_same_site(_post_raw(c, "/text-size", "large=0&next=" + raw), raw)
            tried += 2
        for good in GOOD:
            assert c.post("/language", data={"locale": "en", "next": good}).headers["Location"] == good.rstrip("?")
            assert c.post("/text-size", data={"large": "0", "next": good}).headers["Location"] == good.rstrip("?")
    add("redirect payloads tried", tried)


@pytest.mark.plugins("voting")
def test_voting_from_a_proposal_page_never_sends_the_browser_to_another_site(app, world, login):
    from core.services import proposals
    from plugins.voting.models import Ballot

    p = proposals.create(world.community, world.resident, {
        "title": "楼道加装声控灯", "body": "一单元楼道晚上太黑，建议加装声控灯。", "category": "facilities"})
    proposals.transition(p, "coordinating", world.staff, "附议足够")
    proposals.transition(p, "voting", world.staff, "议事会同意表决")
    ballot_id = Ballot.query.filter_by(proposal_id=p.id).one().id
    c = login(world.resident2)
    for payload in CORPUS:
        r = c.post(f"/c/test/voting/{ballot_id}/vote", data={"choice": "yes", "next": payload})
        _assert_same_site(r, payload)
    r = c.post(f"/c/test/voting/{ballot_id}/vote", data={"choice": "no", "next": f"/c/test/proposals/{p.id}"})
    assert r.headers["Location"] == f"/c/test/proposals/{p.id}"


@pytest.mark.plugins("meetings")
def test_updating_an_action_item_never_sends_the_browser_to_another_site(app, world, login, body):
    from plugins.meetings import services as svc
    from plugins.meetings.models import ActionItem
    from tests.plugins.meetings.conftest import quorate, schedule

    m = schedule(body, world.staff, days=3)
    agenda = svc.add_agenda_item(m, world.staff, {"title": "东门僵尸车清理"})
    quorate(m, world.staff)
    svc.record_resolution(agenda, world.staff, {"outcome": "decided", "text": "两周内清理", "actions": []})
    svc.close(m, world.staff)
    item_id = ActionItem.query.filter_by(meeting_id=m.id).one().id
    c = login(world.staff)
    for payload in CORPUS:
        r = c.post(f"/c/test/meetings/actions/{item_id}", data={"owner_name": "物业", "next": payload})
        _assert_same_site(r, payload)


@pytest.mark.plugins("points")
def test_a_refused_certificate_goes_back_only_to_a_page_of_this_site(app, world, login):
    c = login(world.staff)
    for referrer in ("http://evil.example/c/test/points/", "//evil.example/", "http://localhost.evil.example/x",
                     "javascript:alert(1)", "http://localhost/\t/evil.example", "http://localhost//evil.example"):
        r = c.post("/c/test/points/certificates", data={"resident": "nobody-here"}, headers={"Referer": referrer})
        _assert_same_site(r, referrer)
    r = c.post("/c/test/points/certificates", data={"resident": "nobody-here"},
               headers={"Referer": "http://localhost/c/test/points/volunteering?page=2"})
    assert r.headers["Location"] == "/c/test/points/volunteering?page=2"
