"""Community structure pages: grids, buildings, units, households and the household register."""
import html
import re
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import AuditEntry, Building, Grid, Household, HouseholdMember, Proposal, Unit


@pytest.fixture
def as_user(login):
    """A logged-in client that asks for English pages."""

    def do(user):
        c = login(user)
        c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return c

    return do


def page(r):
    return html.unescape(r.get_data(as_text=True))


def counts():
    return (Grid.query.count(), Building.query.count(), Unit.query.count(), Household.query.count(),
            HouseholdMember.query.count())


def hh_form(unit_id, room="201", area="89.5", **extra):
    data = {"form": "household", "h-unit_id": str(unit_id), "h-room": room, "h-floor_area": area,
            "h-area_source": "register"}
    data.update(extra)
    return data


# --- viewing -----------------------------------------------------------------------------------

def test_staff_sees_grids_buildings_and_totals(world, as_user):
    r = as_user(world.staff).get("/c/test/structure/")
    assert r.status_code == 200
    text = page(r)
    assert "第一网格" in text and "1号楼" in text
    assert "374.75 m²" in text  # 89.50 + 120.00 + 65.25 + 100.00, exact
    assert "Add grid" in text  # staff manage


def test_building_page_lists_rooms_areas_and_people(world, as_user):
    h = world.households[0]
    db.session.add(HouseholdMember(household_id=h.id, name="张三", relation="owner", is_representative=True))
    db.session.commit()
    text = page(as_user(world.staff).get(f"/c/test/structure/buildings/{world.building.id}"))
    assert "1单元" in text and "101" in text and "89.50 m²" in text and "65.25 m²" in text
    assert "张三★" in text


@pytest.mark.parametrize("role", ["building_head", "grid_worker"])
def test_building_heads_and_grid_workers_view_but_cannot_change(world, as_user, role):
    c = as_user(getattr(world, role))
    h = world.households[0]
    assert c.get("/c/test/structure/").status_code == 200
    assert "Add grid" not in page(c.get("/c/test/structure/"))
    assert c.get(f"/c/test/structure/buildings/{world.building.id}").status_code == 200
    r = c.get(f"/c/test/structure/households/{h.id}")
    assert r.status_code == 200 and "89.50 m²" in page(r)
    assert "Household details" not in page(r)  # no edit form
    before = counts()
    assert c.post("/c/test/structure/add/grid", data={"name": "偷偷加的"}).status_code == 403
    assert c.post(f"/c/test/structure/households/{h.id}", data=hh_form(world.unit.id, "101", "1")).status_code == 403
    assert c.post(f"/c/test/structure/households/{h.id}",
                  data={"form": "member", "m-name": "某人", "m-relation": "owner"}).status_code == 403
    assert c.get("/c/test/structure/import").status_code == 403
    assert counts() == before
    db.session.expire_all()
    assert db.session.get(Household, h.id).floor_area == Decimal("89.50")


def test_residents_may_not_see_the_register(world, as_user):
    c = as_user(world.resident)
    for url in ("/c/test/structure/", f"/c/test/structure/buildings/{world.building.id}",
                f"/c/test/structure/households/{world.households[0].id}", "/c/test/structure/export.xlsx",
                "/c/test/structure/import"):
        assert c.get(url).status_code == 403, url
    before = counts()
    assert c.post("/c/test/structure/add/grid", data={"name": "X"}).status_code == 403
    assert counts() == before


def test_anonymous_is_sent_to_login(world, client):
    r = client.get("/c/test/structure/")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_other_communitys_staff_cannot_see_or_change_anything(world, as_user):
    c = as_user(world.outsider)  # staff and admin of "other"
    h = world.households[0]
    before = counts()
    for url in ("/c/test/structure/", f"/c/test/structure/buildings/{world.building.id}",
                f"/c/test/structure/households/{h.id}", "/c/test/structure/export.xlsx"):
        assert c.get(url).status_code in (403, 404), url
    for url, data in (("/c/test/structure/add/grid", {"name": "入侵"}),
                      (f"/c/test/structure/grid/{world.grid.id}/rename", {"name": "改名"}),
                      (f"/c/test/structure/grid/{world.grid.id}/rename", {"action": "delete"}),
                      (f"/c/test/structure/households/{h.id}", hh_form(world.unit.id, "101", "1.00"))):
        assert c.post(url, data=data).status_code in (403, 404), url
    assert counts() == before
    db.session.expire_all()
    assert db.session.get(Grid, world.grid.id).name == "第一网格"
    assert db.session.get(Household, h.id).floor_area == Decimal("89.50")


def test_objects_of_another_community_are_404_through_this_one(world, as_user):
    from core.services import structure

    og = structure.add_grid(world.other, "外网格", None)
    ob = structure.add_building(world.other, og, "外楼", None)
    ou = structure.add_unit(world.other, ob, "1单元", None)
    oh = structure.save_household(world.other, None, unit=ou, room="1", floor_area="50")
    c = as_user(world.staff)
    assert c.get(f"/c/test/structure/buildings/{ob.id}").status_code == 404
    assert c.get(f"/c/test/structure/households/{oh.id}").status_code == 404
    assert c.post(f"/c/test/structure/grid/{og.id}/rename", data={"name": "抢来的"}).status_code == 404
    assert c.post(f"/c/test/structure/households/{oh.id}", data=hh_form(world.unit.id, "9", "1")).status_code == 404
    # Nor can staff hang things of this community on the other's grid or unit.
    before = counts()
    r = c.post("/c/test/structure/add/building", data={"name": "新楼", "parent_id": str(og.id)}, follow_redirects=True)
    assert "Choose a grid of this community." in page(r)
    r = c.post("/c/test/structure/households/new", data=hh_form(ou.id, "2", "60"))
    assert r.status_code == 200 and "Choose a unit of this community." in page(r)
    assert counts() == before
    db.session.expire_all()
    assert db.session.get(Grid, og.id).name == "外网格"


# --- grids, buildings, units -------------------------------------------------------------------

def test_staff_add_grid_building_and_unit(world, as_user):
    c = as_user(world.staff)
    r = c.post("/c/test/structure/add/grid", data={"name": " 第二网格 "}, follow_redirects=True)
    assert "Saved." in page(r) and "第二网格" in page(r)
    grid = Grid.query.filter_by(community_id=world.community.id, name="第二网格").one()
    r = c.post("/c/test/structure/add/building", data={"name": "2号楼", "parent_id": str(grid.id)},
               follow_redirects=True)
    assert "2号楼" in page(r)
    building = Building.query.filter_by(name="2号楼").one()
    assert building.grid_id == grid.id
    r = c.post("/c/test/structure/add/unit", data={"name": "3单元", "parent_id": str(building.id)})
    assert r.headers["Location"].endswith(f"/c/test/structure/buildings/{building.id}")
    assert [u.name for u in Unit.query.filter_by(building_id=building.id)] == ["3单元"]
    actions = [a.action for a in AuditEntry.query.order_by(AuditEntry.id)]
    assert {"grid.created", "building.created", "unit.created"} <= set(actions)


@pytest.mark.parametrize("kind,name,message", [
    ("grid", "", "Enter a name of up to 80 characters."),
    ("grid", "   ", "Enter a name of up to 80 characters."),
    ("grid", "网" * 81, "Enter a name of up to 80 characters."),
    ("grid", "第一网格", "This name is already used here."),
    ("unit", "单" * 41, "Enter a name of up to 40 characters."),
    ("unit", "1单元", "This name is already used here."),
    ("building", "1号楼", "This name is already used here."),
])
def test_bad_names_are_refused_and_nothing_saved(world, as_user, kind, name, message):
    parent = {"grid": "", "building": str(world.grid.id), "unit": str(world.building.id)}[kind]
    before = counts()
    r = as_user(world.staff).post(f"/c/test/structure/add/{kind}", data={"name": name, "parent_id": parent},
                                  follow_redirects=True)
    assert r.status_code == 200
    assert message in page(r)
    assert "Saved." not in page(r)
    assert counts() == before


def test_building_needs_a_grid(world, as_user):
    before = counts()
    for parent in ("", "abc", "999999"):
        r = as_user(world.staff).post("/c/test/structure/add/building", data={"name": "无网格楼", "parent_id": parent},
                                      follow_redirects=True)
        assert r.status_code == (400 if parent == "abc" else 200)  # an id that is no number is refused
        assert "Saved." not in page(r)
    assert counts() == before


def test_unknown_kind_is_404(world, as_user):
    assert as_user(world.staff).post("/c/test/structure/add/street", data={"name": "x"}).status_code == 404
    assert as_user(world.staff).post("/c/test/structure/street/1/rename", data={"name": "x"}).status_code == 404


def test_rename_and_refuse_an_empty_name(world, as_user):
    c = as_user(world.staff)
    r = c.post(f"/c/test/structure/grid/{world.grid.id}/rename", data={"name": "东区网格"}, follow_redirects=True)
    assert "Saved." in page(r) and "东区网格" in page(r)
    r = c.post(f"/c/test/structure/grid/{world.grid.id}/rename", data={"name": ""}, follow_redirects=True)
    assert "Saved." not in page(r) and "Enter a name" in page(r)
    r = c.post(f"/c/test/structure/building/{world.building.id}/rename", data={"name": "一号楼"},
               follow_redirects=True)
    assert "一号楼" in page(r)
    db.session.expire_all()
    assert db.session.get(Grid, world.grid.id).name == "东区网格"
    assert db.session.get(Building, world.building.id).name == "一号楼"
    entry = AuditEntry.query.filter_by(action="grid.renamed").one()
    assert entry.before == {"name": "第一网格"} and entry.after == {"name": "东区网格"}


def test_rename_to_a_taken_name_is_refused(world, as_user):
    c = as_user(world.staff)
    c.post("/c/test/structure/add/grid", data={"name": "第二网格"})
    r = c.post(f"/c/test/structure/grid/{world.grid.id}/rename", data={"name": "第二网格"}, follow_redirects=True)
    assert "This name is already used here." in page(r)
    db.session.expire_all()
    assert db.session.get(Grid, world.grid.id).name == "第一网格"


def test_delete_only_empty_things(world, as_user):
    c = as_user(world.staff)
    before = counts()
    r = c.post(f"/c/test/structure/grid/{world.grid.id}/rename", data={"action": "delete", "confirm": "1"},
               follow_redirects=True)
    assert "Only empty grids, buildings and units can be deleted." in page(r)
    r = c.post(f"/c/test/structure/unit/{world.unit.id}/rename", data={"action": "delete", "confirm": "1"},
               follow_redirects=True)
    assert "Only empty grids, buildings and units can be deleted." in page(r)
    assert counts() == before
    c.post("/c/test/structure/add/grid", data={"name": "空网格"})
    empty = Grid.query.filter_by(name="空网格").one()
    # deleting asks first and deletes nothing until the page's own button is pressed
    r = c.post(f"/c/test/structure/grid/{empty.id}/rename", data={"action": "delete"})
    assert r.status_code == 200 and "Delete 空网格?" in page(r) and 'name="action" value="delete"' in page(r)
    assert Grid.query.filter_by(name="空网格").first() is not None
    r = c.post(f"/c/test/structure/grid/{empty.id}/rename", data={"action": "delete", "confirm": "1"},
               follow_redirects=True)
    assert r.status_code == 200 and "Deleted." in page(r)
    assert Grid.query.filter_by(name="空网格").first() is None
    assert AuditEntry.query.filter_by(action="grid.deleted").count() == 1


def test_a_building_that_is_a_proposals_scope_is_not_deleted(world, as_user):
    c = as_user(world.staff)
    c.post("/c/test/structure/add/building", data={"name": "9号楼", "parent_id": str(world.grid.id)})
    b = Building.query.filter_by(name="9号楼").one()
    db.session.add(Proposal(community_id=world.community.id, title="9号楼加装电梯", body="…", category="other",
                            scope="building", building_id=b.id, state="open", author_name="居民甲"))
    db.session.commit()
    r = c.post(f"/c/test/structure/building/{b.id}/rename", data={"action": "delete", "confirm": "1"},
               follow_redirects=True)
    assert r.status_code == 200
    assert "cannot be deleted" in page(r)
    db.session.expire_all()
    assert db.session.get(Building, b.id) is not None


# --- households --------------------------------------------------------------------------------

def test_staff_create_a_household_with_an_exact_area(world, as_user):
    c = as_user(world.staff)
    r = c.post("/c/test/structure/households/new",
               data=hh_form(world.unit.id, "201", "89.5", **{"h-area_source": "survey", "h-developer_held": "y"}))
    assert r.status_code == 302
    h = Household.query.filter_by(unit_id=world.unit.id, room="201").one()
    assert h.floor_area == Decimal("89.50") and isinstance(h.floor_area, Decimal)
    assert h.area_source == "survey" and h.developer_held is True
    text = page(c.get(r.headers["Location"]))
    assert "1号楼 1单元 201" in text and "89.50 m²" in text
    # Building heads see the same facts, read-only.
    text = page(as_user(world.building_head).get(r.headers["Location"]))
    assert "89.50 m²" in text and re.search(r"<dt>Area from</dt><dd>Survey</dd>", text)
    assert "Unsold or not yet handed over by the developer" in text


@pytest.mark.parametrize("area,stored", [
    ("89.5", "89.50"), ("1,234.56", "1234.56"), ("0.01", "0.01"), ("100", "100.00"), ("65.25㎡", "65.25"),
    ("99999.99", "99999.99"),
])
def test_areas_are_stored_exactly(world, as_user, area, stored):
    as_user(world.staff).post("/c/test/structure/households/new", data=hh_form(world.unit.id, "301", area))
    db.session.expire_all()
    assert Household.query.filter_by(room="301").one().floor_area == Decimal(stored)


@pytest.mark.parametrize("area,message", [
    ("89.555", "at most two decimals"),
    ("-3", "from 0 to 100,000"),
    ("abc", "Enter the floor area in m², e.g. 89.5."),
    ("", "This field is required."),
    ("89,5", "Enter the floor area in m², e.g. 89.5."),
    ("1e3", "Enter the floor area in m², e.g. 89.5."),
    ("NaN", "Enter the floor area in m², e.g. 89.5."),
    ("100000.01", "from 0 to 100,000"),
])
def test_bad_areas_are_refused_on_the_form(world, as_user, area, message):
    before = counts()
    r = as_user(world.staff).post("/c/test/structure/households/new", data=hh_form(world.unit.id, "201", area))
    assert r.status_code == 200
    assert message in page(r)
    assert counts() == before


def test_a_room_exists_only_once_per_unit(world, as_user):
    before = counts()
    r = as_user(world.staff).post("/c/test/structure/households/new", data=hh_form(world.unit.id, "101", "50"))
    assert r.status_code == 200 and "This unit already has that room." in page(r)
    assert counts() == before


def test_household_needs_a_unit_and_a_room(world, as_user):
    c = as_user(world.staff)
    before = counts()
    r = c.post("/c/test/structure/households/new", data=hh_form(0, "201", "50"))
    assert r.status_code == 200 and "Choose a unit of this community." in page(r)
    r = c.post("/c/test/structure/households/new", data=hh_form(world.unit.id, "", "50"))
    assert r.status_code == 200 and "This field is required." in page(r)
    r = c.post("/c/test/structure/households/new", data=hh_form("abc", "201", "50"))
    assert r.status_code == 200
    assert counts() == before


def test_edit_a_household(world, as_user):
    h = world.households[0]
    r = as_user(world.staff).post(f"/c/test/structure/households/{h.id}",
                                  data=hh_form(world.unit.id, "101", "90.05", **{"h-area_source": "contract"}))
    assert r.status_code == 302
    db.session.expire_all()
    h = db.session.get(Household, h.id)
    assert h.floor_area == Decimal("90.05") and h.area_source == "contract" and h.developer_held is False
    entry = AuditEntry.query.filter_by(action="household.updated").one()
    assert entry.before["floor_area"] == "89.50" and entry.after["floor_area"] == "90.05"


def test_a_bad_edit_changes_nothing(world, as_user):
    h = world.households[0]
    c = as_user(world.staff)
    r = c.post(f"/c/test/structure/households/{h.id}", data=hh_form(world.unit.id, "102", "70"))  # 102 exists
    assert r.status_code == 200 and "This unit already has that room." in page(r)
    r = c.post(f"/c/test/structure/households/{h.id}", data=hh_form(world.unit.id, "101", "70.123"))
    assert r.status_code == 200 and "at most two decimals" in page(r)
    db.session.expire_all()
    h = db.session.get(Household, h.id)
    assert (h.room, h.floor_area) == ("101", Decimal("89.50"))
    assert AuditEntry.query.filter_by(action="household.updated").count() == 0


def test_new_household_page_with_a_bad_unit_parameter(world, as_user):
    c = as_user(world.staff)
    r = c.get("/c/test/structure/households/new?unit=abc")
    assert r.status_code == 400 and "“unit” must be a whole number." in r.get_data(as_text=True)
    assert c.get(f"/c/test/structure/households/new?unit={world.unit.id}").status_code == 200
    assert c.get("/c/test/structure/households/999999").status_code == 404


# --- the household register --------------------------------------------------------------------

def member_form(name, relation="owner", phone="", rep=False):
    data = {"form": "member", "m-name": name, "m-relation": relation, "m-phone": phone}
    if rep:
        data["m-is_representative"] = "y"
    return data


def test_register_owners_residents_tenants_and_the_representative(world, as_user):
    h = world.households[1]
    HouseholdMember.query.filter_by(household_id=h.id).delete()  # resident2, linked by the fixture
    db.session.commit()
    c = as_user(world.staff)
    url = f"/c/test/structure/households/{h.id}"
    assert c.post(url, data=member_form("王业主", "owner", "13800138000", rep=True)).status_code == 302
    assert c.post(url, data=member_form("王家属", "resident")).status_code == 302
    assert c.post(url, data=member_form("李租客", "tenant", "139-0000-0000")).status_code == 302
    text = page(c.get(url))
    assert "王业主" in text and "Owner" in text and "Tenant" in text and "13800138000" in text
    people = {m.name: m for m in HouseholdMember.query.filter_by(household_id=h.id)}
    assert people["王业主"].is_representative and people["王业主"].relation == "owner"
    assert people["李租客"].relation == "tenant" and people["李租客"].phone == "13900000000"  # stored as 11 digits
    # A new representative replaces the old one; there is never more than one.
    c.post(url, data={"form": "representative", "member_id": str(people["王家属"].id)})
    db.session.expire_all()
    reps = [m.name for m in HouseholdMember.query.filter_by(household_id=h.id, is_representative=True)]
    assert reps == ["王家属"]
    c.post(url, data=member_form("王新代表", "owner", rep=True))
    db.session.expire_all()
    reps = [m.name for m in HouseholdMember.query.filter_by(household_id=h.id, is_representative=True)]
    assert reps == ["王新代表"]
    # Remove someone.
    c.post(url, data={"form": "remove", "member_id": str(people["李租客"].id), "confirm": "1"})
    assert "李租客" not in page(c.get(url))
    assert HouseholdMember.query.filter_by(household_id=h.id).count() == 3


@pytest.mark.parametrize("data,message", [
    (member_form(""), "This field is required."),
    (member_form("张三", phone="abc123"), "“abc123” is not a mobile number: a mobile number has 11 digits, this one has 3."),
    (member_form("张三", phone="1390000000"), "“1390000000” is not a mobile number: a mobile number has 11 digits, this one has 10."),
    (member_form("张三", relation="landlord"), "Not a valid choice"),
])
def test_bad_register_entries_are_refused(world, as_user, data, message):
    h = world.households[1]
    before = counts()
    r = as_user(world.staff).post(f"/c/test/structure/households/{h.id}", data=data)
    assert r.status_code == 200 and message in page(r)
    assert counts() == before


def test_register_actions_on_another_households_member_are_404(world, as_user):
    other = HouseholdMember(household_id=world.households[1].id, name="别家的人", relation="owner")
    db.session.add(other)
    db.session.commit()
    c = as_user(world.staff)
    url = f"/c/test/structure/households/{world.households[0].id}"
    assert c.post(url, data={"form": "remove", "member_id": str(other.id)}).status_code == 404
    r = c.post(url, data={"form": "remove", "member_id": "abc"})
    assert "“member_id” must be a whole number." in r.get_data(as_text=True)
    assert db.session.get(HouseholdMember, other.id) is not None


def test_removing_a_linked_person_unverifies_their_membership(world, as_user):
    from core.models import Membership

    m = HouseholdMember.query.filter_by(user_id=world.resident.id).one()
    staff = as_user(world.staff)
    r = staff.post(f"/c/test/structure/households/{m.household_id}", data={"form": "remove", "member_id": str(m.id)})
    # asked first: whose entry goes and that the account is no longer verified for the household
    assert r.status_code == 200 and "居民甲" in page(r) and "no longer verified" in page(r)
    assert db.session.get(HouseholdMember, m.id) is not None
    r = staff.post(f"/c/test/structure/households/{m.household_id}",
                   data={"form": "remove", "member_id": str(m.id), "confirm": "1"})
    assert r.status_code == 302
    ms = Membership.query.filter_by(user_id=world.resident.id, community_id=world.community.id).one()
    assert ms.household_id is None and ms.verified_at is None
