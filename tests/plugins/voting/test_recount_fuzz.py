"""`linli ballots recount` on damaged and forged files (issue 17): every problem is reported as a
problem, with exit status 1, never a traceback. The file holds every kind of entry (online, by
proxy, paper by proxy, a correction, a spoiled sheet, a paper ballot set aside under
"first_wins", a voter added to the roll after it was fixed). Each part of it is changed in many
ways; forged files are also given a valid hash chain, so that only the checks of what the file
says (options, weights, the roll, the paper rule, the counted marks) can find them."""
import copy
import json
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import Household, HouseholdMember, Membership
from core.services import accounts
from plugins.voting import integrity, services
from plugins.voting.models import Ballot, Voter

pytestmark = pytest.mark.plugins("voting")


def voter_of(b, user):
    return Voter.query.filter_by(ballot_id=b.id, user_id=user.id).one()


@pytest.fixture
def files(world, estate, owners_ballot):
    """(an owners' ballot file with every kind of entry, a secret residents' ballot file)."""
    b = owners_ballot(paper_rule="first_wins")
    head = voter_of(b, world.building_head)
    online = services.cast(b, world.building_head, "yes")
    services.cast(b, world.grid_worker, "no", voter=head, source="paper", witness="楼长",
                  confirm_online=online.seq, note="纸质票已签")  # set aside: the online vote came first
    r2 = voter_of(b, world.resident2)
    services.cast(b, world.grid_worker, "no", voter=r2, source="paper", witness="楼长")
    services.cast(b, world.grid_worker, "yes", voter=r2, source="correction", witness="楼长", note="录入时勾错")
    zhao = Voter.query.filter_by(ballot_id=b.id, name="赵老伯").one()
    p1 = services.record_proxy(b, world.staff, {"voter_id": zhao.id, "proxy_user_id": world.resident.id,
                                                "witness": "李社工"})
    services.cast(b, world.resident, "yes", source="proxy", proxy=p1)
    services.cast(b, world.resident, "abstain")
    gw = voter_of(b, world.grid_worker)
    p2 = services.record_proxy(b, world.staff, {"voter_id": gw.id, "proxy_name": "刘阿姨", "witness": "李社工"})
    services.cast(b, world.staff, None, voter=gw, source="paper", witness="楼长", proxy=p2, spoiled=True)
    new = Household(community_id=world.community.id, unit_id=world.unit.id, room="501", floor_area=Decimal("77.70"))
    db.session.add(new)
    db.session.flush()
    db.session.add(HouseholdMember(household_id=new.id, name="新业主", relation="owner"))
    db.session.commit()
    added, _entry = services.add_to_roll(b, world.staff, services.missed_voters(b)[0]["token"], "新交付房屋")
    services.cast(b, world.grid_worker, "yes", voter=added, source="paper", witness="楼长")
    services.close(b, world.staff, "测试")
    owners = services.export(db.session.get(Ballot, b.id))

    s = services.create(world.community, world.staff, {"title": "楼长选举", "method": "irv", "secret": True,
                                                       "options": ["张", "王", "李"], "days": 3}, open_now=True)
    services.cast(s, world.resident, [2, 0])
    services.cast(s, world.resident2, [1])
    services.cast(s, world.resident2, [0, 1, 2])
    m = Membership.query.filter_by(user_id=world.newbie.id, community_id=world.community.id).one()
    accounts.verify_resident(m, world.households[0], "resident", world.staff)
    services.add_to_roll(s, world.staff, services.missed_voters(s)[0]["token"], "开票后核实")
    services.cast(s, world.newbie, [1, 2])
    services.close(s, world.staff, "测试")
    secret = services.export(db.session.get(Ballot, s.id))
    for data in (owners, secret):
        out = integrity.recount(data)
        assert out["ok"] and out["matches_published_result"], out["problems"]
    sources = {(e["source"], bool(e.get("proxy")), bool(e.get("set_aside")), e["choice"] is None)
               for e in owners["entries"]}
    assert {("online", False, False, False), ("paper", False, True, False), ("correction", False, False, False),
            ("proxy", True, False, False), ("paper", True, False, True), ("roll", False, False, True)} <= sources
    return owners, secret


def leaves(node, path=()):
    """Every place in the file: (path, value) for each value, containers included."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from leaves(v, path + (i,))


def mutations(data):
    """(description, damaged copy) for many changes of every part of ``data``."""
    for path, value in leaves(data):
        if not path:
            continue
        if isinstance(value, bool):
            others = [not value, None, "x"]
        elif isinstance(value, int):
            others = [value + 1, -1, None, "x", 10 ** 30, 1.5]
        elif isinstance(value, str):
            others = [value + "x", "", None, 0, ["x"]]
        elif value is None:
            others = ["x", 0, [], {}]
        else:
            others = [None, "x"]
        for other in others:
            yield f"{path} = {other!r}", _set(data, path, other)
        parent = path[:-1]
        yield f"del {path}", _delete(data, path)
        if isinstance(value, (dict, list)) and isinstance(_get(data, parent), list):
            yield f"dup {path}", _duplicate(data, path)


def _get(data, path):
    for k in path:
        data = data[k]
    return data


def _set(data, path, value):
    out = copy.deepcopy(data)
    _get(out, path[:-1])[path[-1]] = value
    return out


def _delete(data, path):
    out = copy.deepcopy(data)
    del _get(out, path[:-1])[path[-1]]
    return out


def _duplicate(data, path):
    out = copy.deepcopy(data)
    _get(out, path[:-1]).append(copy.deepcopy(_get(out, path)))
    return out


def recount_cli(runner, tmp_path, data, raw=None):
    path = tmp_path / "ballot.json"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exception is None or isinstance(r.exception, SystemExit), \
        f"{r.exception!r}\n{r.output[-2000:]}"
    assert "Traceback" not in r.output
    return r


def refused(r):
    """Exit status 1 with a message: the report's problems, or why it is no ballot file."""
    if r.exit_code != 1:
        return False
    if r.output.startswith("Error:"):
        return len(r.output.strip()) > len("Error:")
    out = json.loads(r.output)
    return not out["ok"] and out["problems"] and all(isinstance(p, str) and p for p in out["problems"])


def test_every_change_to_a_ballot_file_is_reported_never_a_traceback(files, runner, tmp_path):
    tried, missed = 0, []
    for data in files:
        for what, damaged in mutations(data):
            tried += 1
            r = recount_cli(runner, tmp_path, damaged)
            if not refused(r):
                missed.append(what)
    assert tried > 1500
    assert not missed, f"{len(missed)} of {tried} changes went unreported:\n" + "\n".join(missed[:40])


@pytest.mark.parametrize("raw", [
    b"", b"[]", b"null", b"42", b'"linli-ballot/1"', b"{}", b'{"format": "linli-ballot/1"}',
    b'{"format": "linli-ballot/1", "manifest": [], "entries": {}, "roll": "x"}',
    b"\xff\xfe\x00garbage", b'{"format": "linli-ballot/1", "entries": [' + b"[" * 50000 + b"]" * 50000 + b"]}",
    b'{"format": "linli-ballot/1", "manifest": {"electorate": {"heads": 1' + b"0" * 5000 + b"}}}",
    b'{"format": "linli-ballot/1"', b'{"format": "linli-ballot/1", "manifest": {"method": NaN}}'])
def test_garbage_is_refused_with_a_message(app, runner, tmp_path, raw):
    r = recount_cli(runner, tmp_path, None, raw=raw)
    assert refused(r), r.output[-500:]


def rehash(data):
    """What a forger with the code does: a valid chain over whatever the file now says."""
    h = data["genesis_hash"] = integrity.genesis(data["manifest"])
    for e in sorted(data["entries"], key=lambda e: e["seq"]):
        h = e["hash"] = integrity.link(h, integrity.payload_of(e))
        e["receipt"] = integrity.receipt_of(h)
    data["closing_hash"] = integrity.closing(h)
    return data


def _entry(data, **match):
    return next(e for e in data["entries"] if all(e.get(k) == v for k, v in match.items()))


def forge_option(d):
    _entry(d, source="online")["choice"] = [5]


def forge_weight(d):
    _entry(d, source="correction")["heads"] = 2


def forge_area(d):
    e = _entry(d, source="correction")
    e["area"] = "999.99"


def forge_stranger(d):
    _entry(d, source="correction")["voter"] = "V999"


def forge_online_after_paper(d):
    e = copy.deepcopy(_entry(d, source="correction"))
    e.update(seq=len(d["entries"]) + 1, source="online", choice=[1], counted=True)
    _entry(d, source="correction")["counted"] = False
    d["entries"].append(e)


def forge_set_aside_counted(d):
    e = _entry(d, set_aside=True)
    del e["set_aside"]


def forge_counted_marks(d):
    _entry(d, set_aside=True)["counted"] = True
    _entry(d, source="online")["counted"] = False


def forge_spoiled_online(d):
    _entry(d, source="online")["choice"] = None


def forge_two_choices(d):
    _entry(d, source="online")["choice"] = [0, 1]


def forge_roll_entry_vote(d):
    _entry(d, source="roll")["choice"] = [0]


def forge_roll_without_reason(d):
    _entry(d, source="roll")["reason"] = ""


def forge_added_voter_earlier(d):
    roll = _entry(d, source="roll")
    vote = next(e for e in d["entries"] if e["voter"] == roll["voter"] and e["source"] != "roll")
    roll["seq"], vote["seq"] = vote["seq"], roll["seq"]
    next(r for r in d["roll"] if r["voter"] == roll["voter"])["added"] = roll["seq"]  # a careful forger


def forge_paper_rule(d):
    d["manifest"]["paper_rule"] = "paper_wins"  # the set-aside ballot would have counted


def forge_unknown_source(d):
    _entry(d, source="online")["source"] = "mail"


def forge_result(d):
    d["result"]["passed"] = not d["result"]["passed"]


@pytest.mark.parametrize("forge,words", [
    (forge_option, "option that does not exist"), (forge_weight, "weight differs from the roll"),
    (forge_area, "weight differs from the roll"), (forge_stranger, "is not on the roll"),
    (forge_online_after_paper, "paper rule refuses"), (forge_set_aside_counted, "set aside"),
    (forge_counted_marks, "marked as counted"), (forge_spoiled_online, "only a paper ballot can be spoiled"),
    (forge_two_choices, "exactly one choice"), (forge_roll_entry_vote, "carries a ballot"),
    (forge_roll_without_reason, "without a reason"), (forge_added_voter_earlier, "before being added"),
    (forge_paper_rule, "set aside"), (forge_unknown_source, "unknown source"),
    (forge_result, "differs from the published result")])
def test_a_forged_file_with_a_valid_chain_is_caught(files, runner, tmp_path, forge, words):
    data = copy.deepcopy(files[0])
    forge(data)
    rehash(data)
    out = integrity.recount(data)
    assert out["chain"]["ok"] and not out["ok"]
    assert any(words in p for p in out["problems"]), out["problems"]
    r = recount_cli(runner, tmp_path, data)
    assert r.exit_code == 1 and any(words in p for p in json.loads(r.output)["problems"])


def test_a_forged_secret_file_with_a_weight_off_the_roll_is_caught(files):
    data = copy.deepcopy(files[1])
    _entry(data, source="online")["heads"] = 5
    out = integrity.recount(rehash(data))
    assert not out["ok"] and any("weight differs" in p for p in out["problems"])


def test_problems_are_in_the_users_language(files, runner, tmp_path, monkeypatch):
    data = copy.deepcopy(files[0])
    forge_option(data)
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(rehash(data), ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("LINLI_LANG", "zh_CN.UTF-8")
    from flask_babel import refresh

    refresh()  # the test's app context already chose a language; the command line chooses by LINLI_LANG
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exit_code == 1 and "不存在的选项" in r.output
