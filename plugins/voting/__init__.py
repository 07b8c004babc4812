"""The voting module of linli: Voting (表决)."""
from flask_babel import lazy_gettext as _l

from core.events import EventType
from core.hookspecs import hookimpl
from core.permissions import Permission
from core.plugins import PluginManifest
from core.ui import NavItem, Panel

manifest = PluginManifest(
    name="voting",
    label=_l("Voting (表决)"),
    description=_l("Ballots on proposals and polls: majority, approval, ranked choice, Schulze; owners' double majority by area and headcount; paper ballots and recounts."),
    namespaces=("vote", "ballot"),
    settings_defaults={
        # Open a ballot by itself when a proposal reaches "voting".
        "auto_open": True,
        "default_unit": "person",
        "default_rule": "simple",
        "default_quorum": "none",
        "default_days": 7,
        # "refuse": a counted paper ballot is final; "latest": the latest ballot counts.
        "paper_rule": "refuse",
        # Whether spoiled paper ballots count as taking part (DOMAIN_RULES R1, §7).
        "spoiled_participates": True,
        # Notice (R8): days between publishing an owners' ballot's notice and the opening of voting
        # (物业管理条例 Art. 14: 15; 杭州 Art. 19: 7 for a temporary meeting; set it to notice_days
        # where local rules allow no shorter notice); other ballots: none unless set here.
        "notice_days": 15,
        "notice_days_temporary": 7,
        "notice_days_other": 0,
        # Voting window (R10), from opening to closing, in days: owners' ballots (杭州 Art. 20: 5–60),
        # other ballots (a minimum of 0 means any length above zero).
        "window_min_days": 5,
        "window_max_days": 60,
        "window_min_days_other": 0,
        "window_max_days_other": 90,
        # Proxies (R10, 潍坊 Art. 32): the most voters one person may hold a proxy for on a ballot.
        "proxy_limit": 3,
        # Owners' committee elections (R14): the seats a committee may have; most local rules ask
        # for an odd number from 5 to 11 (residents' committees: 5 to 9, Organic Law Art. 7).
        "owners_committee_min_seats": 5,
        "owners_committee_max_seats": 11,
        "owners_committee_odd_seats": True,
        # Convening on request (R13, Organic Law Art. 10): whole days the residents' committee has
        # to answer a request that reached its threshold.
        "convening_answer_days": 15,
    },
)

STAFF = ("staff", "admin")

from plugins.voting import models  # noqa: E402,F401  (register the tables)


@hookimpl
def register_blueprints():
    from plugins.voting import convening_views  # noqa: F401  (its routes join the blueprint)
    from plugins.voting import election_views  # noqa: F401  (its routes join the blueprint)
    from plugins.voting.views import bp

    return [bp]


@hookimpl
def register_api_blueprints():
    from plugins.voting import convening_api  # noqa: F401  (its routes join the blueprint)
    from plugins.voting import election_api  # noqa: F401  (its routes join the blueprint)
    from plugins.voting.api import api_bp

    return [api_bp]


@hookimpl
def register_cli_commands():
    from plugins.voting.cli import ballots_group

    return [ballots_group]


@hookimpl
def register_permissions():
    return [
        Permission("voting.ballots.manage", _l("Set up, open and close ballots"), STAFF),
        Permission("voting.paper.enter", _l("Enter paper ballots for voters"), ("grid_worker", "staff", "admin")),
        Permission("voting.convening.assist", _l("Support a request for a residents' meeting for a resident"),
                   ("building_head", "grid_worker", "staff", "admin")),
    ]


@hookimpl
def register_audit_events():
    """The sentences of the audit keys this module writes (the core's audit log shows them)."""
    from plugins.voting.audit_texts import EVENTS, FIELDS

    return EVENTS + FIELDS


@hookimpl
def register_event_types():
    return [
        EventType("ballot.opened", _l("A ballot opened"), _l("data: ballot_id, proposal_id")),
        EventType("vote.cast", _l("A vote was cast"),
                  _l("ref is ballot:<id>:voter:<voter>, the same for every change of one voter's vote")),
        EventType("ballot.closed", _l("A ballot closed and was counted"),
                  _l("data: ballot_id, proposal_id, passed, winner")),
        EventType("voting.convening_started", _l("Residents asked for a residents' meeting"),
                  _l("data: request_id, base")),
        EventType("voting.convening_reached", _l("A request for a residents' meeting reached its threshold"),
                  _l("data: request_id, base, progress")),
        EventType("voting.convening_answered", _l("The committee answered a request for a residents' meeting"),
                  _l("data: request_id, state (convened or replied), ballot_id")),
    ]


@hookimpl
def nav_items(community, user):
    return [NavItem("c.voting.index", _l("Votes"), order=20, icon="check"),
            NavItem("c.voting.settings", _l("Voting settings"), order=86, area="admin",
                    permission="core.settings.manage")]


@hookimpl
def proposal_panels(proposal, user):
    from plugins.voting import services
    from plugins.voting.models import Ballot

    ballots = Ballot.query.filter(Ballot.proposal_id == proposal.id, Ballot.state != "cancelled") \
        .order_by(Ballot.id.desc()).all()
    if not ballots and proposal.state not in ("coordinating", "voting"):
        return []
    mine = {}
    for b in ballots:
        voter = services.voter_for(b, user) if b.state == "open" else None
        if voter is not None:
            mine[b.id] = (voter, services.counted_entry(b, voter))
    return [Panel("voting/_panel.html", _l("Vote (表决)"),
                  {"ballots": ballots, "proposal": proposal, "mine": mine, "now": services.utcnow()}, order=10)]


@hookimpl
def proposal_transition_blocked(proposal, new_state, actor):
    from flask_babel import gettext as _

    from plugins.voting.models import Ballot

    if new_state in ("accepted", "rejected"):
        if Ballot.query.filter_by(proposal_id=proposal.id, state="open").first() is not None:
            return _("A ballot is open on this proposal: its result decides when it closes.")
    return None


@hookimpl
def on_proposal_transition(proposal, old_state, new_state, actor, reason):
    from flask_babel import gettext as _

    from plugins.voting import services
    from plugins.voting.models import Ballot

    if new_state == "voting" and services.setting(proposal.community, "auto_open"):
        services.ballot_for_proposal(proposal, actor)
    elif new_state == "withdrawn":
        for ballot in Ballot.query.filter(Ballot.proposal_id == proposal.id, Ballot.state.in_(("draft", "open"))):
            services.call_off(ballot, actor, _("The proposal was withdrawn."))


@hookimpl
def on_resident_verified(membership, actor):
    from plugins.voting import services

    services.tell_late_verified(membership)


@hookimpl
def dashboard_widgets(community, user):
    from plugins.voting import services

    if not getattr(user, "is_authenticated", False):
        return []
    items = services.open_for(community, user)
    held = services.proxies_held_open(community, user)
    if not items and not held:
        return []
    return [Panel("voting/_widget.html", _l("Votes to cast"),
                  {"left": sum(1 for _b, _v, voted in items if not voted), "items": items, "held": held}, order=5)]


@hookimpl
def load_demo_data(community, users):
    from plugins.voting.demo import load

    load(community, users)


@hookimpl
def open_business(community):
    """Ballots open for voting or announced (asked before switching off)."""
    from core.extensions import db
    from plugins.voting.models import Ballot

    q = db.session.query(Ballot.id).filter(Ballot.community_id == community.id)
    return [{"key": "open_ballots", "label": _l("Ballots open for voting"), "count": q.filter(Ballot.state == "open").count()},
            {"key": "announced_ballots", "label": _l("Ballots announced, voting not yet open"),
             "count": q.filter(Ballot.state == "draft", Ballot.notice_published_at.isnot(None)).count()}]


from plugins.voting.personal_data import personal_data_erase, personal_data_export  # noqa: E402,F401  (PIPL hooks)
from plugins.voting.persons import on_persons_merged  # noqa: E402,F401  (one person on the register, R5)
