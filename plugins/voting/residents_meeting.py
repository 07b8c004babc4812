"""A residents' meeting (居民会议) as a ballot: its electorate and the rule it is decided by.

Organic Law of Urban Residents' Committees Art. 9 (R12): a residents' meeting is made of the
residents aged 18 or over, or of one representative of each household, or of two or three
representatives of each residents' group; which of the three is fixed for the meeting. It may
meet when more than half of them are present, and decides by more than half of those present.
Here a residents' meeting is a yes/no/abstain ballot with the rule ``residents_meeting``
(``counting.RESIDENTS_MEETING``) and an ``electorate_mode``:

* ``adults`` — every person on the register of a household in scope who is 18 or over on the day
  voting opens (``core.services.persons.adults``, the community's calendar). People whose age the
  register does not tell (no date of birth, or only the year in which they turn 18) are not on
  the roll: staff see them before opening, and the ballot opens only once they are resolved or
  staff confirm that it opens as the register stands (the same confirmation as for possible
  duplicates: ``confirm_duplicates``, API ``409 ages_unknown``). The manifest keeps the day and
  how many were left out;
* ``households`` — one entry per household (unit ``household``, the 户代表 as today);
* ``groups`` — the representatives staff chose from the register for each residents' group (the
  community's grids are its residents' groups), two or three per group with people in scope.

The count (``counting._residents_meeting``): quorum ``present > 1/2 of the electorate`` and the
decision ``yes > 1/2 of those present``, both strict (过半数). Abstentions, blank and spoiled
ballots are present and count against the decision, whatever ``spoiled_participates`` says.
Ordinary polls keep the base of the votes cast (R28)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from core import dates
from core.errors import Conflict, Forbidden, ServiceError
from core.extensions import db
from core.inputs import whole_number
from core.models import Grid, Person, utcnow
from core.permissions import can
from core.services import audit
from core.services import persons as persons_svc
from plugins.voting.counting import ELECTORATE_MODES, RESIDENTS_MEETING

LEGAL_BASIS = "Organic Law of Urban Residents' Committees Art. 9"
MODE_UNITS = {"adults": "person", "households": "household", "groups": "person"}
GROUP_REPRESENTATIVES = (2, 3)  # R12: two or three representatives of each residents' group


def is_meeting(ballot) -> bool:
    return ballot.rule == RESIDENTS_MEETING


def terms(data, method, rule, errors):
    """The electorate mode of a ballot set up with the rule ``residents_meeting`` and the unit it
    implies, as ``{"electorate_mode", "unit"}``; ``{}`` for any other rule (errors added)."""
    if rule != RESIDENTS_MEETING:
        return {}
    if method != "majority":
        errors["method"] = _("A residents' meeting decides by yes, no or abstain.")
    mode = data.get("electorate_mode") or None
    if mode not in ELECTORATE_MODES:
        errors["electorate_mode"] = _("Say who makes up the residents' meeting: the residents aged 18 or over, one "
                                      "representative per household, or the representatives of the residents' groups.")
        return {"electorate_mode": None, "unit": "person"}
    return {"electorate_mode": mode, "unit": MODE_UNITS[mode]}


def adults_on(ballot):
    """The day the residents' ages are taken on: the day voting opens, in the community's calendar."""
    return dates.local_date(max(ballot.opens_at, utcnow()), ballot.community)


def _household_ids(households):
    return [h.id for h in households]


def roll_filter(ballot, households):
    """The person ids a residents' meeting's roll of people is limited to (``services.build_roll``),
    or None for every other ballot: the adults of the households in scope, or the chosen group
    representatives."""
    if not is_meeting(ballot) or ballot.unit != "person":
        return None
    if ballot.electorate_mode == "groups":
        return {pid for ids in (ballot.group_representatives or {}).values() for pid in ids}
    ballot._adults_on = adults_on(ballot)
    return {p.id for p in persons_svc.adults(ballot.community, ballot._adults_on,
                                             households=_household_ids(households))}


def one_household_each(ballot) -> bool:
    """Whether households send representatives to a meeting or an election of residents (Organic
    Law Art. 8–9): there a representative is 18 or over and speaks for one household only."""
    return is_meeting(ballot) or ballot.method == "election"


def minors_of(ballot, households):
    """The person ids in ``households`` known to be under 18 on the day voting opens, on a
    residents' meeting or an election (Organic Law Art. 8–9, R12, R14: they do not represent a
    household); empty for every other ballot. Someone of unknown age is not among them."""
    if not one_household_each(ballot):
        return set()
    return {p.id for p in persons_svc.minors(ballot.community, adults_on(ballot),
                                             households=_household_ids(households))}


def _roll_of_adults(ballot) -> bool:
    """Whether the roll is the residents 18 or over: a residents' meeting of them (Art. 9), or a
    residents' committee election by residents (Art. 8, R14)."""
    return (is_meeting(ballot) and ballot.electorate_mode == "adults") or \
        (ballot.method == "election" and ballot.unit == "person")


def ages_unknown(ballot):
    """The people in scope whose age on the opening day the register does not tell (a roll of adults)."""
    if not _roll_of_adults(ballot):
        return []
    from plugins.voting.services import households_in_scope

    return persons_svc.birth_date_unknown(ballot.community, adults_on(ballot),
                                          households=_household_ids(households_in_scope(ballot)))


def check_before_opening(ballot, confirmed):
    """Refuse to open a residents' meeting whose electorate is not settled: group representatives
    missing or too many (groups), or people of unknown age unless staff confirm (adults). Returns
    how many people of unknown age are left off the roll. An election of the residents 18 or
    over asks the same about ages (R14)."""
    if not is_meeting(ballot) and not _roll_of_adults(ballot):
        return 0
    if ballot.electorate_mode == "groups":
        problems = representatives_problems(ballot)
        if problems:
            raise Conflict("representatives_missing", _(
                "Choose two or three representatives for each residents' group before opening: %(groups)s.",
                groups="、".join(problems)))
        return 0
    unknown = ages_unknown(ballot)
    if unknown and not confirmed:
        names = "、".join(p.label for p in unknown[:5]) + ("…" if len(unknown) > 5 else "")
        raise Conflict("ages_unknown", ngettext(
            "The register does not say whether %(num)d person is 18 or over (%(names)s): they are not on the roll. "
            "Record their date of birth, or confirm that the ballot opens as the register stands.",
            "The register does not say whether %(num)d people are 18 or over (%(names)s): they are not on the roll. "
            "Record their dates of birth, or confirm that the ballot opens as the register stands.",
            len(unknown), names=names),
            details={"people": [{"person_id": p.id, "names": p.names} for p in unknown]})
    return len(unknown)


def manifest_terms(ballot):
    """What a residents' meeting adds to the manifest (format linli-ballot/2); nothing for any
    other ballot, so that their manifests hash as before."""
    if not is_meeting(ballot):
        return {}
    terms_ = {"electorate_mode": ballot.electorate_mode, "legal_basis": LEGAL_BASIS}
    if ballot.electorate_mode == "adults":
        day = getattr(ballot, "_adults_on", None) or adults_on(ballot)
        terms_["adults_on"] = day.isoformat()
        terms_["ages_unknown"] = getattr(ballot, "_ages_left_out", 0)
    elif ballot.electorate_mode == "groups":
        terms_["groups"] = len(ballot.group_representatives or {})
    return terms_


# ── the representatives of the residents' groups ─────────────────────────────────────────────
def groups_in_scope(ballot):
    """The residents' groups (grids) with people on the register in the ballot's scope, each as
    ``(grid, [(person id, name, room labels)], chosen person ids)``, by grid name."""
    from plugins.voting.services import households_in_scope

    people = {}
    for h in households_in_scope(ballot):
        grid_id = h.unit.building.grid_id
        for m in h.members:
            entry = people.setdefault(grid_id, {}).setdefault(m.person_id, [m.name, []])
            entry[1].append(h.label)
    chosen = ballot.group_representatives or {}
    grids = Grid.query.filter(Grid.id.in_(list(people))).all() if people else []
    return [(g, sorted(((pid, n, rooms) for pid, (n, rooms) in people[g.id].items()), key=lambda x: (x[1], x[0])),
             list(chosen.get(str(g.id), [])))
            for g in sorted(grids, key=lambda g: (g.name, g.id))]


def representatives_problems(ballot):
    """The names of the groups in scope without two or three representatives chosen."""
    low, high = GROUP_REPRESENTATIVES
    return [g.name for g, _people, chosen in groups_in_scope(ballot) if not low <= len(chosen) <= high]


def set_representatives(ballot, actor, groups):
    """Choose the representatives of the residents' groups of a residents' meeting in
    preparation (staff): ``groups`` maps a grid id to the person ids chosen from the register of
    that grid's households in scope, two or three each (an empty list: none chosen yet). Replaces
    the whole choice; audited."""
    from plugins.voting.services import check_editable

    if not can("voting.ballots.manage", ballot.community, user=actor):
        raise Forbidden("forbidden", _("Only community staff can set up ballots."))
    if not is_meeting(ballot) or ballot.electorate_mode != "groups":
        raise Conflict("not_groups", _("Only a residents' meeting of the residents' groups' representatives has "
                                       "representatives to choose."))
    if ballot.state != "draft":
        raise Conflict("not_draft", _("The electorate of a ballot that has opened cannot change."))
    check_editable(ballot)
    if not isinstance(groups, dict):
        raise ServiceError("invalid_field", _("Give the representatives of each group."),
                           fields={"groups": _("Give the representatives of each group.")})
    in_scope = {g.id: {pid for pid, _n, _r in people} for g, people, _c in groups_in_scope(ballot)}
    low, high = GROUP_REPRESENTATIVES
    minors = {p.id for p in persons_svc.minors(ballot.community, adults_on(ballot))}
    chosen, errors, seen = {}, {}, set()
    for key, ids in groups.items():
        grid_id = whole_number(key, "groups")
        field = f"group-{grid_id}"
        if grid_id not in in_scope:
            errors[field] = _("This residents' group has nobody on the register in the ballot's scope.")
            continue
        items = ids if isinstance(ids, (list, tuple)) else [ids]
        people = [whole_number(v, field) for v in items if v not in (None, "", 0, "0")]
        if len(set(people)) != len(people) or any(p in seen for p in people):
            errors[field] = _("Choose each representative once.")
        elif any(p not in in_scope[grid_id] for p in people):
            errors[field] = _("Choose the representatives from the people on the register of this group.")
        elif any(p in minors for p in people):  # the meeting is of residents 18+ (Art. 9)
            errors[field] = _("A representative must be 18 or over on the day voting opens.")
        elif people and not low <= len(people) <= high:
            errors[field] = _("Choose two or three representatives for each residents' group.")
        seen.update(people)
        if people:
            chosen[str(grid_id)] = sorted(people)
    if errors:
        raise ServiceError("invalid_representatives", _("Please correct the marked fields."), fields=errors)
    before = ballot.group_representatives
    ballot.group_representatives = chosen or None
    audit.record("voting.representatives_chosen", community=ballot.community, obj=ballot, actor=actor,
                 before={"groups": before}, after={"groups": chosen})
    return ballot


def representative_names(ballot):
    """{grid name: [person labels]} of the chosen representatives, for the ballot page."""
    chosen = ballot.group_representatives or {}
    ids = {pid for v in chosen.values() for pid in v}
    people = {p.id: p.label for p in Person.query.filter(Person.id.in_(ids))} if ids else {}
    grids = {g.id: g.name for g in Grid.query.filter(Grid.id.in_([int(k) for k in chosen]))} if chosen else {}
    return sorted(((grids.get(int(k), k), [people.get(p, f"#{p}") for p in v]) for k, v in chosen.items()),
                  key=lambda x: str(x[0]))
