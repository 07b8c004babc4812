"""The electorate and the paper-ballot picker (issue 20, pickers and lists): the roll in natural
order (2号楼 before 10号楼), a voter found by typing without JavaScript, and the electorate filtered
by grid and building (a wrong value left out with a note on the page, 400 in the API)."""
import re
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import Building, Grid, Household, HouseholdMember, Person, Unit
from plugins.voting import services
from plugins.voting.models import Voter

pytestmark = pytest.mark.plugins("voting")


@pytest.fixture
def street(world):
    """A second grid with 10号楼 (entered first) and 2号楼, rooms 1001 and 101, one person each."""
    grid2 = Grid(community_id=world.community.id, name="第二网格")
    db.session.add(grid2)
    db.session.flush()
    made = {"grid2": grid2}
    for building_name, people in (("10号楼", ("欧阳娜娜", "司马光")), ("2号楼", ("诸葛亮", "上官婉儿"))):
        b = Building(community_id=world.community.id, grid_id=grid2.id, name=building_name)
        db.session.add(b)
        db.session.flush()
        u = Unit(building_id=b.id, name="1单元")
        db.session.add(u)
        db.session.flush()
        for room, name in zip(("1001", "101"), people):
            h = Household(community_id=world.community.id, unit_id=u.id, room=room, floor_area=Decimal("70.00"))
            person = Person(community_id=world.community.id)
            db.session.add_all([h, person])
            db.session.flush()
            db.session.add(HouseholdMember(household_id=h.id, name=name, relation="owner", person_id=person.id))
        made[building_name] = b
    db.session.commit()
    return made


@pytest.fixture
def ballot(world, street):
    return services.create(world.community, world.staff, {"title": "垃圾分类亭选址", "days": 7, "unit": "person"},
                           open_now=True)


def options(html, select_id):
    block = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [(re.search(r'value="([^"]*)"', attrs).group(1), label.strip(), " selected" in attrs)
            for attrs, label in re.findall(r"<option([^>]*)>([^<]*)</option>", block)]


def names_listed(html):
    return re.findall(r'<td data-label="[^"]*" class="name">([^<]*)</td>', html)


def test_the_roll_follows_buildings_units_and_rooms_in_natural_order(ballot):
    order = [v.units for v in Voter.query.filter_by(ballot_id=ballot.id).order_by(Voter.id)]
    assert order[-4:] == ["2号楼 1单元 101", "2号楼 1单元 1001", "10号楼 1单元 101", "10号楼 1单元 1001"]


def test_paper_ballot_picker_finds_a_voter_without_javascript(world, ballot, login):
    staff = login(world.staff)
    url = f"/c/test/voting/{ballot.id}/paper"
    html = staff.get(url).get_data(as_text=True)
    refs = [label.split(" · ")[0] for v, label, _s in options(html, "voter_id") if v != "0"]
    assert refs == [f"V{i}" for i in range(1, len(refs) + 1)] and len(refs) == 8
    assert re.search(r'<input type="search"[^>]*name="voter_id_q"[^>]*form="voter_id-find"', html)
    assert f'<form id="voter_id-find" method="get" action="{url}"' in html

    html = staff.get(url, query_string={"voter_id_q": "10号楼"}).get_data(as_text=True)
    assert [label.split(" · ")[1] for v, label, _s in options(html, "voter_id") if v != "0"] == ["司马光", "欧阳娜娜"]
    assert "2 of 8 match." in html

    html = staff.get(url, query_string={"voter_id_q": "诸葛"}).get_data(as_text=True)
    found = [(label, sel) for v, label, sel in options(html, "voter_id") if v != "0"]
    assert len(found) == 1 and "诸葛亮" in found[0][0] and found[0][1]  # the one match is chosen


def test_electorate_filters_by_grid_and_building(world, street, ballot, login):
    staff = login(world.staff)
    url = f"/c/test/voting/{ballot.id}/electorate"
    everyone = names_listed(staff.get(url).get_data(as_text=True))
    assert len(everyone) == 8 and everyone[-4:] == ["上官婉儿", "诸葛亮", "司马光", "欧阳娜娜"]
    assert names_listed(staff.get(url, query_string={"grid_id": street["grid2"].id}).get_data(as_text=True)) == \
        ["上官婉儿", "诸葛亮", "司马光", "欧阳娜娜"]
    html = staff.get(url, query_string={"building_id": street["10号楼"].id, "status": "not_voted"}).get_data(as_text=True)
    assert names_listed(html) == ["司马光", "欧阳娜娜"]
    # The status links keep the building; the filter form keeps the status.
    assert f'status=not_voted&amp;building_id={street["10号楼"].id}' in html or \
        f'building_id={street["10号楼"].id}&amp;status=not_voted' in html
    assert '<input type="hidden" name="status" value="not_voted">' in html


@pytest.mark.parametrize("args, note", [({"building_id": "十"}, "“building_id” must be a whole number."),
                                        ({"grid_id": "424242"}, "There is no grid number 424242 here")])
def test_a_wrong_electorate_filter_is_left_out_with_a_note(world, ballot, login, args, note):
    r = login(world.staff).get(f"/c/test/voting/{ballot.id}/electorate", query_string=args)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert note in html and len(names_listed(html)) == 8


def test_electorate_api_filters_and_refuses_wrong_values(world, street, ballot, api):
    client = api(world.staff)
    url = f"/api/v1/c/test/voting/ballots/{ballot.id}/electorate"
    body = client.get(url, query_string={"building_id": street["2号楼"].id}).get_json()
    assert body["total"] == 2 and [v["name"] for v in body["items"]] == ["上官婉儿", "诸葛亮"]
    assert client.get(url, query_string={"grid_id": street["grid2"].id, "per_page": 3}).get_json()["total"] == 4
    for args in ({"grid_id": "abc"}, {"building_id": 424242}, {"status": "maybe"}):
        r = client.get(url, query_string=args)
        assert r.status_code == 400, args
        assert r.get_json()["error"]["code"] == "invalid_parameter"


def test_new_ballot_form_lists_buildings_and_rooms_in_natural_order(world, street, login):
    html = login(world.staff).get("/c/test/voting/new").get_data(as_text=True)
    assert [label for _v, label, _s in options(html, "building_id")][1:] == ["1号楼", "2号楼", "10号楼"]
    block = re.search(r'<ul id="interested_households">(.*?)</ul>', html, re.S).group(1)  # tick boxes
    rooms = [label.strip() for label in re.findall(r"<label[^>]*>([^<]*)</label>", block)]
    assert rooms.index("2号楼 1单元 101") < rooms.index("2号楼 1单元 1001") < rooms.index("10号楼 1单元 101")
