"""Elections of several people (R14): residents' committee and owners' committee elections.

Nominations (10 voters or 5 household representatives, the candidate's consent), more candidates
than seats, secret ballots marking up to ``seats`` candidates (blank allowed, more refused), the
count (Organic Law Art. 8: more than half of the electorate takes part, a candidate needs more than
half of those who took part; owners: Art. 278 per candidate), a tie for the last seat by the
published lot — through the services, the pages, the API and `linli ballots recount`."""
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import Household, HouseholdMember, Person, utcnow
from core.services import settings as settings_svc
from plugins.voting import counting, elections, integrity, services
from plugins.voting.models import Ballot, NominationSupport, Voter

pytestmark = pytest.mark.plugins("voting")
ADULT, MINOR = date(1980, 5, 1), date(2015, 5, 1)


class Town:
    """The register of the tests: the world's four verified owners (adults now) and eight more
    households of three adults each (the first their representative), plus a child in the first:
    28 voters, 12 households."""

    def __init__(self, world):
        self.world = world
        for p in Person.query.filter_by(community_id=world.community.id):
            p.birth_date = ADULT
        self.households, self.reps, self.others = [], [], []
        for i in range(8):
            h = Household(community_id=world.community.id, unit_id=world.unit.id, room=f"5{i + 1:02d}",
                          floor_area=Decimal("80.00"))
            db.session.add(h)
            db.session.flush()
            self.households.append(h)
            for j, rep in ((0, True), (1, False), (2, False)):
                p = Person(community_id=world.community.id, birth_date=ADULT)
                db.session.add(p)
                db.session.flush()
                db.session.add(HouseholdMember(household_id=h.id, name=f"居民{i + 1}-{j + 1}", relation="resident",
                                               is_representative=rep, person_id=p.id))
                (self.reps if rep else self.others).append(p.id)
        child = Person(community_id=world.community.id, birth_date=MINOR)
        db.session.add(child)
        db.session.flush()
        db.session.add(HouseholdMember(household_id=self.households[0].id, name="小明", relation="resident",
                                       person_id=child.id))
        self.child = child.id
        db.session.commit()
        users = (world.resident, world.resident2, world.building_head, world.grid_worker)
        self.owners = [Person.query.filter_by(community_id=world.community.id, user_id=u.id).one().id for u in users]
        self.adults = self.owners + self.reps + self.others  # 28 voters

    def election(self, seats=5, unit="person", **data):
        return services.create(self.world.community, self.world.staff, {
            "title": "第十二届居民委员会选举", "method": "election", "seats": seats, "unit": unit, "days": 7, **data})

    def nominate(self, ballot, people, supporters=None):
        """Nominate ``people``, each supported by ``supporters`` (default: the first 10 voters who are
        not reps) and consenting; returns the nominations."""
        out = []
        for pid in people:
            n = elections.nominate(ballot, self.world.staff, pid)
            for sid in supporters if supporters is not None else (self.others + self.owners)[:10]:
                elections.support(ballot, self.world.grid_worker, n, sid)
            elections.consent(ballot, self.world.staff, n)
            out.append(n)
        return out

    def ready(self, seats=5, candidates=6, **data):
        """An open residents' committee election with ``candidates`` candidates."""
        b = self.election(seats, **data)
        self.nominate(b, self.adults[:candidates])
        elections.publish_candidates(b, self.world.staff)
        services.open_ballot(b, self.world.staff)
        return b


@pytest.fixture
def town(world):
    return Town(world)


def _voters(ballot):
    return Voter.query.filter_by(ballot_id=ballot.id).order_by(Voter.id).all()


def _paper(ballot, town, marks):
    """Paper ballots for the voters of the roll without an account, one per entry of ``marks``
    (None: spoiled)."""
    for voter, m in zip([v for v in _voters(ballot) if v.user_id is None], marks):
        services.cast(ballot, town.world.grid_worker, m, voter=voter, source="paper", witness="监票人",
                      spoiled=m is None)


def _recount(ballot):
    out = integrity.recount(json.loads(json.dumps(services.export(ballot))))
    assert out["ok"], out["problems"]
    assert out["result"] == ballot.result
    return out


# ── the roll, seats and the candidates ────────────────────────────────────────────────────
def test_a_residents_committee_has_five_to_nine_seats(town):
    from core.errors import ServiceError

    for seats in (4, 10, None, "五"):
        with pytest.raises(ServiceError) as err:
            town.election(seats)
        assert "seats" in err.value.fields
    assert town.election(9).seats == 9


def test_the_roll_is_every_resident_of_eighteen_or_over_and_the_ballot_is_secret(town):
    b = town.ready()
    keys = {v.key for v in _voters(b)}
    assert keys == {f"person:{pid}" for pid in town.adults}
    assert f"person:{town.child}" not in keys  # a minor on the register does not vote
    assert b.secret and b.manifest["seats"] == 5 and b.manifest["method"] == "election"
    assert services.create(town.world.community, town.world.staff, {"title": "普通表决", "days": 7}).seats is None


def test_no_more_candidates_than_seats_is_refused_when_publishing_and_opening(town):
    from core.errors import Conflict

    b = town.election(5)
    town.nominate(b, town.adults[:5])
    with pytest.raises(Conflict) as err:
        elections.publish_candidates(b, town.world.staff)
    assert err.value.code == "too_few_candidates" and "5 candidates qualify for 5 seats" in err.value.message
    with pytest.raises(Conflict) as err:
        services.open_ballot(b, town.world.staff)
    assert err.value.code == "candidates_not_published"
    town.nominate(b, town.adults[5:6])
    elections.publish_candidates(b, town.world.staff)
    assert [o.label for o in b.options][:2] == ["居民甲", "居民乙"] and len(b.options) == 6


def test_a_candidate_who_did_not_consent_does_not_stand(town):
    b = town.election(5)
    town.nominate(b, town.adults[:6])
    late = elections.nominate(b, town.world.staff, town.adults[6])
    for sid in town.others[:10]:
        elections.support(b, town.world.grid_worker, late, sid)  # supported, but never consented
    elections.publish_candidates(b, town.world.staff)
    assert len(b.options) == 6 and late.position is None


def test_only_adults_on_the_register_of_the_area_are_nominated_or_support(town):
    from core.errors import ServiceError

    b = town.election(5)
    with pytest.raises(ServiceError) as err:
        elections.nominate(b, town.world.staff, town.child)
    assert err.value.code == "not_eligible"
    n = elections.nominate(b, town.world.staff, town.adults[0])
    with pytest.raises(ServiceError) as err:
        elections.support(b, town.world.grid_worker, n, town.child)
    assert err.value.code == "not_a_voter"


# ── nominations: 10 voters or 5 household representatives ────────────────────────────────
def test_nine_voters_are_not_enough_ten_are(town):
    b = town.election(5)
    n = elections.nominate(b, town.world.staff, town.adults[0])
    elections.consent(b, town.world.resident, n)  # the candidate themself
    for sid in town.others[:9]:
        elections.support(b, town.world.grid_worker, n, sid)
    assert elections.tally(n) == {"voters": 9, "households": 0, "consented": True, "supported": False,
                                  "qualifies": False}
    elections.support(b, town.world.grid_worker, n, town.others[9])
    assert elections.tally(n)["qualifies"] is True


def test_four_household_representatives_are_not_enough_five_are(town):
    b = town.election(5)
    n = elections.nominate(b, town.world.staff, town.adults[0])
    elections.consent(b, town.world.staff, n)
    for sid in town.reps[:4]:
        elections.support(b, town.world.grid_worker, n, sid)
    assert elections.tally(n)["households"] == 4 and not elections.tally(n)["qualifies"]
    elections.support(b, town.world.grid_worker, n, town.reps[4])
    assert elections.tally(n)["households"] == 5 and elections.tally(n)["qualifies"]


def test_one_support_per_person_and_nomination(town):
    from core.errors import Conflict

    b = town.election(5)
    n = elections.nominate(b, town.world.staff, town.adults[0])
    elections.support(b, town.world.resident2, n)  # online, as themself
    with pytest.raises(Conflict) as err:
        elections.support(b, town.world.grid_worker, n, town.owners[1])  # the same person on a paper form
    assert err.value.code == "already_supported"
    assert NominationSupport.query.filter_by(nomination_id=n.id).count() == 1


def test_concurrent_supports_by_one_person_record_one(app, town, tmp_path, db_url):
    """A resident taps Support while a grid worker types their signed form: one support counts."""
    from core.services import tokens
    from tests.live import live_server, request, storm

    b = town.election(5)
    n = elections.nominate(b, town.world.staff, town.adults[0])
    bid, nid, pid = b.id, n.id, town.owners[1]
    toks = [tokens.create(u, "race")[1] for u in (town.world.resident2, town.world.grid_worker, town.world.staff)]
    db.session.commit()  # what the test set up, before the server reads it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("voting",)) as base:
        url = f"{base}/api/v1/c/test/voting/ballots/{bid}/nominations/{nid}/support"
        results = storm(12, lambda i: request("POST", url, token=toks[i % 3],
                                              body={} if i % 3 == 0 else {"person_id": pid}))
    statuses = sorted(r[0] if isinstance(r, tuple) else repr(r) for r in results)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, statuses
    db.session.expire_all()
    assert NominationSupport.query.filter_by(nomination_id=nid).count() == 1


# ── voting and the count ────────────────────────────────────────────────────────────────
def test_more_marks_than_seats_are_refused_fewer_and_none_are_accepted(town):
    from core.errors import ServiceError

    b = town.ready(seats=5, candidates=7)
    with pytest.raises(ServiceError) as err:
        services.cast(b, town.world.resident, [0, 1, 2, 3, 4, 5])
    assert err.value.code == "too_many_choices"
    assert services.cast(b, town.world.resident, [4, 0]).choice == [0, 4]
    assert services.cast(b, town.world.resident2, []).choice == []  # a blank ballot


def _tie_ballot(town, blank=False):
    """Seven candidates for five seats, 28 voters; 15 ballots (16 with a blank one): 0–3 get 14
    votes, 4 and 5 get 8 each, 6 gets 1. 4 and 5 tie for the last seat."""
    b = town.ready(seats=5, candidates=7)
    marks = [[0, 1, 2, 3, 4]] * 7 + [[0, 1, 2, 3, 5]] * 7 + [[4, 5, 6]]
    _paper(b, town, marks + ([[]] if blank else []))
    services.close(b, town.world.staff, "投票结束")
    return b


def test_a_tie_for_the_last_seat_is_decided_by_the_published_lot(town):
    b = _tie_ballot(town)
    r = b.result
    assert [c["heads"] for c in r["candidates"]] == [14, 14, 14, 14, 8, 8, 1]
    assert r["tests"][0]["id"] == "participation" and r["tests"][0]["value"] == "15"
    order = counting.lot_order(b.tie_seed, [4, 5])
    assert r["tie"] == {"tied": [4, 5], "lot_order": order, "chosen": order[:1], "seats": 1}
    assert r["elected"] == [0, 1, 2, 3, order[0]] and r["unfilled"] == 0
    assert r["candidates"][order[0]]["status"] == "elected_by_lot"
    assert r["candidates"][order[1]]["status"] == "not_elected_by_lot"
    assert r["candidates"][6]["status"] == "not_approved"
    _recount(b)


def test_blank_ballots_take_part_and_count_against_every_candidate(town):
    b = _tie_ballot(town, blank=True)
    r = b.result
    assert r["blank_heads"] == 1 and r["turnout"]["heads"] == 16
    # 8 of 16 is not more than half: neither 4 nor 5 is elected, one seat stays unfilled.
    assert r["elected"] == [0, 1, 2, 3] and r["unfilled"] == 1 and r["tie"] is None
    assert {r["candidates"][4]["status"], r["candidates"][5]["status"]} == {"not_approved"}
    _recount(b)


@pytest.mark.parametrize("took_part, valid", [(13, False), (14, False), (15, True)])
def test_more_than_half_of_the_electorate_must_take_part(town, took_part, valid):
    """28 voters: 14 is exactly half, not more than half (过半数, Organic Law Art. 8)."""
    b = town.ready(seats=5, candidates=6)
    _paper(b, town, [[0, 1, 2, 3, 4]] * (took_part - 1) + [None])  # a spoiled ballot takes part too
    services.close(b, town.world.staff, "投票结束")
    r = b.result
    assert r["turnout"]["heads"] == took_part and r["passed"] is valid
    assert r["elected"] == ([0, 1, 2, 3, 4] if valid else []) and r["unfilled"] == (0 if valid else 5)
    _recount(b)


def test_recount_refuses_a_file_with_more_marks_than_seats(town):
    b = _tie_ballot(town)
    data = json.loads(json.dumps(services.export(b)))
    data["entries"][0]["choice"] = [0, 1, 2, 3, 4, 5]
    out = integrity.recount(data)
    assert not out["ok"]
    assert any("Entry 1: marks more candidates than there are seats" in p for p in out["problems"])
    data = json.loads(json.dumps(services.export(b)))
    data["manifest"]["seats"] = 3
    assert "A residents' committee has 5 to 9 seats." in integrity.recount(data)["problems"]


def test_an_old_file_without_seats_still_recounts(world):
    b = services.create(world.community, world.staff, {"title": "小区活动选题", "method": "approval",
                                                       "options": ["广场舞", "象棋赛"]}, open_now=True)
    services.cast(b, world.resident, [0])
    services.close(b, world.staff, "结束")
    data = services.export(b)
    assert "seats" not in data["manifest"]
    assert integrity.recount(json.loads(json.dumps(data)))["ok"]


# ── owners' committee: Art. 278 per candidate ─────────────────────────────────────────────
def test_an_owners_committee_candidate_needs_more_than_half_of_owners_and_area(town):
    world = town.world
    settings_svc.set(world.community, "voting", "owners_committee_min_seats", 3, actor=world.admin)
    db.session.commit()
    b = town.election(3, unit="owners", title="第一届业主委员会选举", opens_at=(utcnow() + timedelta(days=16)).isoformat(),
                      closes_at=(utcnow() + timedelta(days=23)).isoformat())
    assert b.secret and b.matter_class == "ordinary"
    for pid in town.owners:  # an owners' committee's candidates need no supporters, only consent
        elections.consent(b, world.staff, elections.nominate(b, world.staff, pid))
    elections.publish_candidates(b, world.staff)
    services.publish_notice(b, world.staff, at=utcnow() - timedelta(days=16))
    b.opens_at = utcnow() - timedelta(minutes=1)
    services.open_ballot(b, world.staff, confirm_duplicates=True)
    # 甲 89.50, 乙 120.00, 楼长 65.25, 网格员 100.00, and eight flats of 80.00 whose owners are not on
    # the register (12 heads, 1014.75 m²): the quorum needs 8 heads and 676.50 m², so five vote on paper.
    marks = {world.resident.id: [0, 1, 3], world.resident2.id: [0, 2, 3], world.building_head.id: [1, 2],
             world.grid_worker.id: [1, 2, 3]}
    for u, m in marks.items():
        services.cast(b, u if not isinstance(u, int) else db.session.get(type(world.resident), u), m)
    for v in Voter.query.filter(Voter.ballot_id == b.id, Voter.user_id.is_(None)).order_by(Voter.id).limit(5):
        services.cast(b, world.grid_worker, [1, 2, 3], voter=v, source="paper", witness="监票人")
    services.close(b, world.staff, "投票结束")
    r = b.result
    assert [t["id"] for t in r["tests"]] == ["quorum_area", "quorum_heads"] and r["passed"]
    a = r["candidates"][0]
    assert a["heads"] == 2 and not a["approved"] and a["status"] == "not_approved"
    assert {t["id"]: t["met"] for t in a["tests"]} == {"approval_area": False, "approval_heads": False}
    assert sorted(r["elected"]) == [1, 2, 3] and r["unfilled"] == 0
    _recount(b)


def test_owners_committee_seats_follow_the_community_setting(town):
    from core.errors import ServiceError

    with pytest.raises(ServiceError) as err:
        town.election(6, unit="owners")  # an odd number from 5 to 11 by default
    assert "odd number from 5 to 11" in err.value.fields["seats"]


# ── pages and API ─────────────────────────────────────────────────────────────────────────
def test_pages_nominations_support_consent_publish_vote_and_results(app, town, login):
    world = town.world
    b = town.election(5)
    town.nominate(b, town.adults[1:7])
    nom = elections.nominate(b, world.staff, town.adults[0])  # 居民甲, who will consent themself
    for sid in town.others[:9]:
        elections.support(b, world.grid_worker, nom, sid)
    resident = login(world.resident)
    page = resident.get(f"/c/test/voting/{b.id}")
    assert page.status_code == 200 and "Nominations" in page.text and "居民甲" in page.text
    assert resident.post(f"/c/test/voting/{b.id}/nominations/{nom.id}/consent").status_code == 302
    r2 = login(world.resident2)
    assert r2.post(f"/c/test/voting/{b.id}/nominations/{nom.id}/support").status_code == 302
    db.session.expire_all()
    assert elections.tally(nom)["qualifies"]
    staff = login(world.staff)
    staff.post(f"/c/test/voting/{b.id}/candidates")
    db.session.refresh(b)
    assert len(b.options) == 7
    services.open_ballot(b, world.staff)
    over = resident.post(f"/c/test/voting/{b.id}/vote", data={"choice": ["0", "1", "2", "3", "4", "5"]},
                         follow_redirects=True)
    assert "Mark at most 5 candidates" in over.text
    nothing = resident.post(f"/c/test/voting/{b.id}/vote", data={}, follow_redirects=True)
    assert "or tick that you cast a blank ballot" in nothing.text
    assert resident.post(f"/c/test/voting/{b.id}/vote", data={"blank": "1"}).status_code == 302
    _paper(b, town, [[0, 1, 2, 3, 4]] * 15)
    services.close(b, world.staff, "投票结束")
    page = resident.get(f"/c/test/voting/{b.id}").text
    assert 'id="election-result"' in page
    for o in b.options:
        assert o.label in page
    assert "Elected" in page and "Not elected (not more than half)" in page
    assert "Turnout: more than half of the voters took part" in page
    printed = resident.get(f"/c/test/voting/{b.id}/print/notice").text
    assert 'id="election-result"' in printed and all(o.label in printed for o in b.options)
    assert "nobody voted" not in printed


def test_api_nominations_publish_vote_and_result(app, town, api):
    world = town.world
    staff = api(world.staff)
    created = staff.post("/api/v1/c/test/voting/ballots", json={
        "title": "居委会选举", "method": "election", "seats": 5, "unit": "person", "days": 7})
    assert created.status_code == 201 and created.json["seats"] == 5 and created.json["secret"] is True
    bid = created.json["id"]
    b = db.session.get(Ballot, bid)
    eligible = staff.get(f"/api/v1/c/test/voting/ballots/{bid}/nominations/eligible").json["items"]
    assert town.child not in {e["person_id"] for e in eligible}
    refused = staff.post(f"/api/v1/c/test/voting/ballots/{bid}/candidates")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "too_few_candidates"
    for pid in town.adults[:6]:
        nid = staff.post(f"/api/v1/c/test/voting/ballots/{bid}/nominations", json={"person_id": pid}).json["id"]
        for sid in town.reps[:5]:
            assert staff.post(f"/api/v1/c/test/voting/ballots/{bid}/nominations/{nid}/support",
                              json={"person_id": sid}).status_code == 201
        staff.post(f"/api/v1/c/test/voting/ballots/{bid}/nominations/{nid}/consent")
    listed = api(world.resident).get(f"/api/v1/c/test/voting/ballots/{bid}/nominations").json
    assert [i["household_representatives"] for i in listed["items"]] == [5] * 6 and listed["items"][0]["qualifies"]
    assert staff.post(f"/api/v1/c/test/voting/ballots/{bid}/candidates").status_code == 200
    assert staff.post(f"/api/v1/c/test/voting/ballots/{bid}/open").status_code == 200
    me = api(world.resident)
    over = me.post(f"/api/v1/c/test/voting/ballots/{bid}/votes", json={"choice": [0, 1, 2, 3, 4, 5]})
    assert over.status_code == 400 and over.json["error"]["code"] == "too_many_choices"
    assert me.post(f"/api/v1/c/test/voting/ballots/{bid}/votes", json={"choice": []}).status_code == 201
    db.session.expire_all()
    _paper(b, town, [[0, 1, 2, 3, 5]] * 15)
    staff.post(f"/api/v1/c/test/voting/ballots/{bid}/close", json={"reason": "投票结束"})
    got = me.get(f"/api/v1/c/test/voting/ballots/{bid}").json["election"]
    assert got["valid"] and got["unfilled"] == 0 and len(got["candidates"]) == 6
    assert [c["status"] for c in got["candidates"]][:5] == ["elected"] * 5
    assert got["candidates"][-1]["status"] == "not_approved" and got["candidates"][-1]["votes"] == 0


def test_cli_recount_of_an_election(app, town, runner, tmp_path):
    b = _tie_ballot(town)
    path = tmp_path / "election.json"
    path.write_text(json.dumps(services.export(b), ensure_ascii=False), encoding="utf-8")
    out = runner.invoke(args=["ballots", "recount", str(path)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["ok"] and data["result"]["elected"] == b.result["elected"] and data["result"]["tie"]["tied"] == [4, 5]


def test_personal_data_export_and_erasure_of_nominations(town):
    from core.services import personal_data
    from plugins.voting.models import Nomination
    from plugins.voting.personal_data import personal_data_erase, personal_data_export

    world = town.world
    b = town.election(5)
    n = elections.nominate(b, world.staff, town.owners[0])  # 居民甲
    elections.support(b, world.resident, elections.nominate(b, world.staff, town.adults[5]))
    got = personal_data_export(world.resident, world.community)
    assert got["election_nominations"][0]["name"] == "居民甲"
    assert got["election_supports"][0]["as_household_representative"] is True
    personal_data_erase(world.resident, world.community, world.admin)
    db.session.expire_all()
    assert db.session.get(Nomination, n.id).name == personal_data.anonymous_label(world.resident)
