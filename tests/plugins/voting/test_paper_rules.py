"""No vote changes behind the voter's back (issue 17): a paper ballot entered for a voter who
already voted online follows the ballot's paper rule. The person entering it is shown the online
vote (when and how; what only on a named ballot) and must confirm that vote and give a reason;
the voter is told in the app which ballot counts. Under "refuse" nothing is recorded. Services,
pages and the API; the ballot file recounts under each rule."""
import json
import re

import pytest

from tests.plugins.voting.conftest import refused

from core.errors import Conflict, ServiceError
from core.extensions import db
from core.models import AuditEntry, Notification
from plugins.voting import integrity, services
from plugins.voting.models import Ballot, Entry, Voter

pytestmark = pytest.mark.plugins("voting")
BALLOTS = "/api/v1/c/test/voting/ballots"
RULES = ("refuse", "paper_wins", "first_wins")


def open_ballot(world, rule, **data):
    return services.create(world.community, world.staff, {"title": "小区停车位划线", "days": 7, "paper_rule": rule,
                                                          **data}, open_now=True)


def voter_of(b, user):
    return Voter.query.filter_by(ballot_id=b.id, user_id=user.id).one()


def entries(b, voter):
    db.session.expire_all()
    return [(e.source, e.counted, e.set_aside, e.choice)
            for e in Entry.query.filter_by(ballot_id=b.id, voter_tag=services.chain_tag(b, voter)).order_by(Entry.seq)]


def notes(user):
    return [n.message % n.params for n in Notification.query.filter_by(user_id=user.id).order_by(Notification.id)]


def paper(b, world, voter, choice="no", **kw):
    return services.cast(b, world.grid_worker, choice, voter=voter, source="paper", witness="楼长", **kw)


@pytest.mark.parametrize("rule", RULES)
def test_a_paper_ballot_over_an_online_vote_follows_the_rule_and_the_voter_is_told(world, rule, runner, tmp_path):
    b = open_ballot(world, rule)
    v = voter_of(b, world.resident)
    online = services.cast(b, world.resident, "yes")
    db.session.commit()  # as the vote's request does
    before, told_before = db.session.get(Ballot, b.id).entries_count, len(notes(world.resident))
    # Entered without looking: refused, with the online vote to show (when, how and, on a named
    # ballot, what); nothing is written.
    with refused(Conflict) as err:
        paper(b, world, v)
    shown = err.value.details["online_vote"]
    assert shown["seq"] == online.seq and shown["source"] == "online" and shown["choice"] == [0]
    assert shown["voter"] == v.ref and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", shown["when"])
    if rule == "refuse":
        assert err.value.code == "online_vote_counts"
        # Confirming changes nothing under "refuse": a paper ballot never replaces an online vote.
        with refused(Conflict) as again:
            paper(b, world, v, confirm_online=online.seq, note="本人到社区补签")
        assert again.value.code == "online_vote_counts"
    else:
        assert err.value.code == "online_vote_exists" and "confirm_online" in err.value.fields
        # Confirming some other vote, or without a reason: still refused.
        with refused(Conflict):
            paper(b, world, v, confirm_online=online.seq + 1, note="本人到社区补签")
        with refused(ServiceError) as no_reason:
            paper(b, world, v, confirm_online=online.seq, note=" ")
        assert no_reason.value.code == "reason_required" and "note" in no_reason.value.fields
    db.session.expire_all()
    assert db.session.get(Ballot, b.id).entries_count == before
    assert entries(b, v) == [("online", True, False, [0])] and len(notes(world.resident)) == told_before

    if rule != "refuse":
        entry = paper(b, world, v, confirm_online=online.seq, note="本人到社区补签")
        assert entry.note == "本人到社区补签"
        audit = AuditEntry.query.filter_by(action="voting.paper_entered").one()
        assert audit.reason == "本人到社区补签" and audit.after["over_online"] == online.seq
        told = notes(world.resident)[-1]
        assert "网格员" in told and "小区停车位划线" in told
    db.session.expire_all()
    v = db.session.get(Voter, v.id)
    if rule == "paper_wins":
        assert entries(b, v) == [("online", False, False, [0]), ("paper", True, False, [1])]
        assert v.voted_via == "paper" and "it counts instead of your online vote" in told
        # The paper ballot counts: a later online vote is refused.
        with refused(Conflict) as later:
            services.cast(b, world.resident, "yes")
        assert later.value.code == "paper_ballot_counted"
    elif rule == "first_wins":
        assert entries(b, v) == [("online", True, False, [0]), ("paper", False, True, [1])]
        assert v.voted_via == "online" and "still counts" in told
        services.cast(b, world.resident, "abstain")  # the voter may still change their online vote
        assert entries(b, v)[-1] == ("online", True, False, [2])
    else:
        services.cast(b, world.resident, "no")
        assert entries(b, v) == [("online", False, False, [0]), ("online", True, False, [1])]
    assert db.session.get(Ballot, b.id).voted_count == 1
    # The file says so, and recounts.
    services.close(b, world.staff, "测试")
    data = services.export(db.session.get(Ballot, b.id))
    assert data["manifest"]["paper_rule"] == rule
    assert [e.get("set_aside", False) for e in data["entries"]] == ([False, True, False] if rule == "first_wins"
                                                                    else [False, False])
    out = integrity.recount(data)
    assert out["ok"], out["problems"]
    path = tmp_path / "ballot.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(args=["ballots", "recount", str(path)]).exit_code == 0


def test_the_online_vote_shown_on_a_secret_ballot_says_when_and_how_not_what(world):
    b = open_ballot(world, "paper_wins", secret=True)
    v = voter_of(b, world.resident)
    services.cast(b, world.resident, "yes")
    with refused(Conflict) as err:
        paper(b, world, v)
    shown = err.value.details["online_vote"]
    assert "choice" not in shown and "choice_text" not in shown and shown["source"] == "online"


def test_a_vote_changed_after_it_was_shown_must_be_looked_at_again(world):
    """The worker confirms the online vote they were shown; the voter changes it meanwhile."""
    b = open_ballot(world, "paper_wins")
    v = voter_of(b, world.resident)
    seen = services.cast(b, world.resident, "yes")
    changed = services.cast(b, world.resident, "no")
    with refused(Conflict) as err:
        paper(b, world, v, confirm_online=seen.seq, note="补签")
    assert err.value.details["online_vote"]["seq"] == changed.seq
    assert entries(b, v)[-1] == ("online", True, False, [1])


def test_paper_first_then_online_is_refused_under_every_rule(world):
    for rule in RULES:
        b = open_ballot(world, rule, title=f"规则 {rule}")
        v = voter_of(b, world.resident2)
        paper(b, world, v, "yes")
        with refused(Conflict) as err:
            services.cast(b, world.resident2, "no")
        assert err.value.code == "paper_ballot_counted"
        assert entries(b, v) == [("paper", True, False, [0])]


def test_a_ballot_opened_under_the_old_rule_latest_keeps_it(world, runner, tmp_path):
    """Ballots opened before the three rules say "latest" in their frozen manifest: an online
    vote after a paper ballot still counts there, and their file recounts."""
    b = open_ballot(world, "paper_wins")
    b.paper_rule = "latest"
    b.manifest = {**b.manifest, "paper_rule": "latest"}
    b.genesis_hash = b.head_hash = integrity.genesis(b.manifest)
    db.session.commit()
    v = voter_of(b, world.resident2)
    paper(b, world, v, "yes")
    services.cast(b, world.resident2, "no")
    assert entries(b, v) == [("paper", False, False, [0]), ("online", True, False, [1])]
    services.close(b, world.staff, "测试")
    out = integrity.recount(services.export(db.session.get(Ballot, b.id)))
    assert out["ok"], out["problems"]
    # Sent again, "latest" is read as the nearest rule of today.
    later = services.create(world.community, world.staff, {"title": "旧规则", "days": 3, "paper_rule": "latest"})
    assert later.paper_rule == "paper_wins"


def test_the_worker_sees_the_online_vote_and_confirms_in_the_browser(world, login):
    b = open_ballot(world, "paper_wins")
    v = voter_of(b, world.resident)
    services.cast(b, world.resident, "yes")
    gw = login(world.grid_worker)
    page = gw.get(f"/c/test/voting/{b.id}/paper?voter_id={v.id}").get_data(as_text=True)
    box = page[page.index('id="online-vote"'):]
    assert "has already voted online" in box and "Counted vote: Yes" in box and 'name="confirm_online"' in box
    assert "Paper wins" in page  # the ballot's rule
    form = {"voter_id": v.id, "choice": "no", "witness": "楼长", "action": "enter"}
    html = gw.post(f"/c/test/voting/{b.id}/paper", data=form).get_data(as_text=True)
    assert "already voted online" in html and 'id="online-vote"' in html
    assert 'value="no" required checked' in html  # the choice is kept for the confirmation
    assert Entry.query.filter_by(ballot_id=b.id).count() == 1
    seq = re.search(r'name="confirm_online" value="(\d+)"', html).group(1)
    html = gw.post(f"/c/test/voting/{b.id}/paper", data={**form, "confirm_online": seq},
                   follow_redirects=True).get_data(as_text=True)
    assert "Say why a paper ballot is entered" in html and Entry.query.filter_by(ballot_id=b.id).count() == 1
    r = gw.post(f"/c/test/voting/{b.id}/paper", data={**form, "confirm_online": seq, "note": "本人到社区补签"},
                follow_redirects=True)
    assert "is recorded" in r.get_data(as_text=True)
    # The voter sees the notice and which ballot counts.
    voter = login(world.resident)
    inbox = voter.get("/auth/notifications").get_data(as_text=True)
    assert "it counts instead of your online vote" in inbox
    page = voter.get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "Your counted vote: No" in page and "Paper wins" in page


def test_under_refuse_the_worker_is_told_and_cannot_confirm(world, login):
    b = open_ballot(world, "refuse")
    v = voter_of(b, world.resident)
    services.cast(b, world.resident, "yes")
    page = login(world.grid_worker).get(f"/c/test/voting/{b.id}/paper?voter_id={v.id}").get_data(as_text=True)
    box = page[page.index('id="online-vote"'):page.index("</div>", page.index('id="online-vote"'))]
    assert "cannot replace an online vote" in box and "confirm_online" not in box


def test_the_api_answers_with_the_online_vote_and_takes_the_confirmation(world, api):
    b = open_ballot(world, "first_wins")
    v = voter_of(b, world.resident)
    seq = api(world.resident).post(f"{BALLOTS}/{b.id}/votes", json={"choice": "yes"}).get_json()["seq"]
    gw = api(world.grid_worker)
    body = {"voter_id": v.id, "choice": "no", "witness": "楼长"}
    r = gw.post(f"{BALLOTS}/{b.id}/paper", json=body)
    error = r.get_json()["error"]
    assert r.status_code == 409 and error["code"] == "online_vote_exists"
    assert error["details"]["online_vote"]["seq"] == seq and error["details"]["paper_rule"] == "first_wins"
    r = gw.post(f"{BALLOTS}/{b.id}/paper", json={**body, "confirm_online": "yes"})
    assert r.status_code == 400  # not a number
    r = gw.post(f"{BALLOTS}/{b.id}/paper", json={**body, "confirm_online": seq, "note": "纸质票已签"})
    assert r.status_code == 201 and r.get_json()["counted"] is False
    me = api(world.resident).get(f"{BALLOTS}/{b.id}").get_json()["me"]
    assert me["voted_via"] == "online" and me["choice"] == [0]
    assert api(world.staff).get(f"{BALLOTS}/{b.id}").get_json()["paper_rule"] == "first_wins"


def test_settings_offer_the_three_rules_and_the_ballot_page_shows_the_rule(world, login):
    c = login(world.admin)
    page = c.get("/c/test/voting/settings").get_data(as_text=True)
    for value in RULES:
        assert f'value="{value}"' in page
    assert 'value="latest"' not in page
    data = {"auto_open": "y", "default_unit": "person", "default_rule": "simple", "default_quorum": "none",
            "default_days": "7", "paper_rule": "first_wins", "spoiled_participates": "y"}
    assert c.post("/c/test/voting/settings", data=data).status_code == 302
    assert services.setting(world.community, "paper_rule") == "first_wins"
    form = c.get("/c/test/voting/new").get_data(as_text=True)
    assert re.search(r'<option selected value="first_wins"|<option value="first_wins" selected', form)
    b = open_ballot(world, None)
    assert b.paper_rule == "first_wins"
    page = login(world.resident).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "First wins: the first ballot counts" in page
