"""Every state change of the mediation module; views, API, CLI and demo data all come here.

Each function checks its input and raises ``core.errors.ServiceError`` (translated message and
fields) before touching the database. None commits: the entry point that called it (a view, an
API handler, a command, the demo builder) runs it in its transaction (core.db), which commits at
its end or, on any error, rolls back everything, so nothing is half-saved.
The core audit log gets the action and record ids only: case contents never leave these tables.
``actor=None`` means the system (command line, demo data) and skips the permission checks."""
import hashlib
import secrets
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import ngettext, pgettext

from core.errors import Conflict, Forbidden, NotFound, ServiceError
from core.events import Event, emit
from core.extensions import db
from core.inputs import whole_number
from core.models import Building, Grid, Membership, utcnow
from core.phones import mobile_number, phone_problem
from core.services import accounts, audit, settings
from core.services.notifications import N_, notify
from core import dates
from plugins.mediation import access, files
from plugins.mediation import dates as rule_dates
from plugins.mediation.models import (AGREEMENT_FORMS, CATEGORIES, COMMITTEE_ROLES, CONSENTS, DOCUMENT_KINDS,
                                      FOLLOWUP_RESULTS, OUTCOMES, PARTY_REQUESTS, PARTY_ROLES, PI_CONSENT_METHODS,
                                      PRIVATE_CATEGORIES, SEXES, SIGN_METHODS, SOURCES, TIER_ORDER, URGENCIES,
                                      MediationAgreement, MediationAssignment, MediationBooking, MediationCase,
                                      MediationCommitteeMember, MediationConfirmation, MediationDocument,
                                      MediationExtension, MediationExtensionConsent, MediationFollowup,
                                      MediationHistory, MediationHoliday, MediationObligation, MediationParty,
                                      MediationRosterSlot, MediationSession, MediationSignature, MediationTask)

MAX_UPLOAD = 10 * 1024 * 1024
UPLOAD_TYPES = {  # extension → (content type, magic bytes)
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "pdf": ("application/pdf", (b"%PDF-",)),
}
STAFF_SOURCES = ("committee", "police", "court", "government")


# ── helpers ─────────────────────────────────────────────────────────────────────────────
def _invalid(fields, message=None):
    raise ServiceError("invalid_input", message or _("Please correct the marked fields."), fields=fields)


def _text(value, limit):
    return (value or "").strip()[:limit] if isinstance(value, str) or value is None else str(value)[:limit]


def _date(value, field, errors):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return datetime.strptime(str(value or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def _time(value, field, errors):
    if isinstance(value, time):
        return value
    try:
        return datetime.strptime(str(value or "").strip(), "%H:%M").time()
    except ValueError:
        errors[field] = _("Enter a time as HH:MM.")
        return None


def _ids(values):
    """Whole numbers from a list (or one value) of ids; None when one is empty (absent)."""
    if values is None or values == "":
        return set()
    items = values if isinstance(values, (list, tuple, set)) else [values]
    ids = {whole_number(x, "id") for x in items}
    return None if None in ids else ids


def _names(parties):
    return pgettext("list of names", ", ").join(p.name for p in parties)


def _live(case):
    """The parties who have not refused mediation."""
    return [p for p in case.parties if p.consent != "refused"]


def staff_users(community):
    """Users who are mediation staff in ``community`` (for notifications)."""
    ids = set(settings.get(community, "mediation", "staff_user_ids") or [])
    ms = Membership.query.filter_by(community_id=community.id).all()
    return sorted({m.user_id for m in ms if m.has_role("mediator") or m.user_id in ids})


def require_staff(actor, community):
    if actor is not None and not access.is_staff(actor, community):
        raise Forbidden("forbidden", _("Only mediation staff may do this."))


def require_full(actor, case):
    if actor is not None and access.level(actor, case) != access.FULL:
        raise Forbidden("forbidden", _("Only the case's mediators and mediation staff may do this."))


def require_open(case):
    if case.status != "open":
        raise Conflict("case_closed", _("This case is closed. Re-open it first."))


def _history(case, kind, actor, reason=None, from_tier=None, to_tier=None):
    db.session.add(MediationHistory(case_id=case.id, kind=kind, actor_id=getattr(actor, "id", None),
                                    reason=reason, from_tier=from_tier, to_tier=to_tier))
    case.updated_at = utcnow()


def _audit(action, case, actor, obj=None):
    """Core audit entry: action and ids only, never case contents."""
    audit.record(f"mediation.{action}", community=case.community_id, actor=actor,
                 object_type=obj.__tablename__ if obj is not None else "mediation_case",
                 object_id=str(obj.id if obj is not None else case.id),
                 after={"case_id": case.id})


def _notify_users(case, user_ids, message, exclude=None):
    url = f"/c/{case.community.slug}/mediation/cases/{case.id}"
    for uid in sorted(set(user_ids)):
        if exclude is not None and uid == getattr(exclude, "id", exclude):
            continue
        notify(uid, case.community, "mediation", message, {"number": case.number}, url=url)


def _party_user_ids(case):
    return [p.user_id for p in case.parties if p.user_id]


def _mediator_ids(case):
    return [a.user_id for a in case.assignments]


def get_case(community, case_id):
    case = MediationCase.query.filter_by(id=case_id, community_id=community.id).first()
    if case is None:
        raise NotFound("not_found", _("No such case."))
    return case


def _next_number(community, year):
    prefix = f"{year}-"
    count = MediationCase.query.filter(MediationCase.community_id == community.id,
                                       MediationCase.number.startswith(prefix)).count()
    return f"{prefix}{count + 1:04d}"


def _resolve_user(community, login, field, errors):
    login = _text(login, 40)
    if not login:
        return None
    user = accounts.find_user(login)
    if user is None or access.membership_of(user, community) is None:
        errors[field] = _("No member of this community has that phone number or user name.")
        return None
    return user


def _party_from(community, data, index, errors):
    prefix = f"parties.{index}."
    role = data.get("role") or "applicant"
    if role not in PARTY_ROLES:
        errors[prefix + "role"] = _("Unknown value.")
    user = data.get("user") or _resolve_user(community, data.get("login"), prefix + "login", errors)
    name = _text(data.get("name"), 80) or (user.display_name if user else "")
    if not name:
        errors[prefix + "name"] = _("Enter the party's name.")
    consent = data.get("consent") or "pending"
    if consent not in CONSENTS:
        errors[prefix + "consent"] = _("Unknown value.")
    phone = _text(data.get("phone"), 40)
    if phone and mobile_number(phone) is None:
        errors[prefix + "phone"] = phone_problem(phone)
    party = MediationParty(role=role, name=name, phone=mobile_number(phone) if phone else None,
                           address=_text(data.get("address"), 200) or None, user_id=user.id if user else None,
                           consent=consent, consent_at=utcnow() if consent != "pending" else None)
    method = data.get("pi_consent")
    if method:  # R22: the separate consent was taken together with the intake
        method = method if method in PI_CONSENT_METHODS else "form"
        party.pi_consent_on, party.pi_consent_method = dates.today(community), method
    return party


# ── intake ──────────────────────────────────────────────────────────────────────────────
def allowed_sources(user, community):
    """The case sources ``user`` may choose (None: the system, every source)."""
    if user is None or access.is_staff(user, community):
        return list(SOURCES)
    m = access.membership_of(user, community)
    out = ["application"]
    if m is not None and m.has_role("grid_worker"):
        out.insert(0, "grid_report")
    if m is not None and m.has_role("building_head"):
        out.insert(0, "building_head")
    return out


def open_case(community, actor, data, when=None):
    """Register a case (受理登记). ``data``: source, category, description, grid_id, building_id,
    location, urgency, violence_risk, rights_notified, voluntary_statement, private_hearing,
    source_detail and parties (list of dicts: role, name, phone, address, login or user, consent)."""
    if actor is not None and not access.is_member(actor, community):
        raise Forbidden("forbidden", _("Join this community to apply for mediation."))
    errors = {}
    source = data.get("source") or "application"
    if source not in SOURCES:
        errors["source"] = _("Unknown value.")
    elif source not in allowed_sources(actor, community):
        errors["source"] = _("You cannot open a case from this source.")
    category = data.get("category")
    if category not in CATEGORIES:
        errors["category"] = pgettext("mediation", "Choose a category.")
    description = _text(data.get("description"), 5000)
    if len(description) < 2:
        errors["description"] = _("Describe the dispute in a few words.")
    urgency = data.get("urgency") or "normal"
    if urgency not in URGENCIES:
        errors["urgency"] = _("Unknown value.")
    private_hearing = data.get("private_hearing", True) is not False
    if category in PRIVATE_CATEGORIES and not private_hearing:
        errors["private_hearing"] = _("Family disputes and neighbours' private matters are mediated in private; "
                                      "they cannot be held in public.")
    grid = building = None
    if whole_number(data.get("grid_id"), "grid_id"):
        grid = db.session.get(Grid, whole_number(data.get("grid_id"), "grid_id"))
        if grid is None or grid.community_id != community.id:
            errors["grid_id"] = _("Unknown value.")
    if whole_number(data.get("building_id"), "building_id"):
        building = db.session.get(Building, whole_number(data.get("building_id"), "building_id"))
        if building is None or building.community_id != community.id:
            errors["building_id"] = _("Unknown value.")
        elif grid is None:
            grid = building.grid
    raw_parties = data.get("parties") or []
    if not isinstance(raw_parties, list):
        raw_parties, errors["parties"] = [], _("Send a list of parties.")
    parties = [_party_from(community, p if isinstance(p, dict) else {}, i, errors) for i, p in enumerate(raw_parties)]
    if source == "application" and actor is not None and not access.is_staff(actor, community) \
            and not any(p.user_id == actor.id for p in parties):
        parties.insert(0, MediationParty(role="applicant", name=actor.display_name, user_id=actor.id,
                                         consent="agreed", consent_at=utcnow()))
    if not parties:
        errors["parties"] = _("Name at least one party to the dispute.")
    if errors:
        _invalid(errors)
    now = when or utcnow()
    case = MediationCase(
        community_id=community.id, number=_next_number(community, dates.local(now, community).year), source=source,
        source_detail=_text(data.get("source_detail"), 200) or None, category=category, description=description,
        grid_id=grid.id if grid else None, building_id=building.id if building else None,
        location=_text(data.get("location"), 200) or None, urgency=urgency,
        tier="community" if source in STAFF_SOURCES else "grid",
        rights_notified=bool(data.get("rights_notified")), voluntary_statement=bool(data.get("voluntary_statement")),
        private_hearing=private_hearing,
        reported_by_id=getattr(actor, "id", None), opened_at=now, updated_at=now)
    case.community = community
    db.session.add(case)
    db.session.flush()
    for p in parties:
        p.case_id = case.id
        if p.pi_consent_on is not None:
            p.pi_consent_by_id = getattr(actor, "id", None)
        db.session.add(p)
    db.session.add(MediationHistory(case_id=case.id, kind="opened", to_tier=case.tier, actor_id=getattr(actor, "id", None),
                                    created_at=now))
    access.log(community, case, actor, "create")
    _audit("case.opened", case, actor)
    _notify_users(case, staff_users(community), N_("A new mediation case %(number)s was registered."), exclude=actor)
    if data.get("violence_risk"):
        _flag_violence(case, actor)
    db.session.flush()
    if any(p.consent == "refused" for p in parties):
        _close(case, actor, "refused", None)
    emit(community, Event("mediation.case_opened", community.id, getattr(actor, "id", None),
                          tuple(u for u in [getattr(actor, "id", None)] if u), f"mediation:case:{case.id}:opened",
                          {"case_id": case.id, "source": source}))
    return case


def record_rights(case, actor, rights_notified, voluntary_statement):
    """R16: the notice of rights was given and the voluntary statement made."""
    require_full(actor, case)
    require_open(case)
    case.rights_notified = bool(rights_notified)
    case.voluntary_statement = bool(voluntary_statement)
    case.updated_at = utcnow()
    _audit("case.rights", case, actor)


def add_party(case, actor, data):
    require_full(actor, case)
    require_open(case)
    errors = {}
    party = _party_from(case.community, data, 0, errors)
    if errors:
        _invalid({k.split(".", 2)[-1]: v for k, v in errors.items()})
    if party.pi_consent_on is not None:
        party.pi_consent_by_id = getattr(actor, "id", None)
    case.parties.append(party)  # the case's loaded parties include it for the rest of the transaction
    db.session.flush()
    _audit("party.added", case, actor, party)
    if party.consent == "refused":
        _close(case, actor, "refused", None)
    return party


def set_consent(case, party, actor, consent):
    """Record a party's answer. An explicit refusal closes the case: no mediation (R16, Art. 17)."""
    require_full(actor, case)
    require_open(case)
    if party.case_id != case.id:
        raise NotFound("not_found", _("No such party."))
    if consent not in CONSENTS or consent == "pending":
        _invalid({"consent": _("Unknown value.")})
    party.consent, party.consent_at = consent, utcnow()
    _history(case, "consent", actor)
    _audit("party.consent", case, actor, party)
    if consent == "refused":
        _close(case, actor, "refused", None)


def party_request(case, party, actor, kind):
    """R16 (人民调解法 Art. 23): a party may ask at any time to stop the mediation (``stop``) or
    for it to be held in private (``private``). Recorded by the case's mediators, or by the party
    themselves when they have an account. A stop closes the case (outcome ``stopped``; it opens
    again only with the party's new consent, like a refusal); a private hearing binds every later
    session. Once an agreement is in effect the mediation is over and there is nothing to stop."""
    if party is None or party.case_id != case.id:
        raise NotFound("not_found", _("No such party."))
    if actor is not None and access.level(actor, case) != access.FULL and party.user_id != actor.id:
        raise NotFound("not_found", _("No such party."))
    if kind not in PARTY_REQUESTS:
        _invalid({"kind": _("Choose what the party asks for.")})
    require_open(case)
    now = utcnow()
    if kind == "stop":
        ag = current_agreement(case)
        if ag is not None and ag.effective_on is not None:
            raise Conflict("agreement_in_effect",
                           _("The agreement is in effect: the mediation is over and the agreement binds the parties."))
        party.stop_requested_at, party.consent, party.consent_at = now, "refused", now
        _history(case, "stopped", actor)
        _audit("party.stop", case, actor, party)
        _close(case, actor, "stopped", None)
    else:
        if party.private_requested_at is not None:
            raise Conflict("already_requested", _("This party's request for a private hearing is recorded already."))
        party.private_requested_at, case.private_hearing = now, True
        _history(case, "private", actor)
        _audit("party.private", case, actor, party)


def pi_consent_missing(case):
    """R22: the parties (not refusing mediation) whose separate consent to processing sensitive
    personal information (PIPL Art. 29) is not recorded yet."""
    return [p for p in case.parties if p.consent != "refused" and p.pi_consent_on is None]


def record_pi_consent(case, actor, party_ids=None, method="form", on=None):
    """R22: record the separate consent of the parties ``party_ids`` (None: every party still
    missing it), given in the system (``form``) or on a signed paper form kept in the file
    (``paper``), on ``on`` (default today, community time). Re-recording is refused."""
    require_full(actor, case)
    require_open(case)
    errors = {}
    if method not in PI_CONSENT_METHODS:
        errors["method"] = _("Unknown value.")
    day = _date(on, "on", errors) if on else dates.today(case.community)
    if day is not None and "on" not in errors:
        if day > dates.today(case.community):
            errors["on"] = _("This date is in the future.")
    if party_ids is None:
        parties = pi_consent_missing(case)
    else:
        ids = {whole_number(x, "id") for x in (party_ids if isinstance(party_ids, (list, tuple, set)) else [party_ids])}
        parties = [p for p in case.parties if p.id in ids]
        if len(parties) != len(ids):
            errors["party_id"] = _("Choose a party of this case.")
    if errors:
        _invalid(errors)
    if not parties or any(p.pi_consent_on is not None for p in parties):
        raise Conflict("pi_consent_recorded", _("This consent is recorded already."))
    for p in parties:
        p.pi_consent_on, p.pi_consent_method, p.pi_consent_by_id = day, method, getattr(actor, "id", None)
        _audit("party.pi_consent", case, actor, p)
    _history(case, "pi_consent", actor)
    return parties


# ── routing ─────────────────────────────────────────────────────────────────────────────
def assign(case, actor, user):
    require_staff(actor, case.community)
    require_open(case)
    if user is None or not access.is_member(user, case.community):
        _invalid({"login": _("No member of this community has that phone number or user name.")})
    if any(a.user_id == user.id for a in case.assignments):
        raise Conflict("already_assigned", _("This mediator is already assigned."), fields={"login": _("Already assigned.")})
    a = MediationAssignment(case_id=case.id, user_id=user.id, assigned_by_id=getattr(actor, "id", None))
    case.assignments.append(a)
    db.session.flush()
    _history(case, "assigned", actor, reason=user.display_name)
    _audit("case.assigned", case, actor, a)
    _notify_users(case, [user.id], N_("You were assigned mediation case %(number)s."), exclude=actor)
    return a


def unassign(case, actor, user_id):
    require_staff(actor, case.community)
    a = next((a for a in case.assignments if a.user_id == user_id), None)
    if a is None:
        raise NotFound("not_found", _("This mediator is not assigned."))
    name = a.user.display_name
    case.assignments.remove(a)
    _history(case, "unassigned", actor, reason=name)
    _audit("case.unassigned", case, actor)


def escalate(case, actor, reason):
    """Move the case up one tier: grid → community mediation committee → street."""
    require_full(actor, case)
    reason = _text(reason, 500)
    if case.status != "open":
        raise Conflict("case_closed", _("A closed case cannot be escalated. Re-open it first."))
    if not reason:
        _invalid({"reason": _("Give a reason.")})
    i = TIER_ORDER.index(case.tier)
    if i + 1 >= len(TIER_ORDER):
        raise Conflict("top_tier", _("The case is at the street tier already; refer it out instead."))
    old, case.tier = case.tier, TIER_ORDER[i + 1]
    _history(case, "escalated", actor, reason, old, case.tier)
    _audit("case.escalated", case, actor)
    _notify_users(case, staff_users(case.community) + _mediator_ids(case),
                  N_("Mediation case %(number)s was escalated."), exclude=actor)


def refer(case, actor, to, reason):
    """Refer the case out (court, police, department); it closes with the outcome ``referred``."""
    require_full(actor, case)
    require_open(case)
    errors = {}
    to, reason = _text(to, 200), _text(reason, 500)
    if not to:
        errors["referred_to"] = _("Say where the case goes.")
    if not reason:
        errors["reason"] = _("Give a reason.")
    if errors:
        _invalid(errors)
    case.referred_to = to
    _history(case, "referred", actor, reason, case.tier, None)
    _close(case, actor, "referred", None)


def _flag_violence(case, actor):
    case.violence_risk = True
    if MediationTask.query.filter_by(case_id=case.id, kind="police_referral").first() is None:
        db.session.add(MediationTask(case_id=case.id, kind="police_referral"))
    _history(case, "violence", actor)
    _notify_users(case, staff_users(case.community) + _mediator_ids(case),
                  N_("Mediation case %(number)s may turn violent: report it to the police."))


def flag_violence(case, actor):
    """R21: a case that may turn violent or criminal gets a police-referral task."""
    require_full(actor, case)
    if case.violence_risk:
        raise Conflict("already_flagged", _("This case is flagged already."))
    _flag_violence(case, actor)
    _audit("case.violence_risk", case, actor)


def complete_task(task, actor, note):
    require_full(actor, task.case)
    if task.done_at is not None:
        raise Conflict("task_done", _("This task is done already."))
    note = _text(note, 500)
    if not note:
        _invalid({"note": _("Say what was done (e.g. reported to the police station on duty).")})
    task.done_at, task.done_by_id, task.note = utcnow(), getattr(actor, "id", None), note
    _audit("task.done", task.case, actor, task)


def set_joint_meeting(case, actor, flag):
    """Hand the case to the joint meeting's agenda (agenda_sources hook), or take it back."""
    require_staff(actor, case.community)
    case.for_joint_meeting = bool(flag)
    if flag:
        _history(case, "joint_meeting", actor)
    _audit("case.joint_meeting", case, actor)


# ── working a case ──────────────────────────────────────────────────────────────────────
def add_session(case, actor, data):
    """Record a session (调解记录): date, time, place, attendees, public or private, notes."""
    require_full(actor, case)
    require_open(case)
    if any(p.consent == "refused" for p in case.parties):
        raise Conflict("refused", _("A party refused mediation; the case cannot be mediated."))
    errors = {}
    day = _date(data.get("held_on"), "held_on", errors)
    at = _time(data.get("held_at") or "09:00", "held_at", errors)
    place = _text(data.get("place"), 200)
    attendees = _text(data.get("attendees"), 500)
    if not place:
        errors["place"] = _("Where was the session held?")
    if not attendees:
        errors["attendees"] = _("Who attended?")
    community = case.community
    if day is not None and "held_on" not in errors:
        if day < dates.local_date(case.opened_at, community):
            errors["held_on"] = _("The session cannot be before the case was opened (%(date)s).",
                                  date=dates.local_date(case.opened_at, community).isoformat())
        elif day > dates.today(community):
            errors["held_on"] = _("Record sessions that took place; this date is in the future.")
    public = bool(data.get("public"))
    if public and case.category in PRIVATE_CATEGORIES:
        errors["public"] = _("Family disputes and neighbours' private matters are mediated in private; "
                             "they cannot be held in public.")
    elif public and case.private_hearing:
        errors["public"] = _("A party asked for a private hearing; the session cannot be public.")
    if errors:
        _invalid(errors)
    if not case.rights_notified:
        raise Conflict("rights_not_notified",
                       _("Record that the parties were told their rights before the first session."))
    missing = pi_consent_missing(case)
    if missing:
        raise Conflict("pi_consent_missing",
                       _("Record every party's consent to processing their sensitive personal information "
                         "before the first session: %(names)s.", names="、".join(p.name for p in missing)),
                       fields={"pi_consent": _("Consent missing.")})
    s = MediationSession(case_id=case.id, held_at=dates.from_local(datetime.combine(day, at), community), place=place,
                         attendees=attendees, public=public, notes=_text(data.get("notes"), 20000),
                         recorded_by_id=getattr(actor, "id", None))
    db.session.add(s)
    db.session.flush()
    _audit("session.recorded", case, actor, s)
    case.updated_at = utcnow()
    return s


def upload_document(case, actor, filename, data: bytes, kind="evidence"):
    """Store a photo or scan (jpg, png, pdf; at most 10 MB; checked by its first bytes)."""
    require_full(actor, case)
    name = Path(_text(filename, 200).replace("\\", "/")).name or "upload"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind not in DOCUMENT_KINDS:
        _invalid({"kind": _("Unknown value.")})
    if ext not in UPLOAD_TYPES:
        _invalid({"file": _("Upload a JPG, PNG or PDF file.")})
    if not data:
        _invalid({"file": _("The file is empty.")})
    if len(data) > MAX_UPLOAD:
        _invalid({"file": _("The file is larger than 10 MB.")})
    ctype, magics = UPLOAD_TYPES[ext]
    if not any(data.startswith(m) for m in magics):
        _invalid({"file": _("The file's content does not match its type (JPG, PNG or PDF).")})
    stored = secrets.token_hex(16) + "." + ("jpg" if ext == "jpeg" else ext)
    files.store(stored, data)  # removed again if the transaction rolls back
    doc = MediationDocument(case_id=case.id, kind=kind, filename=name, stored_name=stored, content_type=ctype,
                            size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            uploaded_by_id=getattr(actor, "id", None))
    db.session.add(doc)
    db.session.flush()
    _audit("document.uploaded", case, actor, doc)
    return doc


def document_path(doc) -> Path:
    return files.path_of(doc.stored_name)


# ── agreement ───────────────────────────────────────────────────────────────────────────
def current_agreement(case):
    return MediationAgreement.query.filter_by(case_id=case.id).order_by(MediationAgreement.id.desc()).first()


def agreement_blockers(case):
    """What must be recorded before an agreement may be drafted, signed or take effect, as
    [(code, message)]: the notice of rights (若干规定 Art. 30), every party's voluntary consent
    with none refusing (人民调解法 Art. 17), every party's separate consent to processing their
    personal information (PIPL Art. 29) and at least one session, at which an oral agreement is
    recorded by the mediator (Art. 28). Empty when nothing is missing."""
    out = []
    if not case.rights_notified:
        out.append(("rights", _("the notice of the parties' rights and duties")))
    refused = [p for p in case.parties if p.consent == "refused"]
    if refused:
        out.append(("refused", _("%(names)s refused mediation", names=_names(refused))))
    pending = [p for p in _live(case) if p.consent != "agreed"]
    if pending:
        out.append(("consent", _("the consent to mediation of %(names)s", names=_names(pending))))
    missing = pi_consent_missing(case)
    if missing:
        out.append(("pi_consent", _("the consent of %(names)s to processing their personal information",
                                    names=_names(missing))))
    if MediationSession.query.filter_by(case_id=case.id).first() is None:
        out.append(("session", _("a mediation session")))
    return out


def require_agreement_preconditions(case):
    blockers = agreement_blockers(case)
    if blockers:
        raise Conflict("agreement_preconditions",
                       _("An agreement can be drafted, signed or take effect only once everything it needs is "
                         "recorded. Missing: %(missing)s.",
                         missing=pgettext("list of reasons", "; ").join(m for _code, m in blockers)),
                       fields={code: m for code, m in blockers})


def record_agreement(case, actor, data):
    """A written or oral agreement with obligations (who performs what by when). A written one
    takes effect once every party, the mediator and the committee seal are recorded (R18); an
    oral one when it is reached (Art. 30), recorded by the mediator (Art. 28)."""
    require_full(actor, case)
    require_open(case)
    live = [p for p in case.parties if p.consent != "refused"]
    if len(live) < 2:
        raise ServiceError("no_parties", _("An agreement needs at least two parties on the case."),
                           fields={"parties": _("Add the parties first.")})
    pending = current_agreement(case)
    if pending is not None and pending.effective_on is None:
        raise Conflict("agreement_pending", _("An agreement is waiting for signatures already."))
    require_agreement_preconditions(case)
    errors = {}
    form = data.get("form") or "written"
    if form not in AGREEMENT_FORMS:
        errors["form"] = _("Unknown value.")
    facts, terms = _text(data.get("facts"), 20000), _text(data.get("terms"), 20000)
    if not facts:
        errors["facts"] = _("State the facts and the points in dispute.")
    if not terms:
        errors["terms"] = _("State what was agreed.")
    party_ids = {p.id for p in case.parties}
    obligations = []
    opened_on = dates.local_date(case.opened_at, case.community)
    raw = data.get("obligations") or []
    if not isinstance(raw, list):
        raw, errors["obligations"] = [], _("Send a list of obligations.")
    for i, ob in enumerate(raw):
        ob = ob if isinstance(ob, dict) else {}
        desc = _text(ob.get("description"), 500)
        if not desc and not ob.get("due_on"):
            continue
        pid = whole_number(ob.get("party_id"), "party_id")
        if pid not in party_ids:
            errors[f"obligations.{i}.party_id"] = _("Choose a party of this case.")
        if not desc:
            errors[f"obligations.{i}.description"] = _("Say what is to be done.")
        due = _date(ob.get("due_on"), f"obligations.{i}.due_on", errors)
        if due is not None and due < opened_on:
            errors[f"obligations.{i}.due_on"] = _("The date is before the case was opened.")
        obligations.append((pid, desc, due))
    if errors:
        _invalid(errors)
    ag = MediationAgreement(case_id=case.id, form=form, facts=facts, terms=terms,
                            created_by_id=getattr(actor, "id", None))
    db.session.add(ag)
    db.session.flush()
    for pid, desc, due in obligations:
        db.session.add(MediationObligation(agreement_id=ag.id, party_id=pid, description=desc, due_on=due))
    _history(case, "agreement", actor)
    _audit("agreement.recorded", case, actor, ag)
    db.session.flush()
    if form == "oral":
        ag.mediator_signed_by_id, ag.mediator_signed_at = getattr(actor, "id", None), utcnow()
        _take_effect(ag, actor)
    return ag


def missing_signatures(ag):
    """What the agreement still needs before it takes effect (R18)."""
    if ag.form == "oral":
        return []
    signed = {s.party_id for s in ag.signatures}
    out = [p for p in ag.case.parties if p.id not in signed and p.consent != "refused"]
    if ag.mediator_signed_at is None:
        out.append("mediator")
    if ag.seal_applied_at is None:
        out.append("seal")
    return out


def sign(ag, actor, who, method="signature"):
    """Record a signature: ``who`` is a party id, ``"mediator"`` or ``"seal"`` (the committee seal)."""
    case = ag.case
    require_full(actor, case)
    require_open(case)
    if ag.effective_on is not None:
        raise Conflict("already_effective", _("The agreement is in effect already."))
    require_agreement_preconditions(case)
    if who == "mediator":
        if actor is not None and not access.is_assigned(actor, case) and not access.is_staff(actor, case.community):
            raise Forbidden("forbidden", _("Only a mediator may sign as the mediator."))
        if ag.mediator_signed_at is not None:
            raise Conflict("already_signed", _("This signature is recorded already."))
        ag.mediator_signed_by_id, ag.mediator_signed_at = getattr(actor, "id", None), utcnow()
    elif who == "seal":
        if ag.seal_applied_at is not None:
            raise Conflict("already_signed", _("This signature is recorded already."))
        ag.seal_applied_at = utcnow()
    else:
        party = next((p for p in case.parties if p.id == whole_number(who, "id")), None)
        if party is None:
            _invalid({"party_id": _("Choose a party of this case.")})
        if method not in SIGN_METHODS:
            _invalid({"method": _("Unknown value.")})
        if any(s.party_id == party.id for s in ag.signatures):
            raise Conflict("already_signed", _("This signature is recorded already."))
        ag.signatures.append(MediationSignature(party_id=party.id, method=method,
                                                recorded_by_id=getattr(actor, "id", None)))
    db.session.flush()
    _audit("agreement.signed", case, actor, ag)
    if not missing_signatures(ag):
        _take_effect(ag, actor)


def _take_effect(ag, actor):
    case = ag.case
    ag.effective_on = dates.today(case.community)
    _history(case, "effective", actor)
    delay = timedelta(days=int(settings.get(case.community, "mediation", "followup_delay_days")))
    obligations = MediationObligation.query.filter_by(agreement_id=ag.id).all()
    for ob in obligations:
        db.session.add(MediationFollowup(case_id=case.id, obligation_id=ob.id, due_on=max(ob.due_on, ag.effective_on) + delay))
    if not obligations:
        db.session.add(MediationFollowup(case_id=case.id, due_on=ag.effective_on + delay))
    _notify_users(case, _party_user_ids(case), N_("The agreement in your mediation case %(number)s took effect."))


def confirmation_deadline(ag):
    """R19 deadline for a joint application for judicial confirmation, or None."""
    return rule_dates.deadline_for(ag.case.community, ag.effective_on)


def confirmation_status(ag):
    """R19: who agreed to apply jointly for judicial confirmation, who has not yet, and whether the
    application is joint (every party who has not refused mediation agreed)."""
    agreed_ids = {c.party_id for c in ag.confirmations}
    live = _live(ag.case)
    agreed = [p for p in live if p.id in agreed_ids]
    missing = [p for p in live if p.id not in agreed_ids]
    return {"agreed": agreed, "missing": missing, "joint": bool(agreed) and not missing,
            "on": {c.party_id: c.agreed_on for c in ag.confirmations}}


def record_confirmation(ag, actor, party_ids, on=None):
    """R19: record that the parties ``party_ids`` agree to apply jointly to a court for judicial
    confirmation (人民调解法 Art. 33), on ``on`` (default today, community time). Only for an
    agreement in effect, within its 30-day period; a party's agreement is recorded once."""
    case = ag.case
    require_full(actor, case)
    if ag.effective_on is None:
        raise Conflict("not_effective", _("The agreement is not in effect yet."))
    errors = {}
    today = dates.today(case.community)
    day = _date(on, "on", errors) if on else today
    if "on" not in errors:
        if day > today:
            errors["on"] = _("This date is in the future.")
        elif day < ag.effective_on:
            errors["on"] = _("The date is before the agreement took effect (%(date)s).",
                             date=ag.effective_on.isoformat())
    ids = _ids(party_ids)
    live = {p.id: p for p in _live(case)}
    if not ids:
        errors["party_ids"] = _("Choose the parties who agree to apply.")
    elif not ids <= set(live):
        errors["party_ids"] = _("Choose a party of this case.")
    if errors:
        _invalid(errors)
    deadline = confirmation_deadline(ag)
    if day > deadline:
        raise Conflict("deadline_passed", _("The 30 days for applying for judicial confirmation ended on %(date)s.",
                                            date=deadline.isoformat()))
    if ids & {c.party_id for c in ag.confirmations}:
        raise Conflict("already_recorded", _("This party's agreement to apply is recorded already."))
    for pid in sorted(ids):
        ag.confirmations.append(MediationConfirmation(party_id=pid, agreed_on=day,
                                                      recorded_by_id=getattr(actor, "id", None)))
    db.session.flush()
    _history(case, "confirmation", actor)
    _audit("agreement.confirmation", case, actor, ag)
    return confirmation_status(ag)


# ── follow-up ───────────────────────────────────────────────────────────────────────────
FOLLOWUP_HORIZON_DAYS = 366  # a visit is planned within a year


def _visit_day(case, value, errors):
    day = _date(value, "due_on", errors)
    if "due_on" in errors:
        return None
    today = dates.today(case.community)
    if day < today:
        errors["due_on"] = _("The date is in the past.")
    elif day > today + timedelta(days=FOLLOWUP_HORIZON_DAYS):
        errors["due_on"] = _("Choose a day within a year.")
    return day


def schedule_followup(case, actor, due_on, obligation_id=None):
    """R20: the mediator adds a further follow-up visit on a day they choose (community time),
    optionally about one obligation of the agreement in effect. The visits scheduled when the
    agreement took effect stay as they are."""
    require_full(actor, case)
    ag = current_agreement(case)
    if ag is None or ag.effective_on is None:
        raise Conflict("no_agreement", _("Follow-up visits are scheduled once an agreement is in effect."))
    errors = {}
    day = _visit_day(case, due_on, errors)
    ob_id = whole_number(obligation_id, "obligation_id") if obligation_id not in (None, "", 0, "0") else None
    if obligation_id not in (None, "", 0, "0") and (
            ob_id is None or MediationObligation.query.filter_by(id=ob_id, agreement_id=ag.id).first() is None):
        errors["obligation_id"] = _("Choose an obligation of the agreement in effect.")
    if errors:
        _invalid(errors)
    fu = MediationFollowup(case_id=case.id, obligation_id=ob_id, due_on=day)
    db.session.add(fu)
    db.session.flush()
    _history(case, "followup", actor)
    _audit("followup.scheduled", case, actor, fu)
    return fu


def reschedule_followup(fu, actor, due_on):
    """R20: the mediator moves a visit not made yet to another day they choose."""
    case = db.session.get(MediationCase, fu.case_id)
    require_full(actor, case)
    if fu.done_at is not None:
        raise Conflict("followup_done", _("This follow-up visit is recorded already."))
    errors = {}
    day = _visit_day(case, due_on, errors)
    if errors:
        _invalid(errors, errors["due_on"])  # one field: its message is the whole answer
    fu.due_on = day
    _history(case, "followup", actor)
    _audit("followup.scheduled", case, actor, fu)
    return fu


def record_followup(fu, actor, result, findings, when=None):
    """Record a follow-up visit. Non-performance: first the party is urged and another visit is
    scheduled; if it still is not performed, they are told of their right to sue (R20, Art. 31–32)."""
    case = db.session.get(MediationCase, fu.case_id)
    require_full(actor, case)
    if fu.done_at is not None:
        raise Conflict("followup_done", _("This follow-up visit is recorded already."))
    errors = {}
    if result not in FOLLOWUP_RESULTS:
        errors["result"] = _("Choose what the visit found.")
    findings = _text(findings, 5000)
    if not findings:
        errors["findings"] = _("Write down what the visit found.")
    if errors:
        _invalid(errors)
    now = when or utcnow()
    fu.done_at, fu.result, fu.findings, fu.visited_by_id = now, result, findings, getattr(actor, "id", None)
    if result == "performed":
        fu.action = "none"
    else:
        urged_before = MediationFollowup.query.filter(MediationFollowup.case_id == case.id,
                                                      MediationFollowup.action == "urged").count()
        if urged_before:
            fu.action = "right_to_sue"
            _notify_users(case, _party_user_ids(case),
                          N_("Mediation case %(number)s: the agreement was not performed. You may take it to court."))
        else:
            fu.action = "urged"
            days = int(settings.get(case.community, "mediation", "urge_days"))
            db.session.add(MediationFollowup(case_id=case.id, obligation_id=fu.obligation_id,
                                             due_on=dates.today(case.community, now) + timedelta(days=days)))
            _notify_users(case, _party_user_ids(case),
                          N_("Mediation case %(number)s: please perform what the agreement says."))
    db.session.flush()
    _audit("followup.recorded", case, actor, fu)
    emit(case.community, Event("mediation.followup_done", case.community_id, getattr(actor, "id", None),
                               tuple(u for u in [getattr(actor, "id", None)] if u),
                               f"mediation:followup:{fu.id}:done", {"case_id": case.id, "followup_id": fu.id}))


# ── time limit (R20) ────────────────────────────────────────────────────────────────────
def extend(case, actor, until, party_ids, reason, on=None):
    """R20: move the one-month target (若干规定 Art. 33) to ``until`` (community time), only with
    the consent of every party who has not refused mediation (``party_ids``), given on ``on``
    (default today). The new day is after the current target and today, and within a year of
    the opening. The overdue flags then count from it (``rule_dates.target_date``)."""
    require_full(actor, case)
    require_open(case)
    errors = {}
    community = case.community
    today = dates.today(community)
    opened_on = dates.local_date(case.opened_at, community)
    day = _date(until, "until", errors)
    if "until" not in errors:
        target = rule_dates.target_date(case)
        if day <= max(target, today):
            errors["until"] = _("Choose a day after the current time limit (%(date)s) and after today.",
                                date=target.isoformat())
        elif day > add_years(opened_on, 1):
            errors["until"] = _("Choose a day within a year of the case's opening.")
    consented_on = _date(on, "on", errors) if on else today
    if "on" not in errors and consented_on > today:
        errors["on"] = _("This date is in the future.")
    elif "on" not in errors and consented_on < opened_on:
        errors["on"] = _("The date is before the case was opened.")
    reason = _text(reason, 500)
    if not reason:
        errors["reason"] = _("Give a reason.")
    ids = _ids(party_ids)
    live = _live(case)
    if ids is None or not ids <= {p.id for p in live}:
        errors["party_ids"] = _("Choose a party of this case.")
    if errors:
        _invalid(errors)
    missing = [p for p in live if p.id not in ids]
    if missing:
        raise Conflict("extension_consent_missing",
                       _("The time limit can be extended only with every party's consent. "
                         "Not recorded for: %(names)s.", names=_names(missing)),
                       fields={"party_ids": _("Consent missing.")})
    ext = MediationExtension(case_id=case.id, until=day, reason=reason, recorded_by_id=getattr(actor, "id", None))
    ext.consents = [MediationExtensionConsent(party_id=p.id, consented_on=consented_on) for p in live]
    db.session.add(ext)
    case.extended_until = day
    db.session.flush()
    _history(case, "extended", actor, reason)
    _audit("case.extended", case, actor, ext)
    return ext


# ── the case file (R17) ─────────────────────────────────────────────────────────────────
FILE_ITEMS = ("application", "rights_notice", "id_proof", "record", "agreement")


def case_file(case):
    """R17: the documents and records a case file needs (application or intake form, notice of
    rights, proof of identity, mediation record, agreement), each ``present``, ``missing`` or
    ``not_needed`` (an agreement, for a case closed without one), with what stands for it."""
    community = case.community
    kinds = {k for (k,) in db.session.query(MediationDocument.kind).filter_by(case_id=case.id)}
    sessions = MediationSession.query.filter_by(case_id=case.id).count()
    ag = current_agreement(case)
    uploaded = _("A scan is on file.")
    items = {}
    items["application"] = ("present", uploaded if "application" in kinds else _(
        "Registered in the system on %(date)s.", date=dates.local_date(case.opened_at, community).isoformat()))
    if case.rights_notified:
        items["rights_notice"] = ("present", _("Recorded in the system."))
    elif "rights_notice" in kinds:
        items["rights_notice"] = ("present", uploaded)
    else:
        items["rights_notice"] = ("missing", _("Record that the parties were told their rights and duties, or "
                                               "upload the signed notice."))
    unverified = [p for p in _live(case) if not _identity_known(p, community)]
    if "id_proof" in kinds:
        items["id_proof"] = ("present", uploaded)
    elif _live(case) and not unverified:
        items["id_proof"] = ("present", _("Every party is a resident whose identity the office verified."))
    else:
        items["id_proof"] = ("missing", _("Upload proof of identity of %(names)s.", names=_names(unverified))
                             if unverified else _("Upload proof of identity of the parties."))
    if sessions:
        items["record"] = ("present", ngettext("%(num)d session recorded.", "%(num)d sessions recorded.", sessions))
    elif "record" in kinds:
        items["record"] = ("present", uploaded)
    else:
        items["record"] = ("missing", _("No session is recorded yet."))
    if ag is not None and ag.effective_on is not None:
        items["agreement"] = ("present", _("Oral agreement recorded by the mediator; in effect since %(date)s.",
                                           date=ag.effective_on.isoformat()) if ag.form == "oral" else
                              _("Written agreement in effect since %(date)s.", date=ag.effective_on.isoformat()))
    elif "agreement" in kinds:
        items["agreement"] = ("present", uploaded)
    elif case.status == "closed" and case.outcome != "resolved":
        items["agreement"] = ("not_needed", _("Not needed: the case was closed without an agreement."))
    else:
        items["agreement"] = ("missing", _("The agreement is waiting for signatures.") if ag is not None
                              else _("No agreement yet."))
    labels = {**DOCUMENT_KINDS, "agreement": _("Mediation agreement")}  # oral ones are not signed
    return [{"item": key, "label": str(labels[key]), "state": items[key][0], "detail": items[key][1]}
            for key in FILE_ITEMS]


def _identity_known(party, community):
    """A party with an account whose membership the office verified (linked to a household)."""
    if party.user is None:
        return False
    m = access.membership_of(party.user, community)
    return m is not None and m.is_verified


# ── outcome ─────────────────────────────────────────────────────────────────────────────
def _close(case, actor, outcome, reason):
    _set_status(case, "open", status="closed", outcome=outcome, closed_at=utcnow())
    _history(case, "closed", actor, reason)
    _audit("case.closed", case, actor)
    _notify_users(case, _party_user_ids(case) + _mediator_ids(case),
                  N_("Mediation case %(number)s was closed."), exclude=actor)
    if outcome == "resolved":
        emit(case.community, Event("mediation.case_resolved", case.community_id, getattr(actor, "id", None),
                                   tuple(sorted(set(_mediator_ids(case)))), f"mediation:case:{case.id}:resolved",
                                   {"case_id": case.id}))


def _set_status(case, expected, **values):
    """Write the case's new status only if it still has ``expected``: the status checked on the
    loaded case may be stale (another request closed or re-opened it meanwhile). The Conflict
    rolls back the entry point's transaction with everything the action wrote before it."""
    done = db.session.execute(db.update(MediationCase).where(MediationCase.id == case.id,
                                                             MediationCase.status == expected)
                              .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        if expected == "open":
            raise Conflict("case_closed", _("This case is closed already."))
        raise Conflict("case_open", _("This case is open."))
    db.session.expire(case, list(values))


def close(case, actor, outcome, reason=None):
    require_full(actor, case)
    if case.status != "open":
        raise Conflict("case_closed", _("This case is closed already."))
    if outcome not in OUTCOMES or outcome in ("refused", "referred", "stopped"):  # each has its own action
        _invalid({"outcome": _("Choose an outcome.")})
    reason = _text(reason, 500)
    if outcome == "resolved":
        ag = current_agreement(case)
        if ag is None or ag.effective_on is None:
            raise ServiceError("no_agreement", _("A case is resolved by an agreement in effect. Record it first."),
                               fields={"outcome": _("No agreement in effect.")})
    elif not reason:
        _invalid({"reason": _("Give a reason.")})
    _close(case, actor, outcome, reason or None)


def reopen(case, actor, reason, now_agreeing=()):
    """Re-open a closed case (mediation staff). A case closed because a party refused can only be
    re-opened with that party's new consent (``now_agreeing``: their party ids)."""
    require_staff(actor, case.community)
    if case.status == "open":
        raise Conflict("case_open", _("This case is open."))
    reason = _text(reason, 500)
    if not reason:
        _invalid({"reason": _("Give a reason.")})
    agreeing = {whole_number(x, "id") for x in now_agreeing or ()}
    if any(p.consent == "refused" and p.id not in agreeing for p in case.parties):
        raise Conflict("refused", _("A party refused mediation. Record their new consent before re-opening."))
    for p in case.parties:
        if p.id in agreeing:
            p.consent, p.consent_at = "agreed", utcnow()
    _set_status(case, "closed", status="open", outcome=None, closed_at=None)
    _history(case, "reopened", actor, reason)
    _audit("case.reopened", case, actor)


# ── holidays ────────────────────────────────────────────────────────────────────────────
def add_holidays(community, actor, first, last=None, name=""):
    require_staff(actor, community)
    errors = {}
    first = _date(first, "day", errors)
    last = _date(last, "until", errors) if last else first
    name = _text(name, 80)
    if not name:
        errors["name"] = _("Name the holiday.")
    if first and last and last < first:
        errors["until"] = _("The last day is before the first.")
    if first and last and (last - first).days > 31:
        errors["until"] = _("Add at most 31 days at once.")
    if errors:
        _invalid(errors)
    existing = {h.day for h in MediationHoliday.query.filter_by(community_id=community.id)}
    added = []
    day = first
    while day <= last:
        if day not in existing:
            h = MediationHoliday(community_id=community.id, day=day, name=name)
            db.session.add(h)
            added.append(h)
        day += timedelta(days=1)
    db.session.flush()
    audit.record("mediation.holidays.added", community=community, actor=actor, object_type="mediation_holiday",
                 object_id=first.isoformat(), after={"from": first, "to": last, "name": name})
    return added


def remove_holiday(community, actor, holiday_id):
    require_staff(actor, community)
    h = MediationHoliday.query.filter_by(id=holiday_id, community_id=community.id).first()
    if h is None:
        raise NotFound("not_found", _("No such holiday."))
    audit.record("mediation.holidays.removed", community=community, actor=actor, object_type="mediation_holiday",
                 object_id=str(h.id), before={"day": h.day, "name": h.name})
    db.session.delete(h)


# ── duty roster and clinic bookings ─────────────────────────────────────────────────────
def add_slot(community, actor, data):
    require_staff(actor, community)
    errors = {}
    user = data.get("user") or _resolve_user(community, data.get("login"), "login", errors)
    if user is None and "login" not in errors:
        errors["login"] = _("Enter the mediator's phone number or user name.")
    weekday = whole_number(data.get("weekday"), "weekday")
    if weekday is None or not 0 <= weekday <= 6:
        errors["weekday"] = _("Choose a day of the week.")
    start = _time(data.get("start_time"), "start_time", errors)
    end = _time(data.get("end_time"), "end_time", errors)
    if start and end and end <= start:
        errors["end_time"] = _("The end is before the start.")
    place, title = _text(data.get("place"), 120), _text(data.get("title"), 80)
    if not place:
        errors["place"] = _("Where?")
    if not title:
        errors["title"] = _("Give the duty hours a name, e.g. 道德门诊.")
    capacity = whole_number(data.get("capacity") or 4, "capacity")
    if capacity is None or not 1 <= capacity <= 50:
        errors["capacity"] = _("Enter a whole number from 1 to 50.")
    if errors:
        _invalid(errors)
    slot = MediationRosterSlot(community_id=community.id, user_id=user.id, weekday=weekday, start_time=start,
                               end_time=end, place=place, title=title, capacity=capacity)
    db.session.add(slot)
    db.session.flush()
    audit.record("mediation.roster.added", community=community, actor=actor, obj=slot)
    return slot


def remove_slot(community, actor, slot_id):
    require_staff(actor, community)
    slot = MediationRosterSlot.query.filter_by(id=slot_id, community_id=community.id, active=True).first()
    if slot is None:
        raise NotFound("not_found", _("No such duty hours."))
    slot.active = False
    audit.record("mediation.roster.removed", community=community, actor=actor, obj=slot)


def next_dates(community, slot, weeks=4):
    """The next ``weeks`` dates of ``slot`` from today, holidays left out."""
    today = dates.today(community)
    first = today + timedelta(days=(slot.weekday - today.weekday()) % 7)
    hols = rule_dates.holidays(community)
    return [d for d in (first + timedelta(weeks=i) for i in range(weeks)) if d not in hols]


def booked_count(slot, on_date):
    return MediationBooking.query.filter_by(slot_id=slot.id, on_date=on_date).count()


def book(community, user, slot_id, on_date):
    """A resident books a clinic hour (their name only: what it is about stays for the visit)."""
    if user is None or not access.is_member(user, community):
        raise Forbidden("forbidden", _("Join this community to book a visit."))
    slot = MediationRosterSlot.query.filter_by(id=whole_number(slot_id, "slot_id"), community_id=community.id, active=True).first()
    if slot is None:
        raise NotFound("not_found", _("No such duty hours."))
    errors = {}
    day = _date(on_date, "on_date", errors)
    if errors:
        _invalid(errors)
    if day not in next_dates(community, slot, weeks=8):
        _invalid({"on_date": _("Choose one of the dates offered.")})
    if MediationBooking.query.filter_by(slot_id=slot.id, on_date=day, user_id=user.id).first():
        raise Conflict("already_booked", _("You have booked this already."))
    if booked_count(slot, day) >= slot.capacity:
        raise Conflict("full", _("This date is fully booked. Choose another."))
    b = MediationBooking(slot_id=slot.id, on_date=day, user_id=user.id)
    db.session.add(b)
    db.session.flush()
    notify(slot.user_id, community, "mediation", N_("A resident booked your duty hours on %(date)s."),
           {"date": day.isoformat()}, url=f"/c/{community.slug}/mediation/roster")
    return b


def cancel_booking(community, user, booking_id):
    b = MediationBooking.query.filter_by(id=whole_number(booking_id, "booking_id"), user_id=getattr(user, "id", None)).first()
    if b is None or b.slot.community_id != community.id:
        raise NotFound("not_found", _("No such booking."))
    db.session.delete(b)


# ── settings ────────────────────────────────────────────────────────────────────────────
def set_staff(community, actor, user, add=True):
    """Grant or take back mediation-staff access (every case of the community) for a member
    without the mediator role. Like the mediator role it opens confidential cases, so only a
    community admin or a site administrator gives or takes it (core.roles.grant_staff), and never
    for themselves; ``actor`` None is the operator at the command line. Audited with the list
    before and after (setting.changed) and the member concerned."""
    from core.permissions import can

    if actor is not None and not can("core.roles.grant_staff", community, user=actor):
        raise Forbidden("forbidden", _("Only a community administrator can give or take away mediation-staff access."))
    if user is None or not access.is_member(user, community):
        _invalid({"login": _("No member of this community has that phone number or user name.")})
    if actor is not None and user.id == actor.id:
        raise Forbidden("own_access", _("You cannot give or take away your own access: another administrator must do it."))
    ids = set(settings.get(community, "mediation", "staff_user_ids") or [])
    if (user.id in ids) == bool(add):
        return
    ids = ids | {user.id} if add else ids - {user.id}
    settings.set(community, "mediation", "staff_user_ids", sorted(ids), actor=actor)
    audit.record("mediation.staff_granted" if add else "mediation.staff_removed", community=community, actor=actor,
                 object_type="user", object_id=str(user.id), before={"mediation_staff": not add},
                 after={"mediation_staff": bool(add)})
    access.forget(community)


# ── the people's mediation committee (R15) ──────────────────────────────────────────────
TERM_YEARS = 3
EXPIRY_WARNING_DAYS = 60
MIN_MEMBERS, MAX_MEMBERS = 3, 9


def add_years(day, years):
    """``day`` plus ``years`` years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def committee_members(community, include_ended=False):
    q = MediationCommitteeMember.query.filter_by(community_id=community.id)
    if not include_ended:
        q = q.filter_by(active=True)
    order = {"chair": 0, "vice_chair": 1, "member": 2}
    return sorted(q.all(), key=lambda m: (not m.active, order.get(m.role, 3), m.name, m.id))


def in_term(member, today):
    return member.active and member.term_start <= today <= member.term_end


def committee_status(community, today=None):
    """R15: does the committee have 3–9 active members in term, at least one a woman?
    Returns ok, the reasons when not, the counts and the terms ending within 60 days or ended."""
    today = today or dates.today(community)
    members = committee_members(community)
    current = [m for m in members if in_term(m, today)]
    women = [m for m in current if m.sex == "female"]
    reasons = []
    if len(current) < MIN_MEMBERS:
        reasons.append(_("The committee has %(n)d members in term; it needs at least %(min)d.",
                         n=len(current), min=MIN_MEMBERS))
    if len(current) > MAX_MEMBERS:
        reasons.append(_("The committee has %(n)d members in term; it may have at most %(max)d.",
                         n=len(current), max=MAX_MEMBERS))
    if not women:
        reasons.append(_("No woman is among the members in term; the committee needs at least one."))
    ended = [m for m in members if m.term_end < today]
    not_started = [m for m in members if m.term_start > today]
    ending = [m for m in current if (m.term_end - today).days <= EXPIRY_WARNING_DAYS]
    return {"ok": not reasons, "reasons": reasons, "count": len(current), "women": len(women),
            "members": members, "current": current, "ending": ending, "ended": ended, "not_started": not_started,
            "today": today}


def add_committee_member(community, actor, data):
    """Add a member: name, sex, role, term_start (YYYY-MM-DD), optional login of their account.
    The term ends three years after it starts (人民调解法 Art. 9)."""
    require_staff(actor, community)
    errors = {}
    user = data.get("user") or _resolve_user(community, data.get("login"), "login", errors)
    name = _text(data.get("name"), 80) or (user.display_name if user else "")
    if not name:
        errors["name"] = _("Enter the member's name.")
    sex = data.get("sex")
    if sex not in SEXES:
        errors["sex"] = _("Choose female or male.")
    role = data.get("role") or "member"
    if role not in COMMITTEE_ROLES:
        errors["role"] = _("Unknown value.")
    start = _date(data.get("term_start"), "term_start", errors)
    if start is not None and "term_start" not in errors and start > dates.today(community) + timedelta(days=366):
        errors["term_start"] = _("The term starts more than a year from now.")
    if errors:
        _invalid(errors)
    if user is not None and MediationCommitteeMember.query.filter_by(community_id=community.id, user_id=user.id,
                                                                     active=True).first():
        raise Conflict("already_member", _("This person is on the committee already."),
                       fields={"login": _("Already a member.")})
    if role == "chair" and MediationCommitteeMember.query.filter_by(community_id=community.id, role="chair",
                                                                    active=True).first():
        raise Conflict("chair_taken", _("The committee has a chair already; end their membership first."),
                       fields={"role": _("The committee has a chair already.")})
    m = MediationCommitteeMember(community_id=community.id, name=name, user_id=user.id if user else None, sex=sex,
                                 role=role, term_start=start, term_end=add_years(start, TERM_YEARS), active=True)
    db.session.add(m)
    db.session.flush()
    audit.record("mediation.committee.added", community=community, actor=actor, obj=m)
    return m


def end_committee_member(community, actor, member_id, on=None):
    """End a membership (term over, resigned, removed); the row stays for the record."""
    require_staff(actor, community)
    m = MediationCommitteeMember.query.filter_by(id=whole_number(member_id, "member_id"), community_id=community.id).first()
    if m is None:
        raise NotFound("not_found", _("No such committee member."))
    if not m.active:
        raise Conflict("already_ended", _("This membership has ended already."))
    errors = {}
    day = _date(on, "on", errors) if on else dates.today(community)
    if errors:
        _invalid(errors)
    m.active, m.ended_on = False, day
    audit.record("mediation.committee.ended", community=community, actor=actor, obj=m)
    return m


# ── retention (R22) ─────────────────────────────────────────────────────────────────────
def retention_years(community):
    try:
        years = int(settings.get(community, "mediation", "retention_years"))
    except (TypeError, ValueError):
        years = 3
    return max(years, 1)


def purgeable_cases(community, today=None):
    """Closed cases whose personal details are due for erasure: closed more than
    ``retention_years`` ago (community time) and not erased yet."""
    today = today or dates.today(community)
    cutoff = add_years(today, -retention_years(community))
    rows = (MediationCase.query.filter(MediationCase.community_id == community.id, MediationCase.status == "closed",
                                       MediationCase.closed_at.isnot(None), MediationCase.purged_at.is_(None))
            .order_by(MediationCase.id).all())
    return [c for c in rows if dates.local_date(c.closed_at, community) < cutoff]


def anonymise_case(case, community, actor, dry_run=False):
    """Erase one case's personal details as the retention purge does (R22; also used for a
    person's erasure request, plugins/mediation/personal_data.py). Returns what it erased, by kind;
    the uploaded files go once the transaction has committed (plugins/mediation/files.py)."""
    docs = MediationDocument.query.filter_by(case_id=case.id).all()
    sessions = MediationSession.query.filter_by(case_id=case.id).all()
    agreements = MediationAgreement.query.filter_by(case_id=case.id).all()
    followups = MediationFollowup.query.filter_by(case_id=case.id).all()
    counts = {"parties": len(case.parties), "sessions": len(sessions), "documents": len(docs),
              "agreements": len(agreements), "followups": len(followups)}
    if dry_run:
        return counts
    files.release([document_path(d) for d in docs])
    for obj in docs + sessions:
        db.session.delete(obj)
    for fu in followups:  # keep the visit's date and result code, drop what was found
        fu.findings, fu.obligation_id = None, None
    db.session.flush()
    for ag in agreements:  # obligations and signatures go with it
        db.session.delete(ag)
    db.session.flush()
    for ext in MediationExtension.query.filter_by(case_id=case.id):  # the day stays, who consented goes
        ext.reason = None
        ext.consents.clear()
    db.session.flush()
    case.parties.clear()
    for h in MediationHistory.query.filter_by(case_id=case.id):
        h.reason = None
    for t in MediationTask.query.filter_by(case_id=case.id):
        t.note = None
    case.description, case.location, case.source_detail, case.referred_to = "", None, None, None
    case.purged_at = utcnow()
    audit.record("mediation.case.purged", community=community, actor=actor, object_type="mediation_case",
                 object_id=str(case.id), after={"case_id": case.id})
    return counts


def purge(community, actor=None, dry_run=False, today=None):
    """R22: erase the personal details of closed cases past the retention period: parties (names,
    phones, addresses, consent records), the description, location and other free text, session
    notes, agreements, follow-up findings, uploaded documents and their files. The case row stays
    for the statistics (number, category, tier, source, grid, dates, outcome) and is marked erased.
    Returns [(case number, {what: count})]. Running it again finds nothing more to erase."""
    require_staff(actor, community)
    return [(case.number, anonymise_case(case, community, actor, dry_run=dry_run))
            for case in purgeable_cases(community, today)]


def user_by_login(login):
    return accounts.find_user(login) if login else None

