"""People on the register: one person however many units, roles and entries they have (R5).

A ``Person`` is what the register entries (``HouseholdMember``) of one human being point to: an
owner of two flats is one person with two entries, and so one head in an owners' vote (SPC
Interpretation on Building Ownership Art. 9). Who is the same person is decided by staff, never
guessed from a name: staff link an account (verifying a resident), merge two people and split an
entry off, each written to the audit log; a household import links entries by identity document
only and reports same-name entries as possible duplicates (``possible_duplicates``), which staff
resolve (merge, or confirm they are different people) before an owners' ballot opens.

Identity documents (``core.identity``) are kept as an HMAC-SHA256 under the instance's own
``IDENTITY_HASH_KEY`` (not the session secret, so rotating that keeps every hash matching), bound
to the community, plus the last four characters for display; the number itself is never stored
(PIPL Art. 6 minimum necessary, Art. 51 security measures). It is the strongest matching key: one
document is one person in a community (a unique constraint)."""
import calendar
import hashlib
import hmac
import re
from datetime import date, datetime
from itertools import combinations

from flask import current_app
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import dates, identity
from core.errors import Conflict, NotFound, ServiceError
from core.extensions import db
from core.models import Household, HouseholdMember, Person, PersonDistinct, Unit
from core.services import audit

_P, _M = Person.__table__, HouseholdMember.__table__


def name_key(name) -> str:
    """A name as compared for possible duplicates: without spaces (also full-width) and case."""
    return "".join(str(name or "").split()).casefold()


# ── identity documents ────────────────────────────────────────────────────────────────────
def _hash_key() -> bytes:
    key = current_app.config.get("IDENTITY_HASH_KEY")
    if not key:
        raise ServiceError("identity_key_missing", _(
            "Identity document numbers cannot be recorded on this site yet: it has no key for them. "
            "Ask whoever runs it to run “linli init” or set LINLI_IDENTITY_HASH_KEY."), status=503)
    return str(key).encode("utf-8")


def document_hash(community, id_type, number) -> str:
    """The keyed hash of a checked document number (``core.identity.normalise``), bound to the
    community: the same document hashes differently in two communities."""
    message = f"{getattr(community, 'id', community)}:{id_type}:{number}".encode("utf-8")
    return hmac.new(_hash_key(), message, hashlib.sha256).hexdigest()


def checked_document(community, id_type, number, field="id_number"):
    """(type, hash, last four) of a document typed by staff or read from a sheet, or
    (None, None, None) when both are empty. Raises ServiceError for a bad number."""
    id_type, number = identity.normalise(id_type, number, field=field)
    if number is None:
        return None, None, None
    return id_type, document_hash(community, id_type, number), number[-4:]


def by_document(community, id_hash):
    if not id_hash:
        return None
    return Person.query.filter_by(community_id=community.id, id_hash=id_hash).first()


def set_identity(community, person, actor, id_type, number):
    """Record (or, with both empty, remove) the identity document of ``person``. Refused when
    the same document is recorded for someone else: then they are one person, to be merged."""
    _check(community, person)
    id_type, digest, last4 = checked_document(community, id_type, number)
    other = by_document(community, digest)
    if other is not None and other.id != person.id:
        raise _document_in_use(other)
    before = {"id_type": person.id_type, "id_last4": person.id_last4}
    if (person.id_type, person.id_hash, person.id_last4) == (id_type, digest, last4):
        return person  # nothing to change, nothing to record
    person.id_type, person.id_hash, person.id_last4 = id_type, digest, last4
    try:
        db.session.flush()
    except IntegrityError:  # recorded for someone else meanwhile: named once the request has rolled back
        msg = LazyString(lambda: _document_in_use(by_document(community, digest)).message)
        raise Conflict("document_in_use", msg, fields={"id_number": msg})
    audit.record("person.identity_set" if digest else "person.identity_removed", community=community, obj=person,
                 actor=actor, before=before, after={"id_type": id_type, "id_last4": last4})
    return person


def _document_in_use(other):
    msg = _("This document is already recorded for %(name)s on the register. If it is the same person, merge "
            "the two.", name=other.label if other is not None else "?")
    return Conflict("document_in_use", msg, fields={"id_number": msg})


# ── reading ────────────────────────────────────────────────────────────────────────────────
def _check(community, person):
    if person is None or person.community_id != community.id:
        raise NotFound("not_found", _("No such person on the register."))


def get(community, person_id):
    person = db.session.get(Person, person_id) if isinstance(person_id, int) else None
    _check(community, person)
    return person


def of_user(community, user_id):
    """The person of an account in ``community`` (None if it is on no register entry there)."""
    if not user_id:
        return None
    return Person.query.filter_by(community_id=getattr(community, "id", community), user_id=user_id).first()


def with_entries(query):
    """``query`` of persons with their entries, households, units and buildings loaded."""
    return query.options(selectinload(Person.members).selectinload(HouseholdMember.household)
                         .selectinload(Household.unit).selectinload(Unit.building),
                         selectinload(Person.user))


def named(community, *names):
    """The ids of the people of the community with an entry under one of ``names`` (as ``name_key``)."""
    keys = {name_key(n) for n in names}
    return {pid for pid, name in db.session.query(HouseholdMember.person_id, HouseholdMember.name)
            .join(Household, Household.id == HouseholdMember.household_id)
            .filter(Household.community_id == community.id) if name_key(name) in keys}


def same_name(community, person):
    """Other people of the community with one of ``person``'s names (compared as ``name_key``)."""
    ids = named(community, *person.names) - {person.id}
    if not ids:
        return []
    return with_entries(Person.query.filter(Person.id.in_(ids))).order_by(Person.id).all()


def possible_duplicates(community, *, households=None, owners_only=False):
    """People who may be one person entered twice: the same name (``name_key``) and nothing
    that tells them apart — not two different identity documents, not two different accounts,
    and staff have not confirmed they are different people. Returns groups, by name:
    ``{"name", "persons": [Person, ...], "pairs": [(id, id), ...], "same_phone": bool}``.

    ``households`` (ids) and ``owners_only`` narrow it to the people with an entry there (as an
    owner): those whose merging would change an owners' ballot on those units."""
    rows = (db.session.query(HouseholdMember.person_id, HouseholdMember.name, HouseholdMember.phone,
                             HouseholdMember.relation, HouseholdMember.household_id)
            .join(Household, Household.id == HouseholdMember.household_id)
            .filter(Household.community_id == community.id).all())
    scope = set(households) if households is not None else None
    by_name, phones, names, counted = {}, {}, {}, set()
    for person_id, name, phone, relation, household_id in rows:
        key = name_key(name)
        by_name.setdefault(key, set()).add(person_id)
        names.setdefault((key, person_id), name)
        if phone:
            phones.setdefault(person_id, set()).add(phone)
        if (scope is None or household_id in scope) and (not owners_only or relation == "owner"):
            counted.add(person_id)
    candidates = {k: ids & counted for k, ids in by_name.items() if len(ids & counted) > 1}
    if not candidates:
        return []
    ids = set().union(*candidates.values())
    keys = {pid: (uid, h) for pid, uid, h in db.session.query(Person.id, Person.user_id, Person.id_hash)
            .filter(Person.id.in_(ids))}
    distinct = {(a, b) for a, b in db.session.query(PersonDistinct.person_id, PersonDistinct.other_id)
                .filter(PersonDistinct.community_id == community.id, PersonDistinct.person_id.in_(ids))}
    groups = []
    for key, members in candidates.items():
        pairs = []
        for a, b in combinations(sorted(members), 2):
            (ua, ha), (ub, hb) = keys[a], keys[b]
            if (a, b) in distinct or (ha and hb and ha != hb) or (ua and ub and ua != ub):
                continue
            pairs.append((a, b))
        if pairs:
            involved = sorted({p for pair in pairs for p in pair})
            same_phone = any(phones.get(a, set()) & phones.get(b, set()) for a, b in pairs)
            groups.append({"name": names[(key, involved[0])], "key": key, "ids": involved, "pairs": pairs,
                           "same_phone": same_phone})
    loaded = {p.id: p for p in with_entries(Person.query.filter(
        Person.id.in_({i for g in groups for i in g["ids"]})))} if groups else {}
    for group in groups:
        group["persons"] = [loaded[i] for i in group["ids"]]
    return sorted(groups, key=lambda g: (g["key"], g["ids"]))


# ── birth dates and who is 18 or over (R12–R13) ───────────────────────────────────────────
ADULT_AGE = 18  # 年满十八周岁: a resident's vote at a residents' meeting (Organic Law Art. 9–10)
EARLIEST_BIRTH_YEAR = 1880
_BIRTH_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0{1,2}:00(?::00)?)?")
_BIRTH_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_BIRTH_YEAR = re.compile(r"(\d{4})\s*年?")


def _birth_error(field):
    msg = _("Give the date of birth as 1990-05-01, or the year alone (1990).")
    return ServiceError("invalid_birth_date", msg, fields={field: msg})


def parse_birth_date(value, field="birth_date", community=None):
    """A date of birth as staff type it or a sheet holds it: ``(date, year_only)``, or
    ``(None, False)`` for nothing. Takes 1990-05-01, 1990/5/1, 1990.5.1, 19900501, 1990年5月1日,
    a spreadsheet's date cell (1990-05-01 00:00:00), a ``date``, or a year alone (1990, 1990年):
    then the 31 December of that year with ``year_only`` (see ``Person``). A day after today in
    the community's calendar, or before 1880, is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, False
    year_only = False
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        born = value
    elif isinstance(value, str):
        text = value.strip()
        m = _BIRTH_FULL.fullmatch(text) or _BIRTH_COMPACT.fullmatch(text)
        try:
            if m:
                born = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            elif _BIRTH_YEAR.fullmatch(text):
                born, year_only = date(int(_BIRTH_YEAR.fullmatch(text).group(1)), 12, 31), True
            else:
                raise _birth_error(field)
        except ValueError:  # 1990-02-30
            raise _birth_error(field) from None
    else:
        raise _birth_error(field)
    today = dates.today(community)
    if born.year < EARLIEST_BIRTH_YEAR or (born.year > today.year if year_only else born > today):
        msg = _("A date of birth lies between %(year)d and today.", year=EARLIEST_BIRTH_YEAR)
        raise ServiceError("invalid_birth_date", msg, fields={field: msg})
    return born, year_only


def birth_label(person) -> str:
    """The date of birth as written on the register: 1990-05-01, or 1990 when only the year is known."""
    if person.birth_date is None:
        return ""
    return str(person.birth_date.year) if person.birth_year_only else person.birth_date.isoformat()


def set_birth_date(community, person, actor, value):
    """Record (or, with nothing, remove) the date of birth of ``person`` (``parse_birth_date``),
    audited."""
    _check(community, person)
    born, year_only = parse_birth_date(value, community=community)
    if (person.birth_date, bool(person.birth_year_only)) == (born, year_only):
        return person
    before = {"birth_date": birth_label(person) or None}
    person.birth_date, person.birth_year_only = born, year_only
    audit.record("person.birth_date_set" if born else "person.birth_date_removed", community=community,
                 obj=person, actor=actor, before=before, after={"birth_date": birth_label(person) or None})
    return person


def _on_date(on_date, community):
    """A day of the community's calendar: a ``date`` as it is, a moment (aware) as its local day."""
    if isinstance(on_date, datetime):
        return dates.local_date(on_date, community)
    return on_date


def adult_cutoff(on_date) -> date:
    """The last day of birth of someone who is 18 or over on ``on_date``: the same day 18 years
    before. Born on 29 February, one is 18 on 28 February of a common year (the period's last
    day is the month's last day, Civil Code Art. 201–203), so on 28 February the cutoff is the
    29th when that year had one. Turning 18 that very day counts (年满)."""
    year = on_date.year - ADULT_AGE
    if (on_date.month, on_date.day) == (2, 29):  # 18 years before a 29 February is a common year
        return date(year, 2, 28)
    if (on_date.month, on_date.day) == (2, 28) and calendar.isleap(year):
        return date(year, 2, 29)
    return on_date.replace(year=year)


def _register_people(community, households):
    """The people with a register entry in ``community`` (in ``households``, ids, when given)."""
    entries = select(HouseholdMember.person_id).join(Household, Household.id == HouseholdMember.household_id) \
        .where(Household.community_id == community.id)
    if households is not None:
        entries = entries.where(Household.id.in_(list(households)))
    return Person.query.filter(Person.community_id == community.id, Person.id.in_(entries))


def adults(community, on_date, *, households=None):
    """The people on the register who are 18 or over on ``on_date`` (a day of the community's
    calendar, or a moment taken as its local day), by id: the residents of a residents' meeting
    and of a request to convene one (Organic Law Art. 9–10, R12–R13). ``households`` (ids) narrows
    it to the people with an entry there. Someone without a date of birth is not among them (see
    ``birth_date_unknown``); with only a year, from 31 December of the year they turn 18."""
    cutoff = adult_cutoff(_on_date(on_date, community))
    return _register_people(community, households).filter(
        Person.birth_date.isnot(None), Person.birth_date <= cutoff).order_by(Person.id).all()


def minors(community, on_date, *, households=None):
    """The people on the register known to be under 18 on ``on_date`` (a day of the community's
    calendar, or a moment taken as its local day): a date of birth after ``adult_cutoff``, or
    only a year after the year of the cutoff. Someone of unknown age is not among them. They do
    not represent a household at a residents' meeting or an election (Organic Law Art. 8–9)."""
    cutoff = adult_cutoff(_on_date(on_date, community))
    known = or_(Person.birth_year_only.is_(None), Person.birth_year_only.is_(False),
                Person.birth_date > date(cutoff.year, 12, 31))  # a year alone: known once past the cutoff's year
    return _register_people(community, households).filter(
        Person.birth_date.isnot(None), Person.birth_date > cutoff, known).order_by(Person.id).all()


def birth_date_unknown(community, on_date=None, *, households=None):
    """The people on the register of whom it is not known whether they are 18 or over on
    ``on_date`` (default: today): no date of birth, or only the year, which they turn 18 in. Staff
    are shown them before a residents' meeting opens."""
    day = _on_date(on_date, community) if on_date is not None else dates.today(community)
    cutoff = adult_cutoff(day)
    unsure = and_(Person.birth_year_only.is_(True), Person.birth_date > cutoff,
                  Person.birth_date <= date(cutoff.year, 12, 31))
    return with_entries(_register_people(community, households).filter(
        or_(Person.birth_date.is_(None), unsure))).order_by(Person.id).all()


# Linking, merging and splitting live in core.services.merging; they are the register's acts, so
# they are called as persons.merge, persons.split, ... (imported last: merging uses what is above).
from core.services.merging import (_merge_into, forget_if_empty, link_account, mark_distinct,  # noqa: E402,F401
                                   merge, merge_all, split, unlink_account)
