"""The mediation JSON API under /api/v1/c/<community>/mediation/ with the pages' access rules:
a case the token's user may not see answers 404 like one that does not exist."""
from collections import Counter

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from core import dates
from core.api import endpoint, json_body, paginate
from core.dates import iso
from core.db import keep_loaded, transaction
from core.errors import Forbidden, NotFound, ServiceError
from core.extensions import db
from plugins.mediation import access, reports
from plugins.mediation import dates as rule_dates
from plugins.mediation import services as svc
from plugins.mediation.models import (CATEGORIES, SOURCES, STATUSES, TIERS, MediationAccessLog, MediationAgreement,
                                      MediationCase, MediationExtension, MediationFollowup, MediationHistory,
                                      MediationHoliday, MediationObligation, MediationRosterSlot, MediationSession)

api_bp = Blueprint("mediation_api", __name__, url_prefix="/mediation")
TAG = "mediation"


def _day(day):
    """A day (a date, no time) as YYYY-MM-DD; moments go through core.dates.iso (UTC)."""
    return day.isoformat() if day is not None else None


def _member():
    if not access.is_member(current_user, g.community):
        raise NotFound("not_found", _("No such case."))


def _staff():
    _member()
    if not access.is_staff(current_user, g.community):
        raise Forbidden("forbidden", _("Only mediation staff may do this."))


def _case(case_id, need=None, action="api_view"):
    _member()
    case = MediationCase.query.filter_by(id=case_id, community_id=g.community.id).first()
    level = access.level(current_user, case) if case else None
    if level is None or (need == access.FULL and level != access.FULL) or (need == "party" and level == access.REPORTER):
        raise NotFound("not_found", _("No such case."))
    if action:
        _log_read(case, action)
    return case, level


def _log_read(case, action):
    """Record the read in the access log (plugins.mediation.access), a log of the storage layer
    and the one write a reading request makes, committed at once; nothing else was written, so
    the commit need not expire what is loaded."""
    with transaction():
        keep_loaded()
        access.log(g.community, case, current_user, action)


def agreement_json(ag, level):
    if ag is None:
        return None
    out = {"id": ag.id, "form": ag.form, "terms": ag.terms, "effective_on": _day(ag.effective_on),
           "confirmation_deadline": _day(svc.confirmation_deadline(ag)) if ag.effective_on else None,
           "obligations": [{"id": o.id, "party_id": o.party_id, "description": o.description, "due_on": _day(o.due_on)}
                           for o in MediationObligation.query.filter_by(agreement_id=ag.id)],
           "copies": len(ag.case.parties) + 1}
    if ag.effective_on is not None:  # R19: the application for judicial confirmation is joint
        status = svc.confirmation_status(ag)
        out["confirmation"] = {"joint": status["joint"]}
        if level == access.FULL:
            out["confirmation"].update({"agreed_party_ids": [p.id for p in status["agreed"]],
                                        "missing_party_ids": [p.id for p in status["missing"]]})
    if level == access.FULL:
        out.update({"facts": ag.facts, "signed_party_ids": [s.party_id for s in ag.signatures],
                    "mediator_signed": ag.mediator_signed_at is not None, "seal_applied": ag.seal_applied_at is not None,
                    "missing": [m if isinstance(m, str) else m.id for m in svc.missing_signatures(ag)]})
    return out


def case_json(c, level, full=False):
    today = dates.today(g.community)
    data = {"id": c.id, "number": c.number, "status": c.status, "outcome": c.outcome, "category": c.category,
            "opened_on": _day(dates.local_date(c.opened_at, g.community))}
    if level == access.REPORTER:
        return data
    if level == access.PARTY:
        if full:
            data["agreement"] = agreement_json(svc.current_agreement(c), level)
        return data
    data.update({"source": c.source, "tier": c.tier, "urgency": c.urgency, "violence_risk": c.violence_risk,
                 "overdue": rule_dates.is_overdue(c, today), "days_open": rule_dates.days_open(c, today),
                 "grid_id": c.grid_id, "building_id": c.building_id,
                 "mediators": [{"id": a.user_id, "display_name": a.user.display_name} for a in c.assignments],
                 "for_joint_meeting": c.for_joint_meeting, "closed_at": iso(c.closed_at),
                 "time_limit": _day(rule_dates.target_date(c)), "extended_until": _day(c.extended_until)})
    if full:
        data.update({
            "description": c.description, "location": c.location, "source_detail": c.source_detail,
            "referred_to": c.referred_to, "rights_notified": c.rights_notified,
            "voluntary_statement": c.voluntary_statement, "private_hearing": c.private_hearing,
            "parties": [{"id": p.id, "role": p.role, "name": p.name, "phone": p.phone, "address": p.address,
                         "user_id": p.user_id, "consent": p.consent, "pi_consent_on": _day(p.pi_consent_on),
                         "pi_consent_method": p.pi_consent_method, "pi_consent_by_id": p.pi_consent_by_id,
                         "stop_requested_at": iso(p.stop_requested_at),
                         "private_requested_at": iso(p.private_requested_at)}
                        for p in c.parties],
            "agreement_needs": [code for code, _m in svc.agreement_blockers(c)] if c.status == "open" else [],
            "file": [] if c.purged_at else [{"item": i["item"], "state": i["state"], "detail": str(i["detail"])}
                                            for i in svc.case_file(c)],
            "extensions": [{"until": _day(e.until), "reason": e.reason,
                            "party_ids": [x.party_id for x in e.consents],
                            "consented_on": _day(e.consents[0].consented_on) if e.consents else None}
                           for e in MediationExtension.query.filter_by(case_id=c.id).order_by(MediationExtension.id)],
            "purged_at": iso(c.purged_at),
            "sessions": [session_json(s) for s in
                         MediationSession.query.filter_by(case_id=c.id).order_by(MediationSession.held_at)],
            "agreement": agreement_json(svc.current_agreement(c), level),
            "followups": [followup_json(f) for f in
                          MediationFollowup.query.filter_by(case_id=c.id).order_by(MediationFollowup.due_on)],
            "history": [{"kind": h.kind, "from_tier": h.from_tier, "to_tier": h.to_tier, "reason": h.reason,
                         "actor_id": h.actor_id, "at": iso(h.created_at)}
                        for h in MediationHistory.query.filter_by(case_id=c.id).order_by(MediationHistory.id)],
        })
    return data


def session_json(s):
    return {"id": s.id, "held_at": dates.local(s.held_at, g.community).isoformat(), "place": s.place,
            "attendees": s.attendees, "public": s.public, "notes": s.notes}


def followup_json(f):
    return {"id": f.id, "due_on": _day(f.due_on), "obligation_id": f.obligation_id, "done_at": iso(f.done_at),
            "result": f.result, "findings": f.findings, "action": f.action}


# ── cases ───────────────────────────────────────────────────────────────────────────────
@endpoint(api_bp, "/cases", summary="Mediation cases you may see (staff: all; others: yours)", tag=TAG,
          query={"status": ("string", "|".join(STATUSES), False), "tier": ("string", "|".join(TIERS), False),
                 "category": ("string", "|".join(CATEGORIES), False),
                 "overdue": ("boolean", "only cases open over one month", False),
                 "page": ("integer", "page", False), "per_page": ("integer", "≤100", False)})
def cases():
    _member()
    q = MediationCase.query.filter(MediationCase.id.in_(access.visible_case_ids_query(current_user, g.community)))
    for key, allowed in (("status", STATUSES), ("tier", TIERS), ("category", CATEGORIES)):
        value = request.args.get(key)
        if value:
            if value not in allowed:
                raise ServiceError("invalid_filter", _("Unknown value for %(name)s.", name=key),
                                       fields={key: _("Unknown value.")})
            q = q.filter(getattr(MediationCase, key) == value)
    if request.args.get("overdue") in ("1", "true"):
        cutoff_ids = [c.id for c in q if rule_dates.is_overdue(c, dates.today(g.community))]
        q = MediationCase.query.filter(MediationCase.id.in_(cutoff_ids or [0]))
    page = paginate(q.order_by(MediationCase.id.desc()), lambda c: case_json(c, access.level(current_user, c)))
    if page["items"]:  # a list that shows cases is a read of them
        _log_read(None, "api_list")
    return jsonify(page)


@endpoint(api_bp, "/cases", ["POST"], summary="Open a case (report, application or referral)", tag=TAG,
          idempotent=True,
          body={"source": ("string", "|".join(SOURCES), True), "category": ("string", "|".join(CATEGORIES), True),
                "description": ("string", "short description", True), "grid_id": ("integer", "grid", False),
                "building_id": ("integer", "building", False), "location": ("string", "where exactly", False),
                "urgency": ("string", "normal | urgent", False), "violence_risk": ("boolean", "R21", False),
                "rights_notified": ("boolean", "R16 notice given", False),
                "voluntary_statement": ("boolean", "R16 statement", False),
                "private_hearing": ("boolean", "default true", False),
                "source_detail": ("string", "referring body", False),
                "parties": ("array", "[{role, name, phone, address, login, consent}]", False)})
def case_create():
    _member()
    c = _reread(svc.open_case(g.community, current_user, json_body()).id)
    return jsonify(case_json(c, access.level(current_user, c), full=True)), 201


@endpoint(api_bp, "/cases/<int:case_id>", summary="One case (what you may see of it)", tag=TAG)
def case_get(case_id):
    c, level = _case(case_id)
    return jsonify(case_json(c, level, full=True))


def _reread(case_id):
    """The case as the action left it, read back in the request's transaction (which the endpoint
    commits once the answer is made): the answer shows what was written."""
    db.session.flush()
    db.session.expire_all()
    return db.session.get(MediationCase, case_id)


def _do(case_id, fn, status=200):
    c, _lvl = _case(case_id, access.FULL, action=None)
    fn(c, json_body())
    return jsonify(case_json(_reread(c.id), access.FULL, full=True)), status


@endpoint(api_bp, "/cases/<int:case_id>/parties", ["POST"], summary="Add a party", tag=TAG,
          body={"role": ("string", "applicant | respondent | other", True), "name": ("string", "name", False),
                "phone": ("string", "phone", False), "address": ("string", "address", False),
                "login": ("string", "account of a registered resident", False),
                "consent": ("string", "pending | agreed | refused", False)})
def party_add(case_id):
    return _do(case_id, lambda c, d: svc.add_party(c, current_user, d), 201)


@endpoint(api_bp, "/cases/<int:case_id>/parties/<int:party_id>/consent", ["POST"],
          summary="Record a party's consent; a refusal closes the case (R16)", tag=TAG,
          body={"consent": ("string", "agreed | refused", True)})
def party_consent(case_id, party_id):
    def run(c, d):
        party = next((p for p in c.parties if p.id == party_id), None)
        if party is None:
            raise NotFound("not_found", _("No such party."))
        svc.set_consent(c, party, current_user, d.get("consent"))
    return _do(case_id, run)


@endpoint(api_bp, "/cases/<int:case_id>/parties/<int:party_id>/pi-consent", ["POST"],
          summary="Record a party's consent to processing sensitive personal information (R22)", tag=TAG,
          body={"method": ("string", "form | paper", False), "on": ("string", "YYYY-MM-DD, default today", False)})
def party_pi_consent(case_id, party_id):
    return _do(case_id, lambda c, d: svc.record_pi_consent(c, current_user, [party_id], d.get("method") or "form",
                                                           d.get("on")))


@endpoint(api_bp, "/cases/<int:case_id>/parties/<int:party_id>/request", ["POST"],
          summary="A party asks to stop the mediation (closes the case) or for a private hearing (R16); "
                  "the case's mediators or the party themselves", tag=TAG,
          body={"kind": ("string", "stop | private", True)})
def party_request(case_id, party_id):
    c, level = _case(case_id, need="party", action=None)
    party = next((p for p in c.parties if p.id == party_id), None)
    if party is None or (level != access.FULL and party.user_id != current_user.id):
        raise NotFound("not_found", _("No such party."))
    svc.party_request(c, party, current_user, json_body().get("kind"))
    c = _reread(c.id)
    return jsonify(case_json(c, level, full=True))


@endpoint(api_bp, "/cases/<int:case_id>/pi-consent-paper", ["POST"],
          summary="Record that every remaining party consented on paper (R22)", tag=TAG,
          body={"on": ("string", "YYYY-MM-DD, default today", False)})
def case_pi_consent_paper(case_id):
    return _do(case_id, lambda c, d: svc.record_pi_consent(c, current_user, None, "paper", d.get("on")))


@endpoint(api_bp, "/cases/<int:case_id>/rights", ["POST"], summary="Record the notice of rights (R16)", tag=TAG,
          body={"rights_notified": ("boolean", "told", True), "voluntary_statement": ("boolean", "statement", True)})
def case_rights(case_id):
    return _do(case_id, lambda c, d: svc.record_rights(c, current_user, d.get("rights_notified"),
                                                       d.get("voluntary_statement")))


@endpoint(api_bp, "/cases/<int:case_id>/assign", ["POST"], summary="Assign a mediator (mediation staff)", tag=TAG,
          body={"login": ("string", "phone or user name", True)})
def case_assign(case_id):
    return _do(case_id, lambda c, d: svc.assign(c, current_user, svc.user_by_login(d.get("login"))))


@endpoint(api_bp, "/cases/<int:case_id>/escalate", ["POST"], summary="Escalate to the next tier", tag=TAG,
          body={"reason": ("string", "why", True)})
def case_escalate(case_id):
    return _do(case_id, lambda c, d: svc.escalate(c, current_user, d.get("reason")))


@endpoint(api_bp, "/cases/<int:case_id>/refer", ["POST"], summary="Refer the case out (closes it)", tag=TAG,
          body={"referred_to": ("string", "where", True), "reason": ("string", "why", True)})
def case_refer(case_id):
    return _do(case_id, lambda c, d: svc.refer(c, current_user, d.get("referred_to"), d.get("reason")))


@endpoint(api_bp, "/cases/<int:case_id>/violence", ["POST"], summary="Flag a risk of violence (R21)", tag=TAG)
def case_violence(case_id):
    return _do(case_id, lambda c, d: svc.flag_violence(c, current_user))


@endpoint(api_bp, "/cases/<int:case_id>/close", ["POST"], summary="Close with an outcome", tag=TAG,
          body={"outcome": ("string", "resolved | not_resolved | withdrawn", True),
                "reason": ("string", "required unless resolved", False)})
def case_close(case_id):
    return _do(case_id, lambda c, d: svc.close(c, current_user, d.get("outcome"), d.get("reason")))


@endpoint(api_bp, "/cases/<int:case_id>/reopen", ["POST"], summary="Re-open a closed case (mediation staff)",
          tag=TAG, body={"reason": ("string", "why", True),
                         "agreed_party_ids": ("array", "parties who refused and now agree", False)})
def case_reopen(case_id):
    return _do(case_id, lambda c, d: svc.reopen(c, current_user, d.get("reason"),
                                                d.get("agreed_party_ids") if isinstance(d.get("agreed_party_ids"), list)
                                                else ()))


@endpoint(api_bp, "/cases/<int:case_id>/extensions", ["POST"],
          summary="Extend the one-month time limit with every party's consent (R20)", tag=TAG,
          body={"until": ("string", "YYYY-MM-DD, the new last day", True), "reason": ("string", "why", True),
                "party_ids": ("array", "every party who consented (all who have not refused)", True),
                "on": ("string", "YYYY-MM-DD they consented, default today", False)})
def case_extend(case_id):
    return _do(case_id, lambda c, d: svc.extend(c, current_user, d.get("until"), d.get("party_ids"), d.get("reason"),
                                                d.get("on")), 201)


@endpoint(api_bp, "/cases/<int:case_id>/joint-meeting", ["POST"], summary="Hand the case to the joint meeting",
          tag=TAG, body={"flag": ("boolean", "offer (true) or withdraw (false)", True)})
def case_joint(case_id):
    return _do(case_id, lambda c, d: svc.set_joint_meeting(c, current_user, d.get("flag")))


@endpoint(api_bp, "/cases/<int:case_id>/sessions", summary="Sessions of a case", tag=TAG)
def sessions(case_id):
    c, _lvl = _case(case_id, access.FULL)
    return jsonify({"items": [session_json(s) for s in
                              MediationSession.query.filter_by(case_id=c.id).order_by(MediationSession.held_at)]})


@endpoint(api_bp, "/cases/<int:case_id>/sessions", ["POST"], summary="Record a session", tag=TAG,
          body={"held_on": ("string", "YYYY-MM-DD (community time zone)", True), "held_at": ("string", "HH:MM", False),
                "place": ("string", "place", True), "attendees": ("string", "who attended", True),
                "public": ("boolean", "held in public", False), "notes": ("string", "notes", False)})
def session_add(case_id):
    return _do(case_id, lambda c, d: svc.add_session(c, current_user, d), 201)


@endpoint(api_bp, "/cases/<int:case_id>/agreements", ["POST"], summary="Record an agreement (R17–R18)", tag=TAG,
          body={"form": ("string", "written | oral", True), "facts": ("string", "facts and points in dispute", True),
                "terms": ("string", "what was agreed", True),
                "obligations": ("array", "[{party_id, description, due_on}]", False)})
def agreement_add(case_id):
    return _do(case_id, lambda c, d: svc.record_agreement(c, current_user, d), 201)


@endpoint(api_bp, "/cases/<int:case_id>/agreements/<int:agreement_id>/signatures", ["POST"],
          summary="Record a signature: a party id, \"mediator\" or \"seal\"", tag=TAG,
          body={"who": ("string", "party id | mediator | seal", True),
                "method": ("string", "signature | seal | fingerprint", False)})
def agreement_sign(case_id, agreement_id):
    def run(c, d):
        ag = MediationAgreement.query.filter_by(id=agreement_id, case_id=c.id).first()
        if ag is None:
            raise NotFound("not_found", _("No such agreement."))
        svc.sign(ag, current_user, str(d.get("who")), d.get("method") or "signature")
    return _do(case_id, run)


@endpoint(api_bp, "/cases/<int:case_id>/agreements/<int:agreement_id>/confirmation", ["POST"],
          summary="Record parties' agreement to apply jointly for judicial confirmation (R19)", tag=TAG,
          body={"party_ids": ("array", "the parties who agree", True),
                "on": ("string", "YYYY-MM-DD, default today", False)})
def agreement_confirmation(case_id, agreement_id):
    def run(c, d):
        ag = MediationAgreement.query.filter_by(id=agreement_id, case_id=c.id).first()
        if ag is None:
            raise NotFound("not_found", _("No such agreement."))
        svc.record_confirmation(ag, current_user, d.get("party_ids"), d.get("on"))
    return _do(case_id, run)


@endpoint(api_bp, "/cases/<int:case_id>/followups", ["POST"], summary="Schedule a further follow-up visit",
          tag=TAG, body={"due_on": ("string", "YYYY-MM-DD (community time zone)", True),
                         "obligation_id": ("integer", "the obligation it is about", False)})
def followup_add(case_id):
    return _do(case_id, lambda c, d: svc.schedule_followup(c, current_user, d.get("due_on"), d.get("obligation_id")),
               201)


@endpoint(api_bp, "/cases/<int:case_id>/followups/<int:followup_id>/date", ["POST"],
          summary="Move a follow-up visit not made yet to another day", tag=TAG,
          body={"due_on": ("string", "YYYY-MM-DD (community time zone)", True)})
def followup_date(case_id, followup_id):
    def run(c, d):
        fu = MediationFollowup.query.filter_by(id=followup_id, case_id=c.id).first()
        if fu is None:
            raise NotFound("not_found", _("No such follow-up visit."))
        svc.reschedule_followup(fu, current_user, d.get("due_on"))
    return _do(case_id, run)


@endpoint(api_bp, "/cases/<int:case_id>/followups/<int:followup_id>", ["POST"], summary="Record a follow-up visit",
          tag=TAG, body={"result": ("string", "performed | partly | not_performed", True),
                         "findings": ("string", "what the visit found", True)})
def followup_record(case_id, followup_id):
    def run(c, d):
        fu = MediationFollowup.query.filter_by(id=followup_id, case_id=c.id).first()
        if fu is None:
            raise NotFound("not_found", _("No such follow-up visit."))
        svc.record_followup(fu, current_user, d.get("result"), d.get("findings"))
    return _do(case_id, run)


@endpoint(api_bp, "/cases/<int:case_id>/access-log", summary="Who read this case (mediation staff)", tag=TAG)
def case_log(case_id):
    c, _lvl = _case(case_id, access.FULL, action=None)
    _staff()
    q = MediationAccessLog.query.filter_by(case_id=c.id).order_by(MediationAccessLog.id.desc())
    return jsonify(paginate(q, lambda r: {"user_id": r.user_id, "action": r.action, "at": iso(r.created_at)}))


# ── calendar, roster, statistics ────────────────────────────────────────────────────────
@endpoint(api_bp, "/holidays", summary="The holiday calendar (mediation staff)", tag=TAG)
def holidays():
    _staff()
    rows = MediationHoliday.query.filter_by(community_id=g.community.id).order_by(MediationHoliday.day)
    return jsonify({"items": [{"id": h.id, "day": _day(h.day), "name": h.name} for h in rows]})


@endpoint(api_bp, "/holidays", ["POST"], summary="Add holidays (mediation staff)", tag=TAG,
          body={"day": ("string", "YYYY-MM-DD", True), "until": ("string", "last day, YYYY-MM-DD", False),
                "name": ("string", "name", True)})
def holidays_add():
    _staff()
    d = json_body()
    added = svc.add_holidays(g.community, current_user, d.get("day"), d.get("until"), d.get("name"))
    return jsonify({"added": [_day(h.day) for h in added]}), 201


@endpoint(api_bp, "/roster", summary="Duty hours of the mediators and the next dates to book", tag=TAG)
def roster():
    _member()
    slots = MediationRosterSlot.query.filter_by(community_id=g.community.id, active=True).order_by(
        MediationRosterSlot.weekday, MediationRosterSlot.start_time)
    return jsonify({"items": [{"id": s.id, "title": s.title, "weekday": s.weekday,
                               "start": s.start_time.strftime("%H:%M"), "end": s.end_time.strftime("%H:%M"),
                               "place": s.place, "mediator": s.user.display_name, "capacity": s.capacity,
                               "dates": [{"date": _day(d), "booked": svc.booked_count(s, d)}
                                         for d in svc.next_dates(g.community, s)]} for s in slots]})


@endpoint(api_bp, "/roster/<int:slot_id>/bookings", ["POST"], summary="Book a date of the duty hours", tag=TAG,
          idempotent=True, body={"on_date": ("string", "YYYY-MM-DD", True)})
def roster_book(slot_id):
    _member()
    b = svc.book(g.community, current_user, slot_id, json_body().get("on_date"))
    return jsonify({"id": b.id, "slot_id": b.slot_id, "on_date": _day(b.on_date)}), 201


def committee_json(status):
    def member(m):
        return {"id": m.id, "name": m.name, "user_id": m.user_id, "sex": m.sex, "role": m.role,
                "term_start": _day(m.term_start), "term_end": _day(m.term_end), "active": m.active,
                "ended_on": _day(m.ended_on), "in_term": svc.in_term(m, status["today"]),
                "term_ending_soon": m in status["ending"], "term_ended": m in status["ended"]}
    return {"meets_r15": status["ok"], "reasons": [str(r) for r in status["reasons"]],
            "members_in_term": status["count"], "women_in_term": status["women"],
            "items": [member(m) for m in svc.committee_members(g.community, include_ended=True)]}


@endpoint(api_bp, "/committee", summary="The people's mediation committee and whether it meets R15 (mediation staff)",
          tag=TAG)
def committee():
    _staff()
    return jsonify(committee_json(svc.committee_status(g.community)))


@endpoint(api_bp, "/committee", ["POST"], summary="Add a committee member (mediation staff)", tag=TAG,
          body={"name": ("string", "name (default: the account's name)", False),
                "login": ("string", "account, if registered", False), "sex": ("string", "female | male", True),
                "role": ("string", "chair | vice_chair | member", False),
                "term_start": ("string", "YYYY-MM-DD; the term ends three years later", True)})
def committee_add():
    _staff()
    m = svc.add_committee_member(g.community, current_user, json_body())
    body = committee_json(svc.committee_status(g.community))
    body["id"] = m.id
    return jsonify(body), 201


@endpoint(api_bp, "/committee/<int:member_id>/end", ["POST"], summary="End a committee membership (mediation staff)",
          tag=TAG, body={"on": ("string", "YYYY-MM-DD, default today", False)})
def committee_end(member_id):
    from plugins.mediation.models import MediationCommitteeMember

    _member()
    if MediationCommitteeMember.query.filter_by(id=member_id, community_id=g.community.id).first() is None:
        raise NotFound("not_found", _("No such committee member."))
    _staff()
    svc.end_committee_member(g.community, current_user, member_id, json_body().get("on"))
    return jsonify(committee_json(svc.committee_status(g.community)))


@endpoint(api_bp, "/stats", summary="Statistics (mediation staff)", tag=TAG)
def stats():
    _staff()
    s = reports.stats(g.community)
    _log_read(None, "api_stats")
    return jsonify({"total": s["total"], "open": s["open"], "closed": s["closed"], "resolved": s["resolved"],
                    "resolution_rate_percent": s["resolution_rate"],
                    "median_days_to_resolution": str(s["median_days"]) if s["median_days"] is not None else None,
                    "overdue": [c.number for c in s["overdue"]],
                    "by_category": s["codes"]["category"], "by_tier": s["codes"]["tier"],
                    "by_source": s["codes"]["source"], "by_grid": dict(s["by_grid"]),
                    "by_month": dict(s["by_month"]),
                    "by_outcome": dict(Counter(c.outcome for c in reports.cases(g.community) if c.outcome))})
