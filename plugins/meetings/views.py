"""Pages of the meetings module: bodies, meetings, agenda, attendance, minutes, action items."""
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from core import confirm, dates
from core.db import transaction
from core.errors import ServiceError
from core.extensions import db
from core.forms import apply_error
from core.i18n import fmt_datetime
from core.inputs import whole_number
from core.models import STATES, Proposal, utcnow
from core.permissions import can
from core.urls import safe_next
from plugins.meetings import services as svc
from plugins.meetings.forms import BodyForm, MeetingForm, MinutesForm
from plugins.meetings.models import (ACTION_STATUSES, AGENDA_KINDS, ATTENDANCE, BADGE, DECISION_RULES,
                                     MEETING_STATUSES, MINUTES_STATES, OUTCOMES, QUORUM_RULES, ActionItem, AgendaItem, Attendance,
                                     Body, Delegate, Meeting, MinutesApproval, Org, Resolution)

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


@bp.app_template_filter("meeting_when")
def meeting_when(value):
    """The day in full and the time, in the community's zone: 2026年11月28日星期六 19:00."""
    from flask_babel import format_date, format_time

    if value is None:
        return ""
    return f"{format_date(value, 'full')} {format_time(value, 'short')}"


@bp.app_template_filter("meeting_when_time")
def meeting_when_time(value):
    from flask_babel import format_time

    return format_time(value, "short") if value is not None else ""


@bp.context_processor
def constants():
    return {"BADGE": BADGE, "OUTCOMES": OUTCOMES, "ATTENDANCE": ATTENDANCE, "ACTION_STATUSES": ACTION_STATUSES,
            "MINUTES_STATES": MINUTES_STATES, "MEETING_STATUSES": MEETING_STATUSES, "AGENDA_KINDS": AGENDA_KINDS,
            "QUORUM_RULES": QUORUM_RULES, "DECISION_RULES": DECISION_RULES, "STATES": STATES}


def _back(endpoint, **kw):
    return redirect(url_for(endpoint, **kw))


def _try(fn, *args, success=None, **kw):
    """Run a service call as the request's transaction; flash its error (everything rolled back)
    or the success message."""
    try:
        with transaction():
            result = fn(*args, **kw)
    except ServiceError as err:
        apply_error(None, err)
        for msg in (err.fields or {}).values():
            if str(msg) != str(err.message):
                flash(str(msg), "error")
        return None, False
    if success:
        flash(success, "success")
    return result, True


# ── hook contexts ───────────────────────────────────────────────────────────────────────
def proposal_panel_context(proposal):
    items = (AgendaItem.query.options(joinedload(AgendaItem.meeting).joinedload(Meeting.body))
             .filter_by(proposal_id=proposal.id).order_by(AgendaItem.id).all())
    resolutions = {r.agenda_item_id: r for r in
                   Resolution.query.filter(Resolution.agenda_item_id.in_([i.id for i in items]))} if items else {}
    actions = {}
    if resolutions:
        for a in ActionItem.query.filter(ActionItem.resolution_id.in_([r.id for r in resolutions.values()])):
            actions.setdefault(a.resolution_id, []).append(a)
    rows = [(i, resolutions.get(i.id), actions.get(getattr(resolutions.get(i.id), "id", None), []))
            for i in items if i.meeting.status != "cancelled"]
    return {"items": rows, "today": dates.today()}


def upcoming_widget_context(community):
    meetings = (Meeting.query.options(joinedload(Meeting.body))
                .filter(Meeting.community_id == community.id, Meeting.status == "scheduled",
                        Meeting.ends_at >= utcnow())
                .order_by(Meeting.starts_at).limit(3).all())
    return {"meetings": meetings}


# ── index and bodies ────────────────────────────────────────────────────────────────────
@bp.route("/")
def index():
    community = g.community
    bodies = Body.query.filter_by(community_id=community.id).order_by(Body.name).all()
    upcoming = (Meeting.query.options(joinedload(Meeting.body), joinedload(Meeting.chair_org))
                .filter(Meeting.community_id == community.id, Meeting.status == "scheduled")
                .order_by(Meeting.starts_at).limit(20).all())
    published = (Meeting.query.options(joinedload(Meeting.body))
                 .filter(Meeting.community_id == community.id, Meeting.minutes_state == "published")
                 .order_by(Meeting.starts_at.desc()).limit(10).all())
    return render_template("meetings/index.html", bodies=bodies, upcoming=upcoming, published=published,
                           can_bodies=can(svc.BODIES))


def _body_data(form):
    return {"name": form.name.data, "description": form.description.data, "quorum_rule": form.quorum_rule.data,
            "quorum_number": form.quorum_number.data, "decision_rule": form.decision_rule.data,
            "topic_deadline_days": form.topic_deadline_days.data,
            "orgs": (form.orgs.data or "").splitlines() if form.orgs else []}


@bp.route("/bodies/new", methods=["GET", "POST"])
@login_required
def body_new():
    if not can(svc.BODIES):
        abort(403)
    form = BodyForm()
    if form.validate_on_submit():
        try:
            with transaction():
                body = svc.create_body(g.community, current_user, _body_data(form))
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("The meeting body was set up."), "success")
            return _back("c.meetings.body", body_id=body.id)
    return render_template("meetings/body_form.html", form=form, body=None)


@bp.route("/bodies/<int:body_id>/edit", methods=["GET", "POST"])
@login_required
def body_edit(body_id):
    body = svc.get_body(g.community, body_id)
    if not can(svc.BODIES):
        abort(403)
    form = BodyForm(obj=body)
    del form.orgs
    if form.validate_on_submit():
        data = _body_data(form)
        del data["orgs"]
        try:
            with transaction():
                svc.update_body(body, current_user, data)
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("Saved."), "success")
            return _back("c.meetings.body", body_id=body.id)
    return render_template("meetings/body_form.html", form=form, body=body)


@bp.route("/bodies/<int:body_id>")
def body(body_id):
    community = g.community
    body = svc.get_body(community, body_id)
    orgs = (Org.query.options(selectinload(Org.delegates).joinedload(Delegate.user))
            .filter_by(body_id=body.id).order_by(Org.position, Org.id).all())
    turn = orgs[body.rotation_index % len(orgs)] if orgs else None
    meetings = (Meeting.query.options(joinedload(Meeting.chair_org))
                .filter_by(body_id=body.id).order_by(Meeting.starts_at.desc()).all())
    now = utcnow()
    upcoming = [m for m in reversed(meetings) if m.status == "scheduled"]
    past = [m for m in meetings if m.status != "scheduled"]
    actions = (ActionItem.query.options(joinedload(ActionItem.owner_org), joinedload(ActionItem.owner_user),
                                        joinedload(ActionItem.meeting))
               .filter(ActionItem.body_id == body.id, ActionItem.status != "done")
               .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id).all())
    today = dates.today()
    overdue = [a for a in actions if svc.is_overdue(a, today)]
    return render_template("meetings/body.html", body=body, orgs=orgs, turn=turn, upcoming=upcoming, past=past,
                           actions=actions, overdue=overdue, today=today, now=now,
                           can_bodies=can(svc.BODIES), can_manage=can(svc.MANAGE), can_actions=can(svc.ACTIONS))


@bp.route("/bodies/<int:body_id>/orgs", methods=["POST"])
@login_required
def body_org(body_id):
    body = svc.get_body(g.community, body_id)
    _try(svc.add_org, body, current_user, request.form.get("name"), success=_("The organisation was added."))
    return _back("c.meetings.body", body_id=body.id)


@bp.route("/bodies/<int:body_id>/delegates", methods=["POST"])
@login_required
def body_delegate(body_id):
    body = svc.get_body(g.community, body_id)
    _try(svc.add_delegate, body, current_user, request.form.to_dict(), success=_("The delegate was added."))
    return _back("c.meetings.body", body_id=body.id)


@bp.route("/bodies/<int:body_id>/delegates/<int:delegate_id>/remove", methods=["POST"])
@login_required
def body_delegate_remove(body_id, delegate_id):
    body = svc.get_body(g.community, body_id)
    d = db.session.get(Delegate, delegate_id)
    if not confirm.confirmed() and can(svc.BODIES) and d is not None and d.body_id == body.id and d.active:
        back = url_for("c.meetings.body", body_id=body.id)
        return confirm.ask(confirm.Confirmation(
            title=_("Remove %(name)s from %(body)s?", name=d.name, body=body.name),
            action=url_for("c.meetings.body_delegate_remove", body_id=body.id, delegate_id=d.id),
            button=_("Remove"), back_url=back, back_label=body.name, cancel_label=_("Keep them"),
            lines=[_("They are no longer invited to this body's meetings and no longer count for its quorum. Meetings "
                     "already held keep their attendance. To have them back, add them again.")]))
    _try(svc.remove_delegate, body, current_user, delegate_id, success=_("The delegate was removed."))
    return _back("c.meetings.body", body_id=body.id)


@bp.route("/bodies/<int:body_id>/calendar.ics")
def body_ics(body_id):
    body = svc.get_body(g.community, body_id)
    return _ics_response(svc.body_ics(body), f"body-{body.id}.ics")


def _ics_response(text, filename):
    resp = Response(text.encode("utf-8"), mimetype="text/calendar")
    resp.headers["Content-Type"] = "text/calendar; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


# ── scheduling ──────────────────────────────────────────────────────────────────────────
def _meeting_data(form):
    return {"title": form.title.data, "date": form.date.data, "time": form.time.data,
            "duration": form.duration.data, "place": form.place.data, "online_url": form.online_url.data}


@bp.route("/bodies/<int:body_id>/schedule", methods=["GET", "POST"])
@login_required
def schedule(body_id):
    body = svc.get_body(g.community, body_id)
    if not can(svc.MANAGE):
        abort(403)
    orgs, turn = svc.rotation(body)
    form = MeetingForm()
    form.chair_org_id.choices = [(o.id, o.name) for o in orgs]
    if request.method == "GET" and turn is not None:
        form.chair_org_id.data = turn.id
    if form.validate_on_submit():
        data = _meeting_data(form)
        data.update(chair_org_id=form.chair_org_id.data, chair_reason=form.chair_reason.data)
        try:
            with transaction():
                meeting = svc.schedule(body, current_user, data)
        except ServiceError as err:
            err.fields = {("date" if k == "starts_at" else k): v for k, v in err.fields.items()}
            apply_error(form, err)
        else:
            flash(_("The meeting was scheduled and the delegates invited."), "success")
            return _back("c.meetings.meeting", meeting_id=meeting.id)
    return render_template("meetings/meeting_form.html", form=form, body=body, meeting=None, turn=turn)


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def meeting_edit(meeting_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    if not can(svc.MANAGE):
        abort(403)
    form = MeetingForm()
    del form.chair_org_id, form.chair_reason
    if request.method == "GET":
        local = dates.local(meeting.starts_at)
        form.title.data, form.place.data, form.online_url.data = meeting.title, meeting.place, meeting.online_url
        form.date.data, form.time.data = local.date(), local.strftime("%H:%M")
        form.duration.data = int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)
    if form.validate_on_submit():
        try:
            with transaction():
                svc.update_meeting(meeting, current_user, _meeting_data(form))
        except ServiceError as err:
            err.fields = {("date" if k == "starts_at" else k): v for k, v in err.fields.items()}
            apply_error(form, err)
        else:
            flash(_("The meeting was changed and the delegates told."), "success")
            return _back("c.meetings.meeting", meeting_id=meeting.id)
    return render_template("meetings/meeting_form.html", form=form, body=meeting.body, meeting=meeting, turn=None)


# ── one meeting ─────────────────────────────────────────────────────────────────────────
@bp.route("/<int:meeting_id>")
def meeting(meeting_id):
    community = g.community
    meeting = (Meeting.query.options(joinedload(Meeting.body), joinedload(Meeting.chair_org))
               .filter_by(id=meeting_id, community_id=community.id).first())
    if meeting is None:
        abort(404)
    body = meeting.body
    orgs = Org.query.filter_by(body_id=body.id).order_by(Org.position, Org.id).all()
    delegates = (Delegate.query.options(joinedload(Delegate.user))
                 .filter_by(body_id=body.id, active=True).order_by(Delegate.org_id, Delegate.id).all())
    attendance = (Attendance.query.options(joinedload(Attendance.user))
                  .filter_by(meeting_id=meeting.id).order_by(Attendance.id).all())
    by_delegate = {a.delegate_id: a for a in attendance if a.delegate_id}
    residents = [a for a in attendance if a.delegate_id is None]
    agenda = (AgendaItem.query.options(joinedload(AgendaItem.proposal), joinedload(AgendaItem.action_item))
              .filter_by(meeting_id=meeting.id).order_by(AgendaItem.position, AgendaItem.id).all())
    resolutions = {r.agenda_item_id: r for r in Resolution.query.options(
        joinedload(Resolution.rescinds).joinedload(Resolution.meeting)).filter_by(meeting_id=meeting.id)}
    actions = {}
    for a in (ActionItem.query.options(joinedload(ActionItem.owner_org), joinedload(ActionItem.owner_user))
              .filter_by(meeting_id=meeting.id).order_by(ActionItem.id)):
        actions.setdefault(a.resolution_id, []).append(a)
    approvals = {a.org_id: a for a in
                 MinutesApproval.query.options(joinedload(MinutesApproval.user), joinedload(MinutesApproval.delegate))
                 .filter_by(meeting_id=meeting.id)}
    rescinded_by = _rescinded_by(resolutions.values())
    approval_org_ids = {d.org_id for d in delegates if d.role == "delegate"}
    quorum = svc.quorum(meeting, delegates, attendance)
    can_manage = can(svc.MANAGE)
    can_minutes = can(svc.MINUTES)
    my_orgs = {d.org_id for d in delegates if current_user.is_authenticated and d.user_id == current_user.id}
    show_minutes = meeting.minutes_state == "published" or can_minutes or bool(my_orgs)
    candidates, proposals = [], []
    if can_manage and meeting.status == "scheduled":
        on_agenda = {a.ref for a in agenda if a.ref}
        candidates = [c for c in svc.agenda_candidates(community, current_user) if c.ref not in on_agenda]
        proposals = (Proposal.query.filter(Proposal.community_id == community.id,
                                           Proposal.state.in_(("open", "coordinating", "voting", "accepted",
                                                               "implementing")))
                     .order_by(Proposal.updated_at.desc()).limit(100).all())
        proposals = [p for p in proposals if f"proposal:{p.id}" not in on_agenda]
    rescindable = []
    if can_manage and meeting.status in ("scheduled", "held") and len(resolutions) < len(agenda):
        rescindable = svc.rescindable(meeting)
    from core.services.proposals import TRANSITIONS

    return render_template(
        "meetings/meeting.html", meeting=meeting, body=body, orgs=orgs, delegates=delegates,
        by_delegate=by_delegate, residents=residents, agenda=agenda, resolutions=resolutions, actions=actions,
        approvals=approvals, approval_orgs=[o for o in orgs if o.id in approval_org_ids], quorum=quorum,
        can_manage=can_manage, can_minutes=can_minutes, can_actions=can(svc.ACTIONS),
        can_topics=current_user.is_authenticated and can(svc.TOPICS), my_orgs=my_orgs, show_minutes=show_minutes,
        candidates=candidates, proposals=proposals, TRANSITIONS=TRANSITIONS, now=utcnow(),
        rescindable=rescindable, rescinded_by=rescinded_by,
        today=dates.today(), org_names={o.id: o.name for o in orgs})


def _rescinded_by(resolutions):
    """{resolution id: the decided motion (with its meeting) that rescinded it}, in one query."""
    ids = [r.id for r in resolutions if r.outcome == "decided"]
    if not ids:
        return {}
    return {r.rescinds_id: r for r in Resolution.query.options(joinedload(Resolution.meeting))
            .filter(Resolution.rescinds_id.in_(ids), Resolution.outcome == "decided")}


@bp.route("/<int:meeting_id>/invite.ics")
def meeting_ics(meeting_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    return _ics_response(svc.meeting_ics(meeting), f"meeting-{meeting.id}.ics")


@bp.route("/<int:meeting_id>/<any(close, adjourn, cancel):action>", methods=["POST"])
@login_required
def meeting_status(meeting_id, action):
    meeting = svc.get_meeting(g.community, meeting_id)
    reason = request.form.get("reason")
    if action == "cancel" and not confirm.confirmed() and can(svc.MANAGE) and meeting.status == "scheduled":
        back = url_for("c.meetings.meeting", meeting_id=meeting.id)
        return confirm.ask(confirm.Confirmation(
            title=_("Cancel %(title)s?", title=meeting.title),
            action=url_for("c.meetings.meeting_status", meeting_id=meeting.id, action="cancel"),
            button=_("Cancel the meeting"), back_url=back, back_label=meeting.title,
            cancel_label=_("Keep the meeting"), reason_label=_("Reason"), reason_required=True,
            facts=[(_("When"), fmt_datetime(meeting.starts_at))],
            lines=[_("Every delegate is told it is cancelled and it leaves the calendars. A cancelled meeting cannot "
                     "be held or changed any more: to meet after all, schedule a new one.")]))
    if action == "close":
        _try(svc.close, meeting, current_user, success=_("The meeting is recorded as held."))
    elif action == "adjourn":
        _try(svc.adjourn, meeting, current_user, reason, success=_("The meeting is adjourned."))
    else:
        _try(svc.cancel, meeting, current_user, reason, success=_("The meeting is cancelled and the delegates told."))
    return _back("c.meetings.meeting", meeting_id=meeting.id)


@bp.route("/<int:meeting_id>/agenda", methods=["POST"])
@login_required
def agenda_add(meeting_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    data = request.form.to_dict()
    if data.get("kind") == "proposal" and not data.get("proposal_id"):
        data["proposal_id"] = None
    _try(svc.add_agenda_item, meeting, current_user, data, success=_("Added to the agenda."))
    return redirect(url_for("c.meetings.meeting", meeting_id=meeting.id) + "#agenda")


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/remove", methods=["POST"])
@login_required
def agenda_remove(meeting_id, item_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    item = svc.get_item(meeting, item_id)
    if not confirm.confirmed() and can(svc.MANAGE) and meeting.status == "scheduled":
        back = url_for("c.meetings.meeting", meeting_id=meeting.id) + "#agenda"
        return confirm.ask(confirm.Confirmation(
            title=_("Take %(item)s off the agenda?", item=item.title),
            action=url_for("c.meetings.agenda_remove", meeting_id=meeting.id, item_id=item.id),
            button=_("Take it off"), back_url=back, back_label=meeting.title, cancel_label=_("Keep it"),
            lines=[_("The item and its notes are deleted from this meeting's agenda. A linked proposal stays as it "
                     "is and can be put on an agenda again.")]))
    _try(svc.remove_agenda_item, meeting, current_user, item, success=_("Removed from the agenda."))
    return redirect(url_for("c.meetings.meeting", meeting_id=meeting.id) + "#agenda")


@bp.route("/<int:meeting_id>/attendance", methods=["POST"])
@login_required
def attendance(meeting_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    rows = []
    for d in svc.active_delegates(meeting.body, "delegate"):
        status = request.form.get(f"status_{d.id}")
        if status:
            rows.append((d.id, status, request.form.get(f"substitute_{d.id}")))
    _try(svc.record_attendance_many, meeting, current_user, rows, success=_("Attendance saved."))
    return redirect(url_for("c.meetings.meeting", meeting_id=meeting.id) + "#attendance")


@bp.route("/<int:meeting_id>/attendance/resident", methods=["POST"])
@login_required
def attendance_resident(meeting_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    user = svc.find_user_login(request.form.get("login"))
    _try(svc.record_resident, meeting, current_user, user, success=_("Attendance saved."))
    return redirect(url_for("c.meetings.meeting", meeting_id=meeting.id) + "#attendance")


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/resolution", methods=["POST"])
@login_required
def resolution(meeting_id, item_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    item = svc.get_item(meeting, item_id)
    f = request.form
    data = {k: f.get(k) for k in ("outcome", "text", "votes_for", "votes_against", "votes_abstain", "proposal_to",
                                  "rescinds_id", "notice_given")}
    data["actions"] = [{"title": f.get("action_title"), "owner_org_id": f.get("owner_org_id"),
                        "owner_name": f.get("owner_name"), "owner_login": f.get("owner_login"),
                        "due_date": f.get("due_date")}]
    _try(svc.record_resolution, item, current_user, data, success=_("The resolution was recorded."))
    return redirect(url_for("c.meetings.meeting", meeting_id=meeting.id) + f"#item-{item.id}")


# ── minutes ─────────────────────────────────────────────────────────────────────────────
@bp.route("/<int:meeting_id>/minutes", methods=["GET", "POST"])
@login_required
def minutes(meeting_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    if not can(svc.MINUTES):
        abort(403)
    form = MinutesForm()
    if request.method == "GET":
        form.minutes.data = meeting.minutes or _minutes_template(meeting)
    if form.validate_on_submit():
        try:
            with transaction():
                svc.save_minutes(meeting, current_user, form.minutes.data)
                if request.form.get("action") == "submit":
                    svc.submit_minutes(meeting, current_user)
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("The minutes were saved.") if meeting.minutes_state == "draft"
                  else _("The minutes were sent to the organisations for approval."), "success")
            return redirect(url_for("c.meetings.meeting", meeting_id=meeting.id) + "#minutes")
    return render_template("meetings/minutes_form.html", form=form, meeting=meeting)


def _minutes_template(meeting):
    """A starting point that lists what R32 asks minutes to record."""
    agenda = AgendaItem.query.filter_by(meeting_id=meeting.id).order_by(AgendaItem.position, AgendaItem.id).all()
    present = []
    for a in Attendance.query.options(joinedload(Attendance.delegate).joinedload(Delegate.org),
                                      joinedload(Attendance.substitute), joinedload(Attendance.user)) \
            .filter_by(meeting_id=meeting.id):
        if a.delegate_id and a.status == "present":
            present.append(f"{a.delegate.name}（{a.delegate.org.name}）")
        elif a.delegate_id and a.status == "substitute" and a.substitute:
            present.append(f"{a.substitute.name}（{a.delegate.org.name}）")
        elif a.user_id and a.user:
            present.append(a.user.display_name)
    local = dates.format_local(meeting.starts_at)
    heads = [_("Time"), _("Place"), _("Attendees"), _("Topics and discussion"), _("Decisions")]
    lines = ["## " + heads[0], local, "", "## " + heads[1], meeting.place or meeting.online_url or "", "",
             "## " + heads[2], "、".join(present), "", "## " + heads[3]]
    lines += [f"{i}. {a.title}" for i, a in enumerate(agenda, 1)]
    lines += ["", "## " + heads[4], ""]
    return "\n".join(lines)


@bp.route("/<int:meeting_id>/minutes/<any(submit, reopen, approve, publish):action>", methods=["POST"])
@login_required
def minutes_action(meeting_id, action):
    meeting = svc.get_meeting(g.community, meeting_id)
    if action == "submit":
        _try(svc.submit_minutes, meeting, current_user, success=_("The minutes were sent to the organisations for approval."))
    elif action == "reopen":
        _try(svc.reopen_minutes, meeting, current_user, success=_("The minutes are a draft again."))
    elif action == "approve":
        on_behalf = bool(request.form.get("delegate_id"))
        _try(svc.approve_minutes, meeting, current_user, whole_number(request.form.get("org_id"), "org_id"),
             whole_number(request.form.get("delegate_id"), "delegate_id"), request.form.get("reason"),
             success=_("The approval was recorded for the delegate.") if on_behalf else _("Your approval was recorded."))
    else:
        _try(svc.publish_minutes, meeting, current_user, success=_("The minutes are published."))
    return redirect(url_for("c.meetings.meeting", meeting_id=meeting.id) + "#minutes")


@bp.route("/<int:meeting_id>/minutes/print")
def minutes_print(meeting_id):
    meeting = svc.get_meeting(g.community, meeting_id)
    if not svc.can_see_minutes(meeting, current_user):
        abort(404)
    attendance = (Attendance.query.options(joinedload(Attendance.delegate).joinedload(Delegate.org),
                                           joinedload(Attendance.substitute), joinedload(Attendance.user))
                  .filter_by(meeting_id=meeting.id).order_by(Attendance.id).all())
    agenda = AgendaItem.query.filter_by(meeting_id=meeting.id).order_by(AgendaItem.position, AgendaItem.id).all()
    resolutions = {r.agenda_item_id: r for r in Resolution.query.options(
        joinedload(Resolution.rescinds).joinedload(Resolution.meeting)).filter_by(meeting_id=meeting.id)}
    actions = (ActionItem.query.options(joinedload(ActionItem.owner_org), joinedload(ActionItem.owner_user))
               .filter_by(meeting_id=meeting.id).order_by(ActionItem.id).all())
    approvals = (MinutesApproval.query.options(joinedload(MinutesApproval.org), joinedload(MinutesApproval.user),
                                               joinedload(MinutesApproval.delegate))
                 .filter_by(meeting_id=meeting.id).order_by(MinutesApproval.id).all())
    return render_template("meetings/minutes_print.html", meeting=meeting, attendance=attendance, agenda=agenda,
                           resolutions=resolutions, actions=actions, approvals=approvals, now=utcnow(),
                           rescinded_by=_rescinded_by(resolutions.values()))


# ── action items ────────────────────────────────────────────────────────────────────────
@bp.route("/actions/<int:action_id>", methods=["POST"])
@login_required
def action_update(action_id):
    item = svc.get_action(g.community, action_id)
    data = {k: v for k, v in request.form.items() if k != "csrf_token" and k != "next"}
    _try(svc.update_action, item, current_user, data, success=_("The action item was updated."))
    return redirect(safe_next(request.form.get("next"), url_for("c.meetings.body", body_id=item.body_id)))
