"""Property tests of the counting code against independent reference implementations:
pyrankvote for instant runoff, a brute-force beat-path search for Schulze, and a direct
Fraction reading of Civil Code Art. 278 for owners' ballots."""
import itertools
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from plugins.voting.counting import Spec, count




def rankings(n):
    return st.lists(st.permutations(range(n)).flatmap(
        lambda p: st.integers(min_value=1, max_value=len(p)).map(lambda k: tuple(p[:k]))), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=2, max_value=6).flatmap(lambda n: st.tuples(st.just(n), rankings(n))))
def test_irv_agrees_with_pyrankvote_when_no_tie_is_involved(case):
    pyrankvote = pytest.importorskip("pyrankvote")  # test-only dependency (MIT)
    from pyrankvote import Ballot as RBallot
    from pyrankvote import Candidate

    n, ranks = case
    result = count(Spec("irv", n, tie_seed="seed"), [(r, 1, 0) for r in ranks])
    assume(result["tie"] is None and all(rd["tie"] is None for rd in result["rounds"]))
    candidates = [Candidate(str(i)) for i in range(n)]
    ref = pyrankvote.instant_runoff_voting(candidates, [RBallot(ranked_candidates=[candidates[i] for i in r])
                                                        for r in ranks])
    assert str(ref.get_winners()[0]) == str(result["winner"])


def beatpath_winners(n, ballots):
    """Schulze by brute force: the strength of the strongest path over every simple path."""
    d = [[0] * n for _ in range(n)]
    for r in ballots:
        rest = [j for j in range(n) if j not in r]
        for i, a in enumerate(r):
            for b in list(r[i + 1:]) + rest:
                d[a][b] += 1
    def strength(path):
        return min(d[a][b] if d[a][b] > d[b][a] else 0 for a, b in zip(path, path[1:]))
    best = [[0] * n for _ in range(n)]
    for a in range(n):
        for b in range(n):
            if a == b:
                continue
            others = [x for x in range(n) if x not in (a, b)]
            for k in range(len(others) + 1):
                for mid in itertools.permutations(others, k):
                    best[a][b] = max(best[a][b], strength((a, *mid, b)))
    return [a for a in range(n) if all(best[a][b] >= best[b][a] for b in range(n) if b != a)]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=5).flatmap(lambda n: st.tuples(st.just(n), rankings(n))))
def test_schulze_agrees_with_brute_force_beatpaths(case):
    n, ranks = case
    result = count(Spec("schulze", n, tie_seed="s"), [(r, 1, 0) for r in ranks])
    ref = beatpath_winners(n, ranks)
    assert result["schulze_winners"] == ref
    assert result["winner"] in ref


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=5).flatmap(lambda n: st.tuples(st.just(n), rankings(n))))
def test_schulze_elects_the_condorcet_winner(case):
    n, ranks = case
    result = count(Spec("schulze", n), [(r, 1, 0) for r in ranks])
    d = result["pairwise"]
    condorcet = [a for a in range(n) if all(d[a][b] > d[b][a] for b in range(n) if b != a)]
    if condorcet:
        assert result["winner"] == condorcet[0] and result["tie"] is None


owner_ballot = st.tuples(st.sampled_from([(0,), (1,), (2,), None]), st.integers(min_value=1, max_value=20000))


@settings(max_examples=300, deadline=None)
@given(st.lists(owner_ballot, max_size=30), st.integers(min_value=0, max_value=15),
       st.integers(min_value=0, max_value=300000), st.sampled_from(["ordinary", "special"]))
def test_owner_rule_matches_a_direct_reading_of_article_278(ballots, absent_heads, absent_area, matter):
    heads_total = len(ballots) + absent_heads
    area_total = sum(a for _c, a in ballots) + absent_area
    assume(heads_total > 0)
    result = count(Spec("majority", 3, unit="owners", matter_class=matter, heads_total=heads_total,
                        area_total=area_total), [(c, 1, a) for c, a in ballots])
    part_h = len(ballots)
    part_a = sum(a for _c, a in ballots)
    yes_h = sum(1 for c, _a in ballots if c == (0,))
    yes_a = sum(a for c, a in ballots if c == (0,))
    quorum = (area_total > 0 and Fraction(part_a, area_total) >= Fraction(2, 3)
              and Fraction(part_h, heads_total) >= Fraction(2, 3))
    if part_h == 0 or part_a == 0:
        approved = False
    elif matter == "special":
        approved = Fraction(yes_a, part_a) >= Fraction(3, 4) and Fraction(yes_h, part_h) >= Fraction(3, 4)
    else:
        approved = Fraction(yes_a, part_a) > Fraction(1, 2) and Fraction(yes_h, part_h) > Fraction(1, 2)
    assert result["passed"] is (quorum and approved)
