"""Convening a residents' meeting on request (R13, Organic Law Art. 10): thresholds on each base,
one support per person, assisted supports, withdrawal, the committee's deadline in local time,
notifications, the answer (ballot or reply), overdue requests — through services, pages, API, CLI."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tests.plugins.voting.conftest import refused

from core.errors import Conflict, Forbidden, ServiceError
from core.extensions import db
from core.models import (AuditEntry, Building, Grid, Household, HouseholdMember, Notification, Person, Unit)
from plugins.voting import convening
from plugins.voting.models import Ballot, ConveningRequest, ConveningSupport

pytestmark = pytest.mark.plugins("voting")

ADULT, CHILD = date(1970, 5, 1), date(2015, 5, 1)
REASON = "小区停车位严重不足，需要居民会议讨论地面划线方案。"


def person_of(user, world):
    return Person.query.filter_by(community_id=world.community.id, user_id=user.id).one()


def add_people(world, n, *, grid=None, born=ADULT, per_household=1):
    """``n`` households, each with ``per_household`` people without an account (born ``born``), in
    ``grid`` (a new building there) or in the world's unit. Returns the people."""
    if grid is None:
        unit = world.unit
    else:
        b = Building(community_id=world.community.id, grid_id=grid.id, name=f"{grid.name}楼")
        db.session.add(b)
        db.session.flush()
        unit = Unit(building_id=b.id, name="1单元")
        db.session.add(unit)
        db.session.flush()
    people = []
    first = Household.query.filter_by(unit_id=unit.id).count()
    for i in range(first, first + n):
        h = Household(community_id=world.community.id, unit_id=unit.id, room=f"{i + 501}",
                      floor_area=Decimal("80"))
        db.session.add(h)
        db.session.flush()
        for k in range(per_household):
            p = Person(community_id=world.community.id, birth_date=born)
            db.session.add(p)
            db.session.flush()
            db.session.add(HouseholdMember(household_id=h.id, name=f"邻居{unit.id}-{i}-{k}", relation="resident",
                                           person_id=p.id))
            people.append(p)
    db.session.commit()
    return people


def add_grids(world, n):
    """``n`` more grids (residents' groups), each with one household of one adult."""
    grids, people = [], []
    for i in range(n):
        g = Grid(community_id=world.community.id, name=f"第{i + 2}网格")
        db.session.add(g)
        db.session.flush()
        grids.append(g)
        people += add_people(world, 1, grid=g)
    return grids, people


def adults_in_world(world):
    for u in (world.resident, world.resident2, world.building_head, world.grid_worker):
        person_of(u, world).birth_date = ADULT
    db.session.commit()


def start(world, base, user=None):
    return convening.start(world.community, user or world.resident,
                           {"subject": "讨论增设停车位", "reason": REASON, "base": base})


def assist(req, world, person, actor=None):
    return convening.support(req, actor or world.staff, person_id=person.id, reason="老人不会用手机，楼长代为登记")


# ── arithmetic ───────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("base,total,under,exact_or_over", [
    ("adults", 10, 1, 2), ("adults", 11, 2, 3), ("adults", 9, 1, 2),
    ("households", 5, 0, 1), ("households", 20, 3, 4), ("households", 21, 4, 5),
    ("groups", 3, 0, 1), ("groups", 6, 1, 2), ("groups", 7, 2, 3)])
def test_needed_is_the_first_count_at_or_over_the_share(base, total, under, exact_or_over):
    assert convening.needed(base, total) == exact_or_over
    assert not convening.is_reached(base, under, total)
    assert convening.is_reached(base, exact_or_over, total)
    assert convening.is_reached(base, exact_or_over + 1, total)


# ── each base, through the service ───────────────────────────────────────────────────────
def test_adults_exactly_one_fifth_reaches_and_one_under_does_not(world):
    adults_in_world(world)
    people = add_people(world, 6)  # 4 + 6 = 10 adults: one fifth is 2
    add_people(world, 3, born=CHILD)  # minors are not in the base
    req = start(world, "adults")
    assert (req.base_total, req.progress, req.state) == (10, 1, "collecting")  # one under
    assist(req, world, people[0])
    assert (req.progress, req.state) == (2, "reached")  # 2/10 = 1/5 exactly
    assert req.due_at is not None


def test_adults_over_one_fifth_reaches(world):
    adults_in_world(world)
    people = add_people(world, 5)  # 9 adults: 2/9 is over one fifth, 1/9 under
    req = start(world, "adults")
    assert req.base_total == 9 and req.state == "collecting"
    assist(req, world, people[0])
    assert req.state == "reached" and req.progress == 2


def test_adults_base_needs_a_known_date_of_birth_and_refuses_a_minor(world):
    adults_in_world(world)
    people = add_people(world, 6)
    minor = add_people(world, 1, born=CHILD)[0]
    unknown = add_people(world, 1, born=None)[0]
    req = start(world, "adults")
    with refused(Conflict) as err:
        assist(req, world, minor)
    assert err.value.code == "not_adult"
    with refused(Conflict) as err:
        assist(req, world, unknown)
    assert err.value.code == "birth_date_unknown"
    assert req.progress == 1 and len(people) == 6


def test_a_request_may_reach_its_threshold_as_it_starts(world):
    person_of(world.resident, world).birth_date = ADULT
    db.session.commit()
    for p in Person.query.filter(Person.id != person_of(world.resident, world).id).all():
        p.birth_date = None
    db.session.commit()
    req = start(world, "adults")  # the resident is the one adult known: 1/1
    assert req.base_total == 1 and req.state == "reached"
    with refused(Conflict) as err:  # without a known date of birth, no request on this base
        start(world, "adults", user=world.resident2)
    assert err.value.code == "birth_date_unknown"


def test_households_exactly_one_fifth_reaches(world):
    people = add_people(world, 6, per_household=2)  # 10 households
    req = start(world, "households")
    assist(req, world, people[0])  # household A
    db.session.refresh(req)
    assert req.state == "reached" and req.progress == 2  # exactly 2/10


def test_households_one_under_then_exact(world):
    people = add_people(world, 11, per_household=2)  # 15 households: one fifth is 3
    req = start(world, "households")
    assist(req, world, people[0])
    assist(req, world, people[1])  # the same household: still 2 households, 3 people
    assert (req.progress, req.supporters, req.state) == (2, 3, "collecting")  # one under
    assist(req, world, people[2])
    assert (req.progress, req.state) == (3, "reached")  # 3/15 = 1/5 exactly


def test_households_over_one_fifth(world):
    people = add_people(world, 7)  # 11 households: 2/11 under, 3/11 over
    req = start(world, "households")
    assist(req, world, people[0])
    assert req.state == "collecting"
    assist(req, world, people[1])
    assert req.state == "reached" and req.progress == 3


def test_groups_exactly_one_third_one_under_one_over(world):
    _grids, people = add_grids(world, 5)  # 6 grids: one third is 2
    req = start(world, "groups")
    assert (req.base_total, req.progress, req.state) == (6, 1, "collecting")
    assist(req, world, person_of(world.resident2, world))  # the same grid as the resident
    assert (req.progress, req.supporters, req.state) == (1, 2, "collecting")  # one under
    assist(req, world, people[0])
    assert (req.progress, req.state) == (2, "reached")  # 2/6 = 1/3 exactly


def test_groups_over_one_third(world):
    _grids, people = add_grids(world, 4)  # 5 grids: 1/5 under, 2/5 over
    req = start(world, "groups")
    assert req.state == "collecting"
    assist(req, world, people[0])
    assert req.state == "reached" and req.progress == 2


def test_the_base_and_its_size_are_fixed_when_the_request_starts(world):
    people = add_people(world, 6)  # 10 households
    req = start(world, "households")
    add_people(world, 10)  # 20 households now: the request still counts 10
    assist(req, world, people[0])
    assert req.base_total == 10 and req.state == "reached"
    assert convening.summary(req)["base"] == "households"


# ── one support per person ───────────────────────────────────────────────────────────────
def test_one_support_per_person_and_withdrawal_before_the_threshold(world):
    add_people(world, 16)  # 20 households: 4 needed
    req = start(world, "households")
    with refused(Conflict) as err:
        convening.support(req, world.resident)
    assert err.value.code == "already_supported"
    # The building head records the resident's support for them: still the same person.
    with refused(Conflict):
        assist(req, world, person_of(world.resident, world), actor=world.building_head)
    convening.withdraw(req, world.resident)
    assert (req.progress, req.supporters) == (0, 0)
    convening.support(req, world.resident)  # supports again
    assert req.supporters == 1
    assert ConveningSupport.query.filter_by(request_id=req.id).count() == 2  # the withdrawn one is kept


def test_no_withdrawal_after_the_threshold(world):
    people = add_people(world, 6)
    req = start(world, "households")
    assist(req, world, people[0])
    assert req.state == "reached"
    with refused(Conflict) as err:
        convening.withdraw(req, world.resident)
    assert err.value.code == "not_collecting"
    with refused(Conflict):
        convening.support(req, world.resident2)


def test_unverified_and_outsiders_cannot_support(world):
    req = start(world, "households")
    for user in (world.newbie, world.outsider, world.staff):
        with refused(Forbidden):
            convening.support(req, user)
    with refused(Forbidden):
        start(world, "households", user=world.newbie)


def test_bad_input_is_refused_and_nothing_saved(world):
    for data in ({"subject": "", "reason": REASON, "base": "adults"},
                 {"subject": "停车", "reason": "短", "base": "households"},
                 {"subject": "停车", "reason": REASON, "base": "everyone"}):
        with refused(ServiceError) as err:
            convening.start(world.community, world.resident, data)
        assert err.value.fields
    assert ConveningRequest.query.count() == 0


# ── assisted support ─────────────────────────────────────────────────────────────────────
def test_building_head_records_support_for_a_person_without_an_account(world):
    people = add_people(world, 16)  # in the world's building: the building head looks after it
    req = start(world, "households")
    convening.support(req, world.building_head, person_id=people[0].id, reason="王奶奶不会用手机，当面同意")
    s = ConveningSupport.query.filter_by(request_id=req.id, person_id=people[0].id).one()
    assert s.user_id is None and s.acted_by_id == world.building_head.id and "王奶奶" in s.assist_reason
    entry = AuditEntry.query.filter_by(action="voting.convening_supported", actor_id=world.building_head.id).one()
    assert entry.on_behalf_of_name and entry.reason
    with refused(ServiceError) as err:  # a reason is required
        convening.support(req, world.building_head, person_id=people[1].id, reason="")
    assert err.value.code == "reason_required"
    with refused(Forbidden):  # residents do not act for others
        convening.support(req, world.resident2, person_id=people[1].id, reason="帮忙")


def test_building_head_cannot_act_outside_their_building(world):
    grids, people = add_grids(world, 1)
    req = start(world, "households")
    with refused(ServiceError) as err:
        convening.support(req, world.building_head, person_id=people[0].id, reason="帮忙登记")
    assert err.value.code == "out_of_reach"


# ── the deadline, notifications, the answer ──────────────────────────────────────────────
def test_reaching_tells_staff_with_a_deadline_in_the_community_calendar(world, monkeypatch):
    people = add_people(world, 6)
    req = start(world, "households")
    # 17:30 UTC on 7 December is 01:30 on 8 December in Beijing: day 0 is the 8th, 15 days later the 23rd.
    monkeypatch.setattr(convening, "utcnow", lambda: datetime(2026, 12, 7, 17, 30, tzinfo=timezone.utc))
    assist(req, world, people[0])
    assert req.due_at == datetime(2026, 12, 23, 16, 0, tzinfo=timezone.utc)  # 24:00 on the 23rd, Beijing
    assert convening.last_day(req) == date(2026, 12, 23)
    notes = Notification.query.filter_by(kind="voting.convening_reached").all()
    assert {n.user_id for n in notes} == {world.staff.id, world.admin.id}
    assert all(n.params["day"] == "2026-12-23" for n in notes)
    assert Notification.query.filter_by(kind="voting.convening_reached_starter", user_id=world.resident.id).count() == 1


def test_the_deadline_follows_the_setting_and_the_community_zone(world, monkeypatch):
    from core.services import settings

    settings.set(world.community, "voting", "convening_answer_days", 10, actor=world.admin)
    settings.set(world.community, "core", "timezone", "Asia/Urumqi", actor=world.admin)  # UTC+6
    db.session.commit()
    from core import dates

    dates.forget_zone(world.community)
    people = add_people(world, 6)
    req = start(world, "households")
    # 17:30 UTC is 23:30 on 7 December in Urumqi time: day 0 is the 7th, the last day the 17th.
    monkeypatch.setattr(convening, "utcnow", lambda: datetime(2026, 12, 7, 17, 30, tzinfo=timezone.utc))
    assist(req, world, people[0])
    assert convening.last_day(req) == date(2026, 12, 17)
    assert req.due_at == datetime(2026, 12, 17, 18, 0, tzinfo=timezone.utc)


def test_staff_answer_with_the_meetings_ballot_linked_to_the_request(world):
    people = add_people(world, 6)
    req = start(world, "households")
    with refused(Conflict):  # before the threshold there is nothing to answer
        convening.answer(req, world.staff, create_ballot=True)
    assist(req, world, people[0])
    with refused(Forbidden):
        convening.answer(req, world.resident, create_ballot=True)
    convening.answer(req, world.staff, create_ballot=True)
    req = db.session.get(ConveningRequest, req.id)
    ballot = db.session.get(Ballot, req.ballot_id)
    assert req.state == "convened" and ballot.state == "draft" and ballot.unit == "household"
    assert (ballot.rule, ballot.electorate_mode) == ("residents_meeting", "households")  # made up as counted
    assert ballot.title == req.subject and REASON in ballot.description
    assert Notification.query.filter_by(kind="voting.convening_convened", user_id=world.resident.id).count() == 1
    with refused(Conflict):  # answered once
        convening.answer(req, world.admin, reply="已经召集会议，请参加。")


def test_staff_reply_needs_reasons(world):
    people = add_people(world, 6)
    req = start(world, "households")
    assist(req, world, people[0])
    with refused(ServiceError) as err:
        convening.answer(req, world.staff, reply="不")
    assert err.value.code == "reply_required"
    convening.answer(req, world.staff, reply="该事项已列入下月居民代表会议议程，届时一并讨论。")
    req = db.session.get(ConveningRequest, req.id)
    assert req.state == "replied" and "居民代表会议" in req.reply and req.ballot_id is None


def test_overdue_requests_are_flagged_for_staff_once_and_shown(world, runner, client, monkeypatch):
    people = add_people(world, 6)
    req = start(world, "households")
    monkeypatch.setattr(convening, "utcnow", lambda: datetime(2026, 1, 2, 3, 0, tzinfo=timezone.utc))
    assist(req, world, people[0])
    monkeypatch.undo()
    out = runner.invoke(args=["ballots", "convening-overdue"])
    assert out.exit_code == 0 and "2026-01-17" in out.output and "讨论增设停车位" in out.output
    assert Notification.query.filter_by(kind="voting.convening_overdue").count() == 2  # staff and admin
    runner.invoke(args=["ballots", "convening-overdue"])
    assert Notification.query.filter_by(kind="voting.convening_overdue").count() == 2  # told once
    html = client.get("/c/test/voting/convening").get_data(as_text=True)
    assert "Overdue" in html or "逾期" in html


# ── pages and API ────────────────────────────────────────────────────────────────────────
def test_pages_start_support_withdraw_and_answer(world, login):
    add_people(world, 6)  # 10 households: 2 needed
    c = login(world.resident)
    r = c.post("/c/test/voting/convening/new", data={"subject": "讨论增设停车位", "reason": REASON,
                                                     "base": "households"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "讨论增设停车位" in html and "<progress" in html
    req = ConveningRequest.query.one()
    assert "Withdraw my support" in html and "1 more needed" in html
    r = c.post(f"/c/test/voting/convening/{req.id}/support", data={"action": "withdraw"}, follow_redirects=True)
    assert "Your support is withdrawn." in r.get_data(as_text=True)
    c.post(f"/c/test/voting/convening/{req.id}/support", data={})
    r = login(world.resident2).post(f"/c/test/voting/convening/{req.id}/support", data={}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Threshold reached" in html
    staff = login(world.staff)
    page = staff.get(f"/c/test/voting/convening/{req.id}").get_data(as_text=True)
    assert "Answer the request" in page and "居民甲" in page  # staff see who supports it
    r = staff.post(f"/c/test/voting/convening/{req.id}/answer", data={"action": "reply", "reply": "短"})
    assert r.status_code == 200  # the form again with the error
    r = staff.post(f"/c/test/voting/convening/{req.id}/answer", data={"action": "ballot"})
    assert r.status_code == 302 and "/c/test/voting/" in r.headers["Location"]
    db.session.expire_all()
    assert db.session.get(ConveningRequest, req.id).state == "convened"


def test_api_start_support_progress_and_answer(world, api):
    people = add_people(world, 6)
    r = api(world.resident).post("/api/v1/c/test/voting/convening", json={
        "subject": "讨论增设停车位", "reason": REASON, "base": "households"})
    assert r.status_code == 201, r.json
    rid = r.json["id"]
    assert r.json["progress"]["needed"] == 2 and r.json["progress"]["threshold"] == "1/5" and r.json["me"]["supports"]
    r = api(world.resident).post(f"/api/v1/c/test/voting/convening/{rid}/support", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "already_supported"
    r = api(world.building_head).post(f"/api/v1/c/test/voting/convening/{rid}/support",
                                      json={"person_id": people[0].id, "reason": "老人代办"})
    assert r.status_code == 201 and r.json["state"] == "reached" and r.json["last_day"]
    r = api(world.resident).post(f"/api/v1/c/test/voting/convening/{rid}/answer", json={"create_ballot": True})
    assert r.status_code == 403
    r = api(world.staff).post(f"/api/v1/c/test/voting/convening/{rid}/answer", json={"reply": "x"})
    assert r.status_code == 400 and "reply" in r.json["error"]["fields"]
    r = api(world.staff).post(f"/api/v1/c/test/voting/convening/{rid}/answer", json={"create_ballot": True})
    assert r.status_code == 200 and r.json["state"] == "convened" and r.json["ballot_id"]
    assert api(None).get("/api/v1/c/test/voting/convening?state=convened").json["total"] == 1
    assert api(None).get("/api/v1/c/test/voting/convening?state=bogus").status_code == 400


# ── events and personal data ────────────────────────────────────────────────────────────
def test_personal_data_export_lists_supports_and_erase_keeps_the_count(world):
    from core.services import personal_data

    people = add_people(world, 16)
    req = start(world, "households")
    assist(req, world, people[0])
    export = personal_data.export(world.resident)
    section = export["communities"][0]["modules"]["voting"]
    assert section["convening_requests_started"][0]["subject"] == "讨论增设停车位"
    assert section["convening_supports"][0]["request_id"] == req.id
    assert section["convening_supports"][0]["recorded_for_you_by"] is None
    helped = people[1]
    assert helped.user_id is None  # a person without an account has no export; the staff see who acted
    personal_data.erase(world.resident, world.staff, "申请删除")
    db.session.expire_all()
    req = db.session.get(ConveningRequest, req.id)
    assert req.supporters == 2 and req.started_by_id == world.resident.id  # the count and the request stay
    assert ConveningSupport.query.filter_by(request_id=req.id, withdrawn_at=None).count() == 2
