"""JSON API of the meetings module, under /api/v1/c/<community>/meetings/..."""
from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from core import dates
from core.api import endpoint, json_body, paginate
from core.errors import Forbidden, ServiceError
from core.permissions import can
from plugins.meetings import services as svc
from plugins.meetings.models import (ActionItem, AgendaItem, Attendance, Body, Delegate, Meeting, MinutesApproval,
                                     Resolution)

api_bp = Blueprint("meetings_api", __name__, url_prefix="/meetings")
TAG = "meetings"


@api_bp.before_request
def gate():
    """The core gates page blueprints named after the plugin, but not ``<plugin>_api`` ones
    (core.web.gate_plugins compares the blueprint name with the plugin name): gate ourselves."""
    from flask import abort, current_app

    if not current_app.extensions["linli.plugins"].is_enabled(g.community, "meetings"):
        abort(404)


def body_json(b, full=False):
    data = {"id": b.id, "name": b.name, "description": b.description, "quorum_rule": b.quorum_rule,
            "quorum_number": b.quorum_number, "decision_rule": b.decision_rule,
            "topic_deadline_days": b.topic_deadline_days}
    if full:
        orgs, turn = svc.rotation(b)
        delegates = Delegate.query.filter_by(body_id=b.id, active=True).order_by(Delegate.id).all()
        data["next_chair_org_id"] = turn.id if turn else None
        data["organisations"] = [{"id": o.id, "name": o.name, "position": o.position,
                                  "delegates": [delegate_json(d) for d in delegates if d.org_id == o.id]}
                                 for o in orgs]
    return data


def delegate_json(d):
    return {"id": d.id, "org_id": d.org_id, "name": d.name, "role": d.role, "user_id": d.user_id}


def meeting_json(m, full=False):
    data = {"id": m.id, "body_id": m.body_id, "title": m.title, "starts_at": dates.local(m.starts_at).isoformat(),
            "ends_at": dates.local(m.ends_at).isoformat(), "place": m.place, "online_url": m.online_url,
            "chair_org_id": m.chair_org_id, "chair_reason": m.chair_reason, "status": m.status,
            "topics_deadline": dates.local(m.topics_deadline).isoformat(), "sequence": m.sequence, "uid": m.uid,
            "minutes_state": m.minutes_state}
    if full:
        data["agenda"] = [item_json(a) for a in AgendaItem.query.filter_by(meeting_id=m.id)
                          .order_by(AgendaItem.position, AgendaItem.id)]
        data["attendance"] = [attendance_json(a) for a in Attendance.query.filter_by(meeting_id=m.id)
                              .order_by(Attendance.id)]
        data["quorum"] = svc.quorum(m)
        resolutions = Resolution.query.filter_by(meeting_id=m.id).order_by(Resolution.id).all()
        rescinded = _rescinded_by([r.id for r in resolutions])
        data["resolutions"] = [resolution_json(r, rescinded.get(r.id)) for r in resolutions]
        data["action_items"] = [action_json(a) for a in ActionItem.query.filter_by(meeting_id=m.id)
                                .order_by(ActionItem.id)]
        data["minutes_approvals"] = [approval_json(a) for a in MinutesApproval.query
                                     .options(joinedload(MinutesApproval.delegate)).filter_by(meeting_id=m.id)
                                     .order_by(MinutesApproval.id)]
        data["minutes"] = m.minutes if svc.can_see_minutes(m, current_user) else None
    return data


def item_json(a):
    return {"id": a.id, "position": a.position, "kind": a.kind, "title": a.title, "description": a.description,
            "ref": a.ref, "url": a.url, "proposal_id": a.proposal_id, "action_item_id": a.action_item_id}


def attendance_json(a):
    return {"id": a.id, "delegate_id": a.delegate_id, "user_id": a.user_id, "status": a.status,
            "substitute_id": a.substitute_id, "recorded_at": dates.iso(a.recorded_at)}


def resolution_json(r, rescinded_by=None):
    """``counted`` false: no show of hands, the chair declared the result. ``rule``: what the motion
    needed of the votes cast. ``rescinded_by_id``: the decided motion that rescinded it, if any."""
    return {"id": r.id, "agenda_item_id": r.agenda_item_id, "outcome": r.outcome, "text": r.text,
            "votes_for": r.votes_for, "votes_against": r.votes_against, "votes_abstain": r.votes_abstain,
            "counted": r.counted, "declared_by_chair": not r.counted, "rule": r.rule,
            "rescinds_id": r.rescinds_id, "notice_given": r.notice_given, "rescinded_by_id": rescinded_by,
            "proposal_id": r.proposal_id, "proposal_to": r.proposal_to, "created_at": dates.iso(r.created_at)}


def _rescinded_by(ids):
    if not ids:
        return {}
    return dict(Resolution.query.with_entities(Resolution.rescinds_id, Resolution.id)
                .filter(Resolution.rescinds_id.in_(ids), Resolution.outcome == "decided"))


def approval_json(a):
    """``user_id``: the account that recorded it; ``on_behalf``: staff recorded the named delegate's
    approval for them, with ``reason``."""
    return {"org_id": a.org_id, "delegate_id": a.delegate_id, "delegate_name": a.delegate.name if a.delegate else None,
            "user_id": a.user_id, "on_behalf": a.on_behalf, "reason": a.reason, "approved_at": dates.iso(a.approved_at)}


def action_json(a, today=None):
    return {"id": a.id, "body_id": a.body_id, "meeting_id": a.meeting_id, "resolution_id": a.resolution_id,
            "title": a.title, "owner_org_id": a.owner_org_id, "owner_user_id": a.owner_user_id,
            "owner_name": a.owner_name, "due_date": a.due_date.isoformat() if a.due_date else None,
            "status": a.status, "overdue": svc.is_overdue(a, today), "explanation": a.explanation,
            "done_at": dates.iso(a.done_at)}


def _meeting(meeting_id):
    return svc.get_meeting(g.community, meeting_id)


# ── bodies ──────────────────────────────────────────────────────────────────────────────
@endpoint(api_bp, "/bodies", summary="Meeting bodies of the community", auth=False, tag=TAG,
          query={"page": ("integer", "page number", False), "per_page": ("integer", "items per page (≤100)", False)})
def bodies():
    q = Body.query.filter_by(community_id=g.community.id).order_by(Body.name, Body.id)
    return jsonify(paginate(q, body_json))


BODY_SETTINGS = {
    "description": ("string", "purpose", False),
    "quorum_rule": ("string", "majority | all_orgs | number", False),
    "quorum_number": ("integer", "delegates needed for the rule 'number'", False),
    "decision_rule": ("string", "majority | two_thirds (of the votes cast, when hands are counted)", False),
    "topic_deadline_days": ("integer", "topics due this many days before a meeting", False)}


@endpoint(api_bp, "/bodies", ["POST"], summary="Set up a meeting body (staff)", tag=TAG, body={
    "name": ("string", "name", True), "orgs": ("array", "member organisations in chair-rotation order", False),
    **BODY_SETTINGS})
def body_create():
    data = json_body()
    if not isinstance(data.get("orgs", []), list):
        raise ServiceError("invalid", _("Please correct the marked fields."), fields={"orgs": _("Send a list of names.")})
    body = svc.create_body(g.community, current_user, data)
    return jsonify(body_json(body, full=True)), 201


@endpoint(api_bp, "/bodies/<int:body_id>", summary="A body with its organisations, delegates and next chair",
          auth=False, tag=TAG)
def body_get(body_id):
    return jsonify(body_json(svc.get_body(g.community, body_id), full=True))


@endpoint(api_bp, "/bodies/<int:body_id>", ["PUT"], summary="Change a body's settings (staff; fields not sent are kept)",
          tag=TAG, body={"name": ("string", "name", False), **BODY_SETTINGS})
def body_update(body_id):
    body = svc.update_body(svc.get_body(g.community, body_id), current_user, json_body())
    return jsonify(body_json(body, full=True))


@endpoint(api_bp, "/bodies/<int:body_id>/organisations", ["POST"], summary="Add a member organisation (staff)",
          tag=TAG, body={"name": ("string", "name", True)})
def org_create(body_id):
    org = svc.add_org(svc.get_body(g.community, body_id), current_user, json_body().get("name"))
    return jsonify({"id": org.id, "name": org.name, "position": org.position}), 201


@endpoint(api_bp, "/bodies/<int:body_id>/delegates", ["POST"], summary="Add a delegate or substitute (staff)",
          tag=TAG, body={"org_id": ("integer", "organisation", True), "name": ("string", "name", False),
                         "login": ("string", "account (phone or user name)", False),
                         "role": ("string", "delegate | substitute", False)})
def delegate_create(body_id):
    d = svc.add_delegate(svc.get_body(g.community, body_id), current_user, json_body())
    return jsonify(delegate_json(d)), 201


@endpoint(api_bp, "/bodies/<int:body_id>/meetings", summary="Meetings of a body, latest first", auth=False, tag=TAG,
          query={"status": ("string", "scheduled | held | adjourned | cancelled", False),
                 "page": ("integer", "page number", False), "per_page": ("integer", "items per page (≤100)", False)})
def body_meetings(body_id):
    body = svc.get_body(g.community, body_id)
    q = Meeting.query.filter_by(body_id=body.id)
    status = request.args.get("status")
    if status:
        if status not in ("scheduled", "held", "adjourned", "cancelled"):
            raise ServiceError("invalid_filter", _("Unknown value for %(name)s.", name="status"),
                               fields={"status": _("Unknown value.")})
        q = q.filter_by(status=status)
    return jsonify(paginate(q.order_by(Meeting.starts_at.desc(), Meeting.id.desc()), meeting_json))


@endpoint(api_bp, "/bodies/<int:body_id>/meetings", ["POST"], summary="Schedule a meeting (staff)", tag=TAG,
          idempotent=True, body={
              "starts_at": ("string", "ISO 8601 with offset, in the future", True),
              "duration": ("integer", "minutes (default 120)", False), "title": ("string", "title", False),
              "place": ("string", "place", False), "online_url": ("string", "online meeting link", False),
              "chair_org_id": ("integer", "chair other than the rotation's", False),
              "chair_reason": ("string", "why the rotation is overridden", False)})
def meeting_create(body_id):
    meeting = svc.schedule(svc.get_body(g.community, body_id), current_user, json_body())
    return jsonify(meeting_json(meeting, full=True)), 201


@endpoint(api_bp, "/bodies/<int:body_id>/action-items", summary="Open action items of a body (overdue first)",
          auth=False, tag=TAG, query={"status": ("string", "open | in_progress | done | overdue", False)})
def body_actions(body_id):
    body = svc.get_body(g.community, body_id)
    q = ActionItem.query.filter_by(body_id=body.id)
    status = request.args.get("status")
    today = dates.today()
    if status == "overdue":
        q = q.filter(ActionItem.status != "done", ActionItem.due_date < today)
    elif status in ("open", "in_progress", "done"):
        q = q.filter_by(status=status)
    elif status:
        raise ServiceError("invalid_filter", _("Unknown value for %(name)s.", name="status"),
                           fields={"status": _("Unknown value.")})
    q = q.order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
    return jsonify(paginate(q, lambda a: action_json(a, today)))


# ── meetings ────────────────────────────────────────────────────────────────────────────
@endpoint(api_bp, "/<int:meeting_id>", summary="A meeting with agenda, attendance, quorum, resolutions, action items",
          auth=False, tag=TAG)
def meeting_get(meeting_id):
    return jsonify(meeting_json(_meeting(meeting_id), full=True))


@endpoint(api_bp, "/<int:meeting_id>", ["PUT"], summary="Change time, place or title (staff; SEQUENCE + 1; fields not sent are kept)",
          tag=TAG, body={"starts_at": ("string", "ISO 8601 with offset", False), "duration": ("integer", "minutes", False),
                         "title": ("string", "title", False), "place": ("string", "place", False),
                         "online_url": ("string", "online meeting link", False)})
def meeting_update(meeting_id):
    data = {k: v for k, v in json_body().items() if k in ("starts_at", "duration", "title", "place", "online_url")}
    meeting = svc.update_meeting(_meeting(meeting_id), current_user, data)
    return jsonify(meeting_json(meeting, full=True))


@endpoint(api_bp, "/<int:meeting_id>/cancel", ["POST"], summary="Cancel a meeting (staff)", tag=TAG,
          body={"reason": ("string", "why", True)})
def meeting_cancel(meeting_id):
    return jsonify(meeting_json(svc.cancel(_meeting(meeting_id), current_user, json_body().get("reason"))))


@endpoint(api_bp, "/<int:meeting_id>/held", ["POST"], summary="Record the meeting as held (needs quorum)", tag=TAG)
def meeting_held(meeting_id):
    return jsonify(meeting_json(svc.close(_meeting(meeting_id), current_user), full=True))


@endpoint(api_bp, "/<int:meeting_id>/adjourn", ["POST"], summary="Adjourn the meeting (staff)", tag=TAG,
          body={"reason": ("string", "why", True)})
def meeting_adjourn(meeting_id):
    return jsonify(meeting_json(svc.adjourn(_meeting(meeting_id), current_user, json_body().get("reason"))))


@endpoint(api_bp, "/<int:meeting_id>/agenda", ["POST"], summary="Add an agenda item (topic, proposal or handed-over case)",
          tag=TAG, body={"kind": ("string", "free | proposal | external", False), "title": ("string", "title", False),
                         "description": ("string", "details", False), "proposal_id": ("integer", "proposal", False),
                         "ref": ("string", "a candidate's ref from agenda_sources", False)})
def agenda_create(meeting_id):
    item = svc.add_agenda_item(_meeting(meeting_id), current_user, json_body())
    return jsonify(item_json(item)), 201


@endpoint(api_bp, "/<int:meeting_id>/agenda-candidates", summary="Cases other modules offer for the agenda (staff)",
          tag=TAG)
def agenda_candidates(meeting_id):
    _meeting(meeting_id)
    if not can(svc.MANAGE):
        raise Forbidden("forbidden", _("You do not have permission to do this."))
    return jsonify({"items": [{"ref": c.ref, "title": c.title, "url": c.url}
                              for c in svc.agenda_candidates(g.community, current_user)]})


@endpoint(api_bp, "/<int:meeting_id>/attendance", ["POST"], summary="Record a delegate's attendance (staff)", tag=TAG,
          body={"delegate_id": ("integer", "delegate", False), "login": ("string", "a resident who attended", False),
                "status": ("string", "present | absent | excused | substitute", False),
                "substitute_id": ("integer", "the substitute who came", False)})
def attendance_create(meeting_id):
    meeting = _meeting(meeting_id)
    data = json_body()
    if data.get("login") and not data.get("delegate_id"):
        row = svc.record_resident(meeting, current_user, svc.find_user_login(data.get("login")))
    else:
        row = svc.record_attendance(meeting, current_user, data.get("delegate_id"), data.get("status"),
                                    data.get("substitute_id"))
    return jsonify(attendance_json(row)), 201


@endpoint(api_bp, "/<int:meeting_id>/agenda/<int:item_id>/resolution", ["POST"], tag=TAG, idempotent=True,
          summary="Record the resolution on an agenda item (needs quorum); may move a proposal on",
          body={"outcome": ("string", "decided | deferred | rejected", True), "text": ("string", "resolution", True),
                "votes_for": ("integer", "show of hands", False), "votes_against": ("integer", "show of hands", False),
                "votes_abstain": ("integer", "show of hands", False),
                "proposal_to": ("string", "move the proposal to this stage", False),
                "rescinds_id": ("integer", "a motion to rescind this earlier decision of the body", False),
                "notice_given": ("boolean", "notice of the motion to rescind was given in advance", False),
                "actions": ("array", "action items: title, owner_org_id, owner_name, owner_login, due_date", False)})
def resolution_create(meeting_id, item_id):
    meeting = _meeting(meeting_id)
    res = svc.record_resolution(svc.get_item(meeting, item_id), current_user, json_body())
    data = resolution_json(res)
    data["action_items"] = [action_json(a) for a in ActionItem.query.filter_by(resolution_id=res.id)]
    return jsonify(data), 201


@endpoint(api_bp, "/<int:meeting_id>/minutes", ["PUT"], summary="Save the draft minutes (Markdown)", tag=TAG,
          body={"minutes": ("string", "Markdown", True)})
def minutes_save(meeting_id):
    meeting = svc.save_minutes(_meeting(meeting_id), current_user, json_body().get("minutes"))
    return jsonify(meeting_json(meeting, full=True))


@endpoint(api_bp, "/<int:meeting_id>/minutes/<any(submit, reopen, approve, publish):action>", ["POST"], tag=TAG,
          summary="Minutes workflow: submit for review, reopen, approve for an organisation, publish",
          body={"org_id": ("integer", "organisation approving (approve)", False),
                "delegate_id": ("integer", "staff: the delegate whose approval is recorded for them (approve)", False),
                "reason": ("string", "staff: why the approval is recorded for the delegate (approve)", False)})
def minutes_step(meeting_id, action):
    meeting = _meeting(meeting_id)
    if action == "submit":
        svc.submit_minutes(meeting, current_user)
    elif action == "reopen":
        svc.reopen_minutes(meeting, current_user)
    elif action == "approve":
        data = json_body()
        svc.approve_minutes(meeting, current_user, data.get("org_id"), data.get("delegate_id"), data.get("reason"))
    else:
        svc.publish_minutes(meeting, current_user)
    return jsonify(meeting_json(meeting, full=True))


@endpoint(api_bp, "/action-items/<int:action_id>", ["PUT"], summary="Update an action item (closing needs owner and due date; fields not sent are kept)",
          tag=TAG, body={"owner_org_id": ("integer", "responsible organisation", False),
                         "owner_name": ("string", "responsible person", False),
                         "owner_login": ("string", "responsible account", False),
                         "due_date": ("string", "YYYY-MM-DD", False),
                         "status": ("string", "open | in_progress | done", False),
                         "explanation": ("string", "why it is late and how it will be fixed", False)})
def action_update(action_id):
    item = svc.update_action(svc.get_action(g.community, action_id), current_user, json_body())
    return jsonify(action_json(item))
