"""Elections of several people (选举, R14): residents' committee and owners' committee elections.

An election is a ballot of the method ``election`` with ``seats``. Before it opens, candidates are
nominated from the register (by the person's key, never by a typed name), consent, and for a
residents' committee gather the support of at least 10 voters or 5 household representatives
(联名推荐, Organic Law of Urban Residents' Committees Art. 8; 河南 Art. 8). Staff then publish the
candidates: the nominations that qualify become the ballot's options and nominations close. An
election opens only with more candidates than seats (差额选举); there is no override (see
docs/voting.md). Voting is secret; the count is :func:`plugins.voting.counting._election`.

Views, API and CLI all come here; the ballot's own life (notice, open, cast, close) stays in
``plugins.voting.services``."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, Forbidden, NotFound, ServiceError
from core.extensions import db
from core.inputs import whole_number
from core.models import Person, utcnow
from core.permissions import can
from core.services import audit
from plugins.voting import residents_meeting
from plugins.voting.models import Ballot, BallotOption, Nomination, NominationSupport

METHOD = "election"
RESIDENTS_UNITS = ("person", "household")  # a residents' committee: residents, or one per household
RESIDENTS_SEATS = (5, 9)  # Organic Law Art. 7: 主任、副主任和委员共五至九人
NOMINATION_VOTERS = 10  # R14: nominated jointly by at least 10 voters …
NOMINATION_HOUSEHOLDS = 5  # … or at least 5 household representatives


def is_election(ballot) -> bool:
    return ballot.method == METHOD


def residents_committee(ballot) -> bool:
    """A residents' committee election (居民委员会选举); otherwise an owners' committee one."""
    return ballot.unit in RESIDENTS_UNITS


def seat_bounds(community, unit):
    """(fewest, most, odd only) seats: a residents' committee 5–9 (Organic Law Art. 7); an owners'
    committee as the community sets it (default 5–11, an odd number, as most local rules say)."""
    from plugins.voting.services import setting

    if unit in RESIDENTS_UNITS:
        return RESIDENTS_SEATS[0], RESIDENTS_SEATS[1], False
    return (int(setting(community, "owners_committee_min_seats")), int(setting(community, "owners_committee_max_seats")),
            bool(setting(community, "owners_committee_odd_seats")))


def seats_problem(community, unit, raw):
    """(seats, None) or (None, the translated reason why ``raw`` is no number of seats)."""
    try:
        seats = whole_number(raw, "seats")
    except ServiceError:
        seats = None
    low, high, odd = seat_bounds(community, unit)
    if seats is None or not low <= seats <= high or (odd and seats % 2 == 0):
        if odd:
            return None, _("Give the number of seats: an odd number from %(low)d to %(high)d.", low=low, high=high)
        return None, _("Give the number of seats: %(low)d to %(high)d.", low=low, high=high)
    return seats, None


# ── who may stand and who may nominate ────────────────────────────────────────────────────
def _on_day(ballot):
    """The day age is taken on: the day voting opens (the roll is fixed then)."""
    return max(ballot.opens_at, utcnow())


def adults_in(ballot, households):
    """Person ids of the people 18 or over with an entry in ``households`` (ids) on the day voting
    opens (R14: voters aged 18+; core.services.persons.adults). A register without dates of birth
    yet (no ``adults`` service) leaves everyone in."""
    from core.services import persons

    adults = getattr(persons, "adults", None)
    if adults is None:
        return None
    return {p.id for p in adults(ballot.community, _on_day(ballot), households=households)}


def roll_filter(ballot, households):
    """The person ids a residents' committee election's roll (unit ``person``) is limited to, or
    None for every other ballot (services.build_roll)."""
    if not is_election(ballot) or ballot.unit != "person":
        return None
    return adults_in(ballot, [h.id for h in households])


def _scope(ballot):
    from plugins.voting.services import households_in_scope

    return households_in_scope(ballot)


def representative_of(household, minors=()):
    """The household's representative (户代表), by the rule of the roll (services.build_roll):
    the member marked representative, else the first owner, else the first member — never one of
    ``minors`` (person ids known to be under 18: residents_meeting.minors_of)."""
    members = [m for m in household.members if m.person_id not in minors]
    if not members:
        return None
    return next((m for m in members if m.is_representative), None) or \
        next((m for m in members if m.is_owner), None) or members[0]


def _standing(ballot, person_id):
    """(the person's register entries in scope, their households' ids) or a ServiceError."""
    households = _scope(ballot)
    entries = [m for h in households for m in h.members if m.person_id == person_id]
    return households, entries


def _check_ballot(ballot, actor=None, manage=False):
    if manage and not can("voting.ballots.manage", ballot.community, user=actor):
        raise Forbidden("forbidden", _("Only community staff can manage an election's candidates."))
    check_kind(ballot)
    if ballot.state != "draft" or ballot.candidates_published_at is not None:
        raise Conflict("nominations_closed", _("Nominations are closed: the candidates are published."))


def _person(ballot, person_id, field="person_id"):
    try:
        pid = whole_number(person_id, field)
    except ServiceError:
        pid = None
    person = db.session.get(Person, pid) if pid else None
    if person is None or person.community_id != ballot.community_id:
        msg = _("Choose a person on this community's register.")
        raise ServiceError("invalid_person", msg, fields={field: msg})
    return person


def eligible_candidates(ballot):
    """The people who may be nominated (staff's choice list): on the register in the ballot's
    scope, 18 or over; for an owners' committee, owners. [(person id, name, units)]."""
    households = _scope(ballot)
    allowed = adults_in(ballot, [h.id for h in households]) if residents_committee(ballot) else None
    # An owners' committee member is of full civil capacity: an owner known to be under 18 is not
    # nominated (住建部《业主大会和业主委员会指导规则》Art. 31); an owner of unknown age may be.
    minors = residents_meeting.minors_of(ballot, households)
    out = {}
    for h in households:
        for m in h.members:
            if (allowed is not None and m.person_id not in allowed) or m.person_id in minors:
                continue
            if not residents_committee(ballot) and not m.is_owner:
                continue
            entry = out.setdefault(m.person_id, (m.person_id, m.name, []))
            entry[2].append(h.label)
    return sorted(out.values(), key=lambda e: e[0])


def nominate(ballot, actor, person_id):
    """Nominate a person on the register (staff enter the nomination form). The candidate must be
    in the ballot's scope and 18 or over (an owner, for an owners' committee), and is nominated
    once (a unique constraint)."""
    _check_ballot(ballot, actor, manage=True)
    person = _person(ballot, person_id)
    eligible = {pid: (name, units) for pid, name, units in eligible_candidates(ballot)}
    if person.id not in eligible:
        msg = (_("Only a resident aged 18 or over on the register of this election's area can be nominated.")
               if residents_committee(ballot) else _("Only an owner in this election's area can be nominated."))
        raise ServiceError("not_eligible", msg, fields={"person_id": msg})
    nomination = Nomination(ballot_id=ballot.id, person_id=person.id, name=eligible[person.id][0][:80],
                            nominated_by_id=actor.id, created_at=utcnow())
    db.session.add(nomination)
    # The message is put together before the flush: after a failed one the session reads nothing
    # until the entry point rolls back (the user's language included).
    taken = _("%(name)s is already nominated.", name=eligible[person.id][0])
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict("already_nominated", taken)
    audit.record("voting.nominated", community=ballot.community, obj=nomination, actor=actor,
                 on_behalf_of_name=nomination.name, after={"ballot_id": ballot.id, "person_id": person.id})
    return nomination


def nomination_by_id(ballot, nomination_id):
    try:
        nid = whole_number(nomination_id, "nomination_id")
    except ServiceError:
        nid = None
    n = db.session.get(Nomination, nid) if nid else None
    if n is None or n.ballot_id != ballot.id:
        raise NotFound("not_found", _("No such nomination."))
    return n


def consent(ballot, actor, nomination):
    """The candidate agrees to stand: the candidate themself online, or staff who hold the
    candidate's signed consent."""
    _check_ballot(ballot)
    own = nomination.person.user_id is not None and nomination.person.user_id == getattr(actor, "id", None)
    if not own and not can("voting.ballots.manage", ballot.community, user=actor):
        raise Forbidden("forbidden", _("Only the candidate, or staff with their signed consent, can say they stand."))
    done = db.session.execute(update(Nomination).where(Nomination.id == nomination.id,
                                                       Nomination.consented_at.is_(None))
                              .values(consented_at=utcnow(), consent_recorded_by_id=actor.id)
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("already_consented", _("%(name)s has already agreed to stand.", name=nomination.name))
    db.session.refresh(nomination)
    audit.record("voting.candidate_consented", community=ballot.community, obj=nomination, actor=actor,
                 on_behalf_of=nomination.person.user_id, on_behalf_of_name=nomination.name,
                 after={"ballot_id": ballot.id, "self": own})
    return nomination


def support(ballot, actor, nomination, person_id=None):
    """A voter supports a nomination (联名推荐): the actor themself online, or, with
    ``person_id``, a grid worker or staff enter a signed nomination form for that person. The
    supporter is a voter of the election (on the register in scope, 18 or over); a household's
    representative also counts for the households' threshold. One support per person and
    nomination, made safe by a unique constraint under the ballot's row lock."""
    community = ballot.community
    _check_ballot(ballot)
    if person_id not in (None, ""):
        if not can("voting.paper.enter", community, user=actor):
            raise Forbidden("forbidden", _("You may not enter nomination forms."))
        person, via = _person(ballot, person_id), "paper"
    else:
        from core.permissions import membership_of
        from core.services import persons

        membership = membership_of(actor, community)
        person = persons.of_user(community, getattr(actor, "id", None))
        if membership is None or not membership.is_verified or person is None:
            raise Forbidden("not_verified", _("Only verified residents on the register can support a nomination."))
        via = "online"
    households, entries = _standing(ballot, person.id)
    allowed = adults_in(ballot, [h.id for h in households])
    if not entries or (allowed is not None and person.id not in allowed):
        msg = _("Only a voter of this election, aged 18 or over and on the register of its area, can support a "
                "nomination.")
        raise ServiceError("not_a_voter", msg, fields={"person_id": msg})
    minors = residents_meeting.minors_of(ballot, households)  # a child represents no household
    represents = next((h.id for h in households if (rep := representative_of(h, minors)) is not None
                       and rep.person_id == person.id), None)
    locked = db.session.execute(update(Ballot).where(Ballot.id == ballot.id, Ballot.state == "draft",
                                                     Ballot.candidates_published_at.is_(None))
                                .values(entries_count=Ballot.entries_count)
                                .execution_options(synchronize_session=False))
    if locked.rowcount != 1:
        raise Conflict("nominations_closed", _("Nominations are closed: the candidates are published."))
    taken = db.session.execute(select(NominationSupport.id).where(
        NominationSupport.nomination_id == nomination.id, NominationSupport.person_id == person.id)).first()
    row = NominationSupport(ballot_id=ballot.id, nomination_id=nomination.id, person_id=person.id,
                            household_id=represents, via=via, recorded_by_id=actor.id, created_at=utcnow())
    # The message is put together before the flush: after a failed one the session reads nothing
    # until the entry point rolls back (the user's language included).
    msg = _("%(supporter)s already supports the nomination of %(name)s.", supporter=person.label, name=nomination.name)
    if taken is None:
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            taken = True
    if taken is not None:
        raise Conflict("already_supported", msg)
    audit.record("voting.nomination_supported", community=community, obj=nomination, actor=actor,
                 on_behalf_of=person.user_id, on_behalf_of_name=person.label,
                 after={"ballot_id": ballot.id, "person_id": person.id, "household_id": represents, "via": via})
    return row


def tally(nomination):
    """{voters, households, consented, qualifies} of a nomination (R14: ≥ 10 voters or ≥ 5
    household representatives, and the candidate's consent). An owners' committee's candidates
    need no supporters: they are the owners' assembly's nominations that staff record."""
    voters, households = db.session.execute(select(
        func.count(NominationSupport.id), func.count(func.distinct(NominationSupport.household_id))).where(
        NominationSupport.nomination_id == nomination.id)).one()
    ballot = db.session.get(Ballot, nomination.ballot_id)
    enough = (not residents_committee(ballot) or voters >= NOMINATION_VOTERS or households >= NOMINATION_HOUSEHOLDS)
    return {"voters": voters, "households": households, "consented": nomination.consented_at is not None,
            "supported": enough, "qualifies": enough and nomination.consented_at is not None}


def nominations(ballot):
    """The ballot's nominations with their tallies, in the order nominated."""
    rows = Nomination.query.filter_by(ballot_id=ballot.id).order_by(Nomination.id).all()
    return [(n, tally(n)) for n in rows]


def supported_by(ballot, user):
    """Ids of the nominations ``user``'s person supports."""
    from core.services import persons

    person = persons.of_user(ballot.community, getattr(user, "id", None)) \
        if getattr(user, "is_authenticated", False) else None
    if person is None:
        return set()
    return {nid for (nid,) in db.session.execute(select(NominationSupport.nomination_id).where(
        NominationSupport.ballot_id == ballot.id, NominationSupport.person_id == person.id))}


def too_few_message(ballot, n):
    return _("An election needs more candidates than seats: %(n)d candidates qualify for %(seats)d seats. "
             "Gather more nominations, or set fewer seats before publishing.", n=n, seats=ballot.seats or 0)


def publish_candidates(ballot, actor):
    """Publish the candidates (候选人名单): the nominations that qualify become the options, in
    the order nominated; nominations close. Refused with no more qualifying candidates than seats
    (差额选举, R14)."""
    _check_ballot(ballot, actor, manage=True)
    qualified = [n for n, t in nominations(ballot) if t["qualifies"]]
    if len(qualified) <= (ballot.seats or 0):
        msg = too_few_message(ballot, len(qualified))
        raise Conflict("too_few_candidates", msg, fields={"seats": msg})
    locked = db.session.execute(update(Ballot).where(Ballot.id == ballot.id, Ballot.state == "draft",
                                                     Ballot.candidates_published_at.is_(None))
                                .values(candidates_published_at=utcnow())
                                .execution_options(synchronize_session=False))
    if locked.rowcount != 1:
        raise Conflict("nominations_closed", _("Nominations are closed: the candidates are published."))
    names = [n.name for n in qualified]
    ballot.options.clear()
    db.session.flush()
    for i, n in enumerate(qualified):
        label = n.name if names.count(n.name) == 1 else f"{n.name}（{_units_of(ballot, n.person_id)}）"
        ballot.options.append(BallotOption(position=i, label=label[:120]))
        n.position = i
    db.session.flush()
    db.session.refresh(ballot, ["candidates_published_at"])
    audit.record("voting.candidates_published", community=ballot.community, obj=ballot, actor=actor,
                 after={"candidates": [o.label for o in ballot.options], "seats": ballot.seats})
    return ballot


def _units_of(ballot, person_id):
    return "、".join(h.label for h in _scope(ballot) if any(m.person_id == person_id for m in h.members))


def check_ready(ballot):
    """Refuse to publish the notice of, or open, an election whose candidates are not published
    or are no more than its seats (差额选举, R14: no override — an election with as many candidates
    as seats is a confirmation, which the committee puts as a yes/no ballot per person)."""
    if not is_election(ballot):
        return
    if ballot.candidates_published_at is None:
        raise Conflict("candidates_not_published", _("Publish the candidates first."))
    if len(ballot.options) <= (ballot.seats or 0):
        raise Conflict("too_few_candidates", too_few_message(ballot, len(ballot.options)))


def results(ballot):
    """Every candidate of a counted election for the pages: label, votes, area, status, in the
    order of the result (elected first, by votes), with the unfilled seats and the lot."""
    result = ballot.result or {}
    rows = []
    for c in result.get("candidates") or []:
        label = next((o.label for o in ballot.options if o.position == c["option"]), "?")
        rows.append({**c, "label": label})
    rank = {pos: i for i, pos in enumerate(result.get("elected") or [])}
    rows.sort(key=lambda r: (r["option"] not in rank, rank.get(r["option"], 0), -r["heads"], r["option"]))
    return {"candidates": rows, "unfilled": result.get("unfilled", 0), "seats": result.get("seats"),
            "valid": result.get("passed"), "tie": result.get("tie"), "tests": result.get("tests") or [],
            "blank": result.get("blank_heads", 0)}


def checked_marks(ballot, positions):
    """The candidates a ballot marks (services.parse_choice: options that exist, each once), as
    sorted positions: up to ``seats`` (more is refused, never cut down); fewer is fine, none is a
    blank ballot."""
    if len(positions) > (ballot.seats or 0):
        msg = _("Mark at most %(n)d candidates: there are %(n)d seats. A ballot with more marks is not accepted.",
                n=ballot.seats or 0)
        raise ServiceError("too_many_choices", msg, fields={"choice": msg})
    return tuple(sorted(positions))


def check_kind(ballot):
    if not is_election(ballot):
        raise NotFound("not_found", _("This ballot is not an election."))
