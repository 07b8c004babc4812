"""The picker and the register's filters (issue 20, pickers and lists): long lists of rooms and
buildings in natural order, a search box that narrows them without JavaScript (a GET form of its
own), and typed filters by grid and building (a wrong value is left out with a note, 400 in the API)."""
import re
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import Building, Grid, Household, Membership, Unit


@pytest.fixture
def street(world):
    """Besides the world's 1号楼 1单元 101–104: 2号楼 and 10号楼 in a second grid, units 2 and 10,
    rooms 201 and 1001."""
    grid2 = Grid(community_id=world.community.id, name="第二网格")
    db.session.add(grid2)
    db.session.flush()
    made = {}
    for name in ("10号楼", "2号楼"):
        b = Building(community_id=world.community.id, grid_id=grid2.id, name=name)
        db.session.add(b)
        db.session.flush()
        for unit_name in ("10单元", "2单元"):
            u = Unit(building_id=b.id, name=unit_name)
            db.session.add(u)
            db.session.flush()
            for room in ("1001", "201"):
                h = Household(community_id=world.community.id, unit_id=u.id, room=room, floor_area=Decimal("80.00"))
                db.session.add(h)
                made[f"{name} {unit_name} {room}"] = h
        made[name] = b
    db.session.commit()
    made["grid2"] = grid2
    return made


@pytest.fixture
def staff(world, login):
    """The staff member's client, in English (the messages the tests read)."""
    client = login(world.staff)
    client.post("/language", data={"locale": "en", "next": "/"})
    return client


def options(html, select_id):
    block = re.search(rf'<select[^>]*id="{re.escape(select_id)}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [(re.search(r'value="([^"]*)"', attrs).group(1), label.strip(), " selected" in attrs)
            for attrs, label in re.findall(r'<option([^>]*)>([^<]*)</option>', block)]


def labels(html, select_id):
    return [label for v, label, _sel in options(html, select_id) if v not in ("", "0")]


def test_verify_household_picker_lists_rooms_in_natural_order(world, street, staff):
    m = Membership.query.filter_by(user_id=world.newbie.id).one()
    html = staff.get(f"/c/test/members/{m.id}").get_data(as_text=True)
    rooms = labels(html, "v-household_id")
    assert rooms == ["1号楼 1单元 101", "1号楼 1单元 102", "1号楼 1单元 103", "1号楼 1单元 104",
                     "2号楼 2单元 201", "2号楼 2单元 1001", "2号楼 10单元 201", "2号楼 10单元 1001",
                     "10号楼 2单元 201", "10号楼 2单元 1001", "10号楼 10单元 201", "10号楼 10单元 1001"]
    assert labels(html, "r-building_id") == ["1号楼", "2号楼", "10号楼"]
    assert labels(html, "r-grid_id") == ["第一网格", "第二网格"]


def test_the_picker_filters_without_javascript(world, street, staff):
    """The search box sends a GET form of its own, outside the POST form; the page answers with the
    list narrowed, the one match chosen, and the verification then goes through as usual."""
    m = Membership.query.filter_by(user_id=world.newbie.id).one()
    html = staff.get(f"/c/test/members/{m.id}").get_data(as_text=True)
    search = re.search(r'<input type="search"[^>]*name="v-household_id_q"[^>]*>', html).group(0)
    assert 'form="v-household_id-find"' in search
    form = re.search(r'<form id="v-household_id-find" method="get" action="([^"]*)"', html)
    assert form and form.group(1) == f"/c/test/members/{m.id}"
    post_form = re.search(r'<form method="post"[^>]*>.*?</form>', html, re.S).group(0)
    assert 'id="v-household_id-find"' not in post_form  # forms do not nest

    html = staff.get(f"/c/test/members/{m.id}", query_string={"v-household_id_q": "10号楼 １0单元"}).get_data(as_text=True)
    assert labels(html, "v-household_id") == ["10号楼 10单元 201", "10号楼 10单元 1001"]
    assert "2 of 12 match." in html and "Show the whole list" in html

    html = staff.get(f"/c/test/members/{m.id}", query_string={"v-household_id_q": "2号楼 10单元 1001"}).get_data(as_text=True)
    chosen = street["2号楼 10单元 1001"]
    assert [(v, sel) for v, _l, sel in options(html, "v-household_id")] == [("0", False), (str(chosen.id), True)]

    html = staff.get(f"/c/test/members/{m.id}", query_string={"v-household_id_q": "9号楼"}).get_data(as_text=True)
    assert labels(html, "v-household_id") == [] and "Nothing matches" in html

    # The POST after a search goes to the same address (with the query) and verifies the chosen room.
    r = staff.post(f"/c/test/members/{m.id}?v-household_id_q=1001", data={
        "form": "verify", "v-household_id": chosen.id, "v-relation": "tenant", "v-reason": "租房合同"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, m.id).household_id == chosen.id


def test_register_filters_by_grid_and_building(world, street, staff):
    html = staff.get("/c/test/structure/").get_data(as_text=True)
    chips = re.findall(r'/structure/buildings/\d+">([^ <]+)', html)
    assert chips == ["1号楼", "2号楼", "10号楼"]
    assert 'id="register-households"' not in html

    html = staff.get("/c/test/structure/", query_string={"grid_id": street["grid2"].id}).get_data(as_text=True)
    listed = re.findall(r'/structure/households/\d+">([^<]+)</a>', html)
    assert listed[0] == "2号楼 2单元 201" and listed[-1] == "10号楼 10单元 1001" and len(listed) == 8
    assert "1号楼 1单元 101" not in html

    html = staff.get("/c/test/structure/", query_string={"building_id": street["10号楼"].id}).get_data(as_text=True)
    assert re.findall(r'/structure/households/\d+">([^<]+)</a>', html) == [
        "10号楼 2单元 201", "10号楼 2单元 1001", "10号楼 10单元 201", "10号楼 10单元 1001"]


@pytest.mark.parametrize("args, note", [
    ({"grid_id": "二"}, "“grid_id” must be a whole number."),
    ({"building_id": "99999"}, "There is no building number 99999 here"),
    ({"building_id": "1.5"}, "“building_id” must be a whole number."),
])
def test_a_wrong_filter_is_left_out_with_a_note(world, street, staff, args, note):
    r = staff.get("/c/test/structure/", query_string=args)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and note in html
    assert re.findall(r'/structure/buildings/\d+">([^ <]+)', html) == ["1号楼", "2号楼", "10号楼"]


def test_a_building_outside_the_grid_wins_with_a_note(world, street, staff):
    html = staff.get("/c/test/structure/", query_string={
        "grid_id": world.grid.id, "building_id": street["2号楼"].id}).get_data(as_text=True)
    assert "2号楼 is not in 第一网格" in html
    assert re.findall(r'/structure/households/\d+">([^<]+)</a>', html)[0] == "2号楼 2单元 201"


def test_api_lists_in_natural_order_and_refuses_wrong_filters(world, street, api):
    client = api(world.staff)
    assert [b["name"] for b in client.get("/api/v1/c/test/buildings").get_json()["items"]] == ["1号楼", "2号楼", "10号楼"]
    body = client.get("/api/v1/c/test/households", query_string={"building_id": street["2号楼"].id, "per_page": 3}).get_json()
    assert body["total"] == 4 and [h["id"] for h in body["items"]] == [
        street[k].id for k in ("2号楼 2单元 201", "2号楼 2单元 1001", "2号楼 10单元 201")]
    assert client.get("/api/v1/c/test/households", query_string={"grid_id": street["grid2"].id}).get_json()["total"] == 8
    for args in ({"grid_id": "x"}, {"building_id": "99999"}, {"grid_id": world.grid.id, "building_id": street["2号楼"].id}):
        r = client.get("/api/v1/c/test/households", query_string=args)
        assert r.status_code == 400, args
        error = r.get_json()["error"]
        assert error["code"] == "invalid_parameter" and error["fields"]


def test_export_lists_the_register_in_natural_order(world, street, staff):
    import io

    import openpyxl

    data = staff.get("/c/test/structure/export.xlsx").data
    rows = list(openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))[1:]
    places = [" ".join(str(c) for c in r[1:4]) for r in rows]
    assert places == ["1号楼 1单元 101", "1号楼 1单元 102", "1号楼 1单元 103", "1号楼 1单元 104",
                      "2号楼 2单元 201", "2号楼 2单元 1001", "2号楼 10单元 201", "2号楼 10单元 1001",
                      "10号楼 2单元 201", "10号楼 2单元 1001", "10号楼 10单元 201", "10号楼 10单元 1001"]


@pytest.mark.plugins("mediation")
def test_mediation_case_form_lists_buildings_in_natural_order(world, street, staff):
    html = staff.get("/c/test/mediation/new").get_data(as_text=True)
    assert labels(html, "building_id") == ["1号楼", "2号楼", "10号楼"]


def test_proposal_form_finds_the_building_by_typing(world, street, login):
    resident = login(world.resident)
    html = resident.get("/c/test/proposals/new").get_data(as_text=True)
    assert labels(html, "building_id") == ["1号楼", "2号楼", "10号楼"]
    html = resident.get("/c/test/proposals/new", query_string={"building_id_q": "10"}).get_data(as_text=True)
    assert [(label, chosen) for _v, label, chosen in options(html, "building_id")][1:] == [("10号楼", True)]
