"""The ballot log (R31): a hash chain over every ballot cast, and the recount of an export.

    h0      = SHA-256( canonical(manifest) )
    h_i     = SHA-256( h_{i-1} "\\n" canonical(entry_i) )        (hex digests, UTF-8)
    close   = SHA-256( h_n "\\n" "CLOSE" )
    receipt = the first 10 characters of h_i, upper-case (longer if needed to be unique)

``canonical`` is JSON with sorted keys, no spaces and UTF-8 characters as they are. The latest
entry of each voter tag counts, except entries set aside (a paper ballot recorded after an online
vote under the rule ``first_wins``) and roll entries (a voter added to the roll after it was
fixed, which carries that voter's weight into the totals); earlier ones stay in the chain,
superseded. Pure code: the server and `linli ballots recount` use the same functions
(docs/ballot-format.md).

:func:`recount` checks everything a file says, not only its hashes: a file rebuilt with a valid
chain but an option that does not exist, a voter not on the roll, a weight other than the roll's,
a ballot the ballot's paper rule refuses, or ``counted`` marks that do not follow from the chain
is reported problem by problem, never with an exception. Each problem is a :class:`Problem`: its
English text, and the message id and values the command line translates it with."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from datetime import datetime

from plugins.voting.counting import ELECTORATE_MODES, RESIDENTS_MEETING
from plugins.voting.counting import (MATTER_CLASSES, METHODS, QUORUMS, RULES, UNANIMOUS, UNITS, Spec, area_to_int,
                                     count, count_unanimous)

FORMAT = "linli-ballot/2"
# Every format recount reads. /2 (issue 18) adds terms to the manifest (the residents' meeting
# rule and its electorate, elections, unanimity); a /1 file is laid out the same way and hashes
# as it always did, so it verifies and recounts as before.
FORMATS = ("linli-ballot/1", FORMAT)
RECEIPT_LEN = 10
BALLOT_SOURCES = ("online", "paper", "correction", "proxy")
PAPER_SOURCES = ("paper", "correction")
ROLL_SOURCE = "roll"  # a voter added to the roll after it was fixed (not a ballot)
# What happens when a voter has both an online vote and a paper ballot (docs/voting.md).
# "latest" is the rule of ballots opened before the three existed: the latest ballot counts.
PAPER_RULES = ("refuse", "paper_wins", "first_wins")
LEGACY_PAPER_RULES = ("latest",)
MAJORITY = ["yes", "no", "abstain"]
ENTRY_KEYS = ("seq", "voter", "choice", "heads", "area", "source", "at", "hash", "receipt", "counted")
MAX_PROBLEMS = 200  # past this a file is damaged beyond listing every problem
_AREA = re.compile(r"\d{1,12}\.\d{2}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PROXY, _HOLDER = re.compile(r"P[1-9][0-9]*"), re.compile(r"H[1-9][0-9]*")


def N_(msgid):
    """Mark a message for extraction; the command line translates it (Problem.msgid)."""
    return msgid


class Problem(str):
    """A problem found in a ballot file: the English text, and ``msgid``/``params`` to translate it."""

    msgid: str
    params: dict

    def __new__(cls, msgid, **params):
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid, self.params = msgid, params
        return self


def canonical(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def genesis(manifest: dict) -> str:
    return sha(canonical(manifest))


def link(prev: str, entry: dict) -> str:
    return sha(prev.encode() + b"\n" + canonical(entry))


def closing(head: str) -> str:
    return sha(head.encode() + b"\nCLOSE")


def roll_hash(roll: list) -> str:
    """Hash of the published electorate: [{"voter", "heads", "area"}, ...] sorted by voter tag."""
    return sha(canonical(sorted(roll, key=lambda r: r["voter"])))


def receipt_of(h: str, length: int = RECEIPT_LEN) -> str:
    return h[:length].upper()


def entry_payload(seq, voter, choice, heads, area, source, at, rule_source=None, proxy=None, set_aside=False,
                  reason=None) -> dict:
    """The part of a ballot that is hashed (and exported). ``proxy`` (the authorisation's number,
    P1...) is present only on ballots cast by a proxy, ``set_aside`` only on a ballot recorded
    without counting, ``reason`` only on a roll entry, so older files hash as before."""
    data = {"seq": seq, "voter": voter, "choice": list(choice) if choice is not None else None,
            "heads": heads, "area": area, "source": source, "at": at}
    if rule_source:
        data["rule_source"] = rule_source
    if proxy:
        data["proxy"] = proxy
    if set_aside:
        data["set_aside"] = True
    if reason:
        data["reason"] = reason
    return data


def payload_of(e: dict) -> dict:
    """The hashed part of an exported entry (the keys it has, as they are)."""
    data = {k: e.get(k) for k in ("seq", "voter", "choice", "heads", "area", "source", "at")}
    for key in ("rule_source", "proxy", "set_aside", "reason"):
        if e.get(key):
            data[key] = e[key]
    return data


def channel(source):
    """How a ballot came in, for the paper rule: ``paper`` (paper, correction), ``proxy`` or ``online``."""
    return "paper" if source in PAPER_SOURCES else source


def latest_per_voter(entries):
    """The counted entries: the last (highest seq) ballot of each voter tag, leaving out entries
    set aside and roll entries."""
    latest = {}
    for e in entries:
        if e.get("set_aside") or e.get("source") == ROLL_SOURCE:
            continue
        cur = latest.get(e["voter"])
        if cur is None or e["seq"] > cur["seq"]:
            latest[e["voter"]] = e
    return sorted(latest.values(), key=lambda e: e["seq"])


def _is_int(x):
    """Whether ``x`` is a JSON integer as the file format requires (a bool is not)."""
    return isinstance(x, int) and not isinstance(x, bool)


def _area(x):
    """Hundredths of a m² of an area written with two decimals ("89.50"), or None."""
    if not isinstance(x, str) or not _AREA.fullmatch(x):
        return None
    return int(x.replace(".", ""))


def _time(x):
    if not isinstance(x, str) or len(x) > 40:
        return None
    try:
        t = datetime.fromisoformat(x)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def _ordered(entries):
    """The dict entries in seq order (file order when a seq is not a whole number)."""
    items = [e for e in entries if isinstance(e, dict)]
    if all(_is_int(e.get("seq")) for e in items):
        return sorted(items, key=lambda e: e["seq"])
    return items


def verify(export: dict) -> dict:
    """Check an export's chain: genesis, the roll's hash, every link, receipts, the closing hash."""
    problems = []
    manifest = export.get("manifest") if isinstance(export, dict) else None
    if not isinstance(manifest, dict):
        return {"ok": False, "problems": [Problem(N_("The file has no manifest."))], "head_hash": None,
                "closing_hash": None}
    h = genesis(manifest)
    if export.get("genesis_hash") != h:
        problems.append(Problem(N_("The genesis hash does not match the manifest.")))
    electorate = manifest.get("electorate") if isinstance(manifest.get("electorate"), dict) else {}
    roll = export.get("roll")
    if electorate.get("roll_hash") is not None:
        try:
            original = [r for r in roll if "added" not in r]
            ok = roll_hash(original) == electorate["roll_hash"]
        except (TypeError, KeyError, AttributeError):
            ok = False
        if not ok:
            problems.append(Problem(N_("The roll's hash does not match the published electorate.")))
    entries = export.get("entries")
    if not isinstance(entries, list):
        entries = []
        problems.append(Problem(N_("The file has no list of entries.")))
    for i, e in enumerate(_ordered(entries), start=1):
        seq = e.get("seq")
        if seq != i:
            problems.append(Problem(N_("Entry %(seq)s: sequence gap (expected %(expected)d)."),
                                    seq=_show(seq), expected=i))
        h = link(h, payload_of(e))
        if e.get("hash") != h:
            problems.append(Problem(N_("Entry %(seq)s: the hash does not match."), seq=_show(seq)))
        receipt = e.get("receipt")
        if not (isinstance(receipt, str) and len(receipt) >= RECEIPT_LEN and h.upper().startswith(receipt)):
            problems.append(Problem(N_("Entry %(seq)s: the receipt does not match its hash."), seq=_show(seq)))
    if len(entries) != len(_ordered(entries)):
        problems.append(Problem(N_("An entry of the file is not an object.")))
    close = closing(h)
    if export.get("closing_hash") != close:
        problems.append(Problem(N_("The closing hash does not match the chain.")))
    return {"ok": not problems, "problems": problems, "head_hash": h, "closing_hash": close}


def _show(value):
    """A value from the file, shortened, for a message."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"


def proxy_check(export: dict):
    """What a file says about proxies (None for files without any): every ballot cast by proxy
    names an authorisation of the file for the same voter, and no holder exceeds the limit."""
    proxies = export.get("proxies")
    entries = [e for e in export.get("entries") or [] if isinstance(e, dict)] \
        if isinstance(export.get("entries"), list) else []
    marked = [e for e in entries if e.get("proxy") is not None]
    if not proxies and not marked and "proxies" not in export:
        return None
    problems = []
    if not isinstance(proxies, list) or not all(isinstance(p, dict) and isinstance(p.get("proxy"), str)
                                                 and isinstance(p.get("holder"), str) for p in proxies):
        problems.append(Problem(N_("The list of proxies is damaged.")))
        proxies = [p for p in proxies if isinstance(p, dict)] if isinstance(proxies, list) else []
    manifest = export.get("manifest") if isinstance(export.get("manifest"), dict) else {}
    by_ref = {}
    for p in proxies:
        ref = p.get("proxy")
        if isinstance(ref, str) and ref in by_ref:
            problems.append(Problem(N_("Proxy %(proxy)s is listed twice."), proxy=_show(ref)))
        if isinstance(ref, str):
            by_ref[ref] = p
        revoked = p.get("revoked_at")
        if not (isinstance(ref, str) and _PROXY.fullmatch(ref) and isinstance(p.get("holder"), str)
                and _HOLDER.fullmatch(p["holder"])) or _time(p.get("recorded_at")) is None \
                or "revoked_at" not in p or (revoked is not None and _time(revoked) is None) \
                or (not manifest.get("secret") and not isinstance(p.get("voter"), str)):
            problems.append(Problem(N_("Proxy %(proxy)s: its number, holder, voter or times are damaged."),
                                    proxy=_show(ref)))
    for e in marked:
        ref = e.get("proxy")
        p = by_ref.get(ref) if isinstance(ref, str) else None
        if p is None:
            problems.append(Problem(N_("Entry %(seq)s: unknown proxy %(proxy)s."), seq=_show(e.get("seq")),
                                    proxy=_show(ref)))
        elif p.get("voter") is not None and p["voter"] != e.get("voter"):
            problems.append(Problem(N_("Entry %(seq)s: proxy %(proxy)s is for %(voter)s, not %(other)s."),
                                    seq=_show(e.get("seq")), proxy=_show(ref), voter=_show(p["voter"]),
                                    other=_show(e.get("voter"))))
    limit = manifest.get("proxy_limit")
    if _is_int(limit) and limit > 0:
        held = {}
        for p in proxies:
            if p.get("revoked_at") is None and isinstance(p.get("holder"), str):
                held[p["holder"]] = held.get(p["holder"], 0) + 1
        for holder, n in sorted(held.items()):
            if n > limit:
                problems.append(Problem(N_("Holder %(holder)s: %(n)d proxies in force, more than the limit of "
                                           "%(limit)d."), holder=_show(holder), n=n, limit=limit))
    return {"ok": not problems, "problems": problems, "count": len(proxies)}


def counted_ballots(entries):
    """(choice, heads, area) for counting, from the counted entry of each voter."""
    out = []
    for e in latest_per_voter(entries):
        choice = tuple(e["choice"]) if e["choice"] is not None else None
        out.append((choice, int(e["heads"]), area_to_int(e["area"])))
    return out


# ── checking what a file says ───────────────────────────────────────────────────────────────
def _check_manifest(m, problems):
    """The counting spec of a manifest whose terms make sense, else None (problems added)."""
    if not isinstance(m, dict):
        problems.append(Problem(N_("The file has no manifest.")))
        return None
    before = len(problems)
    method, unit, options = m.get("method"), m.get("unit"), m.get("options")
    if method not in METHODS:
        problems.append(Problem(N_("The manifest names an unknown voting method %(value)s."), value=_show(method)))
    if unit not in UNITS:
        problems.append(Problem(N_("The manifest names an unknown counting unit %(value)s."), value=_show(unit)))
    if not (isinstance(options, list) and 2 <= len(options) <= 100 and all(isinstance(o, str) for o in options)
            and len(set(options)) == len(options)):
        problems.append(Problem(N_("The manifest's options are damaged.")))
    elif method == "majority" and options != MAJORITY:
        problems.append(Problem(N_("A yes/no/abstain ballot must have the options yes, no and abstain.")))
    if method == "election":
        _check_election_terms(m, problems)
    elif "seats" in m:
        problems.append(Problem(N_("Only an election has seats.")))
    unanimous = m.get("rule") == UNANIMOUS
    if unanimous:
        _check_unanimity_terms(m, problems)
    elif "interested" in m:
        problems.append(Problem(N_("Only a ballot that needs every interested owner's consent names interested "
                                   "owners.")))
    if unit == "owners" and method != "election" and not unanimous and (
            m.get("matter_class") not in MATTER_CLASSES or method != "majority"):
        problems.append(Problem(N_("An owners' ballot must be a yes/no/abstain ballot of an ordinary or a special "
                                   "matter.")))
    if m.get("rule") not in RULES + (None, UNANIMOUS) or m.get("quorum") not in QUORUMS + (None,):
        problems.append(Problem(N_("The manifest's majority rule or quorum is unknown.")))
    electorate = m.get("electorate")
    if not (isinstance(electorate, dict) and _is_int(electorate.get("heads")) and electorate["heads"] >= 0
            and _area(electorate.get("area")) is not None and _is_int(electorate.get("voters"))
            and electorate["voters"] >= 0):
        problems.append(Problem(N_("The manifest's electorate is damaged.")))
    elif not (isinstance(electorate.get("roll_hash"), str) and _HEX64.fullmatch(electorate["roll_hash"])):
        problems.append(Problem(N_("The manifest's electorate has no roll hash.")))
    _check_meeting_terms(m, problems)
    if not isinstance(m.get("tie_seed"), str):
        problems.append(Problem(N_("The manifest has no tie-break seed.")))
    if not isinstance(m.get("secret", False), bool) or not isinstance(m.get("spoiled_participates", True), bool):
        problems.append(Problem(N_("The manifest's secret or spoiled-ballot setting is not true or false.")))
    if m.get("max_choices") is not None and not (_is_int(m["max_choices"]) and m["max_choices"] >= 1):
        problems.append(Problem(N_("The manifest's most options per voter is not a whole number.")))
    if m.get("paper_rule") not in PAPER_RULES + LEGACY_PAPER_RULES:
        problems.append(Problem(N_("The manifest names an unknown paper rule %(value)s."),
                                value=_show(m.get("paper_rule"))))
    if len(problems) > before:
        return None
    return Spec.from_manifest(m)


def _check_election_terms(m, problems):
    """An election's seats: a whole number, fewer than its candidates (R14, more candidates than
    seats); a residents' committee has 5 to 9 (Organic Law Art. 7)."""
    seats, options = m.get("seats"), m.get("options")
    n = len(options) if isinstance(options, list) else 0
    if not (_is_int(seats) and 1 <= seats < n):
        problems.append(Problem(N_("The manifest's seats are not a whole number smaller than the number of "
                                   "candidates.")))
    elif m.get("unit") in ("person", "household") and not 5 <= seats <= 9:
        problems.append(Problem(N_("A residents' committee has 5 to 9 seats.")))
    if m.get("secret") is not True:
        problems.append(Problem(N_("An election is by secret ballot.")))


def _check_unanimity_terms(m, problems):
    """A unanimity ballot (Civil Code Art. 279, R7): owners of one building voting yes/no/abstain,
    by name (its result names who did not consent), with the interested owners staff added."""
    scope = m.get("scope") if isinstance(m.get("scope"), dict) else {}
    interested = m.get("interested")
    if m.get("unit") != "owners" or m.get("method") != "majority" or scope.get("kind") != "building" \
            or m.get("matter_class") is not None:
        problems.append(Problem(N_("Every interested owner's consent is asked of the owners of one building on a "
                                   "yes/no/abstain ballot.")))
    if m.get("secret") is not False:
        problems.append(Problem(N_("A ballot that needs every interested owner's consent is not secret.")))
    if not (isinstance(interested, dict) and isinstance(interested.get("buildings"), list)
            and isinstance(interested.get("households"), list)):
        problems.append(Problem(N_("The manifest's interested owners are damaged.")))


def _check_meeting_terms(m, problems):
    """A residents' meeting (rule ``residents_meeting``, R12): a yes/no/abstain ballot of people or
    households whose electorate mode is named and fits its unit, in a linli-ballot/2 manifest; no
    other ballot names an electorate mode."""
    if m.get("rule") != RESIDENTS_MEETING:
        if "electorate_mode" in m:
            problems.append(Problem(N_("Only a residents' meeting has an electorate mode.")))
        return
    mode, unit = m.get("electorate_mode"), m.get("unit")
    if m.get("method") != "majority" or mode not in ELECTORATE_MODES or m.get("format") == FORMATS[0] \
            or unit != ("household" if mode == "households" else "person"):
        problems.append(Problem(N_("A residents' meeting must be a yes/no/abstain ballot whose electorate mode "
                                   "(residents aged 18 or over, households or group representatives) fits who votes.")))


def _check_roll(roll, manifest, problems):
    """{voter: (heads, area, seq it was added at or None)} of the file's roll (problems added)."""
    out = {}
    if not isinstance(roll, list):
        problems.append(Problem(N_("The file has no roll.")))
        return out
    heads = area = voters = 0
    for r in roll:
        voter = r.get("voter") if isinstance(r, dict) else None
        if not isinstance(voter, str) or not voter:
            problems.append(Problem(N_("A roll entry has no voter number.")))
            continue
        h, a, added = r.get("heads"), _area(r.get("area")), r.get("added")
        if not (_is_int(h) and h >= 0) or a is None or (added is not None and not (_is_int(added) and added >= 1)):
            problems.append(Problem(N_("Roll entry %(voter)s: its weight is damaged."), voter=_show(voter)))
            continue
        if voter in out:
            problems.append(Problem(N_("Voter %(voter)s is on the roll twice."), voter=_show(voter)))
        out[voter] = (h, a, added)
        if added is None:
            heads, area, voters = heads + h, area + a, voters + 1
    electorate = manifest.get("electorate") if isinstance(manifest, dict) else None
    if isinstance(electorate, dict) and (heads != electorate.get("heads") or voters != electorate.get("voters")
                                         or area != _area(electorate.get("area"))):
        problems.append(Problem(N_("The roll does not add up to the published electorate.")))
    return out


def _check_choice(choice, method, n, max_choices, seats=0):
    if not (isinstance(choice, list) and all(_is_int(c) for c in choice)):
        return N_("Entry %(seq)s: the choice is not a list of option numbers.")
    if any(not 0 <= c < n for c in choice):
        return N_("Entry %(seq)s: chooses an option that does not exist.")
    if len(set(choice)) != len(choice):
        return N_("Entry %(seq)s: chooses an option twice.")
    if method == "majority" and len(choice) != 1:
        return N_("Entry %(seq)s: a yes/no/abstain ballot has exactly one choice.")
    if method == "approval" and (choice != sorted(choice) or (max_choices and len(choice) > max_choices)):
        return N_("Entry %(seq)s: more approvals than allowed, or not in order.")
    if method == "election" and (choice != sorted(choice) or len(choice) > seats):
        return N_("Entry %(seq)s: marks more candidates than there are seats, or not in order.")
    if method in ("irv", "schulze") and not choice:
        return N_("Entry %(seq)s: a ranking ranks no option.")
    return None


def _check_entries(export, manifest, spec, roll, problems):
    """The entries fit to count, in seq order: every ballot checked against the manifest, the roll
    and the paper rule; the ``counted`` marks against what the chain implies (problems added)."""
    entries = export.get("entries")
    if not isinstance(entries, list):
        return []
    secret = bool(manifest.get("secret"))
    rule = manifest.get("paper_rule")
    n = len(manifest["options"])
    weights = {(h, a) for h, a, _added in roll.values()}
    receipts, seen_seq, tag_weight = set(), set(), {}
    counted = {}  # voter tag -> its counted entry so far (replaying the paper rule)
    good = []
    for e in _ordered(entries):
        seq, voter, source = e.get("seq"), e.get("voter"), e.get("source")
        s = _show(seq)

        def bad(msgid, **params):
            problems.append(Problem(msgid, seq=s, **params))

        missing = [k for k in ENTRY_KEYS if k not in e]
        if missing:
            bad(N_("Entry %(seq)s: %(keys)s missing."), keys=", ".join(missing))
        if not _is_int(seq) or seq in seen_seq:
            bad(N_("Entry %(seq)s: the sequence number is not a whole number, or it repeats."))
            continue
        seen_seq.add(seq)
        if not isinstance(voter, str) or not voter:
            bad(N_("Entry %(seq)s: no voter."))
            continue
        if source not in BALLOT_SOURCES + (ROLL_SOURCE,):
            bad(N_("Entry %(seq)s: unknown source %(source)s."), source=_show(source))
            continue
        heads, area = e.get("heads"), _area(e.get("area"))
        if not (_is_int(heads) and heads >= 0) or area is None:
            bad(N_("Entry %(seq)s: the weight is damaged."))
            continue
        if _time(e.get("at")) is None:
            bad(N_("Entry %(seq)s: the time is not a time."))
        if not isinstance(e.get("counted"), bool):
            bad(N_("Entry %(seq)s: says neither that it counts nor that it does not."))
        receipt = e.get("receipt")
        if isinstance(receipt, str):
            if receipt in receipts:
                bad(N_("Entry %(seq)s: the receipt repeats an earlier one."))
            receipts.add(receipt)
        if e.get("rule_source") != manifest.get("counting_rule_source") and not (
                e.get("rule_source") is None and not manifest.get("counting_rule_source")):
            bad(N_("Entry %(seq)s: the counting rule's source differs from the manifest's."))
        if source == ROLL_SOURCE:
            on_roll = roll.get(voter)
            if on_roll is None or on_roll[2] != seq:
                bad(N_("Entry %(seq)s: adds %(voter)s to the roll, but the roll does not say so."), voter=_show(voter))
            elif (heads, area) != on_roll[:2]:
                bad(N_("Entry %(seq)s: the weight differs from the roll's."))
            if e.get("choice") is not None or e.get("proxy") or e.get("set_aside"):
                bad(N_("Entry %(seq)s: a roll entry carries a ballot."))
            if not isinstance(e.get("reason"), str) or not e["reason"].strip():
                bad(N_("Entry %(seq)s: a voter added to the roll without a reason."))
            if e.get("counted") is not False:
                bad(N_("Entry %(seq)s: a roll entry marked as a counted ballot."))
            continue
        if e.get("reason") is not None:
            bad(N_("Entry %(seq)s: a ballot with a roll entry's reason."))
        # The voter's weight: the roll's (named ballots), or a weight on the roll that stays the
        # same for one tag (secret ballots, whose tags do not name a roll entry).
        if not secret:
            on_roll = roll.get(voter)
            if on_roll is None:
                bad(N_("Entry %(seq)s: voter %(voter)s is not on the roll."), voter=_show(voter))
                continue
            if on_roll[2] is not None and on_roll[2] > seq:
                bad(N_("Entry %(seq)s: voter %(voter)s votes before being added to the roll."), voter=_show(voter))
            if (heads, area) != on_roll[:2]:
                bad(N_("Entry %(seq)s: the weight differs from the roll's."))
                continue
        elif (heads, area) not in weights or tag_weight.setdefault(voter, (heads, area)) != (heads, area):
            bad(N_("Entry %(seq)s: the weight differs from the roll's."))
            continue
        choice = e.get("choice")
        if choice is None:
            if source not in PAPER_SOURCES:
                bad(N_("Entry %(seq)s: only a paper ballot can be spoiled."))
                continue
        else:
            msgid = _check_choice(choice, spec.method, n, manifest.get("max_choices"), spec.seats)
            if msgid:
                bad(msgid)
                continue
        if (source == "proxy") != bool(e.get("proxy")) and not (source in PAPER_SOURCES and e.get("proxy")):
            bad(N_("Entry %(seq)s: the proxy mark does not fit the source."))
        # Replay the paper rule: what the server refuses never appears in a true file.
        current = counted.get(voter)
        via = channel(current["source"]) if current is not None else None
        over_online = (source == "paper" and via in ("online", "proxy")
                       and not (via == "proxy" and not e.get("proxy")))
        if e.get("set_aside") is not None:
            if e["set_aside"] is not True or rule != "first_wins" or not over_online:
                bad(N_("Entry %(seq)s: set aside, which only a paper ballot after an online vote is under "
                       "“first wins”."))
            if e.get("counted") is not False:
                bad(N_("Entry %(seq)s: set aside but marked as counted."))
            continue
        if source in ("online", "proxy") and via == "paper" and rule not in LEGACY_PAPER_RULES:
            bad(N_("Entry %(seq)s: an online ballot after the voter's paper ballot, which the paper rule refuses."))
        if over_online and rule == "first_wins":
            bad(N_("Entry %(seq)s: a paper ballot after an online vote counts, but under “first wins” it is set "
                   "aside."))
        if source == "paper" and via == "paper":
            bad(N_("Entry %(seq)s: a second paper ballot that is not a correction."))
        if source == "correction" and via != "paper":
            bad(N_("Entry %(seq)s: a correction without a paper ballot to correct."))
        counted[voter] = e
        good.append(e)
    latest = {id(e) for e in counted.values()}
    for e in good:
        if e.get("counted") is not (id(e) in latest):
            problems.append(Problem(N_("Entry %(seq)s: marked as counted when it does not count, or the other way "
                                       "round."), seq=_show(e.get("seq"))))
    return [e for e in good if id(e) in latest]


def _count_file(spec, roll, ballots):
    """The result of a file's counted ballots, as the server counts them (services.count_ballot):
    under the rule ``unanimous`` with who did not consent, by roll number in roll order."""
    weighed = [(tuple(e["choice"]) if e["choice"] is not None else None, e["heads"], _area(e["area"]))
               for e in ballots]
    if spec.rule != UNANIMOUS:
        return count(spec, weighed)
    return count_unanimous(spec, [(ref, h, a) for ref, (h, a, _added) in roll.items()],
                           {e["voter"]: w for e, w in zip(ballots, weighed)})


def recount(export: dict) -> dict:
    """Recompute a closed ballot's result from its export alone (the same code as the server) and
    check everything the file says. ``ok`` is false, with every problem in ``problems``, for a
    damaged or forged file; ``chain`` holds what the hashes alone show. Raises ValueError only for
    something that is not a ballot file at all."""
    if not isinstance(export, dict) or export.get("format") not in FORMATS:
        raise ValueError(f"not a {' or '.join(FORMATS)} file")
    problems = []
    chain = verify(export)
    proxies = proxy_check(export)
    if proxies is not None:
        chain = {**chain, "proxies": proxies}
    manifest = export.get("manifest")
    spec = _check_manifest(manifest, problems) if isinstance(manifest, dict) else None  # else verify said so
    result = matches = None
    if spec is not None:
        roll = _check_roll(export.get("roll"), manifest, problems)
        ballots = _check_entries(export, manifest, spec, roll, problems)
        added = [r for r in roll.values() if r[2] is not None]
        spec = dataclasses.replace(spec, heads_total=spec.heads_total + sum(r[0] for r in added),
                                   area_total=spec.area_total + sum(r[1] for r in added))
        try:
            result = _count_file(spec, roll, ballots)
        except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError) as err:  # a case the checks missed
            problems.append(Problem(N_("The file cannot be counted: %(error)s"), error=_show(str(err))))
        stored = export.get("result")
        if not isinstance(stored, dict):
            problems.append(Problem(N_("The file has no published result.")))
            matches = False
        elif result is not None:
            matches = stored == result
            if not matches:
                problems.append(Problem(N_("The recount differs from the published result.")))
    if _time(export.get("closed_at")) is None:
        problems.append(Problem(N_("The file does not say when the ballot closed.")))
    entries = export.get("entries") if isinstance(export.get("entries"), list) else []
    closed_at = _time(export.get("closed_at"))
    times = [t for t in (_time(e.get("at")) for e in entries if isinstance(e, dict)) if t is not None]
    if closed_at is not None and times and max(times) > closed_at:
        problems.append(Problem(N_("A ballot was recorded after the ballot closed.")))
    problems = chain["problems"] + (proxies["problems"] if proxies else []) + problems
    return {"ballot": manifest.get("ballot") if isinstance(manifest, dict) else None,
            "title": manifest.get("title") if isinstance(manifest, dict) else None,
            "ok": not problems, "problems": problems[:MAX_PROBLEMS], "chain": chain, "result": result,
            "matches_published_result": matches}
