"""The counting code alone: exact thresholds (R1–R3, R28), ties (R30), IRV rounds, Schulze."""
from decimal import Decimal
from fractions import Fraction

import pytest

from plugins.voting.counting import Spec, area_to_int, count, lot_order

Y, N, A = (0,), (1,), (2,)


def owners(ballots, heads_total, area_total, matter="ordinary"):
    return count(Spec("majority", 3, unit="owners", matter_class=matter, heads_total=heads_total,
                      area_total=area_to_int(area_total)), ballots)


def rules(result):
    return {t["id"]: t for t in result["tests"]}


def test_owners_quorum_is_inclusive_at_exactly_two_thirds():
    # 3 owners of 100 m² each; 2 take part = exactly 2/3 of heads and area (以上: inclusive).
    r = owners([(Y, 1, 10000), (Y, 1, 10000)], 3, "300")
    t = rules(r)
    assert t["quorum_area"]["met"] and t["quorum_heads"]["met"]
    assert t["quorum_heads"]["ratio"] == "2/3" and t["quorum_heads"]["comparison"] == ">="
    assert r["passed"] is True


def test_owners_quorum_fails_just_below_two_thirds_of_area():
    # Heads 2/3 met, but area 199.99 of 300 is short by 0.01 m².
    r = owners([(Y, 1, 10000), (Y, 1, 9999)], 3, "300.00")
    t = rules(r)
    assert t["quorum_heads"]["met"] and not t["quorum_area"]["met"]
    assert r["passed"] is False


def test_ordinary_matter_needs_strictly_more_than_half():
    # 4 owners all take part; 2 yes, 2 no: exactly half of heads and area is not 过半数.
    ballots = [(Y, 1, 10000), (Y, 1, 10000), (N, 1, 10000), (N, 1, 10000)]
    r = owners(ballots, 4, "400")
    t = rules(r)
    assert t["approval_heads"]["ratio"] == "1/2" and not t["approval_heads"]["met"]
    assert not t["approval_area"]["met"] and r["passed"] is False
    assert r["tied_yes_no"] is True


def test_double_majority_needs_both_heads_and_area():
    # Yes: 3 small flats (heads majority), No: 1 big owner with most of the area.
    ballots = [(Y, 1, 5000), (Y, 1, 5000), (Y, 1, 5000), (N, 1, 30000)]
    r = owners(ballots, 4, "450")
    t = rules(r)
    assert t["approval_heads"]["met"] and not t["approval_area"]["met"]
    assert r["passed"] is False


def test_special_matter_three_quarters_is_inclusive_and_abstentions_participate():
    # 4 owners take part: 3 yes, 1 abstains -> yes is exactly 3/4 of the participants (以上).
    ballots = [(Y, 1, 10000), (Y, 1, 10000), (Y, 1, 10000), (A, 1, 10000)]
    r = owners(ballots, 4, "400", matter="special")
    assert rules(r)["approval_heads"]["ratio"] == "3/4"
    assert r["passed"] is True
    # 2 yes, 1 no, 1 abstain: 2/4 < 3/4 although yes beats no.
    r = owners([(Y, 1, 10000), (Y, 1, 10000), (N, 1, 10000), (A, 1, 10000)], 4, "400", matter="special")
    assert r["passed"] is False


def test_spoiled_owner_ballots_take_part_by_default_and_can_be_excluded():
    ballots = [(Y, 1, 10000), (Y, 1, 10000), (None, 1, 10000)]
    r = owners(ballots, 4, "400")
    assert r["turnout"]["heads"] == 3 and rules(r)["approval_heads"]["ratio"] == "2/3"
    assert rules(r)["quorum_heads"]["met"]
    spec = Spec("majority", 3, unit="owners", matter_class="ordinary", heads_total=4, area_total=40000,
                spoiled_participates=False)
    r = count(spec, ballots)
    assert r["turnout"]["heads"] == 2 and not rules(r)["quorum_heads"]["met"]


def test_resident_majority_leaves_abstentions_out():
    # 3 yes, 2 no, 10 abstain: 3 of 5 votes cast is a majority (R28), whatever the abstentions.
    r = count(Spec("majority", 3, heads_total=100), [(Y, 1, 0)] * 3 + [(N, 1, 0)] * 2 + [(A, 1, 0)] * 10)
    assert r["passed"] is True and rules(r)["approval"]["ratio"] == "3/5"


def test_two_thirds_rule_is_inclusive_and_quorum_half_is_strict():
    spec = Spec("majority", 3, rule="two_thirds", quorum="half", heads_total=10)
    r = count(spec, [(Y, 1, 0)] * 4 + [(N, 1, 0)] * 2)  # 6 of 10 present; yes exactly 2/3
    assert r["passed"] is True
    r = count(spec, [(Y, 1, 0)] * 4 + [(N, 1, 0)])  # 5 of 10 is not more than half
    assert rules(r)["quorum"]["met"] is False and r["passed"] is False


def test_ronr_example_illegal_votes_stay_in_the_base():
    # 75 valid ballots of which 4 blank (abstain), 10 illegal: base 81, majority is 41.
    spec = Spec("majority", 3, heads_total=200)
    ballots = [(Y, 1, 0)] * 41 + [(N, 1, 0)] * 30 + [(A, 1, 0)] * 4 + [(None, 1, 0)] * 10
    assert count(spec, ballots)["passed"] is True
    ballots = [(Y, 1, 0)] * 40 + [(N, 1, 0)] * 31 + [(A, 1, 0)] * 4 + [(None, 1, 0)] * 10
    assert count(spec, ballots)["passed"] is False


def test_no_votes_means_not_passed():
    assert count(Spec("majority", 3, heads_total=5), [])["passed"] is False
    assert owners([], 5, "500")["passed"] is False


def test_areas_are_exact_and_never_floats():
    assert area_to_int("89.50") == 8950 and area_to_int(Decimal("0.01")) == 1
    with pytest.raises(TypeError):
        area_to_int(89.5)
    with pytest.raises(ValueError):
        area_to_int("1.005")


def test_approval_tie_is_reported_then_broken_by_the_published_lot():
    spec = Spec("approval", 3, tie_seed="abc")
    r = count(spec, [((0, 1), 1, 0), ((1, 2), 1, 0), ((0,), 1, 0), ((1,), 1, 0), ((2,), 1, 0), ((0,), 1, 0)])
    assert [c["heads"] for c in r["counts"]] == [3, 3, 2]
    assert r["tie"]["tied"] == [0, 1]
    assert r["winner"] == r["tie"]["chosen"] == lot_order("abc", [0, 1])[0]
    # The lot is reproducible and depends on the seed only.
    assert lot_order("abc", [1, 0]) == lot_order("abc", [0, 1])


def test_irv_rounds_eliminate_the_last_and_transfer():
    # A 4, B 3, C 2 (C's voters prefer B): C out, B wins 5–4.
    spec = Spec("irv", 3)
    ballots = [((0,), 1, 0)] * 4 + [((1, 0), 1, 0)] * 3 + [((2, 1), 1, 0)] * 2
    r = count(spec, ballots)
    assert r["rounds"][0]["counts"] == {"0": 4, "1": 3, "2": 2}
    assert r["rounds"][0]["eliminated"] == 2
    assert r["rounds"][1]["counts"] == {"0": 4, "1": 5} and r["rounds"][1]["elected"] == 1
    assert r["winner"] == 1 and r["tie"] is None


def test_irv_exhausted_ballots_leave_the_count():
    spec = Spec("irv", 3)
    ballots = [((0,), 1, 0)] * 4 + [((1,), 1, 0)] * 3 + [((2,), 1, 0)] * 2
    r = count(spec, ballots)
    assert r["rounds"][1]["exhausted"] == 2 and r["rounds"][1]["active"] == 7
    assert r["winner"] == 0


def test_irv_tie_for_last_place_is_broken_by_lot_and_reported():
    spec = Spec("irv", 3, tie_seed="s1")
    r = count(spec, [((0,), 1, 0)] * 3 + [((1, 0), 1, 0)] * 2 + [((2, 1), 1, 0)] * 2)
    first = r["rounds"][0]
    assert first["tie"]["tied"] == [1, 2]
    assert first["eliminated"] == lot_order("s1", [1, 2])[-1]


def test_schulze_wikipedia_example_elects_e():
    # The 45-voter example from Schulze's paper / Wikipedia: A..E = 0..4, winner E.
    groups = [(5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"), (7, "CAEBD"), (2, "CBADE"),
              (7, "DCEBA"), (8, "EBADC")]
    ballots = []
    for n, order in groups:
        ballots += [(tuple("ABCDE".index(c) for c in order), 1, 0)] * n
    r = count(Spec("schulze", 5), ballots)
    assert r["winner"] == 4 and r["schulze_winners"] == [4]
    assert r["pairwise"][0][1] == 20 and r["pairwise"][1][0] == 25
    assert r["strongest_paths"][4][0] == 25 and r["strongest_paths"][0][4] == 24


def test_schulze_unranked_options_rank_below_ranked_ones():
    r = count(Spec("schulze", 3), [((0,), 1, 0), ((0,), 1, 0), ((1, 2), 1, 0)])
    assert r["pairwise"][0][1] == 2 and r["pairwise"][1][2] == 1 and r["pairwise"][2][1] == 0
    assert r["winner"] == 0


def test_schulze_cycle_is_a_tie_broken_by_lot():
    r = count(Spec("schulze", 3, tie_seed="x"), [((0, 1, 2), 1, 0), ((1, 2, 0), 1, 0), ((2, 0, 1), 1, 0)])
    assert sorted(r["tie"]["tied"]) == [0, 1, 2]
    assert r["winner"] == lot_order("x", [0, 1, 2])[0]


def test_fraction_strings_are_exact():
    r = owners([(Y, 1, 10001), (N, 1, 9999)], 2, "200.00")
    t = rules(r)["approval_area"]
    assert t["ratio"] == str(Fraction(10001, 20000)).replace("/", "/") and t["met"] is True
