"""Mediation pages under /c/<community>/mediation/ (server-rendered, usable without JavaScript).

Every page checks access through ``plugins.mediation.access``; a case the user may not see
answers 404, exactly like a case that does not exist, and every read of a case is logged."""
import io
from functools import wraps
from types import SimpleNamespace

from flask import (Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from core import dates, places
from core.db import keep_loaded, transaction
from core.errors import ServiceError
from core.extensions import db
from core.forms import apply_error
from core.inputs import whole_number
from core.models import Membership, User
from core.web import per_user
from plugins.mediation import access, reports
from plugins.mediation import dates as rule_dates
from plugins.mediation import services as svc
from plugins.mediation.forms import (AgreementForm, AssignForm, CaseForm, CloseForm, CommitteeMemberForm,
                                     ConfirmationForm, DocumentForm, ExtensionForm, FollowupForm, VisitDateForm,
                                     VisitForm,
                                     HolidayForm, PartyForm, PiConsentForm, ReasonForm, ReferForm, SessionForm, SignForm, SlotForm,
                                     TaskForm, WEEKDAYS, choices)
from plugins.mediation.models import (ACCESS_ACTIONS, AGREEMENT_FORMS, CATEGORIES, COMMITTEE_ROLES, CONSENTS,
                                      PI_CONSENT_METHODS, PRIVATE_CATEGORIES, SEXES, DOCUMENT_KINDS, FOLLOWUP_ACTIONS,
                                      FOLLOWUP_RESULTS, HISTORY_KINDS, OUTCOMES, PARTY_ROLES, SIGN_METHODS, SOURCES,
                                      STATUSES, TIERS, URGENCIES, MediationAccessLog, MediationAgreement,
                                      MediationAssignment, MediationBooking, MediationCase, MediationDocument, MediationFollowup,
                                      MediationExtension, MediationHistory, MediationHoliday, MediationObligation,
                                      MediationRosterSlot, MediationSession, MediationTask)

bp = Blueprint("mediation", __name__, url_prefix="/mediation", static_folder="static",
               static_url_path="/static", template_folder="templates")

LABELS = dict(SOURCES=SOURCES, CATEGORIES=CATEGORIES, TIERS=TIERS, STATUSES=STATUSES, OUTCOMES=OUTCOMES,
              URGENCIES=URGENCIES, PARTY_ROLES=PARTY_ROLES, CONSENTS=CONSENTS, AGREEMENT_FORMS=AGREEMENT_FORMS,
              SIGN_METHODS=SIGN_METHODS, FOLLOWUP_RESULTS=FOLLOWUP_RESULTS, FOLLOWUP_ACTIONS=FOLLOWUP_ACTIONS,
              DOCUMENT_KINDS=DOCUMENT_KINDS, HISTORY_KINDS=HISTORY_KINDS, WEEKDAYS=dict(WEEKDAYS),
              PI_CONSENT_METHODS=PI_CONSENT_METHODS, SEXES=SEXES, COMMITTEE_ROLES=COMMITTEE_ROLES)


def member_required(view):
    """Logged in and a member of this community; otherwise the module is not theirs (404)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not access.is_member(current_user, g.community):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def staff_required(view):
    @wraps(view)
    @member_required
    def wrapped(*args, **kwargs):
        if not access.is_staff(current_user, g.community):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _load(case_id, need=None):
    """The case if the current user may see it (at level ``need`` if given), else 404."""
    case = (MediationCase.query.options(selectinload(MediationCase.parties), selectinload(MediationCase.assignments))
            .filter_by(id=case_id, community_id=g.community.id).first())
    level = access.level(current_user, case) if case is not None else None
    if level is None or (need == access.FULL and level != access.FULL):
        abort(404)
    return case, level


def _back(case):
    return redirect(url_for("c.mediation.case", case_id=case.id))


def _member_choices(roles=None):
    q = (db.session.query(User).join(Membership, Membership.user_id == User.id)
         .filter(Membership.community_id == g.community.id).order_by(User.display_name))
    users = [u for u in q if roles is None or access.membership_of(u, g.community).has_role(*roles)]
    return [(u.login_name, f"{u.display_name} ({u.login_name})") for u in users]


def _today():
    return dates.today(g.community)


CASES_PER_PAGE = 50
OVERDUE_SCAN = 5000  # open cases looked at for the "open over one month" filter


# ── index, intake ───────────────────────────────────────────────────────────────────────
def _log_list_read(meta, user_id):
    shown_cases, community_id = meta
    if shown_cases:  # a page from the cache is a read of its cases too
        access.log_now(community_id, user_id, "list")


@bp.route("/")
@per_user(check=member_required, on_hit=_log_list_read)  # a hit is logged as a read of the list too
def index():
    community, user = g.community, current_user
    staff = access.is_staff(user, community)
    # Everything the rows show is loaded here, in a constant number of statements: the parties
    # (levels), the assignments with their mediators' names, the follow-ups' and tasks' cases.
    q = MediationCase.query.options(
        selectinload(MediationCase.parties),
        selectinload(MediationCase.assignments).joinedload(MediationAssignment.user))
    if staff:  # sees every case of the community: read in list order from ix_mediation_case_list
        q = q.filter(MediationCase.community_id == community.id)
    else:
        q = q.filter(MediationCase.id.in_(access.visible_case_ids_query(user, community)))
    args = request.args
    status = args.get("status") if args.get("status") in STATUSES else None
    tier = args.get("tier") if args.get("tier") in TIERS else None
    category = args.get("category") if args.get("category") in CATEGORIES else None
    number = (args.get("q") or "").strip()[:40]
    if status:
        q = q.filter(MediationCase.status == status)
    if tier:
        q = q.filter(MediationCase.tier == tier)
    if category:
        q = q.filter(MediationCase.category == category)
    if number:
        q = q.filter(MediationCase.number.contains(number, autoescape=True))
    q = q.order_by(MediationCase.status.desc(), MediationCase.opened_at.desc(), MediationCase.id.desc())
    today = _today()
    page = min(whole_number(args.get("page"), "page", default=1, minimum=1), 10000)
    start = (page - 1) * CASES_PER_PAGE
    if args.get("overdue"):  # "open over one month" counts working days and holidays: decided here
        found = [c for c in q.filter(MediationCase.status == "open").limit(OVERDUE_SCAN).all()
                 if rule_dates.is_overdue(c, today)]
        rows, has_next = found[start:start + CASES_PER_PAGE], len(found) > start + CASES_PER_PAGE
    else:
        rows = q.offset(start).limit(CASES_PER_PAGE + 1).all()
        rows, has_next = rows[:CASES_PER_PAGE], len(rows) > CASES_PER_PAGE
    pages = SimpleNamespace(page=page, pages=None, has_prev=page > 1, has_next=has_next, prev_num=page - 1,
                            next_num=page + 1)
    levels = {c.id: access.level(user, c) for c in rows}
    tasks = followups = []
    if staff or any(v == access.FULL for v in levels.values()):
        full_ids = [cid for cid, v in levels.items() if v == access.FULL] if not staff else None
        # The open tasks first, from their own small index (ix_mediation_task_open), then their
        # cases: joined the other way round, the planner walks every case of the community.
        open_task_ids = db.session.execute(select(MediationTask.id).where(MediationTask.done_at.is_(None))).scalars()
        tq = MediationTask.query.join(MediationCase).filter(MediationCase.community_id == community.id,
                                                            MediationTask.id.in_(list(open_task_ids) or [0]))
        fq = MediationFollowup.query.join(MediationCase, MediationFollowup.case_id == MediationCase.id).filter(
            MediationCase.community_id == community.id, MediationFollowup.done_at.is_(None),
            MediationFollowup.due_on <= today)
        if full_ids is not None:
            tq = tq.filter(MediationTask.case_id.in_(full_ids or [0]))
            fq = fq.filter(MediationFollowup.case_id.in_(full_ids or [0]))
        tq = tq.options(contains_eager(MediationTask.case))
        fq = fq.options(contains_eager(MediationFollowup.case))
        tasks, followups = tq.all(), fq.order_by(MediationFollowup.due_on).all()
    committee = svc.committee_status(community, today) if staff else None  # R15 warning, never a block
    html = render_template("mediation/index.html", rows=rows, pages=pages, levels=levels, staff=staff, today=today,
                           committee=committee,
                           tasks=tasks, followups=followups, status=status, tier=tier, category=category,
                           number=number, overdue=bool(args.get("overdue")), is_overdue=rule_dates.is_overdue,
                           **{**LABELS, **_translated("STATUSES", "OUTCOMES", "TIERS", "CATEGORIES", "SOURCES")})
    # A list that shows cases is a read of them: logged after rendering, so that the commit does
    # not expire the cases the template is about to show (one reload per case).
    g.page_cache_meta = (bool(rows), community.id)
    _log_list_read(g.page_cache_meta, user.id)
    return html


def _translated(*names):
    """Label tables translated once for the request: a list of 200 cases would otherwise look up
    the language and the catalogue again for every lazy label of every row."""
    return {name: {k: str(v) for k, v in LABELS[name].items()} for name in names}


def _fill_case_form(form):
    form.source.choices = choices(SOURCES, svc.allowed_sources(current_user, g.community))
    grids, buildings = places.choices(g.community)  # natural order: 2号楼 before 10号楼
    form.grid_id.choices = [(0, "—")] + [(x.id, x.name) for x in grids]
    form.building_id.choices = [(0, "—")] + [(x.id, x.name) for x in buildings]


@bp.route("/new", methods=["GET", "POST"])
@member_required
def new():
    form = CaseForm()
    _fill_case_form(form)
    m = access.membership_of(current_user, g.community)
    staff = access.is_staff(current_user, g.community)
    if request.method == "GET":
        if m.grid_id:
            form.grid_id.data = m.grid_id
        if m.building_id:
            form.building_id.data = m.building_id
    if form.validate_on_submit():
        applying = form.source.data == "application" and not staff
        parties = []
        if not applying and (form.applicant_name.data or form.applicant_login.data):
            parties.append({"role": "applicant", "name": form.applicant_name.data, "phone": form.applicant_phone.data,
                            "login": form.applicant_login.data})
        if form.respondent_name.data or form.respondent_login.data:
            parties.append({"role": "respondent", "name": form.respondent_name.data,
                            "phone": form.respondent_phone.data, "login": form.respondent_login.data,
                            "consent": "refused" if form.respondent_refuses.data else "pending"})
        data = {k: getattr(form, k).data for k in ("source", "source_detail", "category", "description", "grid_id",
                                                   "building_id", "location", "urgency", "violence_risk",
                                                   "rights_notified", "voluntary_statement", "private_hearing")}
        data["parties"] = parties
        try:
            with transaction():
                case = svc.open_case(g.community, current_user, data)
        except ServiceError as err:
            apply_error(form, _fields_for_form(err, parties))
        else:
            flash(_("Case %(number)s is registered. Mediation staff have been told.", number=case.number), "success")
            return _back(case)
    return render_template("mediation/new.html", form=form, staff=staff)


def _fields_for_form(err, parties):
    """Map the service's party field names (parties.<index>.<field>) onto the intake form's fields
    of the party at that index (the applicant is left out when a resident applies themselves)."""
    mapping = {"parties": "respondent_name"}
    for i, party in enumerate(parties):
        for field in ("name", "login", "phone"):
            mapping[f"parties.{i}.{field}"] = f"{party['role']}_{field}"
    err.fields = {mapping.get(k, k): v for k, v in (err.fields or {}).items()}
    return err


# ── the case ────────────────────────────────────────────────────────────────────────────
def _case_context(case):
    community = g.community
    agreements = MediationAgreement.query.filter_by(case_id=case.id).order_by(MediationAgreement.id).all()
    ag = agreements[-1] if agreements else None
    ctx = dict(case=case, agreement=ag, today=_today(), overdue=rule_dates.is_overdue(case, _today()),
               days_open=rule_dates.days_open(case, _today()),
               opened_on=dates.local_date(case.opened_at, community),
               deadline=svc.confirmation_deadline(ag) if ag and ag.effective_on else None,
               missing=svc.missing_signatures(ag) if ag else [],
               confirmation=svc.confirmation_status(ag) if ag and ag.effective_on else None,
               time_limit=rule_dates.target_date(case),
               obligations=MediationObligation.query.filter_by(agreement_id=ag.id).all() if ag else [],
               history=MediationHistory.query.filter_by(case_id=case.id).order_by(MediationHistory.id).all(),
               **LABELS)
    return ctx


def _full_forms(case, ctx, **override):
    ag = ctx["agreement"]
    party_choices = [(p.id, p.name) for p in case.parties]
    agreement_form = override.get("agreement_form") or AgreementForm(prefix="ag")
    agreement_form.ob1_party.choices = agreement_form.ob2_party.choices = [(0, "—")] + party_choices
    sign_form = SignForm(prefix="sg")
    sign_form.who.choices = [(str(p.id), p.name) for p in ctx["missing"] if not isinstance(p, str)] + \
        [(w, label) for w, label in (("mediator", _("Mediator")), ("seal", _("Committee seal"))) if w in ctx["missing"]]
    assign_form = AssignForm(prefix="as")
    assigned = {a.user.login_name for a in case.assignments}
    assign_form.login.choices = [c for c in _member_choices() if c[0] not in assigned]
    return dict(
        party_form=override.get("party_form") or PartyForm(prefix="pt"),
        session_form=override.get("session_form") or SessionForm(prefix="ss"),
        agreement_form=agreement_form, sign_form=sign_form, assign_form=assign_form,
        followup_form=override.get("followup_form") or FollowupForm(prefix="fu"),
        reason_form=override.get("reason_form") or ReasonForm(prefix="rs"),
        pi_consent_form=override.get("pi_consent_form") or PiConsentForm(prefix="pc"),
        pi_missing=svc.pi_consent_missing(case),
        blockers=svc.agreement_blockers(case) if case.status == "open" else [],
        case_file=svc.case_file(case) if not case.purged_at else [],
        extension_form=override.get("extension_form") or ExtensionForm(prefix="ex"),
        extensions=MediationExtension.query.filter_by(case_id=case.id).order_by(MediationExtension.id).all(),
        confirmation_form=override.get("confirmation_form") or ConfirmationForm(prefix="cf"),
        visit_form=_visit_form(override.get("visit_form"), ctx["obligations"]),
        visit_date_form=VisitDateForm(prefix="vd"),
        private_category=case.category in PRIVATE_CATEGORIES,
        refer_form=override.get("refer_form") or ReferForm(prefix="rf"),
        close_form=override.get("close_form") or CloseForm(prefix="cl"),
        document_form=override.get("document_form") or DocumentForm(prefix="dc"), task_form=TaskForm(prefix="tk"),
        sessions=MediationSession.query.filter_by(case_id=case.id).order_by(MediationSession.held_at).all(),
        documents=MediationDocument.query.filter_by(case_id=case.id).order_by(MediationDocument.id).all(),
        followups=MediationFollowup.query.filter_by(case_id=case.id).order_by(MediationFollowup.due_on,
                                                                             MediationFollowup.id).all(),
        tasks=MediationTask.query.filter_by(case_id=case.id).all(),
        staff=access.is_staff(current_user, g.community),
        local=lambda dt: dates.local(dt, g.community),
        signed_ids={s.party_id: s for s in ag.signatures} if ag else {},
    )


def _visit_form(form, obligations):
    form = form or VisitForm(prefix="vs")
    form.obligation_id.choices = [(0, "—")] + [(o.id, f"{o.party.name}: {o.description}") for o in obligations]
    return form


def _log_read(case, action):
    """Record that the current user read ``case`` (None: several cases) in the access log: the one
    write a page that shows cases makes (a log of the storage layer, plugins.mediation.access),
    committed at once. Nothing else was written, so the commit need not expire what is loaded."""
    with transaction():
        keep_loaded()
        access.log(g.community, case, current_user, action)


def _render_case(case, level, status=200, **override):
    ctx = _case_context(case)
    if level == access.FULL:
        ctx.update(_full_forms(case, ctx, **override))
        template = "mediation/case.html"
    else:
        template = "mediation/case_party.html"
        ctx["level"] = level
        ctx["my_party"] = next((p for p in case.parties if p.user_id == current_user.id), None)
    _log_read(case, "view")
    return render_template(template, **ctx), status


@bp.route("/cases/<int:case_id>")
@member_required
def case(case_id):
    c, level = _load(case_id)
    return _render_case(c, level)


def _action(case_id, fn, success, form_cls=None, form_name=None, prefix=None):
    """Run a POST action on a case the user works on; re-render the case with errors on failure."""
    c, _lvl = _load(case_id, access.FULL)
    form = form_cls(prefix=prefix) if form_cls else None
    if form is not None and not form.validate():
        for name, errs in form.errors.items():
            flash(f"{getattr(form, name).label.text}: {' '.join(str(e) for e in errs)}", "error")
        return _render_case(c, access.FULL, 400, **({form_name: form} if form_name else {}))
    try:
        with transaction():  # rolled back on the error before the except runs
            fn(c, form)
    except ServiceError as err:
        c, _lvl = _load(case_id, access.FULL)
        apply_error(form, err)
        return _render_case(c, access.FULL, err.status, **({form_name: form} if form_name else {}))
    flash(success, "success")
    return _back(c)


@bp.route("/cases/<int:case_id>/rights", methods=["POST"])
@member_required
def rights(case_id):
    return _action(case_id, lambda c, f: svc.record_rights(c, current_user, request.form.get("rights_notified") == "1",
                                                           request.form.get("voluntary_statement") == "1"),
                   _("Saved."))


@bp.route("/cases/<int:case_id>/parties", methods=["POST"])
@member_required
def add_party(case_id):
    return _action(case_id, lambda c, f: svc.add_party(c, current_user, {
        "role": f.role.data, "name": f.name.data, "phone": f.phone.data, "address": f.address.data,
        "login": f.login.data, "consent": f.consent.data}), _("Party added."), PartyForm, "party_form", "pt")


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/consent", methods=["POST"])
@member_required
def consent(case_id, party_id):
    def run(c, f):
        party = next((p for p in c.parties if p.id == party_id), None)
        if party is None:
            abort(404)
        svc.set_consent(c, party, current_user, request.form.get("consent"))
    return _action(case_id, run, _("Saved."))


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/pi-consent", methods=["POST"])
@member_required
def pi_consent(case_id, party_id):
    """R22: one party's separate consent to processing sensitive personal information."""
    return _action(case_id, lambda c, f: svc.record_pi_consent(c, current_user, [party_id], f.method.data or "form",
                                                               f.on.data),
                   _("Consent recorded."), PiConsentForm, "pi_consent_form", "pc")


@bp.route("/cases/<int:case_id>/pi-consent-paper", methods=["POST"])
@member_required
def pi_consent_paper(case_id):
    """R22: the mediator records that every remaining party consented on a paper form."""
    return _action(case_id, lambda c, f: svc.record_pi_consent(c, current_user, None, "paper", f.on.data),
                   _("Consent recorded."), PiConsentForm, "pi_consent_form", "pc")


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/request", methods=["POST"])
@member_required
def party_request(case_id, party_id):
    """A party asks to stop the mediation or to be heard in private (``kind``), in person through
    their own page, or as recorded by the case's mediators."""
    c, level = _load(case_id)
    party = next((p for p in c.parties if p.id == party_id), None)
    if party is None or (level != access.FULL and party.user_id != current_user.id):
        abort(404)
    kind = request.form.get("kind")
    try:
        with transaction():
            svc.party_request(c, party, current_user, kind)
    except ServiceError as err:
        c, level = _load(case_id)
        apply_error(None, err)
        return _render_case(c, level, err.status)
    flash(_("Recorded. The mediation is stopped and the case is closed.") if kind == "stop"
          else _("Recorded. The mediation will be held in private."), "success")
    return _back(c)


@bp.route("/cases/<int:case_id>/extend", methods=["POST"])
@member_required
def extend(case_id):
    return _action(case_id, lambda c, f: svc.extend(c, current_user, f.until.data, request.form.getlist("ext_party"),
                                                    f.reason.data, f.on.data),
                   _("The time limit is extended."), ExtensionForm, "extension_form", "ex")


@bp.route("/cases/<int:case_id>/file")
@member_required
def case_file(case_id):
    """The case file's cover and checklist of required documents, for printing (R17)."""
    c, _lvl = _load(case_id, access.FULL)
    ag = svc.current_agreement(c)
    html = render_template(
        "mediation/case_file.html", case=c, items=svc.case_file(c) if not c.purged_at else [],
        opened_on=dates.local_date(c.opened_at, g.community), closed_on=dates.local_date(c.closed_at, g.community),
        agreement=ag, today=_today(), local=lambda dt: dates.local(dt, g.community),
        sessions=MediationSession.query.filter_by(case_id=c.id).order_by(MediationSession.held_at).all(),
        documents=MediationDocument.query.filter_by(case_id=c.id).order_by(MediationDocument.id).all(), **LABELS)
    _log_read(c, "print_file")
    return html


@bp.route("/cases/<int:case_id>/assign", methods=["POST"])
@member_required
def assign(case_id):
    return _action(case_id, lambda c, f: svc.assign(c, current_user, svc.user_by_login(request.form.get("as-login"))),
                   _("Mediator assigned."))


@bp.route("/cases/<int:case_id>/unassign/<int:user_id>", methods=["POST"])
@member_required
def unassign(case_id, user_id):
    return _action(case_id, lambda c, f: svc.unassign(c, current_user, user_id), _("Mediator removed."))


@bp.route("/cases/<int:case_id>/escalate", methods=["POST"])
@member_required
def escalate(case_id):
    return _action(case_id, lambda c, f: svc.escalate(c, current_user, f.reason.data), _("The case was escalated."),
                   ReasonForm, "reason_form", "rs")


@bp.route("/cases/<int:case_id>/refer", methods=["POST"])
@member_required
def refer(case_id):
    return _action(case_id, lambda c, f: svc.refer(c, current_user, f.referred_to.data, f.reason.data),
                   _("The case was referred out and closed."), ReferForm, "refer_form", "rf")


@bp.route("/cases/<int:case_id>/violence", methods=["POST"])
@member_required
def violence(case_id):
    return _action(case_id, lambda c, f: svc.flag_violence(c, current_user),
                   _("Flagged. A police-referral task was created."))


@bp.route("/cases/<int:case_id>/tasks/<int:task_id>", methods=["POST"])
@member_required
def task_done(case_id, task_id):
    def run(c, f):
        task = MediationTask.query.filter_by(id=task_id, case_id=c.id).first_or_404()
        svc.complete_task(task, current_user, f.note.data)
    return _action(case_id, run, _("Task done."), TaskForm, None, "tk")


@bp.route("/cases/<int:case_id>/joint-meeting", methods=["POST"])
@member_required
def joint_meeting(case_id):
    flag = request.form.get("flag") == "1"
    return _action(case_id, lambda c, f: svc.set_joint_meeting(c, current_user, flag),
                   _("The case is offered to the joint meeting's agenda.") if flag
                   else _("The case was taken off the joint meeting's agenda."))


@bp.route("/cases/<int:case_id>/sessions", methods=["POST"])
@member_required
def add_session(case_id):
    return _action(case_id, lambda c, f: svc.add_session(c, current_user, {
        "held_on": f.held_on.data, "held_at": f.held_at.data or "09:00", "place": f.place.data,
        "attendees": f.attendees.data, "public": f.public.data, "notes": f.notes.data}),
        _("Session recorded."), SessionForm, "session_form", "ss")


@bp.route("/cases/<int:case_id>/documents", methods=["POST"])
@member_required
def upload(case_id):
    def run(c, f):
        file = request.files.get("dc-file")
        if file is None or not file.filename:
            raise ServiceError("invalid_input", _("Choose a file."), fields={"file": _("Choose a file.")})
        try:
            data = file.read(svc.MAX_UPLOAD + 1)
        finally:
            file.close()
        svc.upload_document(c, current_user, file.filename, data, f.kind.data or "evidence")
    return _action(case_id, run, _("Document stored."), DocumentForm, "document_form", "dc")


@bp.route("/cases/<int:case_id>/documents/<int:doc_id>")
@member_required
def document(case_id, doc_id):
    c, _lvl = _load(case_id, access.FULL)
    doc = MediationDocument.query.filter_by(id=doc_id, case_id=c.id).first_or_404()
    path = svc.document_path(doc)
    if not path.is_file():
        abort(404)
    _log_read(c, "download")
    # Files are at most 10 MB: read them whole, so no file handle outlives the request.
    resp = send_file(io.BytesIO(path.read_bytes()), mimetype=doc.content_type, as_attachment=True,
                     download_name=doc.filename, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/cases/<int:case_id>/agreements", methods=["POST"])
@member_required
def add_agreement(case_id):
    def run(c, f):
        obligations = [{"party_id": getattr(f, f"ob{i}_party").data, "description": getattr(f, f"ob{i}_text").data,
                        "due_on": getattr(f, f"ob{i}_due").data} for i in (1, 2)
                       if getattr(f, f"ob{i}_text").data or getattr(f, f"ob{i}_due").data]
        svc.record_agreement(c, current_user, {"form": f.form.data, "facts": f.facts.data, "terms": f.terms.data,
                                               "obligations": obligations})

    def form_cls(prefix):
        form = AgreementForm(prefix=prefix)
        c, _lvl = _load(case_id, access.FULL)
        form.ob1_party.choices = form.ob2_party.choices = [(0, "—")] + [(p.id, p.name) for p in c.parties]
        return form
    return _action(case_id, run, _("Agreement recorded."), form_cls, "agreement_form", "ag")


@bp.route("/cases/<int:case_id>/agreements/<int:agreement_id>/sign", methods=["POST"])
@member_required
def sign(case_id, agreement_id):
    def run(c, f):
        ag = MediationAgreement.query.filter_by(id=agreement_id, case_id=c.id).first_or_404()
        svc.sign(ag, current_user, request.form.get("sg-who"), request.form.get("sg-method") or "signature")
    return _action(case_id, run, _("Signature recorded."))


@bp.route("/cases/<int:case_id>/agreements/<int:agreement_id>/confirmation", methods=["POST"])
@member_required
def confirmation(case_id, agreement_id):
    def run(c, f):
        ag = MediationAgreement.query.filter_by(id=agreement_id, case_id=c.id).first_or_404()
        svc.record_confirmation(ag, current_user, request.form.getlist("cf_party"), f.on.data)
    return _action(case_id, run, _("Recorded."), ConfirmationForm, "confirmation_form", "cf")


@bp.route("/cases/<int:case_id>/followups/new", methods=["POST"])
@member_required
def add_followup(case_id):
    return _action(case_id, lambda c, f: svc.schedule_followup(c, current_user, f.due_on.data, f.obligation_id.data),
                   _("Follow-up visit scheduled."), VisitForm, "visit_form", "vs")


@bp.route("/cases/<int:case_id>/followups/<int:followup_id>/date", methods=["POST"])
@member_required
def followup_date(case_id, followup_id):
    def run(c, f):
        fu = MediationFollowup.query.filter_by(id=followup_id, case_id=c.id).first_or_404()
        svc.reschedule_followup(fu, current_user, f.due_on.data)
    return _action(case_id, run, _("The visit's date is changed."), VisitDateForm, None, "vd")


@bp.route("/cases/<int:case_id>/followups/<int:followup_id>", methods=["POST"])
@member_required
def followup(case_id, followup_id):
    def run(c, f):
        fu = MediationFollowup.query.filter_by(id=followup_id, case_id=c.id).first_or_404()
        svc.record_followup(fu, current_user, f.result.data, f.findings.data)
    return _action(case_id, run, _("Follow-up visit recorded."), FollowupForm, "followup_form", "fu")


@bp.route("/cases/<int:case_id>/close", methods=["POST"])
@member_required
def close(case_id):
    return _action(case_id, lambda c, f: svc.close(c, current_user, f.outcome.data, f.reason.data),
                   _("The case is closed."), CloseForm, "close_form", "cl")


@bp.route("/cases/<int:case_id>/reopen", methods=["POST"])
@member_required
def reopen(case_id):
    agreeing = request.form.getlist("agreed_party")
    return _action(case_id, lambda c, f: svc.reopen(c, current_user, f.reason.data, agreeing),
                   _("The case is open again."),
                   ReasonForm, "reason_form", "rs")


@bp.route("/cases/<int:case_id>/agreements/<int:agreement_id>/print")
@member_required
def print_agreement(case_id, agreement_id):
    """The agreement on A4: one copy per party plus one for the committee (R18)."""
    c, level = _load(case_id)
    if level == access.REPORTER:
        abort(404)
    ag = MediationAgreement.query.filter_by(id=agreement_id, case_id=c.id).first_or_404()
    copies = [p.name for p in c.parties] + [_("Mediation committee")]
    _log_read(c, "print")  # a read of the case like any other page of it, never a write of the case
    return render_template("mediation/print.html", case=c, agreement=ag, copies=copies,
                           obligations=MediationObligation.query.filter_by(agreement_id=ag.id).all(),
                           deadline=svc.confirmation_deadline(ag) if ag.effective_on else None,
                           signed={s.party_id: s for s in ag.signatures}, today=_today(), **LABELS)


# ── roster, holidays ────────────────────────────────────────────────────────────────────
@bp.route("/roster", methods=["GET", "POST"])
@member_required
def roster():
    community = g.community
    staff = access.is_staff(current_user, community)
    form = SlotForm(prefix="sl")
    form.login.choices = _member_choices(("mediator",)) or _member_choices()
    if request.method == "POST":
        action = request.form.get("action")
        if action in ("add", "remove") and not staff:
            abort(403)
        if action not in ("book", "cancel", "add", "remove"):
            abort(400)
        try:
            with transaction():
                done = _roster_action(community, action, form)
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(done, "success")
            return redirect(url_for("c.mediation.roster"))
    slots = (MediationRosterSlot.query.filter_by(community_id=community.id, active=True)
             .order_by(MediationRosterSlot.weekday, MediationRosterSlot.start_time).all())
    offers = {s.id: [(d, svc.booked_count(s, d)) for d in svc.next_dates(community, s)] for s in slots}
    mine = (MediationBooking.query.join(MediationRosterSlot)
            .filter(MediationRosterSlot.community_id == community.id, MediationBooking.user_id == current_user.id,
                    MediationBooking.on_date >= _today()).order_by(MediationBooking.on_date).all())
    bookings = {}
    if staff:
        for b in (MediationBooking.query.join(MediationRosterSlot)
                  .filter(MediationRosterSlot.community_id == community.id, MediationBooking.on_date >= _today())
                  .order_by(MediationBooking.on_date)):
            bookings.setdefault(b.slot_id, []).append(b)
    return render_template("mediation/roster.html", slots=slots, offers=offers, mine=mine, staff=staff, form=form,
                           bookings=bookings, **LABELS)


def _roster_action(community, action, form):
    """Book, cancel, add or remove duty hours; the message that says it is done."""
    if action == "book":
        b = svc.book(community, current_user, whole_number(request.form.get("slot_id"), "slot_id", default=0),
                     request.form.get("on_date"))
        return _("Booked for %(date)s.", date=b.on_date.isoformat())
    if action == "cancel":
        svc.cancel_booking(community, current_user, whole_number(request.form.get("booking_id"), "booking_id", default=0))
        return _("Booking cancelled.")
    if action == "remove":
        svc.remove_slot(community, current_user, whole_number(request.form.get("slot_id"), "slot_id", default=0))
        return _("Duty hours removed.")
    if not form.validate():
        raise ServiceError("invalid_input", _("Please correct the marked fields."))
    svc.add_slot(community, current_user, {
        "login": form.login.data, "weekday": form.weekday.data, "start_time": form.start_time.data,
        "end_time": form.end_time.data, "place": form.place.data, "title": form.title.data,
        "capacity": form.capacity.data})
    return _("Duty hours added.")


@bp.route("/holidays", methods=["GET", "POST"])
@staff_required
def holidays():
    form = HolidayForm(prefix="hd")
    if request.method == "POST":
        done = None
        try:
            with transaction():
                if request.form.get("remove"):
                    svc.remove_holiday(g.community, current_user, whole_number(request.form.get("remove"), "remove"))
                    done = _("Holiday removed.")
                elif form.validate():
                    added = svc.add_holidays(g.community, current_user, form.day.data, form.until.data,
                                             form.name.data)
                    done = _("%(n)d days added.", n=len(added))
        except ServiceError as err:
            apply_error(form, err)
        if done is not None:
            flash(done, "success")
            return redirect(url_for("c.mediation.holidays"))
    rows = MediationHoliday.query.filter_by(community_id=g.community.id).order_by(MediationHoliday.day).all()
    return render_template("mediation/holidays.html", rows=rows, form=form, today=_today())


@bp.route("/committee", methods=["GET", "POST"])
@staff_required
def committee():
    """R15: the people's mediation committee roster and whether it meets the rule."""
    form = CommitteeMemberForm(prefix="cm")
    if request.method == "POST":
        done = None
        try:
            with transaction():
                if request.form.get("end"):
                    svc.end_committee_member(g.community, current_user, request.form.get("end"))
                    done = _("Membership ended.")
                elif form.validate():
                    svc.add_committee_member(g.community, current_user, {
                        "name": form.name.data, "login": form.login.data, "sex": form.sex.data,
                        "role": form.role.data, "term_start": form.term_start.data})
                    done = _("Member added.")
        except ServiceError as err:
            apply_error(form, err)
        if done is not None:
            flash(done, "success")
            return redirect(url_for("c.mediation.committee"))
    status = svc.committee_status(g.community)
    ended = [m for m in svc.committee_members(g.community, include_ended=True) if not m.active]
    return render_template("mediation/committee.html", form=form, status=status, ended_members=ended,
                           warn_days=svc.EXPIRY_WARNING_DAYS, **LABELS)


# ── statistics, register, access log ───────────────────────────────────────────────────
@bp.route("/stats")
@staff_required
def stats():
    s = reports.stats(g.community)
    charts = {
        "category": reports.bar_chart(s["by_category"], _("Cases by category")),
        "tier": reports.bar_chart(s["by_tier"], _("Cases by tier")),
        "source": reports.bar_chart(s["by_source"], _("Cases by source")),
        "grid": reports.bar_chart(s["by_grid"], _("Cases by grid")),
        "month": reports.bar_chart(s["by_month"], _("Cases by month")),
        "outcome": reports.bar_chart(s["by_outcome"], _("Closed cases by outcome")),
    }
    _log_read(None, "stats")
    return render_template("mediation/stats.html", s=s, charts=charts)


@bp.route("/stats/register.xlsx")
@staff_required
def register_export():
    data = reports.register_xlsx(g.community)
    _log_read(None, "export")
    return send_file(io.BytesIO(data), as_attachment=True,
                     download_name=f"mediation-register-{g.community.slug}-{_today().isoformat()}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/log")
@staff_required
def access_log():
    q = MediationAccessLog.query.filter_by(community_id=g.community.id)
    case_id = whole_number(request.args.get("case"), "case")
    if case_id:
        q = q.filter_by(case_id=case_id)
    page = q.order_by(MediationAccessLog.id.desc()).paginate(per_page=50, max_per_page=200, error_out=False)
    return render_template("mediation/log.html", page=page, case_id=case_id, ACCESS_ACTIONS=ACCESS_ACTIONS,
                           local=lambda dt: dates.local(dt, g.community))
