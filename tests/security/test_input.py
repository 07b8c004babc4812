"""Text and numbers people send (issue 16, items 6 and 11): one set of rules (core/inputs.py) for
web forms (core.forms.Form), query strings and form values (core.web), JSON bodies (core.api) and
the command line (core.cli). Control characters, lone surrogates, line breaks in single-line
fields, over-deep JSON and ids that are no numbers are refused with a translated message naming the
field, and nothing is saved; a 405 says which methods are allowed."""
import json

import pytest

from core.extensions import db
from core.models import Community, Proposal, ProposalComment, User
from tests.conftest import INSTALLED, PASSWORD
from tests.security.test_attacks import fingerprint

ZH = {"Accept-Language": "zh-CN"}
CONTROL = ["\x00", "\x07", "\x0b", "\x1b", "\x7f", "\x85", "\x9b"]  # C0, DEL, C1 (NEL, CSI)


def _proposals():
    db.session.expire_all()
    return [(p.title, p.body) for p in Proposal.query.order_by(Proposal.id)]


def test_every_form_of_the_core_and_the_modules_checks_its_text():
    """Every form class of core/ and plugins/ derives from core.forms.Form, whose validation holds
    its text fields to the rules: a new form cannot forget them."""
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import core
    import plugins
    from core.forms import Form

    for package in (core, plugins):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.rsplit(".", 1)[-1] in ("forms", "views"):
                importlib.import_module(info.name)
    found, stack = [], [FlaskForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith(("core.", "plugins.")) and cls is not Form:
            found.append(cls)
    assert len(found) > 40
    assert [f"{c.__module__}.{c.__name__}" for c in found if not issubclass(c, Form)] == []


def test_control_characters_in_web_forms_are_refused_translated_and_nothing_is_saved(app, world, login):
    before = User.query.count()
    for ch in CONTROL:  # anywhere, in any form: a 400 naming the field
        r = app.test_client().post("/c/test/register", headers=ZH, data={
            "display_name": f"王小明{ch}", "login": "wangxm", "password": PASSWORD, "confirm": PASSWORD})
        text = r.get_data(as_text=True)
        assert r.status_code == 400, (repr(ch), r.status_code)
        assert "“display_name”含有看不见的控制字符" in text, repr(ch)
    for ch in ("\t", "\n", "\r\n"):  # a name is one line: the form says so under the field
        r = app.test_client().post("/c/test/register", headers=ZH, data={
            "display_name": f"王{ch}小明", "login": "wangxm", "password": PASSWORD, "confirm": PASSWORD})
        assert r.status_code == 200 and "“您的姓名”只能填写一行" in r.get_data(as_text=True), repr(ch)
    r = app.test_client().post("/c/test/register", headers={"Accept-Language": "en"}, data={
        "display_name": "王\t小明", "login": "wangxm", "password": PASSWORD, "confirm": PASSWORD})
    assert "“Your name” takes a single line" in r.get_data(as_text=True)
    assert User.query.count() == before

    resident = login(world.resident)
    for title in ("楼道灯\n坏了", "楼道灯\t坏了", "楼道灯\x1b坏了"):
        r = resident.post("/c/test/proposals/new", data={"title": title, "body": "一单元楼道灯坏了一个月。",
                                                          "category": "facilities", "scope": "community"})
        assert r.status_code in (200, 400) and "楼道灯" not in str(_proposals()), repr(title)
    assert _proposals() == []


def test_line_breaks_are_kept_in_multi_line_fields(app, world, login):
    """A proposal's body and a comment are prose: their line breaks (CRLF from the browser) are kept,
    as LF."""
    resident = login(world.resident)
    r = resident.post("/c/test/proposals/new", data={
        "title": "楼道灯坏了", "body": "一单元楼道灯坏了。\r\n\r\n- 三楼\r\n- 五楼\twest", "category": "facilities",
        "scope": "community"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert _proposals() == [("楼道灯坏了", "一单元楼道灯坏了。\n\n- 三楼\n- 五楼\twest")]
    pid = Proposal.query.one().id
    assert resident.post(f"/c/test/proposals/{pid}/comment", data={"body": "同意。\r\n晚上很黑。"}).status_code == 302
    assert [c.body for c in ProposalComment.query] == ["同意。\n晚上很黑。"]
    r = resident.post(f"/c/test/proposals/{pid}/comment", data={"body": "同意\x1b[31m。"})
    assert r.status_code == 400 and [c.body for c in ProposalComment.query] == ["同意。\n晚上很黑。"]


def _send(client, url, body):
    """POST ``body`` (JSON text, or bytes) as it is, with ``client``'s token."""
    return client.client.post(url, data=body, headers={"Authorization": f"Bearer {client.token}",
                                                       "Content-Type": "application/json", **ZH})


def test_api_bodies_with_control_characters_or_lone_surrogates_are_refused(app, world, api):
    client = api(world.resident)
    url = "/api/v1/c/test/proposals"
    good = {"body": "一单元楼道灯坏了一个月。", "category": "facilities"}
    for title in [f"楼道灯{ch}坏了" for ch in CONTROL + ["\ud800", "\udfff", "\t", "\n"]]:
        r = _send(client, url, json.dumps({"title": title, **good}))  # a surrogate as the escape \ud800
        err = r.get_json()["error"]
        assert r.status_code == 400 and err["code"] == "invalid_text", (repr(title), r.status_code, err)
        assert list(err["fields"]) == ["title"] and "“title”" in err["message"]
        assert "含有看不见的控制字符" in err["message"] or "只能填写一行" in err["message"]
    # in a key, in a list, deeper down, in a field no route reads, as the UTF-8 bytes of a surrogate
    for raw in ['{"ti\\ud800tle": "x"}', '{"title": "t", "tags": ["a", "b\\u0000"]}', '{"x": {"y": "\\u009b"}}',
                b'{"title": "\xed\xa0\x80' + "楼道灯坏了".encode() + b'"}']:
        r = _send(client, url, raw)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_text", raw
    assert _proposals() == []
    # prose keeps its line breaks, normalised to LF; a comment too
    r = client.post(url, json={**good, "title": "楼道灯坏了", "body": "一单元楼道灯坏了。\r\n- 三楼\r- 五楼\t西"})
    assert r.status_code == 201 and r.get_json()["body"] == "一单元楼道灯坏了。\n- 三楼\n- 五楼\t西"
    pid = r.get_json()["id"]
    assert client.post(f"{url}/{pid}/comments", json={"body": "同意。\r\n晚上很黑。"}).status_code == 201
    r = client.post(f"{url}/{pid}/comments", json={"body": "同意\x07"})
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"body": r.get_json()["error"]["message"]}
    assert [c.body for c in ProposalComment.query] == ["同意。\n晚上很黑。"]


def test_deeply_nested_json_is_refused_without_exhausting_the_stack(app, world, api):
    client = api(world.resident)
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"}
    before = fingerprint()
    for depth in (21, 50, 1000, 100_000):
        for body in ("[" * depth + "]" * depth, '{"title": ' + "[" * depth + "]" * depth + "}",
                     '{"a":' * depth + "1" + "}" * depth):
            r = client.client.post("/api/v1/c/test/proposals", data=body, headers=headers)
            assert r.status_code == 400, (depth, body[:40], r.status_code)
            assert r.get_json()["error"]["code"] in ("too_deep", "invalid_json"), (depth, body[:40])
            if body.startswith("{"):
                assert r.get_json()["error"]["code"] == "too_deep", (depth, body[:40])
        # a route that reads no body refuses a malformed one too, before doing anything
        r = client.client.post("/api/v1/c/test/proposals/1/second", data="[" * depth, headers=headers)
        assert r.status_code == 400 and r.get_json()["error"]["code"] in ("invalid_json", "too_deep")
    assert fingerprint() == before
    nested = {"title": "楼道灯坏了", "body": "一单元楼道灯坏了一个月。", "category": "facilities", "x": [[[[1]]]]}
    assert client.post("/api/v1/c/test/proposals", json=nested).status_code == 201  # a few levels are fine


def test_query_strings_with_control_characters_are_refused(app, world, login, api):
    page, client = login(world.staff), api(world.staff)
    for query in ("q=a%0Ab", "q=%00", "q=a%1Bb", "q=%C2%85", "next=%2F%0D%0ASet-Cookie:x=1", "status=%09verified"):
        r = page.get("/c/test/members?" + query, headers=ZH)
        assert r.status_code == 400 and "含有看不见的控制字符" in r.get_data(as_text=True) or (
            r.status_code == 400 and "只能填写一行" in r.get_data(as_text=True)), (query, r.status_code)
        r = client.get("/api/v1/c/test/members?" + query)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_text", query


def test_a_405_says_which_methods_are_allowed(app, world, login, api):
    for client, url in ((app.test_client(), "/auth/login"), (login(world.staff), "/c/test/members"),
                        (api(world.staff), "/api/v1/c/test/members"), (api(world.staff), "/api/v1/me")):
        r = client.put(url) if hasattr(client, "token") else client.put(url)
        assert r.status_code == 405, url
        assert "GET" in {m.strip() for m in r.headers.get("Allow", "").split(",")}, (url, dict(r.headers))
    r = api(world.staff).delete("/api/v1/c/test/proposals")
    assert r.status_code == 405 and {"GET", "POST"} <= {m.strip() for m in r.headers["Allow"].split(",")}
    assert r.get_json()["error"]["code"] == "method_not_allowed"


@pytest.mark.plugins(*INSTALLED)
def test_ids_and_pages_that_are_no_whole_numbers_are_refused(app, world, login, api):
    from datetime import date

    from plugins.mediation import services as mediation
    from plugins.mediation.models import MediationHoliday

    staff_api = api(world.staff)
    for value in ("abc", "1.5", "1e3", "0x10", "true", "99999999999999999999", "-1"):
        r = staff_api.get("/api/v1/c/test/households", query_string={"building_id": value})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter", value
        assert "building_id" in r.get_json()["error"]["fields"], value
    assert staff_api.get("/api/v1/c/test/households", query_string={"building_id": world.building.id}).get_json()[
        "total"] == 4
    # a whole number that names no building of this community is refused the same way (never
    # an empty list that reads as "no households there")
    r = staff_api.get("/api/v1/c/test/households", query_string={"building_id": world.building.id + 1})
    assert r.status_code == 400 and "building_id" in r.get_json()["error"]["fields"]
    for value in ("abc", "0", "-2", "1.0"):
        r = staff_api.get("/api/v1/c/test/households", query_string={"page": value})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_page", value
        r = login(world.staff).get("/c/test/members", query_string={"page": value}, headers=ZH)
        assert r.status_code == 400 and "“page”" in r.get_data(as_text=True), value
    before = fingerprint()
    r = staff_api.post("/api/v1/c/test/units", json={"name": "2单元", "building_id": "一号楼"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter"
    r = staff_api.post("/api/v1/c/test/points/adjustments", json={"user_id": "x1", "amount": 5, "reason": "活动补记"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter"
    assert fingerprint() == before

    mediation.add_holidays(world.community, world.mediator, date(2026, 10, 1), None, "国庆节")
    staff = login(world.mediator)
    for value in ("abc", "1 OR 1=1", "1.0"):
        r = staff.post("/c/test/mediation/holidays", data={"remove": value}, headers=ZH)
        assert r.status_code in (200, 400) and "“remove”须为整数" in r.get_data(as_text=True), value
    assert MediationHoliday.query.count() == 1


def test_the_command_line_refuses_control_characters(app, runner):
    for name in ("新苑\x07社区", "新苑\n社区", "新苑\udc80社区"):
        result = runner.invoke(args=["community", "create", "xinyuan", name])
        assert result.exit_code != 0 and "name" in result.output, (repr(name), result.output)
    assert Community.query.filter_by(slug="xinyuan").count() == 0
    assert runner.invoke(args=["community", "create", "xinyuan", "新苑社区"]).exit_code == 0


def test_spreadsheet_cells_with_control_characters_are_row_errors(app, world):
    """An imported sheet is text input too: a name with a control character or a line break (Alt+Enter
    in Excel) is an error of its row, named by its column; the good rows stay importable."""
    import csv
    import io

    from core.models import HouseholdMember
    from core.services import imports
    from tests.core.test_imports import GOOD, HEAD

    bad = [["第二网格", "5号楼", "1单元", "102", "70", "登记", "", name, "", "居民", ""]
           for name in ("孙\x07四", "孙\x1b[2J四", "孙\u0085四", "孙\n四")]
    out = io.StringIO()
    csv.writer(out).writerows([HEAD] + GOOD + bad)
    batch, rows = imports.preview(world.community, world.staff, "住户.csv", out.getvalue().encode())
    errors = [r["errors"] for r in rows if r["errors"]]
    assert len(errors) == 4 and batch.error_count == 4, rows
    assert all(len(e) == 1 and "“姓名”" in str(e[0]) for e in errors), errors
    counts = imports.apply(world.community, world.staff, batch.token, accept_partial=True)
    assert counts and not HouseholdMember.query.filter(HouseholdMember.name.like("孙%")).count()
