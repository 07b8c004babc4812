"""Convening a residents' meeting on request (提议召集居民会议): the rules, for pages, API and CLI.

Organic Law of Urban Residents' Committees Art. 10 (R13): the residents' committee must convene a
residents' meeting when at least one fifth of the residents aged 18 or over, one fifth of the
households, or one third of the residents' groups propose it. Here:

* a verified resident starts a request (subject, reason) and chooses its base — residents 18+,
  households or residents' groups (the community's grids) — which is shown and never changes; the
  size of the base is counted from the register on the day the request starts and kept with it;
* people support it, one support per person on the register (``Person``) however many accounts or
  entries they have: a partial unique index decides a race. A support counts towards the
  households of the person's register entries and the grids of those households. A building head,
  grid worker or staff member may record the support of someone who cannot use the app, as that
  person's, with who did it and why (代办, as core proposals do);
* a support may be withdrawn until the threshold is reached (五分之一以上: at least, exactly, a fifth);
* reaching it tells staff and sets the committee a deadline (setting ``convening_answer_days``,
  whole days of the community's calendar after the day it was reached, Civil Code Art. 201–203);
  staff answer by setting up the residents' meeting's ballot (linked to the request) or by a
  reasoned reply. A request past its deadline without an answer is overdue: shown to everyone,
  and ``linli ballots convening-overdue`` tells staff (from cron).

Counts are exact: integers compared as ``Fraction``."""
from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import dates
from core.errors import Conflict, Forbidden, NotFound, ServiceError
from core.events import Event, emit
from core.extensions import db
from core.inputs import check_text, whole_number
from core.models import Building, Household, HouseholdMember, Membership, Person, Unit, utcnow
from core.permissions import can, membership_of
from core.services import audit
from core.services import persons as persons_svc
from core.services import settings as settings_svc
from core.services.notifications import N_, notify
from plugins.voting.models import CONVENING_BASES, Ballot, ConveningRequest, ConveningSupport

CITATION = "Organic Law of Urban Residents' Committees Art. 10"
# The share of the base that obliges the committee to convene (以上: at least).
THRESHOLDS = {"adults": Fraction(1, 5), "households": Fraction(1, 5), "groups": Fraction(1, 3)}
BASE_LABELS = {
    "adults": _l("Residents aged 18 or over"),
    "households": lazy_pgettext("convening base", "Households"),
    "groups": _l("Residents' groups"),
}
STATE_LABELS = {
    "collecting": _l("Collecting support"),
    "reached": _l("Threshold reached: waiting for the committee"),
    "convened": _l("Meeting called"),
    "replied": _l("Committee replied"),
}
ANSWERS = ("convened", "replied")
_R, _S = ConveningRequest.__table__, ConveningSupport.__table__


# ── arithmetic (pure) ──────────────────────────────────────────────────────────────────────
def needed(base, total) -> int:
    """The fewest supports of ``total`` that make the share of ``base`` (at least 1/5 or 1/3)."""
    share = THRESHOLDS[base]
    return -(-total * share.numerator // share.denominator)


def is_reached(base, progress, total) -> bool:
    return total > 0 and Fraction(progress, total) >= THRESHOLDS[base]


# ── the base ───────────────────────────────────────────────────────────────────────────────
def _registered_households(community):
    """Ids of the community's households with someone on their register."""
    return select(Household.id).where(Household.community_id == community.id,
                                      Household.id.in_(select(HouseholdMember.household_id)))


def base_size(community, base, on_date) -> int:
    """How many residents 18+, households with someone on the register, or residents' groups
    (grids with such a household) the community has on ``on_date``."""
    if base == "adults":
        return len(persons_svc.adults(community, on_date))
    if base == "households":
        return db.session.execute(select(db.func.count()).select_from(
            _registered_households(community).subquery())).scalar_one()
    return db.session.execute(
        select(db.func.count(db.distinct(Building.grid_id))).select_from(Household)
        .join(Unit, Unit.id == Household.unit_id).join(Building, Building.id == Unit.building_id)
        .where(Household.id.in_(_registered_households(community)))).scalar_one()


def _places(person):
    """(household ids, grid ids) of the person's register entries."""
    rows = db.session.execute(
        select(Household.id, Building.grid_id).join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(HouseholdMember, HouseholdMember.household_id == Household.id)
        .where(HouseholdMember.person_id == person.id)).all()
    return sorted({h for h, _g in rows}), sorted({g for _h, g in rows})


def progress_of(base, supports) -> int:
    """How many of the base the supports make: people; households, each supporter speaking for
    one household only; distinct groups.

    Households (Organic Law Art. 10, R13): a person on the register of two households is one
    resident, as in a residents' meeting (R12, residents_meeting): their support stands for one
    of them, never both. The count is the largest number of distinct households the supporters
    can stand for, one each (a matching), so the order in which people supported never matters."""
    def places(s, key):
        return getattr(s, key) if hasattr(s, key) else s[key]

    if base == "adults":
        return len(supports)
    if base == "households":
        return _households_matched([sorted(places(s, "households")) for s in supports])
    return len({x for s in supports for x in places(s, "grids")})


def _households_matched(options) -> int:
    """The size of a largest matching of supporters (each with the households they may stand for)
    to distinct households (augmenting paths; a few hundred supporters at most)."""
    held = {}  # household -> index of the supporter standing for it

    def place(i, seen):
        for h in options[i]:
            if h in seen:
                continue
            seen.add(h)
            if h not in held or place(held[h], seen):
                held[h] = i
                return True
        return False

    return sum(1 for i in range(len(options)) if options[i] and place(i, set()))


# ── reading ────────────────────────────────────────────────────────────────────────────────
def setting(community, key):
    return settings_svc.get(community, "voting", key)


def get(community, request_id) -> ConveningRequest:
    req = db.session.get(ConveningRequest, request_id)
    if req is None or req.community_id != community.id:
        raise NotFound("not_found", _("No such request."))
    return req


def requests_query(community):
    return ConveningRequest.query.filter(ConveningRequest.community_id == community.id)


def is_overdue(req, now=None) -> bool:
    return req.state == "reached" and req.due_at is not None and (now or utcnow()) >= req.due_at


def last_day(req, community=None):
    """The last day (community calendar) the committee has to answer; None before the threshold."""
    if req.due_at is None:
        return None
    return dates.local_date(req.due_at, community or req.community) - timedelta(days=1)


def active_supports(req):
    return (ConveningSupport.query.filter(ConveningSupport.request_id == req.id,
                                          ConveningSupport.withdrawn_at.is_(None))
            .order_by(ConveningSupport.id).all())


def person_of(community, user):
    """The person on the register with ``user``'s account in ``community``, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Person.query.filter_by(community_id=community.id, user_id=user.id).first()


def support_of(req, person):
    if person is None:
        return None
    return ConveningSupport.query.filter_by(request_id=req.id, person_id=person.id, withdrawn_at=None).first()


def summary(req, now=None) -> dict:
    """What the progress bar and the API show."""
    need = needed(req.base, req.base_total)
    share = THRESHOLDS[req.base]
    return {"base": req.base, "base_total": req.base_total, "base_on": req.base_on.isoformat(),
            "threshold": f"{share.numerator}/{share.denominator}", "needed": need, "progress": req.progress,
            "supporters": req.supporters, "missing": max(need - req.progress, 0),
            "reached": req.state != "collecting", "overdue": is_overdue(req, now),
            "percent": min(100, req.progress * 100 // need) if need else 100}


# ── who may support ────────────────────────────────────────────────────────────────────────
def _supporter(community, actor, assisted):
    """(person, reason) of a support or withdrawal: the actor's own person, or the resident a building
    head, grid worker or staff member acts for (代办, picked by key: core.services.assist), with why."""
    from core.services import assist

    helped = assist.acting_for(community, actor, permission="voting.convening.assist", **assisted)
    if helped is None:
        return _own_person(community, actor), None
    if helped.person is None or not helped.person.members:
        raise ServiceError("not_on_register", _("Choose a resident on this community's register."),
                           fields={"person_id": _("Choose a resident on this community's register.")})
    return helped.person, assisted["reason"].strip()


def _own_person(community, actor):
    membership = membership_of(actor, community)
    person = person_of(community, actor)
    if membership is None or not membership.is_verified or person is None or not person.members:
        raise Forbidden("not_verified", _("Only verified residents on the register can support a request."))
    return person


def _check_age(community, base, person, day):
    """Residents 18 or over propose (Art. 10). For the base of residents 18+ the register must show
    it (as ``persons.adults`` counts them); for households and groups a resident known to be under
    18 does not speak for them."""
    cutoff = persons_svc.adult_cutoff(day)
    if base == "adults" and person.birth_date is None:
        raise Conflict("birth_date_unknown", _(
            "The register does not say whether you are 18 or over: ask staff to record your date of birth."))
    if person.birth_date is not None and person.birth_date > cutoff and (base == "adults" or not person.birth_year_only):
        raise Conflict("not_adult", _("Only residents aged 18 or over count towards this request."))


# ── changes ────────────────────────────────────────────────────────────────────────────────
def start(community, actor, data) -> ConveningRequest:
    """A verified resident asks for a residents' meeting; their own support is the first."""
    errors = {}
    subject = check_text(data.get("subject") or "", "subject").strip()
    if not 2 <= len(subject) <= 120:
        errors["subject"] = _("Give a subject of 2 to 120 characters.")
    reason = check_text(data.get("reason") or "", "reason", multiline=True).strip()
    if not 10 <= len(reason) <= 5000:
        errors["reason"] = _("Say why the meeting is needed, in 10 to 5,000 characters.")
    base = data.get("base")
    if base not in CONVENING_BASES:
        errors["base"] = _("Choose whose support counts: residents 18 or over, households or residents' groups.")
    if errors:
        raise ServiceError("invalid_request", _("Please correct the marked fields."), fields=errors)
    person = _own_person(community, actor)
    day = dates.today(community)
    _check_age(community, base, person, day)
    total = base_size(community, base, day)
    if total == 0:
        msg = (_("No one on the register is known to be 18 or over yet: choose households, or ask staff to "
                 "record dates of birth.") if base == "adults" else _("The register has no one to count yet."))
        raise ServiceError("empty_base", msg, fields={"base": msg})
    req = ConveningRequest(community_id=community.id, subject=subject, reason=reason, base=base, base_total=total,
                           base_on=day, state="collecting", started_by_id=actor.id)
    db.session.add(req)
    db.session.flush()
    audit.record("voting.convening_started", community=community, obj=req, actor=actor,
                 after={"subject": subject, "base": base, "base_total": total, "base_on": day.isoformat()})
    emit(community, Event("voting.convening_started", community.id, actor.id, (actor.id,),
                          f"convening:{req.id}:started", {"request_id": req.id, "base": base}))
    _add_support(req, actor, person, None)
    return req


def support(req, actor, *, person_id=None, login=None, name=None, reason=None) -> ConveningRequest:
    """Support ``req``: the actor's own person, or (assisted) the resident picked by key."""
    community = req.community
    person, reason = _supporter(community, actor, dict(person_id=person_id, login=login, name=name, reason=reason))
    _check_age(community, req.base, person, dates.today(community))
    _lock(req)
    _add_support(req, actor, person, reason)
    return req


def _lock(req):
    """Take the request's row lock while it collects support (a conditional update): supports,
    withdrawals and the move at the threshold happen one at a time."""
    locked = db.session.execute(update(_R).where(_R.c.id == req.id, _R.c.state == "collecting")
                                .values(supporters=_R.c.supporters).returning(_R.c.id)).scalar_one_or_none()
    if locked is None:
        raise Conflict("not_collecting", _("This request has reached its threshold; supports can no longer change."))


def _add_support(req, actor, person, reason):
    community = req.community
    households, grids = _places(person)
    db.session.add(ConveningSupport(request_id=req.id, person_id=person.id, user_id=person.user_id,
                                    acted_by_id=actor.id if reason else None,
                                    assist_reason=(reason or "").strip()[:200] or None,
                                    households=households, grids=grids))
    # The message is put together before the flush: after a failed one the session reads nothing
    # until the entry point rolls back (the user's language included).
    taken = _("This person already supports the request.")
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict("already_supported", taken)
    on_behalf = person.user if reason else None
    audit.record("voting.convening_supported", community=community, obj=req, actor=actor,
                 on_behalf_of=on_behalf, on_behalf_of_name=person.label if reason and on_behalf is None else None,
                 after={"person_id": person.id}, reason=reason)
    if reason and person.user_id and person.user_id != actor.id:
        notify(person.user_id, community, "voting.convening_supported_for",
               N_("%(name)s recorded your support for the request “%(subject)s”."),
               {"name": actor.display_name, "subject": req.subject}, url=_url(req))
    _recount(req, actor)


def withdraw(req, actor, *, person_id=None, login=None, name=None, reason=None) -> ConveningRequest:
    """Withdraw a support before the threshold is reached (the actor's own, or assisted)."""
    community = req.community
    person, reason = _supporter(community, actor, dict(person_id=person_id, login=login, name=name, reason=reason))
    assisted = reason is not None
    _lock(req)
    done = db.session.execute(update(_S).where(_S.c.request_id == req.id, _S.c.person_id == person.id,
                                               _S.c.withdrawn_at.is_(None))
                              .values(withdrawn_at=utcnow(), withdrawn_by_id=actor.id))
    if done.rowcount != 1:
        raise Conflict("not_supported", _("This person does not support the request."))
    audit.record("voting.convening_withdrawn", community=community, obj=req, actor=actor,
                 on_behalf_of=person.user if assisted else None,
                 on_behalf_of_name=person.label if assisted and person.user is None else None,
                 after={"person_id": person.id}, reason=reason if assisted else None)
    _recount(req, actor)
    return req


def _recount(req, actor):
    """Count the supports (a statement of its own, after the lock: it sees every committed one) and
    move the request on at the threshold."""
    # Residents propose (Art. 10): a supporter whose entries have all left the register since no
    # longer counts (the support stays on record), as the base counts only people on it.
    on_register = select(HouseholdMember.person_id).join(Household, Household.id == HouseholdMember.household_id) \
        .where(Household.community_id == req.community_id)
    rows = db.session.execute(select(_S.c.households, _S.c.grids).where(
        _S.c.request_id == req.id, _S.c.withdrawn_at.is_(None), _S.c.person_id.in_(on_register))).mappings().all()
    req.supporters = len(rows)
    req.progress = progress_of(req.base, rows)
    if is_reached(req.base, req.progress, req.base_total):
        _reach(req, actor)
    db.session.flush()


def deadline(community, reached_at):
    """When the committee's time to answer ends: ``convening_answer_days`` whole days of the
    community's calendar after the day the threshold was reached (that day is not counted; the
    last day ends at 24:00, Civil Code Art. 201–203)."""
    days = int(setting(community, "convening_answer_days"))
    return dates.start_of_day(dates.local_date(reached_at, community) + timedelta(days=days + 1), community)


def _staff_ids(community):
    return sorted({m.user_id for m in Membership.query.filter(Membership.community_id == community.id)
                   if m.has_role("staff", "admin")})


def _url(req):
    from flask import url_for

    try:
        return url_for("c.voting.convening_detail", community=req.community.slug, request_id=req.id)
    except RuntimeError:  # no request context (CLI)
        return f"/c/{req.community.slug}/voting/convening/{req.id}"


def _reach(req, actor):
    community = req.community
    now = utcnow()
    req.state, req.reached_at, req.due_at = "reached", now, deadline(community, now)
    day = dates.format_local(req.due_at - timedelta(microseconds=1), community, "%Y-%m-%d")
    audit.record("voting.convening_reached", community=community, obj=req, actor=actor,
                 after={"progress": req.progress, "base_total": req.base_total, "due_at": req.due_at.isoformat()})
    for uid in _staff_ids(community):
        notify(uid, community, "voting.convening_reached",
               N_("Residents asked for a residents' meeting on “%(subject)s” and reached the legal threshold: "
                  "answer by %(day)s."), {"subject": req.subject, "day": day}, url=_url(req))
    if req.started_by_id:
        notify(req.started_by_id, community, "voting.convening_reached_starter",
               N_("Your request “%(subject)s” has enough support: the committee answers by %(day)s."),
               {"subject": req.subject, "day": day}, url=_url(req))
    emit(community, Event("voting.convening_reached", community.id, getattr(actor, "id", None),
                          tuple(u for u in (req.started_by_id,) if u), f"convening:{req.id}:reached",
                          {"request_id": req.id, "base": req.base, "progress": req.progress}))


def ballot_data(req) -> dict:
    """The residents' meeting's ballot set up from a request, in preparation: its subject and reason,
    the rule of a residents' meeting (R12, plugins/voting/residents_meeting.py) made up as the
    request was counted — residents 18 or over, one representative per household, or the
    representatives of the residents' groups. Staff complete and open it on the ballot's page."""
    from plugins.voting import counting

    description = _("Convened at the request of residents (%(n)d of %(total)d, request no. %(id)d).",
                    n=req.progress, total=req.base_total, id=req.id) + "\n\n" + req.reason
    return {"title": req.subject, "description": description[:5000], "method": "majority",
            "rule": counting.RESIDENTS_MEETING, "electorate_mode": req.base}


def answer(req, actor, *, ballot_id=None, create_ballot=False, reply=None) -> ConveningRequest:
    """Staff answer a request that reached its threshold: the residents' meeting's ballot (a new
    one set up from the request, or an existing ``ballot_id``), or a reasoned reply."""
    from plugins.voting import services

    community = req.community
    if not can("voting.ballots.manage", community, user=actor):
        raise Forbidden("forbidden", _("Only community staff can answer a request."))
    if req.state != "reached":
        raise Conflict("not_reached" if req.state == "collecting" else "answered", _(
            "The committee answers a request once it has reached its threshold, and once."))
    reply = check_text(reply or "", "reply", multiline=True).strip()
    ballot = None
    if create_ballot:
        ballot = services.create(community, actor, ballot_data(req))
    elif ballot_id not in (None, "", 0, "0"):
        ballot = db.session.get(Ballot, whole_number(ballot_id, "ballot_id", default=0))
        if ballot is None or ballot.community_id != community.id or ballot.state == "cancelled":
            raise ServiceError("invalid_ballot", _("Choose a ballot of this community."),
                               fields={"ballot_id": _("Choose a ballot of this community.")})
    elif not 10 <= len(reply) <= 5000:
        msg = _("Set up the meeting's ballot, or give the committee's reasons in 10 to 5,000 characters.")
        raise ServiceError("reply_required", msg, fields={"reply": msg})
    # Answered once: a conditional update, so two staff answering at once cannot both succeed.
    state = "convened" if ballot is not None else "replied"
    now = utcnow()
    done = db.session.execute(update(_R).where(_R.c.id == req.id, _R.c.state == "reached").values(
        state=state, answered_at=now, answered_by_id=actor.id, ballot_id=ballot.id if ballot else None,
        reply=reply or None).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("answered", _("The committee answers a request once it has reached its threshold, and once."))
    db.session.expire(req)
    audit.record("voting.convening_answered", community=community, obj=req, actor=actor,
                 after={"state": state, "ballot_id": ballot.id if ballot else None}, reason=reply or None)
    emit(community, Event("voting.convening_answered", community.id, actor.id,
                          tuple(u for u in (req.started_by_id,) if u), f"convening:{req.id}:answered",
                          {"request_id": req.id, "state": state, "ballot_id": ballot.id if ballot else None}))
    supporters = {s.user_id for s in active_supports(req) if s.user_id} | ({req.started_by_id} - {None})
    for uid in sorted(supporters):
        if ballot is not None:
            notify(uid, community, "voting.convening_convened",
                   N_("The committee is convening the residents' meeting you asked for: “%(subject)s”."),
                   {"subject": req.subject}, url=_url(req))
        else:
            notify(uid, community, "voting.convening_replied",
                   N_("The committee replied to your request “%(subject)s”."), {"subject": req.subject}, url=_url(req))
    return req


def overdue(community=None, now=None):
    """Requests past their deadline without an answer, oldest deadline first."""
    q = ConveningRequest.query.filter(ConveningRequest.state == "reached",
                                      ConveningRequest.due_at <= (now or utcnow()))
    if community is not None:
        q = q.filter(ConveningRequest.community_id == community.id)
    return q.order_by(ConveningRequest.due_at, ConveningRequest.id).all()


def flag_overdue(now=None):
    """Tell staff once about each overdue request (cron: ``linli ballots convening-overdue``).
    Returns the overdue requests; ``overdue_notified_at`` keeps a second run quiet."""
    now = now or utcnow()
    found = overdue(now=now)
    for req in found:
        flagged = db.session.execute(update(_R).where(_R.c.id == req.id, _R.c.overdue_notified_at.is_(None))
                                     .values(overdue_notified_at=now).execution_options(synchronize_session=False))
        if flagged.rowcount != 1:
            continue
        day = last_day(req).isoformat()
        for uid in _staff_ids(req.community):
            notify(uid, req.community, "voting.convening_overdue",
                   N_("The request for a residents' meeting on “%(subject)s” is overdue: the answer was due by %(day)s."),
                   {"subject": req.subject, "day": day}, url=_url(req))
        audit.record("voting.convening_overdue", community=req.community, obj=req, actor=None,
                     after={"due_at": req.due_at.isoformat()})
    return found
