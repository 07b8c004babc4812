"""Translated names of methods, units, rules and result tests, shared by pages, API and CLI."""
from flask_babel import lazy_gettext as _l

METHOD_LABELS = {
    "majority": _l("Yes / no / abstain"),
    "approval": _l("Approval (choose several)"),
    "irv": _l("Ranked choice (instant runoff)"),
    "schulze": _l("Ranked choice (Schulze)"),
}
UNIT_LABELS = {
    "person": _l("One verified resident, one vote"),
    "household": _l("One vote per household (户代表)"),
    "owners": _l("Owners: double majority by area and headcount (Civil Code Art. 278)"),
}
RULE_LABELS = {
    "simple": _l("Simple majority (more than half)"),
    "two_thirds": _l("Two thirds or more"),
    "three_quarters": _l("Three quarters or more"),
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
    "approval": _l("Approval (yes of yes + no; abstentions not counted)"),
}
SOURCE_LABELS = {"online": _l("online"), "paper": _l("paper"), "correction": _l("correction"),
                 "proxy": _l("by proxy")}
PAPER_RULE_LABELS = {
    "refuse": _l("A paper ballot is final: a later online vote is refused"),
    "latest": _l("The latest ballot counts, paper or online"),
}
SCOPE_LABELS = {"community": _l("Whole community"), "grid": _l("One grid"), "building": _l("One building")}
