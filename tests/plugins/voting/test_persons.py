"""One person, one head (R5; SPC Interpretation Art. 8–9): the roll counts people as the register
holds them, never by name, whichever entry an account was verified through and whichever
co-owner is marked representative; proxies count people; an owners' ballot warns of possible
duplicates before it opens. Through the services, the pages, the API and `linli ballots recount`."""
import html
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.plugins.voting.conftest import refused

from core.extensions import db
from core.models import AuditEntry, Household, HouseholdMember, Membership, Person, utcnow
from core.services import accounts, persons
from core.services import settings as settings_svc
from plugins.voting import counting, services
from plugins.voting.models import Ballot, Proxy, Voter
from tests.conftest import PASSWORD

pytestmark = pytest.mark.plugins("voting")

BALLOTS = "/api/v1/c/test/voting/ballots"
VERIFIED = 4  # the world's four verified owners, one flat each


def flat(world, room, area):
    h = Household(community_id=world.community.id, unit_id=world.unit.id, room=room, floor_area=Decimal(area))
    db.session.add(h)
    db.session.flush()
    return h


def owner(household, name, person=None, phone=None, representative=False):
    m = HouseholdMember(household_id=household.id, name=name, phone=phone, relation="owner",
                        is_representative=representative, person_id=person.id if person else None)
    db.session.add(m)
    db.session.flush()
    return m


def new_person(world):
    p = Person(community_id=world.community.id)
    db.session.add(p)
    db.session.flush()
    return p


def draft(world, **data):
    """An owners' ballot whose notice went up 16 days ago (R8), not yet open."""
    b = services.create(world.community, world.staff, {"title": "续聘物业服务企业", "unit": "owners",
                                                       "matter_class": "ordinary", "days": 7, **data})
    services.publish_notice(b, world.staff, at=utcnow() - timedelta(days=16))
    return b


def open_by_api(api, world, b, **body):
    r = api(world.staff).post(f"{BALLOTS}/{b.id}/open", json=body) if body else \
        api(world.staff).post(f"{BALLOTS}/{b.id}/open")
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    return db.session.get(Ballot, b.id)


def roll(b):
    return {v.name: v for v in Voter.query.filter_by(ballot_id=b.id)}


def close_and_recount(api, app, world, b, tmp_path):
    """Close, export from the command line and recount the file: the recount's result."""
    r = api(world.staff).post(f"{BALLOTS}/{b.id}/close", json={"reason": "测试"})
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    runner = app.test_cli_runner()
    path = tmp_path / f"ballot-{b.id}.json"
    r = runner.invoke(args=["ballots", "export", str(b.id), "-o", str(path)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["matches_published_result"] is True
    return out["result"], json.loads(path.read_text(encoding="utf-8"))


def verify(api, world, user, household):
    m = Membership.query.filter_by(user_id=user.id, community_id=world.community.id).one()
    r = api(world.staff).post(f"/api/v1/c/test/members/{m.id}/verify",
                              json={"household_id": household.id, "relation": "owner", "reason": "房产证"})
    assert r.status_code == 200, r.get_json()


def account(world, login, name):
    user = accounts.create_user(login, PASSWORD, name)
    db.session.add(Membership(user_id=user.id, community_id=world.community.id, roles="resident"))
    db.session.commit()
    return user


# ── counting.owner_heads: SPC Art. 9, pure ───────────────────────────────────────────────
def test_owner_heads_follow_spc_article_9():
    heads = counting.owner_heads([
        (1, 7000, False, [11]), (2, 5550, False, [11]),          # one buyer, two units: one head, areas summed
        (3, 8000, True, [12]), (4, 8000, True, []),               # developer units together: one head
        (5, 6025, False, []),                                     # nobody on the register: a head of its own
        (6, 9000, False, [13, 14]), (7, 1000, False, [14, 13]),   # the same co-owners: one buyer, one head
        (8, 5000, False, [13]),                                   # one of them alone: another buyer
        (9, 4000, False, [15]), (10, 4000, False, [16]),          # two people of one name: two heads
    ])
    assert [(h["key"], h["units"], h["area"]) for h in heads] == [
        ("owner:11", [1, 2], 12550), ("developer", [3, 4], 16000), ("unit:5", [5], 6025),
        ("owner:13+14", [6, 7], 10000), ("owner:13", [8], 5000), ("owner:15", [9], 4000), ("owner:16", [10], 4000)]
    many = counting.owner_heads([(1, 100, False, list(range(1000, 1100)))])
    assert len(many[0]["key"]) <= counting.MAX_KEY


# ── same-name people ─────────────────────────────────────────────────────────────────────
def test_two_owners_of_one_common_name_are_two_heads(world, api, app, login, tmp_path):
    a, b = flat(world, "501", "70.00"), flat(world, "502", "55.50")
    owner(a, "王伟")
    owner(b, "王伟")  # another 王伟, no phone either
    db.session.commit()
    ballot = draft(world)
    # They are listed as possible duplicates; staff find they are two people.
    r = api(world.staff).post(f"{BALLOTS}/{ballot.id}/open")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "possible_duplicates"
    ids = r.get_json()["error"]["details"]["duplicates"][0]["person_ids"]
    assert api(world.staff).post("/api/v1/c/test/persons/distinct", json={"person_ids": ids}).status_code == 200
    ballot = open_by_api(api, world, ballot)
    wang = [v for v in Voter.query.filter_by(ballot_id=ballot.id) if v.name == "王伟"]
    assert sorted(str(v.area) for v in wang) == ["55.50", "70.00"] and all(v.heads == 1 for v in wang)
    assert ballot.heads_total == VERIFIED + 2 and str(ballot.area_total) == "500.25"
    items = api(world.staff).get(f"{BALLOTS}/{ballot.id}/electorate").get_json()["items"]
    assert sorted(i["area"] for i in items if i["name"] == "王伟") == ["55.50", "70.00"]
    page = html.unescape(login(world.staff).get(f"/c/test/voting/{ballot.id}/electorate").get_data(as_text=True))
    assert page.count("王伟") == 2
    result, data = close_and_recount(api, app, world, ballot, tmp_path)
    assert result["turnout"]["heads_total"] == VERIFIED + 2 and len(data["roll"]) == VERIFIED + 2


# ── a multi-unit owner, their account verified through any one of their flats ─────────────
@pytest.mark.parametrize("through", [0, 1])
def test_an_owner_of_two_flats_is_one_head_whichever_flat_their_account_was_verified_through(
        world, api, app, login, tmp_path, through):
    flats = [flat(world, "501", "70.00"), flat(world, "502", "55.50")]
    first = owner(flats[0], "张三", phone="13911112222")
    second = owner(flats[1], "张三", phone="13911112222")
    db.session.commit()
    r = api(world.staff).post(f"/api/v1/c/test/persons/{first.person_id}/merge", json={"other_id": second.person_id})
    assert r.status_code == 200  # staff checked the property certificates: one owner
    zhang = account(world, "13911112222", "张三")
    verify(api, world, zhang, flats[through])
    ballot = open_by_api(api, world, draft(world))
    [head] = [v for v in Voter.query.filter_by(ballot_id=ballot.id) if v.name == "张三"]
    assert head.heads == 1 and str(head.area) == "125.50" and head.user_id == zhang.id
    assert ballot.heads_total == VERIFIED + 1
    # They vote online once, for both flats.
    assert api(zhang).post(f"{BALLOTS}/{ballot.id}/votes", json={"choice": "yes"}).status_code == 201
    page = html.unescape(login(world.staff).get(f"/c/test/voting/{ballot.id}/electorate").get_data(as_text=True))
    assert page.count("张三") == 1 and "125.50" in page
    result, _data = close_and_recount(api, app, world, ballot, tmp_path)
    assert result["turnout"]["heads"] == 1 and result["turnout"]["area"] == "125.50"
    assert result["turnout"]["heads_total"] == VERIFIED + 1


# ── co-owners, either one marked representative ───────────────────────────────────────────
@pytest.mark.parametrize("representative", ["刘", "陈"])
def test_co_owned_flats_count_by_their_owners_never_by_the_representative_flag(
        world, api, app, tmp_path, representative):
    a_flat, alone, b_flat = flat(world, "501", "90.00"), flat(world, "502", "60.00"), flat(world, "503", "10.00")
    liu, chen, phone = new_person(world), new_person(world), "13900000021"
    owner(a_flat, "刘", person=liu, phone=phone, representative=representative == "刘")
    owner(a_flat, "陈", person=chen, representative=representative == "陈")
    owner(alone, "刘", person=liu, phone=phone, representative=True)
    owner(b_flat, "陈", person=chen, representative=representative == "刘")  # the other one here
    owner(b_flat, "刘", person=liu, phone=phone, representative=representative == "陈")
    db.session.commit()
    liu_account = account(world, phone, "刘")  # signed up with the phone on the register
    verify(api, world, liu_account, alone)
    ballot = open_by_api(api, world, draft(world))
    heads = {tuple(sorted(v.units.split("、"))): v for v in Voter.query.filter_by(ballot_id=ballot.id)
             if v.key.startswith("owner:") and v.user_id not in (world.resident.id, world.resident2.id,
                                                                   world.building_head.id, world.grid_worker.id)}
    # 501 and 503 have the same two owners: one buyer, one head; 502, 刘's alone: another head.
    assert sorted(heads) == [("1号楼 1单元 501", "1号楼 1单元 503"), ("1号楼 1单元 502",)]
    both, own = heads[("1号楼 1单元 501", "1号楼 1单元 503")], heads[("1号楼 1单元 502",)]
    assert (str(both.area), str(own.area)) == ("100.00", "60.00") and both.heads == own.heads == 1
    assert ballot.heads_total == VERIFIED + 2
    assert [both.user_id, own.user_id].count(liu_account.id) == 1  # one account, one roll entry
    result, _data = close_and_recount(api, app, world, ballot, tmp_path)
    assert result["turnout"]["heads_total"] == VERIFIED + 2 and result["turnout"]["area_total"] == "534.75"


# ── household votes (户代表) by the representative's person ───────────────────────────────
def test_a_household_representative_votes_with_their_persons_account(world, api):
    a, b = flat(world, "501", "70.00"), flat(world, "502", "55.50")
    zhang = new_person(world)
    owner(a, "张三", person=zhang, phone="13911112222", representative=True)
    owner(b, "张三", person=zhang, phone="13911112222")
    owner(b, "李四", representative=True)
    db.session.commit()
    user = account(world, "13911112222", "张三")
    verify(api, world, user, b)  # verified through 502, where 李四 is the representative
    r = api(world.staff).post(BALLOTS, json={"title": "楼道堆物清理", "unit": "household", "days": 7,
                                             "open": True})
    assert r.status_code == 201, r.get_json()
    entries = {v.units: v for v in Voter.query.filter_by(ballot_id=r.get_json()["id"])}
    assert entries["1号楼 1单元 501"].user_id == user.id  # 张三 represents 501 with the account of their person
    assert entries["1号楼 1单元 502"].name == "李四" and entries["1号楼 1单元 502"].user_id is None


# ── proxies count people ─────────────────────────────────────────────────────────────────
def test_a_proxy_holder_is_one_person_by_account_or_by_name(world, estate, owners_ballot, api, login, app, tmp_path):
    settings_svc.set(world.community, "voting", "proxy_limit", 2, actor=world.admin)
    db.session.commit()
    b = owners_ballot()
    voters = roll(b)
    staff = api(world.staff)
    url = f"{BALLOTS}/{b.id}/proxies"
    r = staff.post(url, json={"voter_id": voters["楼长"].id, "proxy_user_id": world.resident.id, "witness": "李社工"})
    assert r.status_code == 201
    # The same person typed by name (spaces do not matter): the one 居民甲 on the register.
    r = staff.post(url, json={"voter_id": voters["网格员"].id, "proxy_name": "居民 甲", "witness": "李社工"})
    assert r.status_code == 201 and r.get_json()["proxy_user_id"] == world.resident.id
    assert r.get_json()["proxy_person_id"] == persons.of_user(world.community, world.resident.id).id
    # A third is refused whichever way they are recorded: the limit counts the person.
    for body in ({"proxy_user_id": world.resident.id}, {"proxy_name": "居民甲"}):
        r = staff.post(url, json={"voter_id": voters["赵老伯"].id, "witness": "李社工", **body})
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "proxy_limit", body
    c = login(world.grid_worker)
    r = c.post(f"/c/test/voting/{b.id}/proxies", data={"voter_id": voters["赵老伯"].id, "proxy_user_id": "0",
                                                       "proxy_name": "居民甲", "witness": "李社工"})
    assert "the most one person may hold" in html.unescape(r.get_data(as_text=True))
    # Nor is a voter their own proxy by name.
    r = staff.post(url, json={"voter_id": voters["居民乙"].id, "proxy_name": "居民乙", "witness": "李社工"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "own_proxy"
    assert Proxy.query.count() == 2
    # Both authorisations are one holder in the ballot file, and the recount agrees.
    _result, data = close_and_recount(api, app, world, b, tmp_path)
    assert [p["holder"] for p in data["proxies"]] == ["H1", "H1"]


def test_a_name_several_people_on_the_register_have_asks_which_one(world, estate, owners_ballot, api, login):
    a, b = flat(world, "501", "70.00"), flat(world, "502", "55.50")
    one, two = owner(a, "王伟"), owner(b, "王伟")
    db.session.commit()
    persons.mark_distinct(world.community, [one.person, two.person], world.staff)
    ballot = owners_ballot()
    zhao = roll(ballot)["赵老伯"]
    url = f"{BALLOTS}/{ballot.id}/proxies"
    r = api(world.staff).post(url, json={"voter_id": zhao.id, "proxy_name": "王伟", "witness": "李社工"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "proxy_ambiguous"
    assert sorted(c["person_id"] for c in r.get_json()["error"]["details"]["candidates"]) == \
        sorted([one.person_id, two.person_id])
    assert Proxy.query.count() == 0
    page = html.unescape(login(world.staff).post(f"/c/test/voting/{ballot.id}/proxies", data={
        "voter_id": zhao.id, "proxy_user_id": "0", "proxy_name": "王伟", "witness": "李社工"}).get_data(as_text=True))
    assert "Several people named 王伟" in page and "1号楼 1单元 502" in page  # choose among them
    r = login(world.staff).post(f"/c/test/voting/{ballot.id}/proxies", data={
        "voter_id": zhao.id, "proxy_user_id": "0", "proxy_name": "王伟", "proxy_person_id": str(two.person_id),
        "witness": "李社工"}, follow_redirects=True)
    assert "is recorded" in html.unescape(r.get_data(as_text=True))
    assert Proxy.query.one().holder_key == f"person:{two.person_id}"
    # Someone of that name who is not on the register is a holder of their own.
    gw = roll(ballot)["网格员"]
    r = api(world.staff).post(url, json={"voter_id": gw.id, "proxy_name": "王伟", "proxy_not_on_register": True,
                                         "witness": "李社工"})
    assert r.status_code == 201 and Proxy.query.filter_by(voter_id=gw.id).one().holder_key == "name:王伟"


# ── opening an owners' ballot with possible duplicates ────────────────────────────────────
def test_an_owners_ballot_with_possible_duplicates_opens_only_when_staff_confirm(world, api, login):
    a, b = flat(world, "501", "70.00"), flat(world, "502", "55.50")
    one, two = owner(a, "王伟"), owner(b, "王伟")
    db.session.commit()
    ballot = draft(world)
    with refused(Exception) as err:
        services.open_ballot(ballot, world.staff)
    assert err.value.code == "possible_duplicates" and "王伟" in str(err.value.message)
    db.session.rollback()
    assert db.session.get(Ballot, ballot.id).state == "draft"
    # The page says which names, links to the duplicates, and opens on confirmation.
    c = login(world.staff)
    page = html.unescape(c.post(f"/c/test/voting/{ballot.id}/open").get_data(as_text=True))
    assert "王伟" in page and "/c/test/structure/people/duplicates?next=" in page and "Open anyway" in page
    assert db.session.get(Ballot, ballot.id).state == "draft"
    r = c.post(f"/c/test/voting/{ballot.id}/open", data={"confirm_duplicates": "1"}, follow_redirects=True)
    assert "The ballot is open." in html.unescape(r.get_data(as_text=True))
    db.session.expire_all()
    opened = db.session.get(Ballot, ballot.id)
    assert opened.state == "open" and opened.heads_total == VERIFIED + 2
    assert AuditEntry.query.filter_by(action="voting.ballot_opened").one().after["possible_duplicates"] == 1
    # Resolved (one person after all): the next owners' ballot opens at once, with one head for them.
    persons.merge(world.community, one.person, two.person, world.staff)
    other = open_by_api(api, world, draft(world, title="更换门禁系统"))
    assert other.heads_total == VERIFIED + 1
    # Other ballots never ask: the register does not decide their heads the same way.
    assert api(world.staff).post(BALLOTS, json={"title": "活动选题", "unit": "person", "days": 7,
                                                "open": True}).status_code == 201


def test_duplicates_outside_the_ballots_scope_do_not_hold_it_up(world, api):
    from core.models import Building, Unit

    elsewhere = Building(community_id=world.community.id, grid_id=world.grid.id, name="9号楼")
    db.session.add(elsewhere)
    db.session.flush()
    unit = Unit(building_id=elsewhere.id, name="1单元")
    db.session.add(unit)
    db.session.flush()
    for room in ("101", "102"):
        h = Household(community_id=world.community.id, unit_id=unit.id, room=room, floor_area=Decimal("50"))
        db.session.add(h)
        db.session.flush()
        owner(h, "王伟")
    db.session.commit()
    ballot = draft(world, scope="building", building_id=world.building.id)
    assert open_by_api(api, world, ballot).state == "open"


def test_the_command_line_opens_over_possible_duplicates_only_when_told(world, runner):
    a, b = flat(world, "501", "70.00"), flat(world, "502", "55.50")
    owner(a, "王伟"), owner(b, "王伟")
    db.session.commit()
    ballot = draft(world)
    r = runner.invoke(args=["ballots", "open", str(ballot.id)], env={"LANG": "en_US.UTF-8"})
    assert r.exit_code != 0 and "王伟" in r.output
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).state == "draft"
    r = runner.invoke(args=["ballots", "open", str(ballot.id), "--confirm-duplicates"])
    assert r.exit_code == 0, r.output
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).state == "open"
