"""Translated names of methods, units, rules and result tests, shared by pages, API and CLI."""
from flask_babel import lazy_gettext as _l

METHOD_LABELS = {
    "majority": _l("Yes / no / abstain"),
    "approval": _l("Approval (choose several)"),
    "irv": _l("Ranked choice (instant runoff)"),
    "schulze": _l("Ranked choice (Schulze)"),
    "election": _l("Election of a committee (several people, secret)"),
}
UNIT_LABELS = {
    "person": _l("One verified resident, one vote"),
    "household": _l("One vote per household (户代表)"),
    "owners": _l("Owners: a majority by both area and headcount, as the Civil Code requires"),
}
RULE_LABELS = {
    "simple": _l("Simple majority (more than half)"),
    "two_thirds": _l("Two thirds or more"),
    "three_quarters": _l("Three quarters or more"),
}
# Civil Code Art. 279 (R7): offered on the ballot form only, never as a community's default rule.
UNANIMOUS_LABEL = _l("Owners of one building: every interested owner must agree (turning a home into business "
                     "premises)")
# Why an interested owner did not consent (counting.CONSENT_MISSING).
CONSENT_LABELS = {"no": _l("voted no"), "abstain": _l("abstained"), "spoiled": _l("spoiled paper ballot"),
                  "not_voted": _l("did not vote")}
# A residents' meeting (R12): offered on the ballot form only, never as a community's default rule.
RESIDENTS_MEETING_LABEL = _l("Residents' meeting: more than half of its members present, and yes from more than half "
                             "of those present")
ELECTORATE_MODE_LABELS = {
    "adults": _l("The residents aged 18 or over"),
    "households": _l("One representative of each household"),
    "groups": _l("Two or three representatives of each residents' group (grid)"),
}
QUORUM_LABELS = {
    "none": _l("No quorum"),
    "half": _l("More than half of the electorate takes part"),
    "two_thirds": _l("Two thirds or more of the electorate take part"),
}
MATTER_LABELS = {
    "ordinary": _l("Ordinary matter: more than half of participating area and owners"),
    "special": _l("Special matter (raising the fund, rebuilding, changing common parts): three quarters or more"),
}
STATE_LABELS = {
    "draft": _l("In preparation"),
    "open": _l("Open"),
    "closing": _l("Closing: counting soon"),  # its time is up; `linli ballots close-due` counts it
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
MAJORITY_LABELS = {"yes": _l("Yes"), "no": _l("No"), "abstain": _l("Abstain")}
TEST_LABELS = {
    "quorum_area": _l("Turnout by area: at least 2/3 of all exclusive area"),
    "quorum_heads": _l("Turnout by heads: at least 2/3 of all owners"),
    "approval_area": _l("Approval by area (of participating area)"),
    "approval_heads": _l("Approval by heads (of participating owners)"),
    "quorum": _l("Quorum (of the electorate)"),
    "approval_present": _l("Decision: yes from more than half of those present (abstentions, blank and spoiled "
                           "ballots count against)"),
    "approval": _l("Approval (yes of yes + no; abstentions not counted)"),
    "participation": _l("Turnout: more than half of the voters took part"),
    "unanimity": _l("Consent of every interested owner (no, abstaining and not voting are not consent)"),
}
# Elections (R14): what became of each candidate.
ELECTION_STATUS_LABELS = {
    "elected": _l("Elected"),
    "elected_by_lot": _l("Elected (tie decided by lot)"),
    "not_elected_by_lot": _l("Not elected (tie decided by lot)"),
    "not_elected": _l("Not elected (fewer votes)"),
    "not_approved": _l("Not elected (not more than half)"),
}
SOURCE_LABELS = {"online": _l("online"), "paper": _l("paper"), "correction": _l("correction"),
                 "proxy": _l("by proxy"), "roll": _l("added to the roll")}
# When a voter has both an online vote and a paper ballot (docs/voting.md).
PAPER_RULE_LABELS = {
    "refuse": _l("Refuse: a voter votes either online or on paper; a paper ballot is not entered over an online "
                 "vote, nor an online vote over a paper ballot"),
    "paper_wins": _l("Paper wins: a signed paper ballot counts over an online vote (the voter is told); an online "
                     "vote after a paper ballot is refused"),
    "first_wins": _l("First wins: the first ballot counts; a paper ballot after an online vote is kept in the log "
                     "without counting (the voter is told); an online vote after a paper ballot is refused"),
    "latest": _l("The latest ballot counts, paper or online (the rule of ballots opened before December 2026)"),
}
PAPER_RULE_CHOICES = [(key, PAPER_RULE_LABELS[key]) for key in ("refuse", "paper_wins", "first_wins")]
SCOPE_LABELS = {"community": _l("Whole community"), "grid": _l("One grid"), "building": _l("One building")}
