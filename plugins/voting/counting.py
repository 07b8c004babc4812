"""Counting ballots: pure, exact, fast code shared by the server and `linli ballots recount`.

Nothing here touches Flask or the database. Areas are integers of hundredths of a m² (exact);
ratios are ``fractions.Fraction``; there is no float anywhere in a decision.

A ballot given to :func:`count` is ``(choice, heads, area)``:

* ``choice`` is ``None`` for a spoiled ballot, otherwise a tuple of option positions:
  majority ``(0,)`` yes, ``(1,)`` no, ``(2,)`` abstain; approval: the approved options (may be
  empty: a blank ballot); ranked (IRV, Schulze): the options in order of preference, best first
  (options left out rank below every ranked one);
* ``heads`` is the voter's headcount (1; an owner with several units is still 1);
* ``area`` is the voter's exclusive floor area in hundredths of a m² (owners' ballots; else 0).

A fourth element ``n`` may group ``n`` identical ballots whose heads and areas are summed (the
server groups them in SQL); every count is linear in heads and areas, so the result is the same.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

METHODS = ("majority", "approval", "irv", "schulze", "election")
UNITS = ("person", "household", "owners")
# A residents' meeting (居民会议, Organic Law of Urban Residents' Committees Art. 9, R12): more than
# half of its electorate present, and yes from more than half of those present; the electorate is
# fixed by ``ELECTORATE_MODES`` (plugins/voting/residents_meeting.py).
RESIDENTS_MEETING = "residents_meeting"
ELECTORATE_MODES = ("adults", "households", "groups")
RULES = ("simple", "two_thirds", "three_quarters", RESIDENTS_MEETING)
QUORUMS = ("none", "half", "two_thirds")
MATTER_CLASSES = ("ordinary", "special")
# Owners' ballots of one building that need every interested owner's consent (Civil Code Art. 279:
# turning a home into business premises, 住改商); manifest ``rule``, never a community default.
UNANIMOUS = "unanimous"
CONSENT_MISSING = ("no", "abstain", "spoiled", "not_voted")
YES, NO, ABSTAIN = 0, 1, 2


@dataclass(frozen=True)
class Spec:
    """What is counted and how; every field is in the ballot's published manifest."""

    method: str
    n_options: int
    unit: str = "person"
    rule: str = "simple"
    matter_class: str | None = None
    quorum: str = "none"
    heads_total: int = 0
    area_total: int = 0  # hundredths of a m²
    tie_seed: str = ""
    spoiled_participates: bool = True
    seats: int = 0  # elections: the seats to fill (manifest field ``seats``, present only on elections)

    @classmethod
    def from_manifest(cls, m: dict) -> "Spec":
        return cls(method=m["method"], n_options=len(m["options"]), unit=m["unit"], rule=m.get("rule") or "simple",
                   matter_class=m.get("matter_class"), quorum=m.get("quorum") or "none",
                   heads_total=int(m["electorate"]["heads"]), area_total=area_to_int(m["electorate"]["area"]),
                   tie_seed=m.get("tie_seed", ""), spoiled_participates=bool(m.get("spoiled_participates", True)),
                   seats=int(m.get("seats") or 0))


# ── exact quantities ──────────────────────────────────────────────────────────────────────
def area_to_int(value) -> int:
    """'89.50' / Decimal('89.5') -> 8950 (refuses more than two decimals and floats)."""
    if isinstance(value, float):
        raise TypeError("areas are never floats")
    d = Decimal(str(value)) * 100
    if d != d.to_integral_value():
        raise ValueError("at most two decimal places")
    return int(d)


def area_str(hundredths: int) -> str:
    sign = "-" if hundredths < 0 else ""
    hundredths = abs(hundredths)
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"


def frac_str(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


def percent(f: Fraction) -> str:
    """A display-only percentage with two decimals (never used in a decision)."""
    return str((Decimal(f.numerator) * 100 / Decimal(f.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _ratio(part, whole) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


def _test(test_id, value, total, threshold: Fraction, strict: bool, area=False) -> dict:
    """One rule: ``value / total`` against ``threshold`` ('>' if strict — 过半数 — else '≥' — 以上)."""
    if total <= 0:
        met = False
    elif strict:
        met = value * threshold.denominator > threshold.numerator * total
    else:
        met = value * threshold.denominator >= threshold.numerator * total
    fmt = area_str if area else str
    r = _ratio(value, total)
    return {"id": test_id, "met": bool(met), "value": fmt(value), "total": fmt(total), "ratio": frac_str(r),
            "percent": percent(r), "threshold": frac_str(threshold), "comparison": ">" if strict else ">=",
            "measure": "area" if area else "heads"}


# ── owners' heads (Civil Code Art. 278, SPC Interpretation Art. 9) ──────────────────────────
MAX_KEY = 120


def owner_heads(units) -> list[dict]:
    """The owners' heads of ``units``, deterministically (docs/voting.md, R5).

    ``units`` is a sequence of ``(ref, area, developer_held, owners)``: ``area`` in hundredths of
    a m², ``owners`` the person ids of the unit's owners on the register (empty when none is
    registered). Returns one dict per head, ``{"key", "units": [ref, ...], "area", "owners"}``,
    in the order of each head's first unit. SPC Interpretation on Building Ownership Art. 9:

    * one exclusive unit is one head;
    * every unit the developer has not sold, or sold but not handed over, together: one head
      (key ``developer``);
    * one buyer with several units: one head, with the sum of their areas. A unit's buyer is
      all its owners together (co-ownership, Civil Code Art. 297), so units
      with the same owners are one head; a co-owned unit and a unit one co-owner owns alone
      have different buyers and are two heads (key ``owner:<ids>``);
    * a unit whose owner is not on the register: a head of its own (key ``unit:<ref>``).

    Nothing else enters: which co-owner is marked representative never changes a count."""
    heads = {}
    for ref, area, developer_held, owners in units:
        owners = tuple(sorted(set(owners))) if not developer_held else ()
        if developer_held:
            key = "developer"
        elif not owners:
            key = f"unit:{ref}"
        else:
            key = "owner:" + "+".join(str(o) for o in owners)
            if len(key) > MAX_KEY:  # very many co-owners: a digest of them, still one key per set
                key = "owner:#" + hashlib.sha256(key.encode()).hexdigest()
        head = heads.get(key)
        if head is None:
            heads[key] = {"key": key, "units": [ref], "area": area, "owners": owners}
        else:
            head["units"].append(ref)
            head["area"] += area
    return list(heads.values())


# ── tie-break (R30) ───────────────────────────────────────────────────────────────────────
def lot_order(seed: str, positions) -> list[int]:
    """The published, reproducible lot: options sorted by SHA-256(seed ":" position), lowest first.
    The first in this order wins a tie for first place; the last is eliminated in a tie for last."""
    return sorted(positions, key=lambda p: (hashlib.sha256(f"{seed}:{p}".encode()).hexdigest(), p))


def _tie(seed, tied, pick_last=False):
    order = lot_order(seed, tied)
    return {"tied": sorted(tied), "lot_order": order, "chosen": order[-1] if pick_last else order[0]}


# ── the methods ───────────────────────────────────────────────────────────────────────────
def count(spec: Spec, ballots) -> dict:
    """Count ``ballots`` under ``spec``; returns a JSON-ready result (see docs/ballot-format.md)."""
    if spec.method not in METHODS:
        raise ValueError(f"unknown method {spec.method!r}")
    valid_heads = spoiled_heads = valid_area = spoiled_area = 0
    n_ballots = 0
    valid = []
    for b in ballots:
        choice, heads, area = b[0], b[1], b[2]
        n_ballots += b[3] if len(b) > 3 else 1
        if choice is None:
            spoiled_heads += heads
            spoiled_area += area
        else:
            valid_heads += heads
            valid_area += area
            valid.append((choice, heads, area))
    # At a residents' meeting (R12) every ballot cast, spoiled too, is someone present.
    spoiled_in = spec.spoiled_participates or spec.rule == RESIDENTS_MEETING
    part_heads = valid_heads + (spoiled_heads if spoiled_in else 0)
    part_area = valid_area + (spoiled_area if spoiled_in else 0)
    result = {
        "method": spec.method, "unit": spec.unit,
        "ballots": n_ballots,
        "turnout": {"heads": part_heads, "heads_total": spec.heads_total,
                    "heads_percent": percent(_ratio(part_heads, spec.heads_total)),
                    "area": area_str(part_area), "area_total": area_str(spec.area_total),
                    "area_percent": percent(_ratio(part_area, spec.area_total)),
                    "spoiled_heads": spoiled_heads, "spoiled_area": area_str(spoiled_area),
                    "spoiled_participates": spoiled_in},
        "tests": [], "passed": None, "winner": None, "tie": None,
    }
    if spec.method == "majority":
        _majority(spec, valid, part_heads, part_area, spoiled_heads, result)
    elif spec.method == "approval":
        _approval(spec, valid, result)
    elif spec.method == "election":
        _election(spec, valid, valid_heads + spoiled_heads, valid_area + spoiled_area, result)
    elif spec.method == "irv":
        _irv(spec, valid, result)
    else:
        _schulze(spec, valid, result)
    return result


def _option_totals(n, valid):
    heads, area = [0] * n, [0] * n
    for choice, h, a in valid:
        for pos in choice:
            heads[pos] += h
            area[pos] += a
    return heads, area


def _majority(spec, valid, part_heads, part_area, spoiled_heads, result):
    heads, area = _option_totals(3, valid)
    result["counts"] = [{"option": i, "heads": heads[i], "area": area_str(area[i])} for i in range(3)]
    yes_h, no_h, abst_h = heads
    tests = result["tests"]
    if spec.unit == "owners" and spec.rule == UNANIMOUS:
        # Civil Code Art. 279, SPC Interpretation on Building Ownership Art. 10–11 (R7): every
        # interested owner on the roll consents. No quorum and no majority: a no, an abstention, a
        # spoiled ballot or no ballot at all is a head without consent.
        tests.append(_test("unanimity", yes_h, spec.heads_total, Fraction(1), False))
    elif spec.unit == "owners":
        # Civil Code Art. 278 (R1–R3): quorum on area AND heads (以上, inclusive), then approval on
        # the participating area AND heads: 过半数 (strict) or 3/4 以上 (inclusive).
        two_thirds = Fraction(2, 3)
        tests.append(_test("quorum_area", part_area, spec.area_total, two_thirds, False, area=True))
        tests.append(_test("quorum_heads", part_heads, spec.heads_total, two_thirds, False))
        if spec.matter_class == "special":
            tests.append(_test("approval_area", area[YES], part_area, Fraction(3, 4), False, area=True))
            tests.append(_test("approval_heads", yes_h, part_heads, Fraction(3, 4), False))
        else:
            tests.append(_test("approval_area", area[YES], part_area, Fraction(1, 2), True, area=True))
            tests.append(_test("approval_heads", yes_h, part_heads, Fraction(1, 2), True))
    elif spec.rule == RESIDENTS_MEETING:
        _residents_meeting(spec, heads, spoiled_heads, tests)
    else:
        # RONR / R28: a majority of the votes cast, abstentions and blanks left out (spoiled
        # ballots of entitled voters stay in the base when the policy says they participate).
        present = yes_h + no_h + abst_h + spoiled_heads
        if spec.quorum == "half":
            tests.append(_test("quorum", present, spec.heads_total, Fraction(1, 2), True))
        elif spec.quorum == "two_thirds":
            tests.append(_test("quorum", present, spec.heads_total, Fraction(2, 3), False))
        base = yes_h + no_h + (spoiled_heads if spec.spoiled_participates else 0)
        threshold, strict = {"simple": (Fraction(1, 2), True), "two_thirds": (Fraction(2, 3), False),
                             "three_quarters": (Fraction(3, 4), False)}[spec.rule]
        tests.append(_test("approval", yes_h, base, threshold, strict))
    result["passed"] = all(t["met"] for t in tests)
    result["tied_yes_no"] = yes_h == no_h and yes_h > 0
    result["winner"] = YES if result["passed"] else NO


def _residents_meeting(spec, heads, spoiled_heads, tests):
    """Organic Law of Urban Residents' Committees Art. 9 (R12): the meeting may decide when more
    than half of its electorate is present (``quorum``), and decides by the yes of more than half
    of those PRESENT (``approval_present``), both strict (过半数). Whoever cast a ballot is present:
    an abstention, a blank or a spoiled ballot counts as present and so against the decision,
    whatever ``spoiled_participates`` says. A voter added to the roll later is in the electorate."""
    yes_h, no_h, abst_h = heads
    present = yes_h + no_h + abst_h + spoiled_heads
    tests.append(_test("quorum", present, spec.heads_total, Fraction(1, 2), True))
    tests.append(_test("approval_present", yes_h, present, Fraction(1, 2), True))


def count_unanimous(spec: Spec, roll, counted) -> dict:
    """Count a ballot under the rule ``unanimous`` (Civil Code Art. 279, R7): :func:`count`, plus
    who did not consent. Passed only if every interested owner voted yes.

    ``roll`` is ``[(voter ref, heads, area), ...]``, the interested owners in roll order (voters
    added later included); ``counted`` maps a voter ref to its counted ballot ``(choice, heads,
    area)``. The result's ``not_consenting`` lists, in roll order, ``{"voter": ref, "reason"}``
    with the reason one of :data:`CONSENT_MISSING`: ``no``, ``abstain``, ``spoiled`` (a spoiled
    paper ballot) or ``not_voted`` (SPC Interpretation Art. 10–11: silence is not consent).
    Only roll numbers: names stay on the server, so the ballot file can publish it."""
    result = count(spec, list(counted.values()))
    missing = []
    for ref, _heads, _area in roll:
        ballot = counted.get(ref)
        if ballot is None:
            reason = "not_voted"
        elif ballot[0] is None:
            reason = "spoiled"
        elif tuple(ballot[0]) == (YES,):
            continue
        else:
            reason = "no" if tuple(ballot[0]) == (NO,) else "abstain"
        missing.append({"voter": ref, "reason": reason})
    result["not_consenting"] = missing
    result["passed"] = bool(result["passed"]) and not missing and bool(roll)
    result["winner"] = YES if result["passed"] else NO
    return result


def _approval(spec, valid, result):
    heads, area = _option_totals(spec.n_options, valid)
    result["counts"] = [{"option": i, "heads": heads[i], "area": area_str(area[i])} for i in range(spec.n_options)]
    result["voters"] = sum(h for _c, h, _a in valid)
    if not valid or max(heads) == 0:
        return
    top = max(heads)
    tied = [i for i, v in enumerate(heads) if v == top]
    if len(tied) > 1:
        result["tie"] = _tie(spec.tie_seed, tied)
        result["winner"] = result["tie"]["chosen"]
    else:
        result["winner"] = tied[0]


def _irv(spec, valid, result):
    n = spec.n_options
    groups = Counter()
    for choice, h, _a in valid:
        if choice:
            groups[tuple(choice)] += h
    first = [0] * n
    for ranking, w in groups.items():
        first[ranking[0]] += w
    result["counts"] = [{"option": i, "heads": first[i], "area": "0.00"} for i in range(n)]
    # Each group of identical rankings sits on the pile of its highest continuing option; an
    # elimination moves only the groups on the eliminated pile (work ~ number of transfers).
    continuing = set(range(n))
    rounds = []
    items = list(groups.items())
    piles = {i: [] for i in range(n)}
    pointer = [0] * len(items)
    tally = [0] * n
    for gi, (ranking, w) in enumerate(items):
        piles[ranking[0]].append(gi)
        tally[ranking[0]] += w
    exhausted = 0
    while continuing:
        current = {k: tally[k] for k in continuing}
        active = sum(current.values())
        rnd = {"counts": {str(k): v for k, v in sorted(current.items())}, "active": active, "exhausted": exhausted,
               "eliminated": None, "tie": None, "elected": None}
        rounds.append(rnd)
        if active == 0:
            break
        leader_votes = max(current.values())
        leaders = [k for k, v in current.items() if v == leader_votes]
        if leader_votes * 2 > active or len(continuing) == 1:
            rnd["elected"] = leaders[0]
            result["winner"] = leaders[0]
            break
        if len(continuing) == len(leaders):  # every continuing option is tied: the lot decides
            rnd["tie"] = _tie(spec.tie_seed, leaders)
            rnd["elected"] = result["winner"] = rnd["tie"]["chosen"]
            result["tie"] = rnd["tie"]
            break
        low = min(current.values())
        lowest = [k for k, v in current.items() if v == low]
        if len(lowest) > 1:
            rnd["tie"] = _tie(spec.tie_seed, lowest, pick_last=True)
            out = rnd["tie"]["chosen"]
        else:
            out = lowest[0]
        rnd["eliminated"] = out
        continuing.discard(out)
        tally[out] = 0
        for gi in piles.pop(out):
            ranking, w = items[gi]
            p = pointer[gi] + 1
            while p < len(ranking) and ranking[p] not in continuing:
                p += 1
            if p < len(ranking):
                pointer[gi] = p
                piles[ranking[p]].append(gi)
                tally[ranking[p]] += w
            else:
                exhausted += w
    result["rounds"] = rounds


def _schulze(spec, valid, result):
    n = spec.n_options
    groups = Counter()
    for choice, h, _a in valid:
        if choice:
            groups[tuple(choice)] += h
    d = [[0] * n for _ in range(n)]
    first = [0] * n
    for ranking, w in groups.items():
        first[ranking[0]] += w
        ranked = set(ranking)
        unranked = [j for j in range(n) if j not in ranked]
        for idx, i in enumerate(ranking):
            row = d[i]
            for j in ranking[idx + 1:]:
                row[j] += w
            for j in unranked:
                row[j] += w
    result["counts"] = [{"option": i, "heads": first[i], "area": "0.00"} for i in range(n)]
    p = [[d[i][j] if d[i][j] > d[j][i] else 0 for j in range(n)] for i in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            for k in range(n):
                if i != k and j != k:
                    p[j][k] = max(p[j][k], min(p[j][i], p[i][k]))
    winners = [i for i in range(n) if all(p[i][j] >= p[j][i] for j in range(n) if j != i)]
    result["pairwise"] = d
    result["strongest_paths"] = p
    result["schulze_winners"] = winners
    if not groups:
        return
    if len(winners) > 1:
        result["tie"] = _tie(spec.tie_seed, winners)
        result["winner"] = result["tie"]["chosen"]
    elif winners:
        result["winner"] = winners[0]


def _election(spec, valid, part_heads, part_area, result):
    """A multi-winner election (选举, R14): each ballot marks up to ``spec.seats`` candidates (none:
    a blank ballot). Everyone who handed in a ballot took part, blank and spoiled ones too.

    * Residents' committee (units ``person``/``household``; Organic Law of Urban Residents'
      Committees Art. 8): the election is valid only if more than half of the electorate took part
      (过半数选民参加投票, strict), and a candidate is elected only with the votes of more than half
      of those who took part (获得参加投票的选民过半数的选票始得当选, strict).
    * Owners' committee (unit ``owners``; Civil Code Art. 278): turnout of at least 2/3 of the area
      and of the owners (以上, inclusive), then each candidate needs more than half of the
      participating area AND owners (an ordinary matter, Art. 278 (4)).

    Among the candidates who pass, the most votes take the seats (owners: heads, then area); a tie
    across the last seat is decided by the published lot (:func:`lot_order`, first in the order
    wins). Seats left over are reported as unfilled, never filled by a candidate who did not pass."""
    n, seats = spec.n_options, spec.seats
    heads, area = _option_totals(n, valid)
    result["counts"] = [{"option": i, "heads": heads[i], "area": area_str(area[i])} for i in range(n)]
    result["seats"] = seats
    result["blank_heads"] = sum(h for c, h, _a in valid if not c)
    tests = result["tests"]
    half = Fraction(1, 2)
    owners = spec.unit == "owners"
    if owners:
        tests.append(_test("quorum_area", part_area, spec.area_total, Fraction(2, 3), False, area=True))
        tests.append(_test("quorum_heads", part_heads, spec.heads_total, Fraction(2, 3), False))
    else:
        tests.append(_test("participation", part_heads, spec.heads_total, half, True))
    valid_election = all(t["met"] for t in tests)
    candidates = []
    for i in range(n):
        if owners:
            ctests = [_test("approval_area", area[i], part_area, half, True, area=True),
                      _test("approval_heads", heads[i], part_heads, half, True)]
        else:
            ctests = [_test("approval", heads[i], part_heads, half, True)]
        candidates.append({"option": i, "heads": heads[i], "area": area_str(area[i]), "tests": ctests,
                           "approved": valid_election and all(t["met"] for t in ctests),
                           "status": "not_approved"})
    approved = [c for c in candidates if c["approved"]]

    def key(c):
        return (heads[c["option"]], area[c["option"]]) if owners else (heads[c["option"]],)

    elected, left = [], seats
    for value in sorted({key(c) for c in approved}, reverse=True):
        group = [c["option"] for c in approved if key(c) == value]
        if left <= 0:
            for pos in group:
                candidates[pos]["status"] = "not_elected"
        elif len(group) <= left:
            for pos in group:
                candidates[pos]["status"] = "elected"
            elected += sorted(group)
            left -= len(group)
        else:  # a tie across the last seat(s): the published lot decides
            order = lot_order(spec.tie_seed, group)
            chosen = order[:left]
            result["tie"] = {"tied": sorted(group), "lot_order": order, "chosen": chosen, "seats": left}
            for pos in group:
                candidates[pos]["status"] = "elected_by_lot" if pos in chosen else "not_elected_by_lot"
            elected += chosen
            left = 0
    result["candidates"] = candidates
    result["elected"] = elected
    result["unfilled"] = seats - len(elected)
    result["passed"] = valid_election
