"""The voting module end to end: pages, API, paper ballots, owners' double majority, export."""
import json
import re

import pytest

from core.extensions import db
from core.models import AuditEntry, Proposal
from core.services import proposals
from plugins.voting import integrity, services
from plugins.voting.models import Ballot, Entry, Voter

pytestmark = pytest.mark.plugins("voting")


def ballot_of(proposal):
    return Ballot.query.filter_by(proposal_id=proposal.id).one()


def test_proposal_reaching_voting_opens_a_ballot_with_a_published_electorate(world, voting_proposal):
    b = ballot_of(voting_proposal)
    assert b.state == "open" and b.method == "majority" and b.unit == "person"
    # The four verified residents are in the electorate; unverified members are not.
    users = {v.user_id for v in Voter.query.filter_by(ballot_id=b.id)}
    assert {world.resident.id, world.resident2.id, world.building_head.id, world.grid_worker.id} <= users
    assert world.newbie.id not in users and world.mediator.id not in users
    assert b.genesis_hash == integrity.genesis(b.manifest) and len(b.tie_seed) == 32


def test_resident_votes_in_the_browser_changes_the_vote_and_sees_the_result(world, voting_proposal, login):
    b = ballot_of(voting_proposal)
    c = login(world.resident)
    page = c.get(f"/c/test/proposals/{voting_proposal.id}").get_data(as_text=True)
    assert f"/c/test/voting/{b.id}" in page  # the ballot panel on the proposal page
    r = c.post(f"/c/test/voting/{b.id}/vote", data={"choice": "no"}, follow_redirects=True)
    first = re.search(r"receipt code is ([0-9A-F]{10,})", r.get_data(as_text=True)).group(1)
    r = c.post(f"/c/test/voting/{b.id}/vote", data={"choice": "yes"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    second = re.search(r"receipt code is ([0-9A-F]{10,})", html).group(1)
    assert first != second and "Change my vote" in html
    assert Entry.query.filter_by(ballot_id=b.id, counted=True).count() == 1
    assert "Results are published when the ballot closes." in html
    for u in (world.resident2, world.building_head):
        login(u).post(f"/c/test/voting/{b.id}/vote", data={"choice": "yes"})
    login(world.grid_worker).post(f"/c/test/voting/{b.id}/vote", data={"choice": "abstain"})
    r = login(world.staff).post(f"/c/test/voting/{b.id}/close", data={"reason": "全部投完", "confirm": "1"},
                                 follow_redirects=True)
    assert r.status_code == 200
    db.session.expire_all()
    assert db.session.get(Proposal, voting_proposal.id).state == "accepted"
    html = c.get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "Passed" in html and "<svg" in html and 'role="img"' in html
    assert b.closing_hash is None or True
    closing = db.session.get(Ballot, b.id).closing_hash
    assert closing in html
    receipts = c.get(f"/c/test/voting/{b.id}/receipts?receipt={second}").get_data(as_text=True)
    assert "was counted" in receipts and first in receipts
    old = c.get(f"/c/test/voting/{b.id}/receipts?receipt={first}").get_data(as_text=True)
    assert "replaced by a later ballot" in old


@pytest.mark.parametrize("locale,words", [
    ("zh_Hans", ("通过", "各选项得票", "赞成", "结束哈希")),
    ("zh_Hant", ("通過", "各選項得票", "贊成", "結束哈希")),
    ("en", ("Passed", "Votes per option", "Yes", "Closing hash"))])
def test_result_page_and_chart_in_three_languages(world, voting_proposal, login, locale, words):
    from core.services import accounts

    b = ballot_of(voting_proposal)
    services.cast(b, world.resident, "yes")
    services.close(b, world.staff, "测试")
    accounts.set_preferences(world.resident, locale=locale)
    html = login(world.resident).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert words[1] in chart and words[2] in chart  # the chart's title and labels are translated
    for w in words:
        assert w in html


def test_outsiders_unverified_and_closed_ballots_are_refused_and_nothing_is_saved(world, voting_proposal, api):
    b = ballot_of(voting_proposal)
    url = f"/api/v1/c/test/voting/ballots/{b.id}/votes"
    r = api(world.newbie).post(url, json={"choice": "yes"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_in_electorate"
    r = api(world.outsider).post(url, json={"choice": "yes"})
    assert r.status_code == 403
    r = api(world.resident).post(url, json={"choice": "maybe"})
    assert r.status_code == 400 and "choice" in r.get_json()["error"]["fields"]
    assert Entry.query.count() == 0 and db.session.get(Ballot, b.id).entries_count == 0
    services.close(b, world.staff, "提前结束")
    r = api(world.resident).post(url, json={"choice": "yes"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ballot_closed"
    assert Entry.query.count() == 0


def test_ranked_ballot_refuses_malformed_rankings_and_duplicates(world, api, login):
    r = api(world.staff).post("/api/v1/c/test/voting/ballots", json={
        "title": "活动中心开放时段", "method": "irv", "options": ["上午", "下午", "晚上"], "days": 3, "open": True})
    assert r.status_code == 201, r.get_json()
    bid = r.get_json()["id"]
    url = f"/api/v1/c/test/voting/ballots/{bid}/votes"
    cl = api(world.resident)
    assert cl.post(url, json={"choice": [0, 0, 1]}).get_json()["error"]["code"] == "duplicate_option"
    assert cl.post(url, json={"choice": [0, 7]}).get_json()["error"]["code"] == "unknown_option"
    assert cl.post(url, json={"choice": []}).status_code == 400
    # In the browser: two options with the same rank, and a gap in the numbers.
    c = login(world.resident)
    r = c.post(f"/c/test/voting/{bid}/vote", data={"rank-0": "1", "rank-1": "1"}, follow_redirects=True)
    assert "Two options have rank 1" in r.get_data(as_text=True)
    r = c.post(f"/c/test/voting/{bid}/vote", data={"rank-0": "1", "rank-2": "3"}, follow_redirects=True)
    assert "without leaving a number out" in r.get_data(as_text=True)
    assert Entry.query.filter_by(ballot_id=bid).count() == 0
    r = c.post(f"/c/test/voting/{bid}/vote", data={"rank-2": "1", "rank-0": "2"}, follow_redirects=True)
    assert Entry.query.filter_by(ballot_id=bid).one().choice == [2, 0]


def test_duplicate_options_when_setting_up_are_refused(world, api):
    r = api(world.staff).post("/api/v1/c/test/voting/ballots", json={
        "title": "选址", "method": "approval", "options": ["东门", "东门"], "days": 3})
    assert r.status_code == 400 and "options" in r.get_json()["error"]["fields"]
    r = api(world.resident).post("/api/v1/c/test/voting/ballots", json={"title": "选址", "method": "majority"})
    assert r.status_code == 403
    assert Ballot.query.count() == 0


@pytest.mark.parametrize("field,value", [("days", "十"), ("days", "3.5"), ("max_choices", "two"), ("grid_id", "x")])
def test_a_number_that_is_no_whole_number_is_refused_not_replaced_by_a_default(world, api, field, value):
    """``days: "十"`` was read as none given and the ballot opened for the default 14 days."""
    body = {"title": "选址", "method": "approval", "options": ["东门", "西门"], "days": 3, field: value}
    if field == "grid_id":
        body["scope"] = "grid"
    r = api(world.staff).post("/api/v1/c/test/voting/ballots", json=body)
    assert r.status_code == 400 and field in r.get_json()["error"]["fields"]
    assert Ballot.query.count() == 0


def test_owners_double_majority_counts_heads_and_areas(world, estate, api, owners_ballot):
    b = owners_ballot()
    voters = Voter.query.filter_by(ballot_id=b.id).all()
    by_key = {v.key.split(":")[0]: v for v in voters}
    zhao = [v for v in voters if v.name == "赵老伯"]
    assert len(zhao) == 1 and zhao[0].heads == 1 and str(zhao[0].area) == "125.50"  # two flats, one head
    dev = [v for v in voters if v.key == "developer"]
    assert len(dev) == 1 and str(dev[0].area) == "160.00"  # unsold flats together: one head
    assert "unit" in by_key  # a flat whose owner is not on the register still counts in the totals
    # 4 verified owners + 赵老伯 + developer + unregistered = 7 heads; area = all nine flats.
    assert b.heads_total == 7 and str(b.area_total) == "720.50"
    assert b.secret is False  # owners' ballots are named
    for u, choice in ((world.resident, "yes"), (world.resident2, "yes"), (world.building_head, "no"),
                      (world.grid_worker, "yes")):
        assert api(u).post(f"/api/v1/c/test/voting/ballots/{b.id}/votes", json={"choice": choice}).status_code == 201
    # A grid worker enters 赵老伯's paper ballot, with the witness.
    r = api(world.grid_worker).post(f"/api/v1/c/test/voting/ballots/{b.id}/paper", json={
        "voter_id": zhao[0].id, "choice": "yes", "witness": "楼长赵师傅"})
    assert r.status_code == 201, r.get_json()
    r = api(world.staff).post(f"/api/v1/c/test/voting/ballots/{b.id}/close", json={"reason": "测试"})
    result = r.get_json()["result"]
    tests = {t["id"]: t for t in result["tests"]}
    # Turnout: 5 of 7 heads (≥ 2/3), 89.5+120+65.25+100+125.5 = 500.25 of 720.50 m² (≥ 2/3).
    assert tests["quorum_heads"]["value"] == "5" and tests["quorum_heads"]["met"]
    assert tests["quorum_area"]["value"] == "500.25" and tests["quorum_area"]["met"]
    # Approval: yes 4 of 5 heads, 89.5+120+100+125.5 = 435.00 of 500.25 m².
    assert tests["approval_heads"]["ratio"] == "4/5" and tests["approval_area"]["value"] == "435.00"
    assert result["passed"] is True


def test_paper_ballot_counts_once_later_online_vote_refused_and_corrections_append(world, voting_proposal, login):
    b = ballot_of(voting_proposal)
    voter = Voter.query.filter_by(ballot_id=b.id, user_id=world.resident2.id).one()
    gw = login(world.grid_worker)
    page = gw.get(f"/c/test/voting/{b.id}/paper").get_data(as_text=True)
    assert "Witness" in page
    r = gw.post(f"/c/test/voting/{b.id}/paper", data={"voter_id": voter.id, "choice": "no", "witness": ""},
                follow_redirects=True)
    assert "Name the witness" in r.get_data(as_text=True) and Entry.query.count() == 0
    from io import BytesIO

    r = gw.post(f"/c/test/voting/{b.id}/paper", data={
        "voter_id": voter.id, "choice": "no", "witness": "楼长", "action": "enter",
        "photo": (BytesIO(b"\x89PNG\r\n\x1a\n fake sheet"), "sheet.png", "image/png")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "is recorded" in r.get_data(as_text=True)
    entry = Entry.query.filter_by(ballot_id=b.id).one()
    assert entry.source == "paper" and entry.entered_by_id == world.grid_worker.id and entry.witness == "楼长"
    assert gw.get(f"/c/test/voting/{b.id}/scan/{entry.id}").data == b"\x89PNG\r\n\x1a\n fake sheet"
    # The voter then tries online: refused (the community's rule), nothing saved.
    r = login(world.resident2).post(f"/c/test/voting/{b.id}/vote", data={"choice": "yes"}, follow_redirects=True)
    assert "A paper ballot was recorded for you" in r.get_data(as_text=True)
    # A second paper ballot must be a correction, with a reason; it is appended.
    r = gw.post(f"/c/test/voting/{b.id}/paper", data={"voter_id": voter.id, "choice": "yes", "witness": "楼长",
                                                      "action": "enter"}, follow_redirects=True)
    assert "enter a correction instead" in r.get_data(as_text=True)
    r = gw.post(f"/c/test/voting/{b.id}/paper", data={"voter_id": voter.id, "choice": "yes", "witness": "楼长",
                                                      "action": "correct", "note": "录入时勾错"}, follow_redirects=True)
    db.session.expire_all()
    entries = Entry.query.filter_by(ballot_id=b.id).order_by(Entry.seq).all()
    assert [(e.source, e.counted, e.choice) for e in entries] == [("paper", False, [1]), ("correction", True, [0])]
    assert AuditEntry.query.filter_by(action="voting.paper_corrected").one().reason == "录入时勾错"
    # A resident may not enter paper ballots.
    r = login(world.resident).post(f"/c/test/voting/{b.id}/paper", data={"voter_id": voter.id, "choice": "yes"})
    assert r.status_code == 403


def test_secret_ballot_keeps_who_voted_apart_and_hides_results_until_closing(world, api, login):
    r = api(world.staff).post("/api/v1/c/test/voting/ballots", json={
        "title": "居民小组长选举", "method": "approval", "options": ["张", "王", "李"], "secret": True, "days": 2,
        "open": True})
    bid = r.get_json()["id"]
    cl = api(world.resident)
    assert cl.post(f"/api/v1/c/test/voting/ballots/{bid}/votes", json={"choice": [0, 2]}).status_code == 201
    e = Entry.query.filter_by(ballot_id=bid).one()
    assert e.voter_id is None and not e.voter_tag.startswith("V")
    assert Voter.query.filter_by(ballot_id=bid, user_id=world.resident.id).one().voted_at is not None
    assert cl.get(f"/api/v1/c/test/voting/ballots/{bid}/result").status_code == 409
    assert "result" not in cl.get(f"/api/v1/c/test/voting/ballots/{bid}").get_json()
    html = login(world.resident).get(f"/c/test/voting/{bid}").get_data(as_text=True)
    assert "Results are published when the ballot closes." in html
    cl.post(f"/api/v1/c/test/voting/ballots/{bid}/votes", json={"choice": [1]})  # changes the vote
    api(world.staff).post(f"/api/v1/c/test/voting/ballots/{bid}/close", json={"reason": "测试"})
    res = cl.get(f"/api/v1/c/test/voting/ballots/{bid}/result").get_json()["result"]
    assert [c["heads"] for c in res["counts"]] == [0, 1, 0] and res["winner"] == 1


def test_idempotency_key_returns_the_first_receipt(world, voting_proposal, api):
    b = ballot_of(voting_proposal)
    cl = api(world.resident)
    url = f"/api/v1/c/test/voting/ballots/{b.id}/votes"
    r1 = cl.post(url, json={"choice": "yes"}, headers={"Idempotency-Key": "k1"})
    r2 = cl.post(url, json={"choice": "yes"}, headers={"Idempotency-Key": "k1"})
    assert r1.status_code == r2.status_code == 201
    assert r1.get_json()["receipt"] == r2.get_json()["receipt"] and r2.headers["Idempotent-Replayed"] == "true"
    assert Entry.query.filter_by(ballot_id=b.id).count() == 1


def test_export_recounts_to_the_same_result_from_the_command_line(world, voting_proposal, runner, tmp_path):
    b = ballot_of(voting_proposal)
    for u, choice in ((world.resident, "yes"), (world.resident2, "no"), (world.building_head, "yes")):
        services.cast(b, u, choice)
    services.cast(b, world.resident2, "yes")
    services.close(b, world.staff, "测试")
    path = tmp_path / "ballot.json"
    r = runner.invoke(args=["ballots", "export", str(b.id), "-o", str(path)])
    assert r.exit_code == 0, r.output
    data = json.loads(path.read_text(encoding="utf-8"))
    assert len(data["entries"]) == 4 and sum(e["counted"] for e in data["entries"]) == 3
    assert data["manifest"]["electorate"]["voters"] == len(data["roll"])
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["chain"]["ok"] and out["matches_published_result"] is True
    assert out["result"]["passed"] is True and out["chain"]["closing_hash"] == db.session.get(Ballot, b.id).closing_hash
    # Changing one counted vote in the file breaks the chain and the recount says so.
    data["entries"][0]["choice"] = [1]
    path.write_text(json.dumps(data), encoding="utf-8")
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exit_code == 1 and json.loads(r.output)["chain"]["ok"] is False


def test_results_page_download_is_the_export(world, voting_proposal, client):
    b = ballot_of(voting_proposal)
    services.cast(b, world.resident, "no")
    services.close(b, world.staff, "测试")
    r = client.get(f"/c/test/voting/{b.id}/export.json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert integrity.recount(json.loads(r.data))["matches_published_result"] is True
    assert db.session.get(Proposal, voting_proposal.id).state == "rejected"


def test_manual_decision_is_blocked_while_the_ballot_is_open(world, voting_proposal, login):
    from core.errors import Conflict

    with pytest.raises(Conflict):
        proposals.transition(voting_proposal, "accepted", world.staff, "直接通过")


def test_withdrawing_the_proposal_cancels_its_ballot(world, voting_proposal):
    proposals.transition(voting_proposal, "withdrawn", world.staff, "已协商解决")
    assert ballot_of(voting_proposal).state == "cancelled"


def test_ballot_past_its_closing_time_closes_by_the_command_not_when_looked_at(world, voting_proposal, client,
                                                                               runner):
    from datetime import timedelta

    from core.models import utcnow

    b = ballot_of(voting_proposal)
    services.cast(b, world.resident, "yes")
    b.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/c/test/voting/{b.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).state == "open"  # a page view writes nothing (shown as closing)
    assert runner.invoke(args=["ballots", "close-due"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).state == "closed"
    assert db.session.get(Proposal, voting_proposal.id).state == "accepted"


def test_dashboard_shows_votes_left_and_api_lists_my_ballots(world, voting_proposal, login, api):
    html = login(world.resident).get("/c/test/").get_data(as_text=True)
    assert "Votes to cast" in html and "vote left to cast" in html
    r = api(world.resident).get("/api/v1/c/test/voting/ballots?mine=1").get_json()
    assert r["total"] == 1 and r["items"][0]["proposal_id"] == voting_proposal.id


def test_printables_and_openapi(world, voting_proposal, login, client):
    b = ballot_of(voting_proposal)
    html = login(world.grid_worker).get(f"/c/test/voting/{b.id}/print/ballots").get_data(as_text=True)
    assert html.count('class="paper-sheet"') == Voter.query.filter_by(ballot_id=b.id).count()
    assert 'style="' not in html and "<script" not in html
    services.close(b, world.staff, "测试")
    notice = client.get(f"/c/test/voting/{b.id}/print/notice").get_data(as_text=True)
    assert db.session.get(Ballot, b.id).closing_hash in notice
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/c/{community}/voting/ballots/{ballot_id}/votes" in spec["paths"]
    votes = spec["paths"]["/api/v1/c/{community}/voting/ballots/{ballot_id}/votes"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in votes["parameters"])


def test_events_are_declared(app):
    names = app.extensions["linli.plugins"].event_types
    assert {"vote.cast", "ballot.closed", "ballot.opened"} <= set(names)


def test_resident_votes_straight_from_the_proposal_page(world, voting_proposal, login):
    b = ballot_of(voting_proposal)
    c = login(world.resident2)
    page = c.get(f"/c/test/proposals/{voting_proposal.id}").get_data(as_text=True)
    assert f'action="/c/test/voting/{b.id}/vote"' in page and 'name="choice" value="yes"' in page
    r = c.post(f"/c/test/voting/{b.id}/vote", data={"choice": "yes", "next": f"/c/test/proposals/{voting_proposal.id}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/c/test/proposals/{voting_proposal.id}")
    page = c.get(f"/c/test/proposals/{voting_proposal.id}").get_data(as_text=True)
    assert "You have voted" in page and "Change my vote" in page
    # Someone outside the electorate sees no form.
    page = login(world.newbie).get(f"/c/test/proposals/{voting_proposal.id}").get_data(as_text=True)
    assert 'name="choice"' not in page


def test_admin_changes_voting_settings_and_the_next_proposal_ballot_follows_them(world, login):
    c = login(world.admin)
    assert "/c/test/voting/settings" in c.get("/c/test/manage").get_data(as_text=True)
    r = c.post("/c/test/voting/settings", data={"auto_open": "y", "default_unit": "household",
                                                "default_rule": "two_thirds", "default_quorum": "half",
                                                "default_days": "3", "paper_rule": "first_wins",
                                                "spoiled_participates": "y"}, follow_redirects=True)
    assert r.status_code == 200
    p = proposals.create(world.community, world.resident, {
        "title": "更换单元门", "body": "单元门坏了很久，建议更换为带门禁的新门。", "category": "safety"})
    proposals.transition(p, "coordinating", world.staff, "附议")
    proposals.transition(p, "voting", world.staff, "表决")
    b = ballot_of(p)
    assert (b.unit, b.rule, b.quorum, b.paper_rule) == ("household", "two_thirds", "half", "first_wins")
    assert login(world.resident).get("/c/test/voting/settings").status_code == 403


def test_staff_set_up_a_building_poll_in_the_browser(world, login):
    from datetime import timedelta

    from core.models import utcnow

    c = login(world.staff)
    assert c.get("/c/test/voting/new").status_code == 200
    closes = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    r = c.post("/c/test/voting/new", data={
        "title": "快递柜放在哪里", "method": "approval", "options": "东门\n北门\n地下车库", "max_choices": "2",
        "unit": "household", "matter_class": "", "rule": "simple", "quorum": "none", "scope": "building",
        "grid_id": "0", "building_id": str(world.building.id), "closes_at": closes, "paper_rule": "refuse",
        "open_now": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    b = Ballot.query.one()
    assert (b.state, b.method, b.scope, b.max_choices) == ("open", "approval", "building", 2)
    assert [o.label for o in b.options] == ["东门", "北门", "地下车库"]
    # The roll: one entry per household with a register in the building.
    assert Voter.query.filter_by(ballot_id=b.id).count() == 4
    html = c.get(f"/c/test/voting/{b.id}/electorate").get_data(as_text=True)
    assert "101" in html and "Not voted yet" in html
    r = login(world.resident).post(f"/c/test/voting/{b.id}/vote", data={"choice": ["0", "1", "2"]},
                                   follow_redirects=True)
    assert "Choose at most 2 options." in r.get_data(as_text=True)
    # A bad form keeps what was typed and says what is wrong.
    r = c.post("/c/test/voting/new", data={"title": "快递柜", "method": "irv", "options": "一\n一", "unit": "person",
                                           "closes_at": closes, "scope": "community", "grid_id": "0",
                                           "building_id": "0", "rule": "simple", "quorum": "none",
                                           "paper_rule": "refuse"})
    assert r.status_code == 200 and "Each option may appear only once." in r.get_data(as_text=True)
    assert Ballot.query.count() == 1
    css = c.get("/c/test/voting/static/voting.css")
    assert css.status_code == 200 and b"paper-sheet" in css.data
    css.close()


def test_a_receipt_already_taken_in_the_ballot_is_lengthened(world, voting_proposal, api, login, monkeypatch):
    # Two chains' hashes sharing a receipt's first characters are rare: make every first try clash.
    real = integrity.receipt_of
    monkeypatch.setattr(integrity, "receipt_of",
                        lambda h, length=integrity.RECEIPT_LEN: "0" * length if length == integrity.RECEIPT_LEN
                        else real(h, length))
    b = ballot_of(voting_proposal)
    url = f"/api/v1/c/test/voting/ballots/{b.id}/votes"
    first = api(world.resident).post(url, json={"choice": "yes"})
    second = api(world.resident2).post(url, json={"choice": "no"})
    assert first.status_code == second.status_code == 201, second.get_json()
    assert first.get_json()["receipt"] == "0" * integrity.RECEIPT_LEN
    receipt = second.get_json()["receipt"]
    assert len(receipt) == integrity.RECEIPT_LEN + 2
    entry = Entry.query.filter_by(ballot_id=b.id, receipt=receipt).one()
    assert entry.hash.upper().startswith(receipt) and entry.counted
    b = db.session.get(Ballot, b.id)
    assert b.voted_count == 2 and b.head_hash == entry.hash  # the chain moved once per vote
    services.close(b, world.staff, "测试")
    page = login(world.resident2).get(f"/c/test/voting/{b.id}/receipts?receipt={receipt}").get_data(as_text=True)
    assert "was counted" in page
