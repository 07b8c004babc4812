"""Notice (R8), voting window (R10) and proxies (R10): service, pages, API, CLI, export."""
import json
import re
from datetime import timedelta
from io import BytesIO

import pytest

from core import dates
from core.extensions import db
from core.models import AuditEntry, Notification, utcnow
from core.services import settings as settings_svc
from plugins.voting import integrity, services
from plugins.voting.models import Ballot, BallotOption, Entry, Proxy, Voter

pytestmark = pytest.mark.plugins("voting")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
BALLOTS = "/api/v1/c/test/voting/ballots"


def iso_in(days, hours=0, base=None):
    return ((base or utcnow()) + timedelta(days=days, hours=hours)).isoformat()


def patch(client, url, json):
    """Change a ballot in preparation: PUT, fields not sent are kept."""
    return client.put(url, json=json)


def owners_draft(api, world, opens_days=16, days=10, **extra):
    r = api(world.staff).post(BALLOTS, json={
        "title": "更换小区门禁系统", "unit": "owners", "matter_class": "ordinary",
        "opens_at": iso_in(opens_days), "closes_at": iso_in(opens_days + days), **extra})
    assert r.status_code == 201, r.get_json()
    return db.session.get(Ballot, r.get_json()["id"])


# ── notice (R8) ──────────────────────────────────────────────────────────────────────────
def test_owners_ballot_cannot_open_before_its_notice_and_names_the_earliest_date(world, estate, api):
    b = owners_draft(api, world, opens_days=3)
    r = api(world.staff).post(f"{BALLOTS}/{b.id}/open")
    err = r.get_json()["error"]
    assert r.status_code == 409 and err["code"] == "notice_required"
    earliest = (dates.today(world.community) + timedelta(days=16)).isoformat()  # 15 whole days, then voting
    assert earliest in err["message"] and "15 days" in err["message"]
    # Publishing the notice now is refused too: voting would open 3 days later, not 15.
    r = api(world.staff).post(f"{BALLOTS}/{b.id}/notice", json={})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "notice_too_short"
    assert earliest in r.get_json()["error"]["message"]
    db.session.expire_all()
    b = db.session.get(Ballot, b.id)
    assert b.state == "draft" and b.notice_published_at is None and Voter.query.count() == 0
    # Created with "open": refused, nothing saved.
    r = api(world.staff).post(BALLOTS, json={"title": "加装电梯", "unit": "owners", "matter_class": "special",
                                             "days": 10, "open": True})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "notice_required"
    assert Ballot.query.count() == 1


def test_published_notice_tells_staff_shows_prints_and_freezes_the_agenda(world, estate, api, login):
    b = owners_draft(api, world, opens_days=16)
    assert login(world.resident).get(f"/c/test/voting/{b.id}").status_code == 404  # not announced yet
    c = login(world.staff)
    r = c.post(f"/c/test/voting/{b.id}/notice", data={"temporary_shown": "1"}, follow_redirects=True)
    assert "The notice is published" in r.get_data(as_text=True)
    db.session.expire_all()
    b = db.session.get(Ballot, b.id)
    assert b.notice_published_at is not None and b.notice_days == 15 and not b.temporary
    # The residents' committee (staff and admins) is told in the app.
    told = {n.user_id for n in Notification.query.filter_by(kind="voting.notice")}
    assert {world.staff.id, world.admin.id} <= told and world.resident.id not in told
    # Residents see the notice on the ballot page and can print it with the agenda.
    page = login(world.resident).get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert "Notice (公告)" in page and "Published on" in page
    printed = login(world.resident).get(f"/c/test/voting/{b.id}/print/call").get_data(as_text=True)
    assert "更换小区门禁系统" in printed and "Agenda" in printed and "Yes" in printed
    # The agenda is frozen: changing the ballot is refused by the API and the page; nothing changes.
    r = patch(api(world.staff), f"{BALLOTS}/{b.id}", {"title": "更换门禁和监控", "matter_class": "special"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "agenda_frozen"
    r = c.post(f"/c/test/voting/{b.id}/edit", data={"title": "改了"}, follow_redirects=True)
    assert "can no longer change" in r.get_data(as_text=True)
    db.session.expire_all()
    b = db.session.get(Ballot, b.id)
    assert b.title == "更换小区门禁系统" and b.matter_class == "ordinary"
    # A second notice is refused.
    assert api(world.staff).post(f"{BALLOTS}/{b.id}/notice", json={}).status_code == 409


def test_options_of_a_poll_change_before_the_notice_and_not_after(world, api):
    settings_svc.set(world.community, "voting", "notice_days_other", 2, actor=world.admin)
    db.session.commit()
    r = api(world.staff).post(BALLOTS, json={"title": "活动选题", "method": "approval",
                                             "options": ["广场舞", "象棋赛"], "opens_at": iso_in(3),
                                             "closes_at": iso_in(10)})
    bid = r.get_json()["id"]
    r = patch(api(world.staff), f"{BALLOTS}/{bid}", {"options": ["广场舞", "象棋赛", "读书会"]})
    assert r.status_code == 200 and [o["label"] for o in r.get_json()["options"]] == ["广场舞", "象棋赛", "读书会"]
    assert api(world.staff).post(f"{BALLOTS}/{bid}/notice", json={}).status_code == 200
    r = patch(api(world.staff), f"{BALLOTS}/{bid}", {"options": ["广场舞", "象棋赛", "读书会", "合唱"]})
    assert r.status_code == 409
    assert [o.label for o in BallotOption.query.filter_by(ballot_id=bid).order_by(BallotOption.position)] == [
        "广场舞", "象棋赛", "读书会"]


def test_temporary_meeting_needs_seven_days_and_other_ballots_none_unless_set(world, estate, api):
    b = owners_draft(api, world, opens_days=8)
    assert api(world.staff).post(f"{BALLOTS}/{b.id}/notice", json={}).status_code == 400  # 15 days
    r = api(world.staff).post(f"{BALLOTS}/{b.id}/notice", json={"temporary": True})
    assert r.status_code == 200 and r.get_json()["temporary"] is True and r.get_json()["notice_days"] == 7
    # A residents' poll opens at once: no notice needed by default...
    r = api(world.staff).post(BALLOTS, json={"title": "外墙颜色", "days": 5, "open": True})
    assert r.status_code == 201 and r.get_json()["state"] == "open"
    # ...unless the community sets one.
    settings_svc.set(world.community, "voting", "notice_days_other", 3, actor=world.admin)
    db.session.commit()
    r = api(world.staff).post(BALLOTS, json={"title": "停车位", "days": 5, "open": True})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "notice_required"


def test_owners_ballot_with_notice_opens_and_voting_starts_at_its_time(world, estate, owners_ballot, api):
    b = owners_ballot()
    assert b.state == "open" and b.manifest["notice"]["min_days"] == 15 and b.manifest["proxy_limit"] == 3
    r = api(world.resident).post(f"{BALLOTS}/{b.id}/votes", json={"choice": "yes"})
    assert r.status_code == 201


# ── voting window (R10) ──────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("unit,days,ok", [("owners", 4, False), ("owners", 5, True), ("owners", 60, True),
                                          ("owners", 61, False), ("person", 1, True), ("person", 90, True),
                                          ("person", 91, False)])
def test_voting_window_bounds(world, api, unit, days, ok):
    base = utcnow()
    data = {"title": "窗口测试", "unit": unit, "opens_at": iso_in(16, base=base),
            "closes_at": iso_in(16 + days, base=base)}
    if unit == "owners":
        data["matter_class"] = "ordinary"
    r = api(world.staff).post(BALLOTS, json=data)
    if ok:
        assert r.status_code == 201, r.get_json()
    else:
        assert r.status_code == 400 and "closes_at" in r.get_json()["error"]["fields"]
        assert str(days) in r.get_json()["error"]["fields"]["closes_at"]
        assert Ballot.query.count() == 0


def test_window_follows_the_settings_in_the_browser(world, login):
    c = login(world.admin)
    r = c.post("/c/test/voting/settings", data={"default_unit": "person", "default_rule": "simple",
                                                "default_quorum": "none", "default_days": "7",
                                                "paper_rule": "refuse", "window_max_days_other": "10",
                                                "window_min_days_other": "2"}, follow_redirects=True)
    assert r.status_code == 200
    assert settings_svc.get(world.community, "voting", "window_max_days_other") == 10
    r = c.post("/c/test/voting/settings", data={"default_unit": "person", "default_rule": "simple",
                                                "default_quorum": "none", "default_days": "7",
                                                "paper_rule": "refuse", "window_min_days": "30",
                                                "window_max_days": "20"})
    assert "must not be fewer" in r.get_data(as_text=True)
    assert settings_svc.get(world.community, "voting", "window_min_days") == 5
    closes = (utcnow() + timedelta(days=12)).strftime("%Y-%m-%dT%H:%M")
    r = login(world.staff).post("/c/test/voting/new", data={
        "title": "快递柜放在哪里", "method": "majority", "unit": "person", "rule": "simple", "quorum": "none",
        "scope": "community", "grid_id": "0", "building_id": "0", "closes_at": closes, "paper_rule": "refuse",
        "open_now": "y"})
    assert r.status_code == 200 and "between 2 and 10 days" in r.get_data(as_text=True), re.findall(
        r"(?:error|flash)[^<]*<[^<]*", r.get_data(as_text=True))
    assert Ballot.query.count() == 0


# ── proxies (R10) ────────────────────────────────────────────────────────────────────────
def voter_of(b, user):
    return Voter.query.filter_by(ballot_id=b.id, user_id=user.id).one()


def test_proxy_votes_online_for_the_principal_counted_once_and_the_principal_is_told(world, estate, owners_ballot,
                                                                                     api, login):
    b = owners_ballot()
    head = voter_of(b, world.building_head)
    r = api(world.staff).post(f"{BALLOTS}/{b.id}/proxies", json={
        "voter_id": head.id, "proxy_user_id": world.resident.id, "witness": "李社工", "instructions": "投赞成"})
    assert r.status_code == 201, r.get_json()
    pid = r.get_json()["id"]
    assert Notification.query.filter_by(user_id=world.resident.id, kind="voting.proxy_held").count() == 1
    # The proxy sees the voters they hold, on the API and on their page, and votes for them.
    me = api(world.resident).get(f"{BALLOTS}/{b.id}").get_json()["me"]
    assert [p["voter_ref"] for p in me["proxies_held"]] == [head.ref]
    home = login(world.resident).get("/c/test/").get_data(as_text=True)  # the dashboard says so too
    assert f"/c/test/voting/{b.id}/proxy" in home and "You hold the proxy of 1 voter" in home
    page = login(world.resident).get(f"/c/test/voting/{b.id}/proxy").get_data(as_text=True)
    assert "投赞成" in page and "楼长" in page
    r = login(world.resident).post(f"/c/test/voting/{b.id}/proxy/{pid}/vote", data={"choice": "yes"},
                                   follow_redirects=True)
    assert "Receipt code" in r.get_data(as_text=True)
    r = api(world.resident).post(f"{BALLOTS}/{b.id}/proxies/{pid}/votes", json={"choice": "no"})
    assert r.status_code == 201
    # The proxy's own vote is separate.
    assert api(world.resident).post(f"{BALLOTS}/{b.id}/votes", json={"choice": "abstain"}).status_code == 201
    db.session.expire_all()
    counted = Entry.query.filter_by(ballot_id=b.id, voter_id=head.id, counted=True).one()
    assert counted.source == "proxy" and counted.entered_by_id == world.resident.id and counted.proxy_id == pid
    assert counted.choice == [1] and Entry.query.filter_by(ballot_id=b.id, voter_id=head.id).count() == 2
    assert db.session.get(Voter, head.id).voted_via == "proxy"
    assert Notification.query.filter_by(user_id=world.building_head.id, kind="voting.proxy_voted").count() == 2
    assert AuditEntry.query.filter_by(action="voting.proxy_voted").count() == 2
    # Someone else may not use the proxy.
    r = api(world.resident2).post(f"{BALLOTS}/{b.id}/proxies/{pid}/votes", json={"choice": "yes"})
    assert r.status_code == 403
    assert db.session.get(Ballot, b.id).voted_count == 2


def test_bad_proxies_are_refused_and_nothing_is_saved(world, estate, owners_ballot, api, login):
    b = owners_ballot()
    zhao = Voter.query.filter_by(ballot_id=b.id, name="赵老伯").one()
    staff = api(world.staff)
    url = f"{BALLOTS}/{b.id}/proxies"
    # Over the limit (3 by default): the fourth voter for the same person is refused.
    others = Voter.query.filter(Voter.ballot_id == b.id).order_by(Voter.id).all()[:4]
    for v in others[:3]:
        assert staff.post(url, json={"voter_id": v.id, "proxy_name": "王 阿姨", "witness": "李社工"}).status_code == 201
    r = staff.post(url, json={"voter_id": others[3].id, "proxy_name": "王阿姨", "witness": "李社工"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "proxy_limit"
    assert "3 proxies" in r.get_json()["error"]["message"]
    # Someone outside the electorate (another ballot's voter), or a proxy who is not a member.
    other = services.create(world.community, world.staff, {"title": "别的表决", "days": 5}, open_now=True)
    foreign = Voter.query.filter_by(ballot_id=other.id).first()
    r = staff.post(url, json={"voter_id": foreign.id, "proxy_name": "张三", "witness": "李社工"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_voter"
    r = staff.post(url, json={"voter_id": zhao.id, "proxy_user_id": world.outsider.id, "witness": "李社工"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_proxy_person"
    r = staff.post(url, json={"voter_id": zhao.id, "proxy_name": "张三"})
    assert r.status_code == 400 and "witness" in r.get_json()["error"]["fields"]
    # A residents' poll takes no proxies; a resident may not record one.
    r = staff.post(f"{BALLOTS}/{other.id}/proxies", json={"voter_id": foreign.id, "proxy_name": "张三",
                                                          "witness": "李社工"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "proxy_not_allowed"
    assert api(world.resident).post(url, json={"voter_id": zhao.id, "proxy_name": "张三",
                                               "witness": "李社工"}).status_code == 403
    # A scan that is not an image (whatever it is called) is refused.
    c = login(world.staff)
    r = c.post(f"/c/test/voting/{b.id}/proxies", data={
        "voter_id": zhao.id, "proxy_name": "张三", "witness": "李社工", "proxy_user_id": "0",
        "scan": (BytesIO(b"%PDF-1.4 not an image"), "scan.png", "image/png")},
        content_type="multipart/form-data")
    assert "Attach a JPEG, PNG or WebP" in r.get_data(as_text=True)
    # On a closed ballot.
    services.close(b, world.staff, "测试")
    r = staff.post(url, json={"voter_id": zhao.id, "proxy_name": "张三", "witness": "李社工"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ballot_closed"
    assert Proxy.query.count() == 3 and AuditEntry.query.filter_by(action="voting.proxy_recorded").count() == 3


def test_staff_record_a_proxy_in_the_browser_with_a_scan_and_revoke_another(world, estate, owners_ballot, login,
                                                                            api):
    b = owners_ballot()
    zhao = Voter.query.filter_by(ballot_id=b.id, name="赵老伯").one()
    head = voter_of(b, world.building_head)
    c = login(world.grid_worker)
    r = c.post(f"/c/test/voting/{b.id}/proxies", data={
        "voter_id": zhao.id, "proxy_user_id": str(world.resident2.id), "witness": "李社工",
        "instructions": "同意续聘", "scan": (BytesIO(PNG), "委托书.jpg", "image/jpeg")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "is recorded" in r.get_data(as_text=True)
    p = Proxy.query.filter_by(voter_id=zhao.id).one()
    assert p.user_id == world.resident2.id and p.scan_type == "image/png"  # by its bytes, not its name
    assert c.get(f"/c/test/voting/{b.id}/proxies/{p.id}/scan").data == PNG
    assert login(world.resident).get(f"/c/test/voting/{b.id}/proxies/{p.id}/scan").status_code == 403
    # A second proxy, revoked before it is used: the holder can then no longer vote with it.
    p2 = services.record_proxy(b, world.staff, {"voter_id": head.id, "proxy_user_id": world.resident2.id,
                                                "witness": "李社工"})
    # revoking asks first: the page says what happens, the reason typed is kept, nothing is revoked yet
    r = c.post(f"/c/test/voting/{b.id}/proxies/{p2.id}/revoke", data={"reason": "业主本人撤回委托"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="confirm" value="1"' in html and 'value="业主本人撤回委托"' in html
    assert "can no longer vote for the voter" in html and services.proxy_by_id(b, p2.id).revoked_at is None
    r = c.post(f"/c/test/voting/{b.id}/proxies/{p2.id}/revoke", data={"reason": "", "confirm": "1"},
               follow_redirects=True)
    assert "Give a reason" in r.get_data(as_text=True)
    r = c.post(f"/c/test/voting/{b.id}/proxies/{p2.id}/revoke", data={"reason": "业主本人撤回委托", "confirm": "1"},
               follow_redirects=True)
    assert "is revoked" in r.get_data(as_text=True)
    r = api(world.resident2).post(f"{BALLOTS}/{b.id}/proxies/{p2.id}/votes", json={"choice": "yes"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "proxy_revoked"
    # Once the proxy has voted, revoking is refused.
    assert api(world.resident2).post(f"{BALLOTS}/{b.id}/proxies/{p.id}/votes", json={"choice": "yes"}).status_code == 201
    r = api(world.staff).post(f"{BALLOTS}/{b.id}/proxies/{p.id}/revoke", json={"reason": "撤回"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "proxy_voted"
    assert Entry.query.filter_by(ballot_id=b.id).count() == 1


def test_principal_voting_in_person_supersedes_the_proxy_and_paper_follows_the_paper_rule(world, estate,
                                                                                         owners_ballot, api):
    b = owners_ballot()
    head = voter_of(b, world.building_head)
    p = services.record_proxy(b, world.staff, {"voter_id": head.id, "proxy_user_id": world.resident.id,
                                               "witness": "李社工"})
    assert api(world.resident).post(f"{BALLOTS}/{b.id}/proxies/{p.id}/votes", json={"choice": "no"}).status_code == 201
    # The owner votes themself: their vote counts, the proxy's stays in the log, the proxy ends.
    assert api(world.building_head).post(f"{BALLOTS}/{b.id}/votes", json={"choice": "yes"}).status_code == 201
    db.session.expire_all()
    entries = Entry.query.filter_by(ballot_id=b.id, voter_id=head.id).order_by(Entry.seq).all()
    assert [(e.source, e.counted, e.choice) for e in entries] == [("proxy", False, [1]), ("online", True, [0])]
    assert db.session.get(Proxy, p.id).revoked_at is not None
    r = api(world.resident).post(f"{BALLOTS}/{b.id}/proxies/{p.id}/votes", json={"choice": "no"})
    assert r.status_code == 409
    # A proxy without an account signs a paper ballot, entered by a grid worker: it is a paper
    # ballot, so the owner's later online vote is refused (paper_rule "refuse").
    gw = voter_of(b, world.resident2)
    p2 = services.record_proxy(b, world.staff, {"voter_id": gw.id, "proxy_name": "刘阿姨", "witness": "李社工"})
    r = api(world.grid_worker).post(f"{BALLOTS}/{b.id}/paper", json={
        "voter_id": gw.id, "choice": "yes", "witness": "李社工", "proxy_id": p2.id})
    assert r.status_code == 201, r.get_json()
    e = Entry.query.filter_by(ballot_id=b.id, voter_id=gw.id).one()
    assert e.source == "paper" and e.proxy_id == p2.id and e.entered_by_id == world.grid_worker.id
    r = api(world.resident2).post(f"{BALLOTS}/{b.id}/votes", json={"choice": "no"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "paper_ballot_counted"
    assert Entry.query.filter_by(ballot_id=b.id, voter_id=gw.id).count() == 1


def test_proxies_in_the_ballot_file_recount_and_tampering_is_caught(world, estate, owners_ballot, api, app, tmp_path):
    b = owners_ballot()
    zhao = Voter.query.filter_by(ballot_id=b.id, name="赵老伯").one()
    p = services.record_proxy(b, world.staff, {"voter_id": zhao.id, "proxy_user_id": world.resident.id,
                                               "witness": "李社工"})
    services.cast(b, world.resident, "yes", source="proxy", proxy=p)
    services.cast(b, world.resident, "yes")
    services.close(b, world.staff, "测试")
    data = api(None).get(f"{BALLOTS}/{b.id}/export").get_json()
    assert data["proxies"] == [{"proxy": "P1", "voter": zhao.ref, "holder": "H1",
                                "recorded_at": data["proxies"][0]["recorded_at"], "revoked_at": None}]
    by_proxy = [e for e in data["entries"] if e.get("proxy")]
    assert len(by_proxy) == 1 and by_proxy[0]["source"] == "proxy" and by_proxy[0]["voter"] == zhao.ref
    out = integrity.recount(data)
    assert out["chain"]["ok"] and out["matches_published_result"] and out["chain"]["proxies"]["ok"]
    runner = app.test_cli_runner()
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(args=["ballots", "recount", str(good)]).exit_code == 0
    # Removing the proxy mark from a ballot breaks the chain; a holder above the limit is reported.
    bad = json.loads(json.dumps(data))
    del [e for e in bad["entries"] if e.get("proxy")][0]["proxy"]
    assert not integrity.recount(bad)["chain"]["ok"]
    over = json.loads(json.dumps(data))
    over["proxies"] += [{"proxy": f"P{i}", "voter": f"V{i}", "holder": "H1", "recorded_at": None,
                         "revoked_at": None} for i in (2, 3, 4)]  # H1 would hold 4 of at most 3
    path = tmp_path / "over.json"
    path.write_text(json.dumps(over, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["ballots", "recount", str(path)])
    assert result.exit_code == 1 and "more than the limit" in result.output
    assert integrity.recount(over)["chain"]["ok"]  # the chain itself is intact
    assert runner.invoke(args=["ballots", "proxies", str(b.id)]).output.count("P1") == 1


def test_a_file_from_before_proxies_recounts(world, voting_proposal, app, tmp_path):
    """An old file: no notice or proxy keys in the manifest, no proxies, entries without `proxy`."""
    b = Ballot.query.filter_by(proposal_id=voting_proposal.id).one()
    services.cast(b, world.resident, "yes")
    services.close(b, world.staff, "测试")
    data = services.export(b)
    manifest = {k: v for k, v in data["manifest"].items() if k not in ("notice", "proxy_limit")}
    h = integrity.genesis(manifest)
    entries = []
    for e in data["entries"]:
        payload = integrity.entry_payload(e["seq"], e["voter"], e["choice"], e["heads"], e["area"], e["source"],
                                          e["at"])
        h = integrity.link(h, payload)
        entries.append({**payload, "hash": h, "receipt": integrity.receipt_of(h), "counted": True})
    old = {**data, "manifest": manifest, "genesis_hash": integrity.genesis(manifest), "entries": entries,
           "closing_hash": integrity.closing(h)}
    out = integrity.recount(old)
    assert out["chain"]["ok"] and "proxies" not in out["chain"] and out["matches_published_result"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["ballots", "recount", str(path)]).exit_code == 0


def test_proxy_pages_and_notice_in_three_languages(world, estate, owners_ballot, login):
    from core.services import accounts

    b = owners_ballot()
    head = voter_of(b, world.building_head)
    services.record_proxy(b, world.staff, {"voter_id": head.id, "proxy_user_id": world.resident.id,
                                           "witness": "李社工"})
    for locale, words in (("zh_Hans", ("代理投票", "打印公告")), ("zh_Hant", ("代理投票", "列印公告")),
                          ("en", ("Vote as a proxy", "Print the notice"))):
        accounts.set_preferences(world.resident, locale=locale)
        c = login(world.resident)
        assert words[0] in c.get(f"/c/test/voting/{b.id}/proxy").get_data(as_text=True)
        assert words[1] in c.get(f"/c/test/voting/{b.id}").get_data(as_text=True)
    assert re.search(r"P1", login(world.staff).get(f"/c/test/voting/{b.id}/proxies").get_data(as_text=True))


def test_proxy_scans_and_paper_photos_go_through_the_api_both_ways(world, estate, owners_ballot, api):
    """A grid worker with only the API records a proxy with its signed scan and a paper ballot with
    its photo (base64), and staff read both back; a file that is not an image is refused and
    nothing is saved."""
    import base64

    b = owners_ballot()
    zhao = Voter.query.filter_by(ballot_id=b.id, name="赵老伯").one()
    head = voter_of(b, world.building_head)
    gw = api(world.grid_worker)
    png = base64.b64encode(PNG).decode()
    bad = base64.b64encode(b"%PDF-1.4 not an image").decode()
    url = f"{BALLOTS}/{b.id}/proxies"
    r = gw.post(url, json={"voter_id": zhao.id, "proxy_name": "赵小明", "witness": "李社工", "scan": bad})
    assert r.status_code == 400 and "scan" in r.get_json()["error"]["fields"]
    r = gw.post(url, json={"voter_id": zhao.id, "proxy_name": "赵小明", "witness": "李社工", "scan": "不是base64"})
    assert r.status_code == 400 and "scan" in r.get_json()["error"]["fields"]
    assert Proxy.query.count() == 0
    r = gw.post(url, json={"voter_id": zhao.id, "proxy_name": "赵小明", "witness": "李社工", "scan": png})
    assert r.status_code == 201 and r.get_json()["has_scan"] is True
    scan = api(world.staff).get(f"{url}/{r.get_json()['id']}/scan")
    assert scan.status_code == 200 and scan.mimetype == "image/png" and scan.data == PNG
    assert api(world.resident).get(f"{url}/{r.get_json()['id']}/scan").status_code == 403
    paper = f"{BALLOTS}/{b.id}/paper"
    r = gw.post(paper, json={"voter_id": head.id, "choice": "yes", "witness": "李社工", "photo": bad})
    assert r.status_code == 400 and "photo" in r.get_json()["error"]["fields"]
    assert Entry.query.filter_by(ballot_id=b.id).count() == 0
    r = gw.post(paper, json={"voter_id": head.id, "choice": "yes", "witness": "李社工", "photo": png})
    assert r.status_code == 201, r.get_json()
    entry_id = Entry.query.filter_by(ballot_id=b.id, voter_id=head.id).one().id
    photo = api(world.staff).get(f"{paper}/{entry_id}/photo")
    assert photo.status_code == 200 and photo.data == PNG


@pytest.mark.parametrize("hour", [0, 1, 7, 23])
def test_notice_days_are_whole_days_of_the_community_calendar(world, hour):
    """A notice put up at any hour of 2 December (Beijing) for 15 days lets voting open from
    00:00 on 18 December: the day it went up is not counted, nor is the hour in UTC (Art. 201)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    bj = ZoneInfo("Asia/Shanghai")
    published = datetime(2026, 12, 2, hour, 30, tzinfo=bj)
    earliest = services.earliest_opening(world.community, published, 15)
    assert earliest.astimezone(bj) == datetime(2026, 12, 18, 0, 0, tzinfo=bj)
    assert services.earliest_opening(world.community, published, 0) == published
