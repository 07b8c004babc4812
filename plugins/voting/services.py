"""Every change to ballots: create, open (publish the electorate), cast, paper ballots and
corrections, close (count, move the proposal), export. Views, API and CLI all come here."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import dates
from core.errors import Conflict, Forbidden, NotFound, ServiceError
from core.events import Event, emit
from core.extensions import db
from core.inputs import whole_number
from core.models import Building, Grid, Household, Membership, Person, Unit, User, utcnow
from core.permissions import can, membership_of
from core.services import audit
from core.services import settings as settings_svc
from core.services.notifications import N_, notify
from core.sorting import natural_sorted
from plugins.voting import counting, elections, integrity, store
from plugins.voting import residents_meeting
from plugins.voting.models import Ballot, BallotOption, Entry, PaperScan, Proxy, Voter

MAJORITY_OPTIONS = ("yes", "no", "abstain")
DEFAULT_RULE_SOURCE = "Civil Code Art. 278; SPC Interpretation on Building Ownership Art. 8–9"
MAX_OPTIONS = 20
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_PHOTO = 5 * 1024 * 1024
PROXY_UNITS = ("owners", "household")
# When a voter has both an online vote and a paper ballot (docs/voting.md). "latest", the rule of
# ballots opened before these three, stays readable on them; sent again, it is read as paper_wins.
PAPER_RULES = integrity.PAPER_RULES
OLD_PAPER_RULES = {"latest": "paper_wins"}


def sniff_image(data):
    """The image type of an upload by its first bytes (never the name or the browser's word)."""
    if not data:
        return None
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked_photo(photo, field="photo"):
    """(content type by magic bytes, data) of an uploaded photo or scan, or a ServiceError."""
    _declared, data = photo
    kind = sniff_image(data)
    if kind not in PHOTO_TYPES or len(data) > MAX_PHOTO:
        raise ServiceError("invalid_photo", _("Attach a JPEG, PNG or WebP photo of up to 5 MB."),
                           fields={field: _("Attach a JPEG, PNG or WebP photo of up to 5 MB.")})
    return kind, data


def setting(community, key):
    return settings_svc.get(community, "voting", key)


# ── reading ──────────────────────────────────────────────────────────────────────────────
def get(community, ballot_id) -> Ballot:
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.community_id != community.id:
        raise NotFound("not_found", _("No such ballot."))
    return ballot


def get_with_voter(community, ballot_id, user):
    """The ballot and ``user``'s entry on its electorate (None if not in it), in one query: a vote
    needs both (see :func:`online_voter`)."""
    if not getattr(user, "is_authenticated", False):
        return get(community, ballot_id), None
    row = store.ballot_and_voter(ballot_id, user.id)
    if row is None or row[0].community_id != community.id:
        raise NotFound("not_found", _("No such ballot."))
    return tuple(row)


def ballots_query(community):
    return Ballot.query.filter(Ballot.community_id == community.id)


def voter_for(ballot, user):
    """The user's entry on the ballot's electorate, or None."""
    if user is None or not getattr(user, "is_authenticated", False) or ballot.state == "draft":
        return None
    return store.voter_of_user(ballot.id, user.id)


def counted_entry(ballot, voter):
    """The voter's counted ballot (named ballots, or secret ones through the salted tag)."""
    if voter is None:
        return None
    return Entry.query.filter_by(ballot_id=ballot.id, voter_tag=chain_tag(ballot, voter), counted=True).first()


def open_for(community, user):
    """(ballot, voter, has_voted) for the open ballots on which ``user`` is in the electorate."""
    if not getattr(user, "is_authenticated", False):
        return []
    now = utcnow()
    rows = (db.session.query(Ballot, Voter).join(Voter, Voter.ballot_id == Ballot.id)
            .filter(Ballot.community_id == community.id, Ballot.state == "open", Voter.user_id == user.id)
            .order_by(Ballot.closes_at).all())
    return [(b, v, v.voted_at is not None) for b, v in rows if b.opens_at <= now < b.closes_at]


def votes_left(community, user) -> int:
    return sum(1 for _b, _v, voted in open_for(community, user) if not voted)


def voter_name(voter):
    if voter.key == "developer":
        return _("Developer (unsold units)")
    return voter.name or _("(owner not on the register)")


def option_label(ballot, position):
    from plugins.voting.labels import MAJORITY_LABELS

    if ballot.method == "majority":
        return str(MAJORITY_LABELS[MAJORITY_OPTIONS[position]])
    for o in ballot.options:
        if o.position == position:
            return o.label
    return "?"


# ── creating and opening ─────────────────────────────────────────────────────────────────
def check_can_manage(community, actor, message=None):
    """Refuse an act on ballots to whoever may not set them up (staff). The acts the platform does
    by itself (a proposal's ballot, closing when due, an operator's command) do not ask."""
    if not can("voting.ballots.manage", community, user=actor):
        raise Forbidden("forbidden", message or _("Only community staff can set up ballots."))


def _position_or_none(value):
    """An option's position from a form or JSON field, or None when it is none (an unknown option
    is then refused by the caller as such, not as a malformed number)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _parse_time(value, field, errors):
    if isinstance(value, datetime):  # a naive time is the community's local time, as typed in a form
        return dates.from_local(value)
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        errors[field] = _("Give a date and time such as 2026-12-01T18:00+08:00.")
        return None
    return dates.from_local(dt)


def _validate(community, data, proposal, class_later=False):
    """The ballot's fields from ``data``, or a ServiceError naming each bad one. ``class_later``:
    an owners' ballot set up by the platform, whose matter class staff give before its notice."""
    errors = {}
    title = (data.get("title") or (proposal.title if proposal else "") or "").strip()
    if not 2 <= len(title) <= 120:
        errors["title"] = _("Give a title of 2 to 120 characters.")
    description = (data.get("description") or "").strip()
    if len(description) > 5000:
        errors["description"] = _("Describe the ballot in at most 5,000 characters.")
    method = data.get("method") or "majority"
    if method not in counting.METHODS:
        errors["method"] = _("Choose a voting method.")
    unit = data.get("unit") or setting(community, "default_unit")
    if unit not in counting.UNITS:
        errors["unit"] = _("Choose who votes: residents, households or owners.")
    rule = data.get("rule") or setting(community, "default_rule")
    if rule not in counting.RULES + (counting.UNANIMOUS,):
        errors["rule"] = _("Choose a majority rule.")
    quorum = data.get("quorum") or setting(community, "default_quorum")
    if quorum not in counting.QUORUMS:
        errors["quorum"] = _("Choose a quorum.")
    meeting = residents_meeting.terms(data, method, rule, errors)  # R12: who makes up a residents' meeting
    if meeting:  # its unit follows from the mode; its quorum is the law's (more than half present)
        unit, quorum = meeting["unit"], "half"
    matter_class = data.get("matter_class") or None
    if method == elections.METHOD:  # an owners' committee election is an ordinary matter (Art. 278 (4))
        matter_class = "ordinary" if unit == "owners" else None
    if unit == "owners":
        if method not in ("majority", elections.METHOD):
            errors["method"] = _("Owners' double-majority ballots are yes/no/abstain ballots.")
        if rule == counting.UNANIMOUS:  # Art. 279, not Art. 278: no matter class
            matter_class = None
        elif matter_class not in counting.MATTER_CLASSES and not (class_later and matter_class is None):
            errors["matter_class"] = _("Say whether this is an ordinary or a special matter (Civil Code, Article 278).")
        rule, quorum = (rule if rule == counting.UNANIMOUS else "simple"), "none"
    else:
        matter_class = None
    options = []
    if method not in ("majority", elections.METHOD):  # an election's options are its published candidates
        raw = data.get("options") or []
        if isinstance(raw, str):
            raw = raw.splitlines()
        if not isinstance(raw, list):
            raw = []
        options = [str(o).strip() for o in raw if str(o).strip()]
        if len(options) < 2 or len(options) > MAX_OPTIONS:
            errors["options"] = _("Give between 2 and %(n)d options, one per line.", n=MAX_OPTIONS)
        elif len(set(options)) != len(options):
            errors["options"] = _("Each option may appear only once.")
        elif any(len(o) > 120 for o in options):
            errors["options"] = _("Keep each option under 120 characters.")
    max_choices = whole_number(data.get("max_choices"), "max_choices") if data.get("max_choices") not in (None, "", 0, "0") else None
    if method == "approval" and max_choices is not None and not 1 <= max_choices <= max(1, len(options)):
        errors["max_choices"] = _("The most options a voter may approve must be between 1 and the number of options.")
    if method != "approval":
        max_choices = None
    seats = None
    if method == elections.METHOD:  # R14: each voter marks up to ``seats`` candidates
        seats, problem = elections.seats_problem(community, unit, data.get("seats"))
        if problem:
            errors["seats"] = problem
        max_choices = seats
        if proposal is not None:
            errors["method"] = _("An election is held on its own, not on a proposal.")
    scope = (proposal.scope if proposal else data.get("scope")) or "community"
    grid_id = proposal.grid_id if proposal else whole_number(data.get("grid_id"), "grid_id")
    building_id = proposal.building_id if proposal else whole_number(data.get("building_id"), "building_id")
    if scope not in ("community", "grid", "building"):
        errors["scope"] = _("Choose who the ballot concerns.")
    if scope == "grid":
        grid = db.session.get(Grid, grid_id or 0)
        if grid is None or grid.community_id != community.id:
            errors["grid_id"] = _("Choose a grid of this community.")
    else:
        grid_id = None
    if scope == "building":
        building = db.session.get(Building, building_id or 0)
        if building is None or building.community_id != community.id:
            errors["building_id"] = _("Choose a building of this community.")
    else:
        building_id = None
    now = utcnow()
    opens_at = _parse_time(data.get("opens_at"), "opens_at", errors) or now
    closes_at = _parse_time(data.get("closes_at"), "closes_at", errors)
    if closes_at is None and "closes_at" not in errors:
        days = whole_number(data.get("days"), "days") or setting(community, "default_days")
        closes_at = opens_at + timedelta(days=days)
    if closes_at is not None and closes_at <= opens_at:
        errors["closes_at"] = _("The ballot must close after it opens.")
    elif closes_at is not None and closes_at <= now:
        errors["closes_at"] = _("The closing time has already passed.")
    elif closes_at is not None and unit in counting.UNITS:
        problem = window_problem(community, unit, opens_at, closes_at)
        if problem:
            errors["closes_at"] = problem
    paper_rule = data.get("paper_rule") or setting(community, "paper_rule")
    paper_rule = OLD_PAPER_RULES.get(paper_rule, paper_rule) if isinstance(paper_rule, str) else None
    if paper_rule not in PAPER_RULES:
        errors["paper_rule"] = _("Choose what happens when someone who voted on paper votes online.")
    interested = _interested(community, data, unit, rule, scope, building_id, errors)
    if errors:
        raise ServiceError("invalid_ballot", _("Please correct the marked fields."), fields=errors)
    return dict(title=title, description=description, method=method, unit=unit, rule=rule, quorum=quorum,
                interested=interested, matter_class=matter_class, max_choices=max_choices, scope=scope,
                grid_id=grid_id, building_id=building_id, opens_at=opens_at, closes_at=closes_at, paper_rule=paper_rule,
                secret=(bool(data.get("secret")) and unit != "owners") or method == elections.METHOD,
                temporary=bool(data.get("temporary")) and unit == "owners",
                spoiled_participates=bool(setting(community, "spoiled_participates")) or method == elections.METHOD,
                seats=seats, electorate_mode=meeting.get("electorate_mode")), options


MAX_INTERESTED = 200


def _ids(value, field, errors):
    """A list of whole numbers from the API (a list) or a form (a list, or one value); None (and an
    error) when too long. Anything not a whole number is refused (400 naming ``field``)."""
    if value in (None, "", []):
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    ids = sorted({whole_number(v, field) for v in items if v not in (None, "", 0, "0")})  # else 400 naming it
    if len(ids) > MAX_INTERESTED:
        errors[field] = _("Choose at most %(n)d from the list.", n=MAX_INTERESTED)
        return None
    return ids


def _interested(community, data, unit, rule, scope, building_id, errors):
    """The terms of a unanimity ballot (rule ``unanimous``; Civil Code Art. 279, R7), or None.

    Turning a home into business premises (住改商) needs the consent of every interested owner:
    by default every owner of the building (SPC Interpretation on Building Ownership Art. 11), so
    the ballot is an owners' ballot of one building; staff may add other buildings and exclusive
    units (``interested_buildings``, ``interested_households``) whose owners show they are
    affected. It is named: the result shows who did not consent, so a secret ballot is refused.
    Returns ``{"buildings": [ids], "households": [ids]}`` (the additions), or None."""
    if rule != counting.UNANIMOUS:
        return None
    if (data.get("method") or "majority") != "majority":
        errors["method"] = _("Every interested owner's consent is asked on a yes/no/abstain ballot.")
    if unit != "owners":
        errors["rule"] = _("Only owners decide by the consent of every interested owner: choose owners as who votes.")
    elif scope != "building":
        errors["rule"] = _("The consent of every interested owner is asked in one building: choose the building "
                           "concerned.")
    if data.get("secret"):
        errors["secret"] = _("A decision that needs every interested owner's consent cannot be secret: its result "
                             "shows who did not consent.")
    buildings = _ids(data.get("interested_buildings"), "interested_buildings", errors)
    households = _ids(data.get("interested_households"), "interested_households", errors)
    if buildings:
        found = {b for (b,) in db.session.query(Building.id).filter(Building.community_id == community.id,
                                                                    Building.id.in_(buildings))}
        if found != set(buildings):
            errors["interested_buildings"] = _("Choose buildings of this community.")
        buildings = [b for b in buildings if b != building_id]
    if households:
        rows = db.session.query(Household.id, Unit.building_id).join(Unit, Household.unit_id == Unit.id).filter(
            Household.community_id == community.id, Household.id.in_(households)).all()
        if len(rows) != len(households):
            errors["interested_households"] = _("Choose units of this community.")
        covered = {building_id, *(buildings or [])}
        households = sorted(h for h, b in rows if b not in covered)  # already interested through their building
    if not buildings and not households:
        return None
    return {"buildings": buildings or [], "households": households or []}


def _building_scope(ballot):
    """The SQL condition on Household (joined with Unit) of a building ballot's households: the
    building's, and on a unanimity ballot those of the buildings and units staff added."""
    extra = ballot.interested or {}
    cond = Unit.building_id == ballot.building_id
    if extra.get("buildings"):
        cond = cond | Unit.building_id.in_(extra["buildings"])
    if extra.get("households"):
        cond = cond | Household.id.in_(extra["households"])
    return cond


def _interested_in(ballot, household):
    """Whether staff added ``household`` (or its building) to a unanimity ballot's interested owners."""
    extra = ballot.interested or {}
    return household.id in (extra.get("households") or []) or \
        (household.unit is not None and household.unit.building_id in (extra.get("buildings") or []))


def interested_added(ballot):
    """The buildings and units staff added to a unanimity ballot's interested owners, for its
    pages and manifest: ``{"buildings": [{"id", "name"}], "households": [{"id", "label"}]}``."""
    extra = ballot.interested or {}
    buildings = Building.query.filter(Building.id.in_(extra.get("buildings") or [])).all()
    households = (Household.query.options(selectinload(Household.unit).selectinload(Unit.building))
                  .filter(Household.id.in_(extra.get("households") or [])).all())
    return {"buildings": [{"id": b.id, "name": b.name} for b in natural_sorted(buildings, key=lambda b: b.name)],
            "households": [{"id": h.id, "label": h.label} for h in natural_sorted(
                households, key=lambda h: (h.unit.building.name, h.unit.name, h.room))]}


def window_bounds(community, unit):
    """(min, max) days between opening and closing (R10): owners' ballots and the others."""
    if unit == "owners":
        return int(setting(community, "window_min_days")), int(setting(community, "window_max_days"))
    return int(setting(community, "window_min_days_other")), int(setting(community, "window_max_days_other"))


def window_problem(community, unit, opens_at, closes_at):
    """The translated reason why a voting window is outside the community's bounds, or None."""
    low, high = window_bounds(community, unit)
    span = closes_at - opens_at
    if span < timedelta(days=low) or span > timedelta(days=high):
        days = span.total_seconds() / 86400
        if low > 0:
            return _("Voting must stay open between %(min)d and %(max)d days from opening to closing; "
                     "this ballot would stay open %(days).1f days.", min=low, max=high, days=days)
        return _("Voting may stay open at most %(max)d days from opening to closing; this ballot would "
                 "stay open %(days).1f days.", max=high, days=days)
    return None


def earliest_opening(community, published, days):
    """When voting may open at the earliest after a notice published at ``published`` (R8).

    The notice must be up ``days`` whole days in the community's calendar before the day voting
    opens: the day it is published is not counted (Civil Code Art. 201) and the period ends at
    24:00 of its last day (Art. 203). A notice put up at 01:00 on 2 December for a 15-day period
    lets voting open from 00:00 on 18 December, local time, whatever the hour in UTC."""
    if not days:
        return published
    return dates.start_of_day(dates.local_date(published, community) + timedelta(days=days + 1), community)


def notice_minimum(community, ballot):
    """Days of notice the ballot needs before voting opens (R8): owners' ballots 15, or 7 for a
    temporary meeting; other ballots none unless the community sets ``notice_days_other``."""
    if ballot.unit == "owners":
        return int(setting(community, "notice_days_temporary" if ballot.temporary else "notice_days"))
    return int(setting(community, "notice_days_other"))


def publish_notice(ballot, actor, *, temporary=None, at=None):
    """Staff publish the ballot's notice (:func:`put_up_notice`)."""
    check_can_manage(ballot.community, actor, _("Only community staff can publish a ballot's notice."))
    return put_up_notice(ballot, actor, temporary=temporary, at=at)


def put_up_notice(ballot, actor, *, temporary=None, at=None):
    """Publish the ballot's notice (公告) with its full agenda: the residents' committee (the
    community's staff) is told, the notice shows on the ballot page and prints. From now on the
    agenda, the options and the times are frozen. ``at`` backdates it (demo data only)."""
    community = ballot.community
    if ballot.state != "draft":
        raise Conflict("not_draft", _("The notice is published before voting opens, on a ballot in preparation."))
    if ballot.notice_published_at is not None:
        raise Conflict("notice_published", _("The notice of this ballot is already published."))
    check_terms(ballot)
    if temporary is not None:
        ballot.temporary = bool(temporary) and ballot.unit == "owners"
    at = at or utcnow()
    days = notice_minimum(community, ballot)
    earliest = earliest_opening(community, at, days)
    if ballot.opens_at < earliest:
        msg = _("Voting may open on %(date)s at the earliest, %(n)d days after the notice is published: "
                "move the opening time before publishing.", date=dates.format_local(earliest, community), n=days)
        raise ServiceError("notice_too_short", msg, fields={"opens_at": msg})
    ballot.notice_published_at = at
    ballot.notice_days = days
    ballot.notice_by_id = actor.id if actor is not None else None
    db.session.flush()
    audit.record("voting.notice_published", community=community, obj=ballot, actor=actor,
                 after={"published_at": dates.iso(at), "notice_days": days, "temporary": ballot.temporary,
                        "opens_at": dates.iso(ballot.opens_at), "closes_at": dates.iso(ballot.closes_at),
                        "options": [o.label for o in ballot.options], "matter_class": ballot.matter_class})
    # The residents' committee must be told (物业管理条例 Art. 14): the community's staff.
    staff = [m.user_id for m in Membership.query.filter(Membership.community_id == community.id)
             if m.has_role("staff", "admin")]
    for uid in sorted(set(staff)):
        notify(uid, community, "voting.notice", N_("Notice published: “%(title)s”, voting opens %(opens)s."),
               {"title": ballot.title, "opens": dates.format_local(ballot.opens_at, community)}, url=_ballot_url(ballot))
    return ballot


def check_terms(ballot):
    """Refuse to publish or open an owners' ballot whose matter class is not given: it decides the
    majority needed and cannot change once the notice is out (R4)."""
    if ballot.unit == "owners" and ballot.matter_class not in counting.MATTER_CLASSES \
            and ballot.rule != counting.UNANIMOUS:
        msg = _("Say whether this is an ordinary or a special matter first: change the ballot.")
        raise Conflict("matter_class_required", msg, fields={"matter_class": msg})
    elections.check_ready(ballot)  # an election: its candidates published, more of them than seats (R14)


def check_editable(ballot):
    if ballot.state != "draft":
        raise Conflict("not_draft", _("Only a ballot in preparation can be changed."))
    if ballot.candidates_published_at is not None:
        raise Conflict("agenda_frozen", _("The candidates are published: the election can no longer change. Cancel "
                                          "it and set up a new one if it must."))
    if ballot.notice_published_at is not None:
        raise Conflict("agenda_frozen", _("The notice is published: the agenda, the options and the times can no "
                                          "longer change. Cancel the ballot and publish a new notice if they must."))


def update_ballot(ballot, actor, data):
    """Change a ballot in preparation. Refused once its notice is published (R8: no voting on
    items that were not on the published agenda)."""
    community = ballot.community
    if not can("voting.ballots.manage", community, user=actor):
        raise Forbidden("forbidden", _("Only community staff can set up ballots."))
    check_editable(ballot)
    current = {"title": ballot.title, "description": ballot.description, "method": ballot.method,
               "unit": ballot.unit, "rule": ballot.rule, "quorum": ballot.quorum, "matter_class": ballot.matter_class,
               "max_choices": ballot.max_choices, "scope": ballot.scope, "grid_id": ballot.grid_id,
               "building_id": ballot.building_id, "opens_at": ballot.opens_at, "closes_at": ballot.closes_at,
               "paper_rule": ballot.paper_rule, "secret": ballot.secret, "temporary": ballot.temporary,
               "options": [o.label for o in ballot.options] if ballot.method != "majority" else [],
               "interested": ballot.interested,
               "interested_buildings": (ballot.interested or {}).get("buildings", []),
               "interested_households": (ballot.interested or {}).get("households", [])}
    current["seats"] = ballot.seats
    merged = {**current, **{k: v for k, v in data.items() if k in current}}
    merged["electorate_mode"] = data.get("electorate_mode", ballot.electorate_mode)
    if "days" in data and "closes_at" not in data:
        merged.pop("closes_at")
        merged["days"] = data["days"]
    fields, options = _validate(community, merged, ballot.proposal)
    before = {k: current[k] for k in fields if k in current}
    for key, value in fields.items():
        setattr(ballot, key, value)
    labels = MAJORITY_OPTIONS if fields["method"] == "majority" else options
    if [o.label for o in ballot.options] != list(labels):
        ballot.options.clear()
        db.session.flush()
        ballot.options.extend(BallotOption(position=i, label=label) for i, label in enumerate(labels))
    ballot.counting_rule_source = DEFAULT_RULE_SOURCE if fields["unit"] == "owners" else None
    db.session.flush()
    audit.record("voting.ballot_updated", community=community, obj=ballot, actor=actor,
                 before={k: (dates.iso(v) if isinstance(v, datetime) else v) for k, v in before.items()},
                 after={**{k: (dates.iso(v) if isinstance(v, datetime) else v) for k, v in fields.items()},
                        "options": list(labels)})
    return ballot


def create(community, actor, data, *, proposal=None, open_now=False) -> Ballot:
    """Staff create a ballot (:func:`set_up`)."""
    check_can_manage(community, actor)
    return set_up(community, actor, data, proposal=proposal, open_now=open_now)


def set_up(community, actor, data, *, proposal=None, open_now=False, class_later=False) -> Ballot:
    """Create a ballot; ``open_now`` publishes its electorate and opens it at once.

    Owners' ballots are always named (secret=False), as the law expects signed ballots.
    ``class_later``: see :func:`_validate` (:func:`ballot_for_proposal`)."""
    if proposal is not None:
        if proposal.community_id != community.id:
            raise NotFound("not_found", _("No such proposal."))
        if proposal.state not in ("coordinating", "voting"):
            raise Conflict("proposal_not_ready", _("A ballot can be held on a proposal in coordination or voting."))
        busy = Ballot.query.filter(Ballot.proposal_id == proposal.id, Ballot.state.in_(("draft", "open"))).first()
        if busy is not None:
            raise Conflict("ballot_exists", _("This proposal already has a ballot that is not closed."))
    fields, options = _validate(community, data, proposal, class_later=class_later)
    ballot = Ballot(community_id=community.id, proposal_id=proposal.id if proposal else None, state="draft",
                    created_by_id=actor.id if actor is not None else None,
                    counting_rule_source=DEFAULT_RULE_SOURCE if fields["unit"] == "owners" else None, **fields)
    labels = MAJORITY_OPTIONS if fields["method"] == "majority" else options
    ballot.options = [BallotOption(position=i, label=label) for i, label in enumerate(labels)]
    db.session.add(ballot)
    db.session.flush()
    audit.record("voting.ballot_created", community=community, obj=ballot, actor=actor,
                 after={**{k: v for k, v in fields.items()}, "options": list(labels),
                        "proposal_id": ballot.proposal_id})
    if data.get("publish_notice"):
        put_up_notice(ballot, actor)
    if open_now:
        start_voting(ballot, actor, confirm_duplicates=bool(data.get("confirm_duplicates")))
    return ballot


def households_in_scope(ballot):
    q = (Household.query.options(selectinload(Household.members), selectinload(Household.unit).selectinload(Unit.building))
         .filter(Household.community_id == ballot.community_id))
    if ballot.scope == "grid":
        q = q.join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id) \
             .filter(Building.grid_id == ballot.grid_id)
    elif ballot.scope == "building":
        q = q.join(Unit, Household.unit_id == Unit.id).filter(_building_scope(ballot))
    from core.places import household_order  # the roll in the order people count: 1号楼 … 10号楼

    return sorted(q.all(), key=household_order)


def build_roll(ballot):
    """The electorate as dicts {key, user_id, household_id, name, units, heads, area} (see docs/voting.md).

    Everyone is their person on the register (core.services.persons), never their name: a
    person with entries in several households in scope is one roll entry (``person``); owners'
    heads follow SPC Art. 9 (``counting.owner_heads``). One account votes online for one entry:
    each entry takes the first of its accounts not taken yet, entries with fewer accounts first;
    an entry left without one votes on paper."""
    verified = {uid for (uid,) in db.session.query(Membership.user_id).filter(
        Membership.community_id == ballot.community_id, Membership.verified_at.isnot(None))}
    accounts = {pid: uid for pid, uid in db.session.query(Person.id, Person.user_id).filter(
        Person.community_id == ballot.community_id, Person.user_id.isnot(None))}

    def account(person_id):
        uid = accounts.get(person_id)
        return uid if uid in verified else None

    households = households_in_scope(ballot)
    roll = {}

    def entry(key, household, name, area=0):
        roll[key] = {"key": key, "user_id": None, "household_id": household.id, "name": name,
                     "units": [household.label], "heads": 1, "area": area, "accounts": []}
        return roll[key]

    if ballot.unit == "person":
        allowed = elections.roll_filter(ballot, households)  # an election: 18 or over (R14)
        if allowed is None:  # a residents' meeting: its adults, or the groups' representatives (R12)
            allowed = residents_meeting.roll_filter(ballot, households)
        for h in households:
            for m in h.members:
                if allowed is not None and m.person_id not in allowed:
                    continue
                e = roll.get(f"person:{m.person_id}")
                if e is None:
                    e = entry(f"person:{m.person_id}", h, m.name)
                    e["accounts"] = [account(m.person_id)]
                elif h.label not in e["units"]:
                    e["units"].append(h.label)
    elif ballot.unit == "household":
        # A residents' meeting or election is of residents 18+ (Organic Law Art. 8–9): a child known
        # to be under 18 represents no household, and a household of such children sends nobody.
        # There, too, a person represents one household (the first in roll order): a household whose
        # other members are all represented elsewhere is not a second vote of theirs.
        minors = residents_meeting.minors_of(ballot, households)
        one_each = residents_meeting.one_household_each(ballot)
        represented = set()
        for h in households:
            members = [m for m in h.members if m.person_id not in minors and m.person_id not in represented]
            if not members:
                continue
            rep = next((m for m in members if m.is_representative), None) or \
                next((m for m in members if m.is_owner), None) or members[0]
            if one_each:
                represented.add(rep.person_id)
            e = entry(f"household:{h.id}", h, rep.name)
            # The representative's account; without one, the first verified member (owners first).
            e["accounts"] = [account(rep.person_id)] if account(rep.person_id) else \
                [account(m.person_id) for m in sorted(members, key=lambda m: (not m.is_owner, m.id))]
    else:  # owners: Art. 278 heads and areas (SPC Art. 8–9)
        by_id = {h.id: h for h in households}
        units = [(h.id, counting.area_to_int(h.floor_area), h.developer_held,
                  [m.person_id for m in h.members if m.is_owner]) for h in households]
        for head in counting.owner_heads(units):
            owners = [m for ref in head["units"] for m in by_id[ref].members if m.is_owner]
            # Who votes for it (co-owners: one of them): an owner marked representative first,
            # then by person. This chooses the name and account only, never the count.
            reps = {m.person_id for m in owners if m.is_representative}
            people = sorted(head["owners"], key=lambda p: (p not in reps, p))
            names = {pid: next(m.name for m in owners if m.person_id == pid) for pid in people}
            e = entry(head["key"], by_id[head["units"][0]], names[people[0]] if people else "", head["area"])
            e["units"] = [by_id[ref].label for ref in head["units"]]
            e["accounts"] = [account(pid) for pid in people]
            e["names"] = [names[pid] for pid in people]
    taken = set()
    order = sorted(roll.values(), key=lambda e: len([a for a in e["accounts"] if a]))
    for e in order:
        accounts_ = e.pop("accounts")
        e["user_id"] = next((a for a in accounts_ if a and a not in taken), None)
        if e["user_id"] is not None:
            taken.add(e["user_id"])
            if "names" in e:  # the co-owner who votes online is the name on the roll
                e["name"] = e["names"][accounts_.index(e["user_id"])]
        e.pop("names", None)
    return list(roll.values())


def manifest_of(ballot, roll_public):
    return {
        "format": integrity.FORMAT, "ballot": ballot.id, "community": ballot.community.slug,
        "title": ballot.title, "proposal": ballot.proposal_id, "method": ballot.method, "unit": ballot.unit,
        "rule": ballot.rule, "matter_class": ballot.matter_class, "quorum": ballot.quorum,
        "secret": ballot.secret, "max_choices": ballot.max_choices,
        **({"seats": ballot.seats} if ballot.method == elections.METHOD else {}),  # only on elections (old files)
        "options": [o.label for o in ballot.options],
        "scope": {"kind": ballot.scope, "grid": ballot.grid_id, "building": ballot.building_id},
        "opens_at": dates.iso(ballot.opens_at), "closes_at": dates.iso(ballot.closes_at),
        **residents_meeting.manifest_terms(ballot),  # only on residents' meetings (R12)
        "electorate": {"heads": sum(r["heads"] for r in roll_public),
                       "area": counting.area_str(sum(counting.area_to_int(r["area"]) for r in roll_public)),
                       "voters": len(roll_public), "roll_hash": integrity.roll_hash(roll_public)},
        "tie_seed": ballot.tie_seed, "tie_break": "sha256(tie_seed:option) ascending",
        "spoiled_participates": ballot.spoiled_participates, "paper_rule": ballot.paper_rule,
        "counting_rule_source": ballot.counting_rule_source,
        "notice": {"published_at": dates.iso(ballot.notice_published_at), "min_days": ballot.notice_days,
                   "temporary": ballot.temporary},
        "proxy_limit": int(setting(ballot.community, "proxy_limit")) if ballot.unit in PROXY_UNITS else None,
        # Only on unanimity ballots, so that every older manifest hashes and recounts as before.
        **({"interested": interested_added(ballot)} if ballot.rule == counting.UNANIMOUS else {}),
    }


def duplicates_in_scope(ballot):
    """Possible duplicate people among the owners of the ballot's units (core.services.persons):
    people who, if one person, would make one head fewer (R5, SPC Art. 9)."""
    from core.services import persons

    q = db.session.query(Household.id).filter(Household.community_id == ballot.community_id)
    if ballot.scope == "grid":
        q = q.join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id) \
             .filter(Building.grid_id == ballot.grid_id)
    elif ballot.scope == "building":
        q = q.join(Unit, Household.unit_id == Unit.id).filter(_building_scope(ballot))
    return persons.possible_duplicates(ballot.community, households={i for (i,) in q}, owners_only=True)


def _check_duplicates(ballot, confirmed):
    """An owners' ballot opens on a register without possible duplicates, or with staff's
    confirmation that it opens as the register stands; returns how many were left."""
    if ballot.unit != "owners":
        return 0
    groups = duplicates_in_scope(ballot)
    if groups and not confirmed:
        names = "、".join(g["name"] for g in groups[:5]) + ("…" if len(groups) > 5 else "")
        raise Conflict("possible_duplicates", ngettext(
            "%(num)d name among the owners may be one person entered twice (%(names)s): that would count "
            "one head too many. Check it under Possible duplicates, or confirm that the ballot opens as the "
            "register stands.",
            "%(num)d names among the owners may each be one person entered twice (%(names)s): that would count "
            "too many heads. Check them under Possible duplicates, or confirm that the ballot opens as the "
            "register stands.", len(groups), names=names),
            details={"duplicates": [{"name": g["name"], "person_ids": g["ids"]} for g in groups]})
    return len(groups)


def open_ballot(ballot, actor, *, confirm_duplicates=False):
    """Staff open a ballot (:func:`start_voting`)."""
    check_can_manage(ballot.community, actor, _("Only community staff can open ballots."))
    return start_voting(ballot, actor, confirm_duplicates=confirm_duplicates)


def start_voting(ballot, actor, *, confirm_duplicates=False):
    """Publish the electorate, commit the tie-break seed and start the chain. From now on the
    method, rule and matter class cannot change (R4). An owners' ballot whose owners may include
    one person entered twice opens only with ``confirm_duplicates`` (R5)."""
    community = ballot.community
    if ballot.state != "draft":
        raise Conflict("not_draft", _("Only a ballot in preparation can be opened."))
    check_terms(ballot)
    proposal = ballot.proposal
    if proposal is not None and proposal.state not in ("coordinating", "voting"):
        raise Conflict("proposal_moved_on", _("The proposal is now “%(state)s”: a ballot opens only on a proposal in "
                                              "coordination or voting.", state=proposal.state_label))
    if ballot.closes_at <= utcnow():
        raise Conflict("closing_passed", _("The closing time has already passed; set a later one."))
    check_notice(ballot)
    problem = window_problem(community, ballot.unit, ballot.opens_at, ballot.closes_at)
    if problem:
        raise Conflict("window_out_of_bounds", problem)
    unresolved = _check_duplicates(ballot, confirm_duplicates)
    ballot._ages_left_out = residents_meeting.check_before_opening(ballot, confirm_duplicates)
    # The ballot's row lock, still a draft: a second click opening it meanwhile is refused
    # instead of writing a second electorate. Nothing is written yet, and the caller's transaction
    # (a proposal's move, which opens its ballot) is left to the caller.
    if not store.lock_ballot(ballot.id, "draft"):
        raise Conflict("not_draft", _("Only a ballot in preparation can be opened."))
    roll = build_roll(ballot)
    if not roll:
        raise Conflict("empty_electorate", _("Nobody is in this ballot's electorate: check the households and their registers."))
    ballot.tie_seed = secrets.token_hex(16)
    ballot.tag_salt = secrets.token_hex(16) if ballot.secret else None
    voters = []
    for i, r in enumerate(roll, start=1):
        v = Voter(ballot_id=ballot.id, key=r["key"][:120], ref=f"V{i}", user_id=r["user_id"],
                  household_id=r["household_id"], name=(r["name"] or "")[:80],
                  units="、".join(r["units"])[:300], heads=r["heads"],
                  area=counting.area_str(r["area"]))
        voters.append(v)
    db.session.add_all(voters)
    public = [{"voter": v.ref, "heads": v.heads, "area": counting.area_str(counting.area_to_int(v.area))}
              for v in voters]
    ballot.heads_total = sum(v.heads for v in voters)
    ballot.area_total = counting.area_str(sum(counting.area_to_int(v.area) for v in voters))
    ballot.manifest = manifest_of(ballot, public)
    ballot.genesis_hash = ballot.head_hash = integrity.genesis(ballot.manifest)
    ballot.state = "open"
    ballot.opened_at = utcnow()
    db.session.flush()
    audit.record("voting.ballot_opened", community=community, obj=ballot, actor=actor,
                 after={"electorate": ballot.manifest["electorate"], "genesis_hash": ballot.genesis_hash,
                        "tie_seed": ballot.tie_seed, **({"possible_duplicates": unresolved} if unresolved else {})})
    if proposal is not None and proposal.state == "coordinating":  # the proposal follows its ballot
        from core.services import proposals as proposal_svc

        proposal_svc.follow(proposal, "voting", actor, _("The ballot “%(title)s” opened.", title=ballot.title))
    emit(community, Event("ballot.opened", community.id, getattr(actor, "id", None),
                          tuple(v.user_id for v in voters if v.user_id), f"ballot:{ballot.id}:opened",
                          {"ballot_id": ballot.id, "proposal_id": ballot.proposal_id}))
    for v in voters:
        if v.user_id:
            notify(v.user_id, community, "voting.opened", N_("A ballot is open for you: “%(title)s”."),
                   {"title": ballot.title}, url=_ballot_url(ballot))
    return ballot


def check_notice(ballot, now=None):
    """Refuse to open a ballot whose voting starts too soon after its notice (R8)."""
    published = ballot.notice_published_at
    days = ballot.notice_days if published is not None else notice_minimum(ballot.community, ballot)
    if not days:
        return
    community = ballot.community
    if published is None:
        earliest = earliest_opening(community, now or utcnow(), days)
        raise Conflict("notice_required", _(
            "Publish the notice with the full agenda first: voting may open %(n)d days after it, on %(date)s "
            "at the earliest.", n=days, date=dates.format_local(earliest, community)))
    earliest = earliest_opening(community, published, days)
    if ballot.opens_at < earliest:
        raise Conflict("notice_too_short", _(
            "Voting may open on %(date)s at the earliest, %(n)d days after the notice was published.",
            date=dates.format_local(earliest, community), n=days))


def _staff_ids(community):
    """The community's staff and admins: the residents' committee."""
    return sorted({m.user_id for m in Membership.query.filter(Membership.community_id == community.id)
                   if m.has_role("staff", "admin")})


def ballot_for_proposal(proposal, actor):
    """The ballot a proposal gets when it reaches voting (setting ``auto_open``): yes/no/abstain
    under the community's defaults, opened at once. With owners as the default unit it stays in
    preparation, its window placed after the notice period (R8, R10), and staff are asked for the
    matter class (R4) before they publish the notice and open it. Never refuses the proposal's
    move: a ballot the settings do not allow is left to staff, who are told."""
    community = proposal.community
    if Ballot.query.filter(Ballot.proposal_id == proposal.id, Ballot.state.in_(("draft", "open"))).first():
        return None
    owners = setting(community, "default_unit") == "owners"
    data = {}
    if owners:
        opens = earliest_opening(community, utcnow(), int(setting(community, "notice_days")))
        low, high = window_bounds(community, "owners")
        days = min(max(int(setting(community, "default_days")), low), high)
        data = {"opens_at": opens.isoformat(), "closes_at": (opens + timedelta(days=days)).isoformat()}
    try:
        ballot = set_up(community, actor, data, proposal=proposal, class_later=owners)
    except ServiceError as err:  # refused before anything was written
        for uid in _staff_ids(community):
            notify(uid, community, "voting.setup_needed",
                   N_("“%(title)s” reached the voting stage, but its ballot could not be set up: %(error)s"),
                   {"title": proposal.title, "error": str(err.message)}, url=None)
        return None
    if owners:
        for uid in _staff_ids(community):
            notify(uid, community, "voting.matter_class_needed",
                   N_("“%(title)s” is put to the owners: its ballot is in preparation. Say whether it is an ordinary "
                      "or a special matter, then publish the notice."), {"title": proposal.title},
                   url=_ballot_url(ballot))
        return ballot
    try:
        start_voting(ballot, actor)
    except ServiceError:  # e.g. an empty electorate: staff fix the register and open it by hand
        pass
    return ballot


# ── the roll after it was fixed ─────────────────────────────────────────────────────────
def roll_size(ballot):
    """Voters on the roll: the published electorate and those added since."""
    if not ballot.manifest:
        return 0
    added = db.session.execute(select(func.count(Entry.id)).where(
        Entry.ballot_id == ballot.id, Entry.source == integrity.ROLL_SOURCE)).scalar_one()
    return ballot.manifest["electorate"]["voters"] + added


def roll_note(ballot, user):
    """Why ``user`` is not on an open ballot's roll, for the ballot page and the API: the roll was
    fixed when voting opened (``fixed``), and, if so, that their residence was verified after it
    (``verified``); ``ref``: the roll entry the register now gives their account, when it is on
    the roll without it (they vote on paper). None for who votes online on it, or is not a
    verified resident."""
    if ballot.state != "open" or not getattr(user, "is_authenticated", False) or voter_for(ballot, user):
        return None
    membership = membership_of(user, ballot.community)
    if membership is None or not membership.is_verified:
        return None
    late = membership.verified_at is not None and membership.verified_at > ballot.opened_at
    ref = None
    if late:  # the register's entry for them today, if the roll has it without their account
        fresh = next((r for r in build_roll(ballot) if r["user_id"] == user.id), None)
        if fresh is not None:
            ref = db.session.execute(select(Voter.ref).where(Voter.ballot_id == ballot.id,
                                                             Voter.key == fresh["key"][:120])).scalar()
    return {"fixed": ballot.opened_at, "verified": membership.verified_at if late else None, "ref": ref}


def roll_note_text(ballot, note):
    if note.get("ref"):
        return _("This ballot's roll was fixed on %(date)s, when voting opened, before your account was verified: "
                 "you are on it as %(ref)s, without your account. Vote on a paper ballot with your grid worker, or "
                 "ask staff.", date=dates.format_local(note["fixed"], ballot.community), ref=note["ref"])
    if note["verified"] is not None:
        return _("This ballot's roll was fixed on %(date)s, when voting opened, before your residence was verified "
                 "on %(verified)s, so you are not on it. Ask staff: they can add a resident the roll missed.",
                 date=dates.format_local(note["fixed"], ballot.community),
                 verified=dates.format_local(note["verified"], ballot.community))
    return _("You are not on this ballot's roll, which was fixed on %(date)s when voting opened. If you should be, "
             "ask staff: they can add a resident the roll missed.", date=dates.format_local(note["fixed"], ballot.community))


def tell_late_verified(membership):
    """A resident verified while ballots are open learns that those rolls were fixed without them
    (the core's notice says they can now vote: not in these). Only ballots whose scope takes in
    their household, and only those they are not on."""
    community = membership.community
    household = db.session.get(Household, membership.household_id) if membership.household_id else None
    if household is None:
        return
    building = household.unit.building if household.unit is not None else None
    now = utcnow()
    for ballot in Ballot.query.filter(Ballot.community_id == community.id, Ballot.state == "open",
                                      Ballot.closes_at > now).order_by(Ballot.id):
        if ballot.scope == "grid" and (building is None or building.grid_id != ballot.grid_id):
            continue
        if ballot.scope == "building" and (building is None or building.id != ballot.building_id) \
                and not _interested_in(ballot, household):
            continue
        if voter_for(ballot, membership.user) is not None:
            continue
        notify(membership.user_id, community, "voting.roll_fixed",
               N_("“%(title)s”: its roll was fixed on %(date)s, before your residence was verified, so you are not on "
                  "it. Ask staff if you should vote in it."),
               {"title": ballot.title, "date": dates.format_local(ballot.opened_at, community)}, url=_ballot_url(ballot))


def candidate_token(key):
    """A candidate's handle for the pages and the API (the roll key itself stays on the server)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def missed_voters(ballot):
    """Who the register now puts on an open ballot's roll but is not on it: a resident registered
    or verified after the roll was fixed. Each {token, key, name, units, heads, area (m², two
    decimals), user_id, household_id}. On an owners' or household ballot, someone whose units are on the roll already
    is no candidate: their area or household counts already, and would count twice."""
    if ballot.state != "open":
        return []
    voters = Voter.query.filter_by(ballot_id=ballot.id).all()
    keys = {v.key for v in voters}
    accounts = {v.user_id for v in voters if v.user_id}
    units = {u for v in voters for u in v.units.split("、") if u}
    out = []
    for r in build_roll(ballot):
        key = r["key"][:120]
        if key in keys or (ballot.unit != "person" and units & set(r["units"])):
            continue
        if ballot.unit == "person" and r["user_id"] in accounts:  # their account is on the roll: the same person
            continue
        out.append({"token": candidate_token(key), "key": key, "name": r["name"], "units": list(r["units"]),
                    "heads": r["heads"], "area": counting.area_str(r["area"]), "household_id": r["household_id"],
                    "user_id": r["user_id"] if r["user_id"] not in accounts else None})
    return out


def add_to_roll(ballot, actor, token, reason):
    """Add a voter the roll missed to an open ballot (staff, with a reason): a resident registered
    or verified after the roll was fixed (:func:`missed_voters`). The addition is a "roll" entry of
    the chain with the voter's weight and the reason, so the ballot file publishes it with the roll
    and the recount counts the totals with it (docs/ballot-format.md). Audited; the voter is told
    and may vote at once. Under the ballot's row lock, like a vote."""
    community = ballot.community
    if not can("voting.ballots.manage", community, user=actor):
        raise Forbidden("forbidden", _("Only community staff can add a voter to the roll."))
    reason = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not reason or len(reason) > 300:
        msg = _("Say in at most 300 characters why this voter is added to the roll.")
        raise ServiceError("reason_required", msg, fields={"reason": msg})
    now = utcnow()
    if ballot.state != "open" or now >= ballot.closes_at:
        raise Conflict("ballot_closed", _("Voters are added to the roll while the ballot is open."))
    seq, prev = _chain_lock(ballot, _("Voters are added to the roll while the ballot is open."))
    candidate = next((c for c in missed_voters(ballot) if c["token"] == token), None)
    if candidate is None:
        msg = _("This person is not missing from the roll: reload the page.")
        raise Conflict("not_missed", msg, fields={"token": msg})
    number = db.session.execute(select(func.count(Voter.id)).where(Voter.ballot_id == ballot.id)).scalar_one() + 1
    area = candidate["area"]
    voter = Voter(ballot_id=ballot.id, key=candidate["key"], ref=f"V{number}", user_id=candidate["user_id"],
                  household_id=candidate["household_id"], name=(candidate["name"] or "")[:80],
                  units="、".join(candidate["units"])[:300], heads=candidate["heads"], area=area)
    db.session.add(voter)
    db.session.flush()
    at = now.isoformat()
    payload = integrity.entry_payload(seq, voter.ref, None, voter.heads, area, integrity.ROLL_SOURCE, at,
                                      ballot.counting_rule_source, reason=reason)
    digest = integrity.link(prev, payload)
    receipt = integrity.receipt_of(digest)
    if store.receipt_taken(ballot.id, receipt):
        receipt = store.unique_receipt(ballot.id, digest)
    entry = store.append_entry(dict(
        ballot_id=ballot.id, seq=seq, voter_tag=voter.ref, voter_id=voter.id, choice=None, heads=voter.heads,
        area=area, source=integrity.ROLL_SOURCE, counted=False, set_aside=False,
        rule_source=ballot.counting_rule_source, at=at, prev_hash=prev, hash=digest, receipt=receipt,
        entered_by_id=actor.id, note=reason, created_at=now), head=digest, first=False)
    store.grow_roll(ballot.id, voter.heads, area)
    db.session.expire(ballot, ["heads_total", "area_total", "entries_count", "head_hash"])
    audit.record("voting.roll_added", community=community, obj=voter, actor=actor, on_behalf_of=voter.user_id,
                 on_behalf_of_name=voter.name or voter.units, reason=reason,
                 after={"ballot_id": ballot.id, "voter": voter.ref, "heads": voter.heads, "area": area,
                        "units": voter.units, "seq": seq, "receipt": receipt})
    if voter.user_id:
        notify(voter.user_id, community, "voting.roll_added",
               N_("Staff added you to the roll of “%(title)s”: you can vote in it now."), {"title": ballot.title},
               url=_ballot_url(ballot))
    return voter, entry


def _ballot_url(ballot):
    from flask import url_for

    try:
        return url_for("c.voting.detail", community=ballot.community.slug, ballot_id=ballot.id)
    except RuntimeError:
        return None


# ── casting ──────────────────────────────────────────────────────────────────────────────
def _chain_lock(ballot, closed_message):
    """The ballot's row lock, taken to append to its chain: (the entry's seq, the chain's head).
    Refused when the ballot is no longer open."""
    locked = store.lock_chain(ballot.id)
    if locked is None:
        raise Conflict("ballot_closed", closed_message)
    return tuple(locked)


def parse_choice(ballot, raw):
    """Check a choice against the ballot; returns a tuple of option positions."""
    if ballot.method == "majority":
        if isinstance(raw, list) and len(raw) == 1:
            raw = raw[0]
        if isinstance(raw, str) and raw in MAJORITY_OPTIONS:
            return (MAJORITY_OPTIONS.index(raw),)
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 3:
            return (raw,)
        raise ServiceError("invalid_choice", _("Choose yes, no or abstain."),
                           fields={"choice": _("Choose yes, no or abstain.")})
    election = ballot.method == elections.METHOD  # no mark at all is a blank ballot (R14)
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        raw = [raw]
    n = len(ballot.options)
    if not isinstance(raw, list) or (not raw and not election):
        msg = _("Mark the candidates you vote for.") if election else \
            _("Choose at least one option.") if ballot.method == "approval" else _("Rank at least one option.")
        raise ServiceError("invalid_choice", msg, fields={"choice": msg})
    positions = []
    for item in raw:
        pos = item if isinstance(item, int) and not isinstance(item, bool) else _position_or_none(item) if isinstance(item, str) else None
        if pos is None or not 0 <= pos < n:
            msg = _("The ballot has no option %(option)s.", option=str(item)[:20])
            raise ServiceError("unknown_option", msg, fields={"choice": msg})
        positions.append(pos)
    if len(set(positions)) != len(positions):
        msg = _("Each option may be chosen or ranked only once.")
        raise ServiceError("duplicate_option", msg, fields={"choice": msg})
    if election:
        return elections.checked_marks(ballot, positions)
    if ballot.method == "approval":
        if ballot.max_choices and len(positions) > ballot.max_choices:
            msg = _("Choose at most %(n)d options.", n=ballot.max_choices)
            raise ServiceError("too_many_choices", msg, fields={"choice": msg})
        return tuple(sorted(positions))
    return tuple(positions)


def parse_ranks(ballot, ranks: dict):
    """A ranking from a form: {position: rank number or None}. Ranks 1, 2, 3… without gaps or repeats."""
    given = {}
    for pos, rank in ranks.items():
        if rank in (None, "", "0", 0):
            continue
        r = _position_or_none(rank)
        if r is None or r < 1 or r > len(ballot.options):
            msg = _("Ranks are numbers from 1 to %(n)d.", n=len(ballot.options))
            raise ServiceError("malformed_ranking", msg, fields={"choice": msg})
        if r in given:
            msg = _("Two options have rank %(rank)d: give each rank once.", rank=r)
            raise ServiceError("malformed_ranking", msg, fields={"choice": msg})
        given[r] = pos
    if not given:
        msg = _("Rank at least one option.")
        raise ServiceError("invalid_choice", msg, fields={"choice": msg})
    if sorted(given) != list(range(1, len(given) + 1)):
        msg = _("Number your choices 1, 2, 3… without leaving a number out.")
        raise ServiceError("malformed_ranking", msg, fields={"choice": msg})
    return [given[r] for r in sorted(given)]


def chain_tag(ballot, voter):
    """How a voter appears in the chain: their roll number, or for secret ballots a keyed hash
    that only this server can link back to the roll (docs/voting.md says what that protects)."""
    if not ballot.secret:
        return voter.ref
    key = (current_app.config["SECRET_KEY"] + ":" + (ballot.tag_salt or "")).encode()
    return hmac.new(key, f"{ballot.id}:{voter.id}".encode(), hashlib.sha256).hexdigest()[:32]


def _check_window(ballot, now):
    if ballot.state != "open":
        raise Conflict("ballot_closed" if ballot.state in ("closed", "cancelled") else "ballot_not_open",
                       _("This ballot is closed.") if ballot.state in ("closed", "cancelled")
                       else _("This ballot is not open yet."))
    if now < ballot.opens_at:
        raise Conflict("ballot_not_open", _("Voting has not started yet."))
    if now >= ballot.closes_at:
        raise Conflict("ballot_closed", _("This ballot is closed."))


def online_voter(ballot, actor, now=None, voter=None):
    """The actor's entry on the electorate of an open ballot they may vote in online; raises
    Conflict when the ballot is not open, Forbidden when the actor may not vote in it. The API
    asks this before it reads the choice, so only a voter is told what to send (and passes the
    answer on to :func:`cast` as ``voter``, which is then not looked up again)."""
    _check_window(ballot, now or utcnow())
    if voter is None or voter.ballot_id != ballot.id or voter.user_id != getattr(actor, "id", None):
        voter = voter_for(ballot, actor)
    if voter is None:
        note = roll_note(ballot, actor)  # a resident verified too late is told so, with the date
        raise Forbidden("not_in_electorate", roll_note_text(ballot, note) if note
                        else _("You are not in this ballot's electorate."))
    membership = membership_of(actor, ballot.community)
    if membership is None or not membership.is_verified:
        raise Forbidden("not_verified", _("Only verified residents can vote."))
    return voter


def cast(ballot, actor, raw_choice, *, voter=None, source="online", witness=None, note=None, photo=None,
         spoiled=False, proxy=None, confirm_online=None):
    """Record a ballot. Online: ``actor`` votes for themself. Paper (``source`` "paper" or
    "correction"): ``actor`` (a grid worker or staff) enters it for ``voter``, optionally as cast by
    the voter's ``proxy``. Proxy (``source`` "proxy"): ``actor`` holds ``proxy`` and votes online
    for its voter.

    The latest ballot of a voter counts; the database allows one counted ballot per voter. A voter
    who votes in person ends their proxy's authority (docs/voting.md).

    A paper ballot for a voter who voted online follows the ballot's ``paper_rule``
    (:func:`paper_over_online`): refused, or recorded only when ``confirm_online`` names the
    online vote the person entering it was shown (its ``seq``) and ``note`` says why; the voter
    is told which ballot counts. An online vote after a paper ballot is refused (the paper
    ballot counts), except on ballots opened under the old rule ``latest``."""
    community = ballot.community
    now = utcnow()
    if source == "online":
        voter = online_voter(ballot, actor, now, voter)
    elif source == "proxy":
        _check_window(ballot, now)
        if proxy is None or proxy.ballot_id != ballot.id or proxy.user_id is None or proxy.user_id != actor.id:
            raise Forbidden("not_proxy", _("You do not hold this voter's proxy."))
        if proxy.revoked_at is not None:
            raise Conflict("proxy_revoked", _("This proxy authorisation is no longer in force."))
        membership = membership_of(actor, community)
        if membership is None or not membership.is_verified:
            raise Forbidden("not_verified", _("Only verified residents can vote."))
        voter = proxy.voter
    else:
        if not can("voting.paper.enter", community, user=actor):
            raise Forbidden("forbidden", _("You may not enter paper ballots."))
        _check_window(ballot, now)
        if voter is None or voter.ballot_id != ballot.id:
            raise ServiceError("invalid_voter", _("Choose a voter from this ballot's electorate."),
                               fields={"voter_id": _("Choose a voter from this ballot's electorate.")})
        if not (witness or "").strip():
            raise ServiceError("witness_required", _("Name the witness who saw the paper ballot signed."),
                               fields={"witness": _("Name the witness who saw the paper ballot signed.")})
        if source == "correction" and not (note or "").strip():
            raise ServiceError("reason_required", _("Say why the paper ballot is corrected."),
                               fields={"note": _("Say why the paper ballot is corrected.")})
        if proxy is not None and (proxy.ballot_id != ballot.id or proxy.voter_id != voter.id):
            raise ServiceError("invalid_proxy", _("This voter has no such proxy."),
                               fields={"proxy_id": _("This voter has no such proxy.")})
    choice = None if (spoiled and source not in ("online", "proxy")) else parse_choice(ballot, raw_choice)
    if photo is not None:
        photo = checked_photo(photo)
    # The ballot's row lock first: every ballot of this ballot is appended one after another
    # (plugins/voting/store.py keeps the statements of a vote).
    seq, prev = _chain_lock(ballot, _("This ballot is closed."))
    tag = chain_tag(ballot, voter)
    area = counting.area_str(counting.area_to_int(voter.area))
    at = now.isoformat()
    proxy_ref = proxy.ref if proxy is not None else None
    payload = integrity.entry_payload(seq, tag, choice, voter.heads, area, source, at,
                                      ballot.counting_rule_source, proxy=proxy_ref)
    digest = integrity.link(prev, payload)
    receipt = integrity.receipt_of(digest)
    # One read under the lock: the voter's state, their proxy in force, whether the receipt is taken.
    voted_at, voted_via, active_proxy, taken = store.voter_state(ballot.id, voter.id, receipt)
    if proxy is not None and active_proxy != proxy.id:
        raise Conflict("proxy_revoked", _("This proxy authorisation is no longer in force."))
    has_paper = voted_via == "paper"
    if source in ("online", "proxy") and has_paper and ballot.paper_rule not in integrity.LEGACY_PAPER_RULES:
        raise Conflict("paper_ballot_counted",
                       _("A paper ballot was recorded for you; it is the one that counts. Ask staff if it is wrong.")
                       if source == "online" else
                       _("A paper ballot was recorded for this voter; it is the one that counts."))
    if source == "paper" and has_paper:
        raise Conflict("paper_exists", _("A paper ballot is already recorded for this voter; enter a correction instead."))
    if source == "correction" and not has_paper:
        raise Conflict("no_paper_ballot", _("There is no paper ballot to correct for this voter."))
    online = None  # the online vote this paper ballot comes after, when the paper rule applies
    if source == "paper" and voted_via in ("online", "proxy") and not (voted_via == "proxy" and proxy is None):
        online = paper_over_online(ballot, voter, confirm_online, note)  # raises unless confirmed
    set_aside = online is not None and ballot.paper_rule == "first_wins"
    if set_aside:  # recorded without counting: it is marked so in the chain
        payload = integrity.entry_payload(seq, tag, choice, voter.heads, area, source, at,
                                          ballot.counting_rule_source, proxy=proxy_ref, set_aside=True)
        digest = integrity.link(prev, payload)
        receipt = integrity.receipt_of(digest)
        taken = store.receipt_taken(ballot.id, receipt)
    if proxy is None and source != "correction" and active_proxy is not None:
        # The voter votes in person: a proxy authorisation still in force ends (its ballots stay
        # in the chain, superseded by this one).
        store.end_proxy(active_proxy, now)
    if taken:
        receipt = store.unique_receipt(ballot.id, digest)
    if voted_at is not None and not set_aside:  # an earlier ballot of this voter stops counting
        store.supersede(ballot.id, tag)
    row = dict(ballot_id=ballot.id, seq=seq, voter_tag=tag, voter_id=None if ballot.secret else voter.id,
               choice=list(choice) if choice is not None else None, heads=voter.heads, area=area, source=source,
               counted=not set_aside, set_aside=set_aside, rule_source=ballot.counting_rule_source, at=at,
               prev_hash=prev, hash=digest, receipt=receipt, entered_by_id=actor.id if source != "online" else None,
               witness=(witness or "").strip()[:80] or None, note=(note or "").strip()[:300] or None,
               proxy_id=proxy.id if proxy is not None else None, created_at=now)
    via = {"online": "online", "proxy": "proxy"}.get(source, "paper")
    first = voted_at is None
    mark_voter = (first or via != voted_via) and not set_aside  # when and how the voter voted changes
    entry = store.append_entry(row, head=digest, first=first, voter_id=voter.id if mark_voter else None,
                               voted_at=voted_at or now, via=via)
    if photo is not None:
        db.session.add(PaperScan(entry_id=entry.id, content_type=photo[0], data=photo[1],
                                 sha256=hashlib.sha256(photo[1]).hexdigest()))
    if source not in ("online", "proxy"):
        audit.record("voting.paper_" + ("corrected" if source == "correction" else "entered"), community=community,
                     obj=entry, actor=actor, on_behalf_of=voter.user_id,
                     on_behalf_of_name=voter.name or voter.units,
                     after={"ballot_id": ballot.id, "voter": voter.ref, "receipt": receipt, "witness": entry.witness,
                            **({"proxy": proxy_ref} if proxy_ref else {}),
                            **({"over_online": online["seq"], "counted": not set_aside} if online else {}),
                            **({} if ballot.secret else {"choice": entry.choice})},
                     reason=entry.note)
    elif source == "proxy":
        audit.record("voting.proxy_voted", community=community, obj=entry, actor=actor,
                     on_behalf_of=voter.user_id, on_behalf_of_name=voter.name or voter.units,
                     after={"ballot_id": ballot.id, "voter": voter.ref, "receipt": receipt, "proxy": proxy_ref,
                            **({} if ballot.secret else {"choice": entry.choice})})
    if proxy is not None and voter.user_id:
        notify(voter.user_id, community, "voting.proxy_voted",
               N_("Your proxy %(proxy)s voted for you on “%(title)s”."),
               {"proxy": proxy.name, "title": ballot.title}, url=_ballot_url(ballot))
    if online is not None:
        _tell_paper_over_online(ballot, voter, actor, online, set_aside, now)
    if not set_aside:  # the voter's counted ballot changed
        emit(community, Event("vote.cast", community.id, actor.id, (voter.user_id,) if voter.user_id else (),
                              f"ballot:{ballot.id}:voter:{voter.id}",
                              {"ballot_id": ballot.id, "proposal_id": ballot.proposal_id, "source": source,
                               "first": first}))
    return entry


def online_vote_of(ballot, voter, fresh=False):
    """The voter's counted ballot when it came in online (their own vote or their proxy's), as the
    person entering a paper ballot for them is shown it: when and how, and what only on a named
    ballot. None when their counted ballot is not an online one. ``fresh``: read the chain even if
    the voter's state as loaded says otherwise (under the ballot's lock, in :func:`cast`)."""
    if voter is None or (not fresh and voter.voted_via not in ("online", "proxy")):
        return None
    row = db.session.execute(select(Entry.seq, Entry.source, Entry.choice, Entry.created_at).where(
        Entry.ballot_id == ballot.id, Entry.voter_tag == chain_tag(ballot, voter), Entry.counted.is_(True))).first()
    if row is None or row.source not in ("online", "proxy"):
        return None
    from plugins.voting.labels import SOURCE_LABELS

    vote = {"seq": row.seq, "at": dates.iso(row.created_at), "when": dates.format_local(row.created_at, ballot.community),
            "source": row.source, "how": str(SOURCE_LABELS[row.source]), "voter": voter.ref,
            "name": voter_name(voter)}
    if not ballot.secret:
        vote["choice"] = row.choice
        vote["choice_text"] = "、".join(option_label(ballot, p) for p in row.choice or ())
    return vote


def paper_over_online(ballot, voter, confirm_online, note):
    """A paper ballot entered for a voter whose counted ballot came in online (under the ballot's
    row lock, see :func:`cast`). ``refuse``: refused, nothing recorded. ``paper_wins`` (and the old
    ``latest``): the paper ballot counts; ``first_wins``: it is recorded without counting. Either
    way only when ``confirm_online`` is the ``seq`` of the online vote the person entering it was
    shown (a vote changed since must be looked at again) and ``note`` gives the reason. Returns
    the online vote (:func:`online_vote_of`); raises with it in ``details`` otherwise."""
    online = online_vote_of(ballot, voter, fresh=True)
    if online is None:
        return None
    details = {"online_vote": online, "paper_rule": ballot.paper_rule}
    if ballot.paper_rule == "refuse":
        raise Conflict("online_vote_counts", _(
            "%(name)s voted online on %(date)s. Under this ballot's rule a paper ballot cannot replace an online "
            "vote: nothing was recorded. The voter may change their vote online, or ask staff.",
            name=online["name"], date=online["when"]), details=details)
    if _position_or_none(confirm_online) != online["seq"]:
        if ballot.paper_rule == "first_wins":
            msg = _("%(name)s already voted online on %(date)s. Under this ballot's rule the online vote keeps "
                    "counting: the paper ballot is kept in the log without counting, and the voter is told. "
                    "Confirm that you have seen the online vote and give the reason to record it.",
                    name=online["name"], date=online["when"])
        else:
            msg = _("%(name)s already voted online on %(date)s. Under this ballot's rule the paper ballot counts "
                    "instead, and the voter is told. Confirm that you have seen the online vote and give the reason "
                    "to record it.", name=online["name"], date=online["when"])
        raise Conflict("online_vote_exists", msg, fields={"confirm_online": msg}, details=details)
    if not (note or "").strip():
        msg = _("Say why a paper ballot is entered for a voter who voted online.")
        raise ServiceError("reason_required", msg, fields={"note": msg}, details=details)
    return online


def _tell_paper_over_online(ballot, voter, actor, online, set_aside, now):
    """The voter learns of a paper ballot entered after their online vote, and which one counts."""
    if not voter.user_id:
        return
    params = {"title": ballot.title, "name": actor.display_name, "date": dates.format_local(now, ballot.community),
              "online": online["when"]}
    if set_aside:
        notify(voter.user_id, ballot.community, "voting.paper_set_aside",
               N_("A paper ballot was entered for you on “%(title)s” by %(name)s (%(date)s). Your online vote of "
                  "%(online)s still counts: under this ballot's rule the first ballot counts."),
               params, url=_ballot_url(ballot))
    else:
        notify(voter.user_id, ballot.community, "voting.paper_over_online",
               N_("A paper ballot was entered for you on “%(title)s” by %(name)s (%(date)s). Under this ballot's rule "
                  "it counts instead of your online vote of %(online)s. If you did not sign it, tell staff at once."),
               params, url=_ballot_url(ballot))


def voter_by_id(ballot, voter_id):
    voter = db.session.get(Voter, whole_number(voter_id, "voter_id") or 0)
    if voter is None or voter.ballot_id != ballot.id:
        raise ServiceError("invalid_voter", _("Choose a voter from this ballot's electorate."),
                           fields={"voter_id": _("Choose a voter from this ballot's electorate.")})
    return voter


# ── proxies (委托代理, R10) ────────────────────────────────────────────────────────────────
def proxies_of(ballot):
    return Proxy.query.filter_by(ballot_id=ballot.id).order_by(Proxy.id)


def proxies_held(ballot, user):
    """The authorisations in force that ``user`` holds on the ballot, with their voters."""
    if not getattr(user, "is_authenticated", False) or ballot.state == "draft":
        return []
    return (Proxy.query.options(selectinload(Proxy.voter))
            .filter(Proxy.ballot_id == ballot.id, Proxy.user_id == user.id, Proxy.revoked_at.is_(None))
            .order_by(Proxy.id).all())


def proxies_held_open(community, user):
    """(ballot, number of voters) for the open ballots on which ``user`` holds proxies in force."""
    if not getattr(user, "is_authenticated", False):
        return []
    now = utcnow()
    rows = (db.session.query(Ballot, func.count(Proxy.id)).join(Proxy, Proxy.ballot_id == Ballot.id)
            .filter(Ballot.community_id == community.id, Ballot.state == "open", Proxy.user_id == user.id,
                    Proxy.revoked_at.is_(None))
            .group_by(Ballot.id).order_by(Ballot.closes_at).all())
    return [(b, n) for b, n in rows if b.opens_at <= now < b.closes_at]


def proxy_by_id(ballot, proxy_id):
    proxy = db.session.get(Proxy, whole_number(proxy_id, "proxy_id") or 0)
    if proxy is None or proxy.ballot_id != ballot.id:
        raise NotFound("not_found", _("No such proxy."))
    return proxy


def _holder(community, data):
    """(user id or None, name, holder key) of the proxy person named in ``data`` (R10).

    One person however they are recorded, so that the limit counts people: an account is its
    person on the register (``person:<id>``); ``proxy_person_id`` is a person chosen from the
    register; a typed name is the one person of that name on the register. Two or more of that
    name: staff choose which (``proxy_ambiguous`` lists them). Nobody of that name on the
    register, or ``proxy_not_on_register``: a person known by the name alone (``name:...``)."""
    from core.services import persons

    user_id = whole_number(data.get("proxy_user_id"), "proxy_user_id") or None
    person_id = whole_number(data.get("proxy_person_id"), "proxy_person_id") or None
    name = " ".join(str(data.get("proxy_name") or "").split())
    if user_id is not None:
        user = db.session.get(User, user_id)
        member = Membership.query.filter_by(user_id=user_id, community_id=community.id).first() if user else None
        if member is None or not member.is_verified:
            msg = _("The proxy must be a verified member of this community, or a named person without an account.")
            raise ServiceError("invalid_proxy_person", msg, fields={"proxy_user_id": msg})
        person = persons.of_user(community, user.id)
        return user.id, user.display_name[:80], f"person:{person.id}" if person else f"user:{user.id}"
    if person_id is not None:
        person = db.session.get(Person, person_id)
        if person is None or person.community_id != community.id or not person.members:
            msg = _("Choose the proxy from the register of this community.")
            raise ServiceError("invalid_proxy_person", msg, fields={"proxy_person_id": msg})
        return _person_holder(community, person)
    if not 2 <= len(name) <= 80:
        msg = _("Choose the proxy among the verified members, or give the name (2 to 80 characters) of a person "
                "without an account.")
        raise ServiceError("invalid_proxy_person", msg, fields={"proxy_name": msg})
    if not data.get("proxy_not_on_register"):
        ids = persons.named(community, name)
        if len(ids) == 1:
            return _person_holder(community, db.session.get(Person, ids.pop()))
        if ids:
            people = persons.with_entries(Person.query.filter(Person.id.in_(ids))).order_by(Person.id).all()
            msg = _("Several people named %(name)s are on the register: choose which one holds the proxy.", name=name)
            raise ServiceError("proxy_ambiguous", msg, fields={"proxy_person_id": msg}, details={"candidates": [
                {"person_id": p.id, "name": p.label, "units": [m.household.label for m in p.members]}
                for p in people]})
    return None, name, "name:" + "".join(name.split()).casefold()


def _person_holder(community, person):
    """A register person as a proxy: they vote online with their account if it is verified."""
    user_id = person.user_id
    if user_id is not None and not Membership.query.filter(
            Membership.user_id == user_id, Membership.community_id == community.id,
            Membership.verified_at.isnot(None)).first():
        user_id = None
    name = person.user.display_name if user_id else person.names[0]
    return user_id, name[:80], f"person:{person.id}"


def _persons_of(voter):
    """The person ids a roll entry stands for (its key): a person, or an owners' head."""
    kind, _sep, rest = voter.key.partition(":")
    if kind == "person" and rest.isdigit():
        return {rest}
    if kind == "owner" and not rest.startswith("#"):
        return set(rest.split("+"))
    return set()


def proxy_limit(ballot):
    """The most voters one person may hold a proxy for: frozen in the manifest when voting opens."""
    limit = (ballot.manifest or {}).get("proxy_limit")
    return int(limit if limit is not None else setting(ballot.community, "proxy_limit"))


def record_proxy(ballot, actor, data, *, scan=None):
    """Record a written proxy authorisation (委托书) for a voter of an open owners' or household
    ballot (staff or a grid worker). One authorisation in force per voter (a partial unique index);
    the limit of voters per proxy person is checked under the ballot's row lock."""
    community = ballot.community
    if not can("voting.paper.enter", community, user=actor):
        raise Forbidden("forbidden", _("You may not record proxies."))
    if ballot.unit not in PROXY_UNITS:
        raise Conflict("proxy_not_allowed", _("Proxies are recorded for owners' and household ballots."))
    now = utcnow()
    if ballot.state != "open" or now >= ballot.closes_at:
        raise Conflict("ballot_closed", _("Proxies are recorded while the ballot is open."))
    voter = voter_by_id(ballot, data.get("voter_id"))
    user_id, name, key = _holder(community, data)
    if (user_id is not None and user_id == voter.user_id) or \
            (key.startswith("person:") and key[7:] in _persons_of(voter)):
        msg = _("A voter cannot be their own proxy.")
        raise ServiceError("own_proxy", msg, fields={"proxy_user_id": msg})
    if user_id is not None and user_id == actor.id:  # a right to vote for others: someone else records it
        msg = _("You cannot record a proxy that you hold: another staff member or grid worker must record it.")
        raise Forbidden("own_proxy_record", msg, fields={"proxy_user_id": msg})
    witness = " ".join(str(data.get("witness") or "").split())
    if not witness or len(witness) > 80:
        msg = _("Name the witness or the person who took the signed authorisation.")
        raise ServiceError("witness_required", msg, fields={"witness": msg})
    instructions = str(data.get("instructions") or "").strip()
    if len(instructions) > 2000:
        msg = _("Keep the voting instructions under 2,000 characters.")
        raise ServiceError("invalid_instructions", msg, fields={"instructions": msg})
    if scan is not None:
        scan = checked_photo(scan, "scan")
    # The ballot's row lock: proxies of one ballot are recorded one after another.
    if not store.lock_ballot(ballot.id, "open"):
        raise Conflict("ballot_closed", _("Proxies are recorded while the ballot is open."))
    if db.session.execute(select(Voter.voted_at).where(Voter.id == voter.id)).scalar_one() is not None:
        raise Conflict("already_voted", _("%(name)s has already voted: a proxy can no longer be recorded.",
                                          name=voter_name(voter)))
    if db.session.execute(select(Proxy.id).where(Proxy.ballot_id == ballot.id, Proxy.voter_id == voter.id,
                                                 Proxy.revoked_at.is_(None))).first():
        raise Conflict("proxy_exists", _("%(name)s already has a proxy on this ballot; revoke it first.",
                                         name=voter_name(voter)))
    limit = proxy_limit(ballot)
    held = db.session.execute(select(func.count(Proxy.id)).where(
        Proxy.ballot_id == ballot.id, Proxy.holder_key == key, Proxy.revoked_at.is_(None))).scalar_one()
    if held >= limit:
        raise Conflict("proxy_limit", ngettext(
            "%(name)s already holds %(num)d proxy on this ballot, the most one person may hold.",
            "%(name)s already holds %(num)d proxies on this ballot, the most one person may hold.",
            held, name=name))
    number = db.session.execute(select(func.count(Proxy.id)).where(Proxy.ballot_id == ballot.id)).scalar_one() + 1
    proxy = Proxy(ballot_id=ballot.id, ref=f"P{number}", voter_id=voter.id, user_id=user_id, name=name,
                  holder_key=key, instructions=instructions, witness=witness,
                  recorded_by_id=actor.id, created_at=now)
    if scan is not None:
        proxy.scan_type, proxy.scan_data = scan
        proxy.scan_sha256 = hashlib.sha256(scan[1]).hexdigest()
    db.session.add(proxy)
    # The message is put together before the flush: after a failed one the session reads nothing
    # until the entry point rolls back (the user's language included).
    exists_msg = _("%(name)s already has a proxy on this ballot; revoke it first.", name=voter_name(voter))
    try:
        db.session.flush()
    except IntegrityError:  # the unique indexes back the checks above
        raise Conflict("proxy_exists", exists_msg)
    audit.record("voting.proxy_recorded", community=community, obj=proxy, actor=actor, on_behalf_of=voter.user_id,
                 on_behalf_of_name=voter.name or voter.units,
                 after={"ballot_id": ballot.id, "voter": voter.ref, "proxy": proxy.ref, "proxy_user_id": user_id,
                        "proxy_name": name, "witness": witness, "instructions": instructions,
                        "scan_sha256": proxy.scan_sha256})
    url = _ballot_url(ballot)
    if user_id is not None:
        notify(user_id, community, "voting.proxy_held", N_("You hold the proxy of %(name)s on “%(title)s”."),
               {"name": voter_name(voter), "title": ballot.title}, url=url)
    if voter.user_id:
        notify(voter.user_id, community, "voting.proxy_recorded",
               N_("Your proxy authorisation for %(proxy)s on “%(title)s” was recorded."),
               {"proxy": name, "title": ballot.title}, url=url)
    return proxy


def revoke_proxy(ballot, actor, proxy, reason):
    """Revoke an authorisation before the proxy has voted (staff or a grid worker, with a reason)."""
    community = ballot.community
    if not can("voting.paper.enter", community, user=actor):
        raise Forbidden("forbidden", _("You may not record proxies."))
    if proxy.ballot_id != ballot.id:
        raise NotFound("not_found", _("No such proxy."))
    reason = str(reason) if isinstance(reason, (str, int, float)) else ""
    if not reason.strip():
        raise ServiceError("reason_required", _("Give a reason."), fields={"reason": _("Give a reason.")})
    if not store.lock_ballot(ballot.id, "open"):
        raise Conflict("ballot_closed", _("This ballot is closed."))
    if db.session.execute(select(Entry.id).where(Entry.proxy_id == proxy.id)).first():
        raise Conflict("proxy_voted", _("The proxy has already voted: the authorisation can no longer be revoked. "
                                        "The voter may still vote in person."))
    done = db.session.execute(update(Proxy).where(Proxy.id == proxy.id, Proxy.revoked_at.is_(None))
                              .values(revoked_at=utcnow(), revoked_by_id=actor.id, revoke_reason=reason.strip()[:300])
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("proxy_revoked", _("This proxy authorisation is no longer in force."))
    db.session.refresh(proxy)
    audit.record("voting.proxy_revoked", community=community, obj=proxy, actor=actor, reason=reason,
                 after={"ballot_id": ballot.id, "proxy": proxy.ref})
    if proxy.user_id:
        notify(proxy.user_id, community, "voting.proxy_revoked",
               N_("Your proxy for %(name)s on “%(title)s” was revoked."),
               {"name": voter_name(proxy.voter), "title": ballot.title}, url=_ballot_url(ballot))
    return proxy


# ── closing ──────────────────────────────────────────────────────────────────────────────
def counted_ballots(ballot_id):
    """The counted ballots for :func:`counting.count`, grouped by identical choice as
    (choice, heads, area in hundredths, number of ballots) (plugins/voting/store.py)."""
    return store.counted_ballots(ballot_id)


def spec_of(ballot):
    """What is counted: the manifest's terms, its totals grown by the voters added to the roll
    after it was fixed (their roll entries in the chain, as the recount reads them)."""
    spec = counting.Spec.from_manifest(ballot.manifest)
    heads, area = db.session.execute(select(func.sum(Entry.heads), func.sum(Entry.area)).where(
        Entry.ballot_id == ballot.id, Entry.source == integrity.ROLL_SOURCE)).one()
    if heads is None:
        return spec
    return dataclasses.replace(spec, heads_total=spec.heads_total + int(heads),
                               area_total=spec.area_total + counting.area_to_int(area or 0))


def count_ballot(ballot):
    """The result of the ballot's counted ballots under its manifest (counting.py, as the recount)."""
    spec = spec_of(ballot)
    if spec.rule != counting.UNANIMOUS:
        return counting.count(spec, counted_ballots(ballot.id))
    # Who did not consent is named by roll number: a unanimity ballot is never secret, so the
    # chain's voter tag is the roll number.
    roll = [(ref, heads, counting.area_to_int(area)) for ref, heads, area in db.session.execute(
        select(Voter.ref, Voter.heads, Voter.area).where(Voter.ballot_id == ballot.id).order_by(Voter.id))]
    counted = {tag: (tuple(choice) if choice is not None else None, heads, counting.area_to_int(area))
               for tag, choice, heads, area in db.session.execute(
                   select(Entry.voter_tag, Entry.choice, Entry.heads, Entry.area).where(
                       Entry.ballot_id == ballot.id, Entry.counted.is_(True)))}
    return counting.count_unanimous(spec, roll, counted)


def not_consenting(ballot, *, names=False):
    """Who did not consent on a closed unanimity ballot: ``{"voter", "units", "reason"}`` per
    interested owner, in roll order, and ``name`` too when ``names`` (staff: the roll's names are
    not published; the units are, as on the notice of such a decision)."""
    missing = (ballot.result or {}).get("not_consenting")
    if not missing:
        return []
    voters = {v.ref: v for v in Voter.query.filter(Voter.ballot_id == ballot.id,
                                                    Voter.ref.in_([m["voter"] for m in missing]))}
    out = []
    for m in missing:
        v = voters.get(m["voter"])
        item = {"voter": m["voter"], "units": v.units if v else "", "reason": m["reason"]}
        if names:
            item["name"] = voter_name(v) if v else ""
        out.append(item)
    return out


def challenge_until(ballot):
    """The last day an owner may ask the people's court to set aside this owners' decision, for
    an owner who learns of it when its result is published (R11; SPC Interpretation on Building
    Ownership Art. 12: within one year of knowing or having to know; Civil Code Art. 280 para. 2).

    Counted in the community's calendar from the day the result was published — the closing —
    by core.dates.months_after (Civil Code Art. 201–203: the day itself is not counted; a year
    from 29 February ends on 28 February). None for ballots that are not owners' decisions or
    not closed. The holiday shift of Art. 203 is not applied: the calendar of public holidays is
    not kept here."""
    if ballot.unit != "owners" or ballot.state != "closed" or ballot.closed_at is None:
        return None
    ends = dates.months_after(ballot.closed_at, 12, ballot.community)
    return dates.local_date(ends, ballot.community) - timedelta(days=1)


def close(ballot, actor, reason=None):
    """Staff close a ballot before its time, with a reason (:func:`count_and_close`)."""
    check_can_manage(ballot.community, actor, _("Only community staff can close ballots."))
    if not (reason or "").strip():
        raise ServiceError("reason_required", _("Say why the ballot closes before its closing time."),
                           fields={"reason": _("Say why the ballot closes before its closing time.")})
    return count_and_close(ballot, actor, reason)


def close_when_due(ballot, now=None) -> bool:
    """Close and count a ballot whose closing time has passed (`linli ballots close-due`); False
    when it is not due or no longer open (a second run, or staff, closed it first)."""
    now = now or utcnow()
    if ballot.state != "open" or ballot.closes_at > now:
        return False
    try:
        count_and_close(ballot, None, _("The voting period ended."))
    except Conflict:  # closed meanwhile: the row lock let the other one count
        return False
    return True


def due_ballots(now=None, community=None):
    """The ids of the open ballots whose time is up, in ``community`` or in all (oldest first)."""
    return store.due_ballot_ids(now or utcnow(), community.id if community is not None else None)


def status(ballot, now=None):
    """The ballot's state as pages and the API show it: ``closing`` for an open ballot whose
    closing time has passed and that is waiting to be counted (`linli ballots close-due`)."""
    if ballot.state == "open" and ballot.closes_at <= (now or utcnow()):
        return "closing"
    return ballot.state


def count_and_close(ballot, actor, reason=None):
    """Count, publish the closing hash and result, and move an attached proposal on. ``actor``
    None: the platform (the ballot's time was up, or an operator's command)."""
    community = ballot.community
    now = utcnow()
    if not store.move_ballot(ballot.id, "open", "closed", now):
        raise Conflict("not_open", _("This ballot is not open."))
    db.session.refresh(ballot)
    result = count_ballot(ballot)
    ballot.result = result
    ballot.closing_hash = integrity.closing(ballot.head_hash)
    audit.record("voting.ballot_closed", community=community, obj=ballot, actor=actor, reason=reason,
                 after={"closing_hash": ballot.closing_hash, "passed": result.get("passed"),
                        "winner": result.get("winner"), "turnout": result["turnout"]})
    emit(community, Event("ballot.closed", community.id, getattr(actor, "id", None), (),
                          f"ballot:{ballot.id}:closed",
                          {"ballot_id": ballot.id, "proposal_id": ballot.proposal_id, "passed": result.get("passed"),
                           "winner": result.get("winner")}))
    proposal = ballot.proposal
    # A proposal still in coordination has a ballot opened before proposals followed their ballots.
    if proposal is not None and proposal.state in ("coordinating", "voting"):
        from core.services import proposals as proposal_svc

        if ballot.method == "majority":
            new_state = "accepted" if result["passed"] else "rejected"
            why = (_("The ballot passed (closing hash %(h)s).", h=ballot.closing_hash[:12]) if result["passed"]
                   else _("The ballot did not pass (closing hash %(h)s).", h=ballot.closing_hash[:12]))
        elif result.get("winner") is not None:
            new_state = "accepted"
            why = _("The ballot chose “%(option)s” (closing hash %(h)s).",
                    option=option_label(ballot, result["winner"]), h=ballot.closing_hash[:12])
        else:
            new_state = "rejected"
            why = _("Nobody voted (closing hash %(h)s).", h=ballot.closing_hash[:12])
        proposal_svc.follow(proposal, new_state, actor, why)
    return ballot


def cancel(ballot, actor, reason):
    """Staff cancel a ballot (:func:`call_off`)."""
    check_can_manage(ballot.community, actor, _("Only community staff can cancel ballots."))
    return call_off(ballot, actor, reason)


def call_off(ballot, actor, reason):
    """Cancel a ballot in preparation or open: nothing is counted (its proposal was withdrawn, or
    staff cancelled it)."""
    if ballot.state not in ("draft", "open"):
        raise Conflict("not_open", _("This ballot is not open."))
    if not (reason or "").strip():
        raise ServiceError("reason_required", _("Give a reason."), fields={"reason": _("Give a reason.")})
    before = ballot.state
    # Only from the state read above: a ballot closed meanwhile keeps its count.
    if not store.move_ballot(ballot.id, before, "cancelled", utcnow()):
        raise Conflict("not_open", _("This ballot is not open."))
    db.session.expire(ballot, ["state", "closed_at"])
    audit.record("voting.ballot_cancelled", community=ballot.community, obj=ballot, actor=actor, reason=reason,
                 before={"state": before}, after={"state": "cancelled"})
    return ballot


# ── export ───────────────────────────────────────────────────────────────────────────────
def entries_of(ballot):
    return Entry.query.filter_by(ballot_id=ballot.id).order_by(Entry.seq)


def export(ballot) -> dict:
    """The closed ballot as a self-contained file that `linli ballots recount` checks and recounts."""
    if ballot.state != "closed":
        raise Conflict("not_closed", _("A ballot can be exported once it is closed."))
    voters = Voter.query.filter_by(ballot_id=ballot.id).order_by(Voter.id).all()
    added = dict(db.session.execute(select(Entry.voter_tag, Entry.seq).where(
        Entry.ballot_id == ballot.id, Entry.source == integrity.ROLL_SOURCE)).all())
    roll = [{"voter": v.ref, "heads": v.heads, "area": counting.area_str(counting.area_to_int(v.area)),
             **({"added": added[v.ref]} if v.ref in added else {})} for v in voters]
    entries = []
    proxies = proxies_of(ballot).all()
    refs = {p.id: p.ref for p in proxies}
    for e in db.session.execute(select(Entry.seq, Entry.voter_tag, Entry.choice, Entry.heads, Entry.area, Entry.source,
                                       Entry.at, Entry.rule_source, Entry.hash, Entry.receipt, Entry.counted,
                                       Entry.proxy_id, Entry.set_aside, Entry.note)
                                .where(Entry.ballot_id == ballot.id).order_by(Entry.seq)):
        item = {"seq": e.seq, "voter": e.voter_tag, "choice": e.choice, "heads": e.heads,
                "area": counting.area_str(counting.area_to_int(e.area)), "source": e.source, "at": e.at,
                "hash": e.hash, "receipt": e.receipt, "counted": e.counted}
        if e.rule_source:
            item["rule_source"] = e.rule_source
        if e.proxy_id:
            item["proxy"] = refs.get(e.proxy_id)
        if e.set_aside:
            item["set_aside"] = True
        if e.source == integrity.ROLL_SOURCE:
            item["reason"] = e.note
        entries.append(item)
    # A ballot opened under an older format is written in it (its manifest says which).
    data = {"format": (ballot.manifest or {}).get("format", integrity.FORMAT), "manifest": ballot.manifest,
            "genesis_hash": ballot.genesis_hash,
            "roll": roll, "entries": entries, "closing_hash": ballot.closing_hash, "result": ballot.result,
            "closed_at": dates.iso(ballot.closed_at)}
    if proxies:
        # The proxy person appears only as a per-ballot number (H1, H2...); on secret ballots the
        # voter is left out (their chain tag must not be linked to the roll).
        holders = {}
        for p in proxies:
            holders.setdefault(p.holder_key, f"H{len(holders) + 1}")
        data["proxies"] = [{"proxy": p.ref, **({} if ballot.secret else {"voter": p.voter.ref}),
                            "holder": holders[p.holder_key], "recorded_at": dates.iso(p.created_at),
                            "revoked_at": dates.iso(p.revoked_at)} for p in proxies]
    return data


def scan_of(entry_id):
    return PaperScan.query.filter_by(entry_id=entry_id).first()

