"""Every state change of the meetings module (views, API and CLI all come through here).

Each function checks the actor's rights, validates everything before it writes, and raises a
ServiceError when it refuses. None commits: the entry point (a view, an API handler, a command)
runs the call in its transaction (core.db.transaction), so a refusal anywhere leaves nothing
saved."""
import uuid
from datetime import date, datetime, timedelta
from fractions import Fraction

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from core import dates
from core.db import insert_row
from core.errors import Conflict, Forbidden, NotFound, ServiceError
from core.events import Event, emit
from core.extensions import db
from core.inputs import whole_number
from core.models import Proposal, utcnow
from core.permissions import can, membership_of
from core.services import audit
from core.services.notifications import N_, notify
from plugins.meetings.models import (ACTION_STATUSES, ATTENDANCE, DECISION_RULES, OUTCOMES, QUORUM_RULES, ActionItem,
                                     AgendaItem, Attendance, Body, Delegate, Meeting, MinutesApproval, Org,
                                     Resolution)

MANAGE = "meetings.meetings.manage"
BODIES = "meetings.bodies.manage"
TOPICS = "meetings.topics.submit"
MINUTES = "meetings.minutes.write"
ACTIONS = "meetings.actions.manage"
CLOSED_PROPOSAL_STATES = ("draft", "withdrawn")


# ── helpers ─────────────────────────────────────────────────────────────────────────────
def parse_local(day, time_str):
    """An aware UTC datetime from a local date (date or ISO string) and "HH:MM" in the community's zone."""
    try:
        d = day if isinstance(day, date) else date.fromisoformat(str(day))
        hh, mm = (int(x) for x in str(time_str).split(":")[:2])
        return dates.from_local(datetime(d.year, d.month, d.day, hh, mm))
    except (TypeError, ValueError):
        return None


def parse_iso(value):
    """An aware datetime from ISO 8601 with an offset (the API); naive times are local."""
    try:
        dt = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return dates.from_local(dt)


def _need(permission, community, actor, obj=None):
    if actor is None or not can(permission, community, obj=obj, user=actor):
        raise Forbidden("forbidden", _("You do not have permission to do this."))


def _invalid(fields, message=None):
    raise ServiceError("invalid", message or _("Please correct the marked fields."), fields=fields)


def _url(endpoint, community, **kw):
    try:
        return url_for(endpoint, community=community.slug, **kw)
    except RuntimeError:
        return None


def _bump(meeting):
    """Every change a calendar should see: SEQUENCE + 1 (R33)."""
    meeting.sequence = (meeting.sequence or 0) + 1
    meeting.updated_at = utcnow()


def _bump_body(body):
    """A change every meeting of the body shows in calendars (its attendees, its name): SEQUENCE + 1
    on each, in one UPDATE (R33). Every event of the body's feed lists the current delegates."""
    db.session.execute(update(Meeting).where(Meeting.body_id == body.id)
                       .values(sequence=Meeting.sequence + 1, updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    for m in db.session.identity_map.values():
        if isinstance(m, Meeting) and m.body_id == body.id:
            db.session.expire(m, ["sequence", "updated_at"])


# ── look-ups ────────────────────────────────────────────────────────────────────────────
def get_body(community, body_id) -> Body:
    body = db.session.get(Body, whole_number(body_id, "body_id") or 0)
    if body is None or body.community_id != community.id:
        raise NotFound("not_found", _("No such meeting body."))
    return body


def get_meeting(community, meeting_id) -> Meeting:
    meeting = db.session.get(Meeting, whole_number(meeting_id, "meeting_id") or 0)
    if meeting is None or meeting.community_id != community.id:
        raise NotFound("not_found", _("No such meeting."))
    return meeting


def get_item(meeting, item_id) -> AgendaItem:
    item = db.session.get(AgendaItem, whole_number(item_id, "item_id") or 0)
    if item is None or item.meeting_id != meeting.id:
        raise NotFound("not_found", _("No such agenda item."))
    return item


def get_action(community, action_id) -> ActionItem:
    item = db.session.get(ActionItem, whole_number(action_id, "action_id") or 0)
    if item is None or item.community_id != community.id:
        raise NotFound("not_found", _("No such action item."))
    return item


def active_delegates(body, role=None):
    q = Delegate.query.filter_by(body_id=body.id, active=True)
    if role:
        q = q.filter_by(role=role)
    return q.order_by(Delegate.org_id, Delegate.role, Delegate.id).all()


def is_delegate(user, body) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.query(Delegate.query.filter_by(body_id=body.id, user_id=user.id, active=True)
                            .exists()).scalar()


def can_see_minutes(meeting, user) -> bool:
    if meeting.minutes_state == "published":
        return True
    community = meeting.community
    return can(MINUTES, community, user=user) or is_delegate(user, meeting.body)


def is_overdue(item, today=None) -> bool:
    today = today or dates.today(item.community if hasattr(item, "community") else None)
    return item.status != "done" and item.due_date is not None and item.due_date < today


# ── bodies, organisations, delegates ────────────────────────────────────────────────────
def _body_fields(data, community, body=None):
    errors = {}
    name = (data.get("name") or "").strip()
    rule = data.get("quorum_rule") or "majority"
    decision = data.get("decision_rule") or "majority"
    number = whole_number(data.get("quorum_number"), "quorum_number")
    days = whole_number(data.get("topic_deadline_days"), "topic_deadline_days", default=3)
    if not 2 <= len(name) <= 120:
        errors["name"] = _("Give a name of 2 to 120 characters.")
    elif Body.query.filter(Body.community_id == community.id, Body.name == name,
                           Body.id != (body.id if body else -1)).first():
        errors["name"] = _("This community already has a body with that name.")
    if rule not in QUORUM_RULES:
        errors["quorum_rule"] = _("Choose a quorum rule.")
    if decision not in DECISION_RULES:
        errors["decision_rule"] = _("Choose a simple majority or two thirds of the votes cast.")
    if rule == "number" and (number is None or number < 1):
        errors["quorum_number"] = _("Give the number of delegates needed (at least 1).")
    if not 0 <= days <= 60:
        errors["topic_deadline_days"] = _("Give a number of days from 0 to 60.")
    if errors:
        _invalid(errors)
    return {"name": name, "description": (data.get("description") or "").strip()[:5000],
            "quorum_rule": rule, "quorum_number": number if rule == "number" else None,
            "decision_rule": decision, "topic_deadline_days": days}


def create_body(community, actor, data):
    """A standing body with its member organisations (``orgs``: names, in chair-rotation order)."""
    _need(BODIES, community, actor)
    fields = _body_fields(data, community)
    orgs = [o.strip() for o in (data.get("orgs") or []) if o and o.strip()]
    if len(set(orgs)) != len(orgs):
        _invalid({"orgs": _("Each organisation may appear once.")})
    if any(len(o) > 120 for o in orgs):
        _invalid({"orgs": _("Organisation names have at most 120 characters.")})
    body = Body(community_id=community.id, **fields)
    db.session.add(body)
    db.session.flush()
    for i, name in enumerate(orgs):
        db.session.add(Org(body_id=body.id, name=name, position=i))
    audit.record("meetings.body.created", community=community, obj=body, actor=actor,
                 after=dict(fields, orgs=orgs))
    return body


def update_body(body, actor, data):
    """Change a body's settings; fields not in ``data`` are kept. A new name shows in every
    meeting's calendar entry, so their SEQUENCE goes up (R33)."""
    community = _community_of(body)
    _need(BODIES, community, actor)
    current = {k: getattr(body, k) for k in ("name", "description", "quorum_rule", "quorum_number",
                                             "decision_rule", "topic_deadline_days")}
    fields = _body_fields({**current, **{k: v for k, v in data.items() if k in current}}, community, body)
    before = {k: getattr(body, k) for k in fields}
    if before == fields:
        return body
    renamed = fields["name"] != body.name
    for k, v in fields.items():
        setattr(body, k, v)
    if renamed:
        _bump_body(body)
    audit.record("meetings.body.edited", community=community, obj=body, actor=actor, before=before, after=fields)
    return body


def _community_of(body):
    return body.community


def add_org(body, actor, name):
    community = _community_of(body)
    _need(BODIES, community, actor)
    name = (name or "").strip()
    if not 2 <= len(name) <= 120:
        _invalid({"name": _("Give a name of 2 to 120 characters.")})
    if Org.query.filter_by(body_id=body.id, name=name).first():
        raise Conflict("duplicate_org", _("This organisation is already a member."),
                       fields={"name": _("This organisation is already a member.")})
    last = db.session.query(db.func.max(Org.position)).filter_by(body_id=body.id).scalar()
    org = Org(body_id=body.id, name=name, position=(last + 1) if last is not None else 0)
    db.session.add(org)
    db.session.flush()
    audit.record("meetings.org.added", community=community, obj=org, actor=actor, after={"name": name})
    return org


def add_delegate(body, actor, data):
    """Add a delegate or substitute for one organisation; ``login`` links an account."""
    community = _community_of(body)
    _need(BODIES, community, actor)
    errors = {}
    org = db.session.get(Org, whole_number(data.get("org_id"), "org_id") or 0)
    if org is None or org.body_id != body.id:
        errors["org_id"] = _("Choose an organisation of this body.")
    role = data.get("role") or "delegate"
    if role not in ("delegate", "substitute"):
        errors["role"] = _("Choose delegate or substitute.")
    user = None
    login = (data.get("login") or "").strip()
    if login:
        from core.services.accounts import find_user

        user = find_user(login)
        if user is None or membership_of(user, community) is None:
            errors["login"] = _("No member of this community has that phone number or user name.")
        elif user.id == getattr(actor, "id", None):
            # A delegate's account reads the body's minutes before they are published and
            # approves them for its organisation: a right someone else gives.
            msg = _("You cannot make yourself a delegate: another staff member must add you.")
            raise Forbidden("own_delegate", msg, fields={"login": msg})
    name = (data.get("name") or "").strip() or (user.display_name if user else "")
    if not 1 <= len(name) <= 80:
        errors["name"] = _("Give the person's name.")
    if errors:
        _invalid(errors)
    d = Delegate(body_id=body.id, org_id=org.id, name=name, role=role, user_id=user.id if user else None)
    db.session.add(d)
    db.session.flush()
    if role == "delegate":
        _bump_body(body)  # a new attendee of every meeting's calendar entry (substitutes are not listed)
    audit.record("meetings.delegate.added", community=community, obj=d, actor=actor,
                 after={"org": org.name, "name": name, "role": role, "user_id": d.user_id})
    return d


def remove_delegate(body, actor, delegate_id):
    community = _community_of(body)
    _need(BODIES, community, actor)
    d = db.session.get(Delegate, whole_number(delegate_id, "delegate_id") or 0)
    if d is None or d.body_id != body.id:
        raise NotFound("not_found", _("No such delegate."))
    if not d.active:
        return d
    d.active = False
    if d.role == "delegate":
        _bump_body(body)  # one attendee fewer in every meeting's calendar entry
    audit.record("meetings.delegate.removed", community=community, obj=d, actor=actor, before={"name": d.name})
    return d


def rotation(body):
    """(organisations in rotation order, the organisation whose turn it is)."""
    orgs = Org.query.filter_by(body_id=body.id).order_by(Org.position, Org.id).all()
    if not orgs:
        return orgs, None
    return orgs, orgs[body.rotation_index % len(orgs)]


# ── meetings ────────────────────────────────────────────────────────────────────────────
def _meeting_fields(body, data, *, require_future=True, old_start=None):
    errors = {}
    title = (data.get("title") or "").strip() or body.name
    starts = data.get("starts_at")
    starts = starts if isinstance(starts, datetime) else parse_iso(starts)
    if starts is None and data.get("date"):
        starts = parse_local(data.get("date"), data.get("time") or "")
    minutes = whole_number(data.get("duration"), "duration", default=120)
    place = (data.get("place") or "").strip()
    online = (data.get("online_url") or "").strip() or None
    if len(title) > 160:
        errors["title"] = _("Give a title of at most 160 characters.")
    if starts is None:
        errors["starts_at"] = _("Give the date and time of the meeting.")
    elif require_future and starts != old_start and starts <= utcnow():
        errors["starts_at"] = _("The meeting cannot start in the past.")
    if not 15 <= minutes <= 12 * 60:
        errors["duration"] = _("Give a duration of 15 minutes to 12 hours.")
    if not place and not online:
        errors["place"] = _("Give a place or an online link.")
    if len(place) > 200:
        errors["place"] = _("Give a place of at most 200 characters.")
    if online and (not online.startswith(("https://", "http://")) or len(online) > 300):
        errors["online_url"] = _("Give a web address starting with https://.")
    if errors:
        _invalid(errors)
    return {"title": title, "starts_at": starts, "ends_at": starts + timedelta(minutes=minutes),
            "place": place, "online_url": online}


def schedule(body, actor, data):
    """Schedule a meeting: the chair is the organisation whose turn it is, unless ``chair_org_id``
    names another with a ``chair_reason``. The agenda starts by confirming the previous minutes and
    carries the body's overdue action items. Delegates with an account are invited in-app."""
    community = _community_of(body)
    _need(MANAGE, community, actor)
    fields = _meeting_fields(body, data)
    orgs, turn = rotation(body)
    if not orgs:
        _invalid({"chair_org_id": _("Add the member organisations first.")},
                 _("This body has no member organisations yet."))
    chair_id = whole_number(data.get("chair_org_id"), "chair_org_id") or turn.id
    chair = next((o for o in orgs if o.id == chair_id), None)
    reason = (data.get("chair_reason") or "").strip()[:300] or None
    if chair is None:
        _invalid({"chair_org_id": _("Choose an organisation of this body.")})
    if chair.id != turn.id and not reason:
        _invalid({"chair_reason": _("Say why the chair differs from the rotation.")},
                 _("Say why the chair differs from the rotation."))
    meeting = Meeting(community_id=community.id, body_id=body.id, chair_org_id=chair.id,
                      chair_reason=reason if chair.id != turn.id else None,
                      uid=f"{uuid.uuid4()}@linli", sequence=0, created_by_id=actor.id,
                      topics_deadline=fields["starts_at"] - timedelta(days=body.topic_deadline_days), **fields)
    db.session.add(meeting)
    # The turn passes on to the organisation after this meeting's chair.
    body.rotation_index = orgs.index(chair) + 1
    db.session.flush()
    pos = 0
    previous = (Meeting.query.filter(Meeting.body_id == body.id, Meeting.id != meeting.id,
                                     Meeting.status.in_(("held", "adjourned")))
                .order_by(Meeting.starts_at.desc()).first())
    if previous is not None:
        db.session.add(AgendaItem(
            meeting_id=meeting.id, position=pos, kind="minutes", ref=f"minutes:{previous.id}",
            title=_("Confirm the minutes of the meeting of %(date)s", date=dates.format_local(previous.starts_at, community)[:10]),
            url=_url("c.meetings.meeting", community, meeting_id=previous.id)))
        pos += 1
    today = dates.today(community)
    for item in (ActionItem.query.filter(ActionItem.body_id == body.id, ActionItem.status != "done",
                                         ActionItem.due_date < today).order_by(ActionItem.due_date, ActionItem.id)):
        _carry(meeting, item, pos)
        pos += 1
    audit.record("meetings.meeting.scheduled", community=community, obj=meeting, actor=actor,
                 after=dict(fields, chair=chair.name, chair_reason=meeting.chair_reason))
    _invite(meeting, community, N_("You are invited to “%(title)s” on %(when)s at %(place)s."))
    return meeting


def _carry(meeting, item, position):
    db.session.add(AgendaItem(meeting_id=meeting.id, position=position, kind="overdue",
                              ref=f"action_item:{item.id}", action_item_id=item.id,
                              title=_("Overdue: %(title)s", title=item.title)[:200]))


def _invite(meeting, community, message):
    for d in active_delegates(meeting.body):
        if d.user_id:
            notify(d.user_id, community, "meetings.invitation", message,
                   {"title": meeting.title, "when": dates.format_local(meeting.starts_at),
                    "place": meeting.place or meeting.online_url or ""},
                   url=_url("c.meetings.meeting", community, meeting_id=meeting.id))


def _editable(meeting):
    if meeting.status != "scheduled":
        raise Conflict("not_scheduled", _("This meeting is %(status)s and can no longer be changed.",
                                          status=meeting.status_label))


def update_meeting(meeting, actor, data):
    """Change time, place or title; the calendar entry's SEQUENCE goes up and delegates are told."""
    community = meeting.community
    _need(MANAGE, community, actor)
    _editable(meeting)
    merged = {"title": meeting.title, "starts_at": meeting.starts_at, "place": meeting.place,
              "online_url": meeting.online_url,
              "duration": int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)}
    merged.update({k: v for k, v in data.items() if v is not None})
    if data.get("date"):
        merged["starts_at"] = None
    fields = _meeting_fields(meeting.body, merged, old_start=meeting.starts_at)
    before = {k: getattr(meeting, k) for k in fields}
    if before == fields:
        return meeting
    for k, v in fields.items():
        setattr(meeting, k, v)
    meeting.topics_deadline = meeting.starts_at - timedelta(days=meeting.body.topic_deadline_days)
    _bump(meeting)
    audit.record("meetings.meeting.changed", community=community, obj=meeting, actor=actor, before=before,
                 after=fields)
    _invite(meeting, community, N_("“%(title)s” has changed: now on %(when)s at %(place)s."))
    return meeting


def cancel(meeting, actor, reason):
    community = meeting.community
    _need(MANAGE, community, actor)
    _editable(meeting)
    reason = (reason or "").strip()
    if not reason:
        _invalid({"reason": _("Say why the meeting is cancelled.")}, _("Say why the meeting is cancelled."))
    meeting.status = "cancelled"
    meeting.adjourn_reason = reason[:300]
    _bump(meeting)
    audit.record("meetings.meeting.cancelled", community=community, obj=meeting, actor=actor,
                 before={"status": "scheduled"}, after={"status": "cancelled"}, reason=reason)
    _invite(meeting, community, N_("“%(title)s” on %(when)s is cancelled."))
    return meeting


# ── agenda ──────────────────────────────────────────────────────────────────────────────
def agenda_candidates(community, user):
    """What other modules offer for an agenda (core hook ``agenda_sources``)."""
    from flask import g

    hooks = g.get("hooks") or current_app.extensions["linli.plugins"].hooks_for(community)
    out = []
    for group in hooks.agenda_sources(community=community, user=user):
        out.extend(group or ())
    return out


def add_agenda_item(meeting, actor, data):
    """Add a topic (``kind`` free), a proposal (``proposal_id``) or a handed-over case (``ref`` from
    ``agenda_sources``). Residents may submit topics until the topics deadline; staff any time
    while the meeting is scheduled."""
    community = meeting.community
    manager = can(MANAGE, community, user=actor)
    if not manager:
        _need(TOPICS, community, actor)
    _editable(meeting)
    if not manager and utcnow() > meeting.topics_deadline:
        raise Conflict("deadline_passed", _("Topics for this meeting had to be in by %(when)s.",
                                            when=dates.format_local(meeting.topics_deadline)))
    kind = data.get("kind") or ("proposal" if data.get("proposal_id") else "external" if data.get("ref") else "free")
    title = (data.get("title") or "").strip()
    description = (data.get("description") or "").strip()
    fields = {"kind": kind, "description": description[:5000], "submitted_by_id": actor.id}
    if kind == "proposal":
        proposal = db.session.get(Proposal, whole_number(data.get("proposal_id"), "proposal_id") or 0)
        if proposal is None or proposal.community_id != community.id:
            _invalid({"proposal_id": _("Choose a proposal of this community.")})
        if proposal.state in CLOSED_PROPOSAL_STATES:
            raise Conflict("proposal_closed", _("A proposal that is %(state)s cannot go on an agenda.",
                                                state=proposal.state_label),
                           fields={"proposal_id": _("A proposal that is %(state)s cannot go on an agenda.",
                                                    state=proposal.state_label)})
        fields.update(title=title or proposal.title, proposal_id=proposal.id, ref=f"proposal:{proposal.id}",
                      url=_url("c.proposals.detail", community, proposal_id=proposal.id))
    elif kind == "external":
        ref = (data.get("ref") or "").strip()
        cand = next((c for c in agenda_candidates(community, actor) if c.ref == ref), None)
        if cand is None:
            _invalid({"ref": _("Choose one of the cases offered for the agenda.")})
        fields.update(title=title or cand.title, ref=ref, url=cand.url)
    elif kind == "free":
        fields.update(title=title, ref=None)
    else:
        _invalid({"kind": _("Choose what kind of item to add.")})
    if not 2 <= len(fields["title"]) <= 200:
        _invalid({"title": _("Give a title of 2 to 200 characters.")})
    fields["title"] = fields["title"][:200]
    if fields.get("ref") and AgendaItem.query.filter_by(meeting_id=meeting.id, ref=fields["ref"]).first():
        raise Conflict("duplicate_item", _("This is already on the agenda."))
    last = db.session.query(db.func.max(AgendaItem.position)).filter_by(meeting_id=meeting.id).scalar()
    item = AgendaItem(meeting_id=meeting.id, position=(last + 1) if last is not None else 0, **fields)
    db.session.add(item)
    try:
        db.session.flush()
    except IntegrityError:  # the same ref added a moment ago: the entry point rolls back
        raise Conflict("duplicate_item", _("This is already on the agenda."))
    _bump(meeting)
    audit.record("meetings.agenda.added", community=community, obj=item, actor=actor,
                 after={"kind": kind, "title": item.title, "ref": item.ref})
    return item


def remove_agenda_item(meeting, actor, item):
    community = meeting.community
    _need(MANAGE, community, actor)
    _editable(meeting)
    if Resolution.query.filter_by(agenda_item_id=item.id).first():
        raise Conflict("has_resolution", _("This item already has a resolution."))
    if item.kind == "minutes":
        raise Conflict("minutes_item", _("A meeting starts by confirming the previous minutes; this item stays."))
    audit.record("meetings.agenda.removed", community=community, obj=item, actor=actor, before={"title": item.title})
    db.session.delete(item)
    _bump(meeting)


# ── attendance and quorum ───────────────────────────────────────────────────────────────
def _attending(meeting):
    if meeting.status not in ("scheduled", "held"):
        raise Conflict("not_open", _("Attendance cannot be recorded for a meeting that is %(status)s.",
                                     status=meeting.status_label))


def record_attendance(meeting, actor, delegate_id, status, substitute_id=None):
    """Record one delegate's attendance (present, absent, excused, or represented by one of their
    organisation's substitutes). One row per delegate and meeting, even under concurrent requests."""
    _need(MANAGE, meeting.community, actor)
    _attending(meeting)
    return _attendance_row(meeting, actor, delegate_id, status, substitute_id)


def record_attendance_many(meeting, actor, rows):
    """Several delegates at once (the attendance form): all saved, or none."""
    _need(MANAGE, meeting.community, actor)
    _attending(meeting)
    return [_attendance_row(meeting, actor, d, st, sub, race_ok=False) for d, st, sub in rows]


def _attendance_row(meeting, actor, delegate_id, status, substitute_id, race_ok=True):
    community = meeting.community
    delegate = db.session.get(Delegate, whole_number(delegate_id, "delegate_id") or 0)
    if delegate is None or delegate.body_id != meeting.body_id or delegate.role != "delegate":
        _invalid({"delegate_id": _("Choose a delegate of this body.")})
    if status not in ATTENDANCE:
        _invalid({"status": _("Choose present, absent, excused or substitute.")})
    sub = None
    if status == "substitute":
        sub = db.session.get(Delegate, whole_number(substitute_id, "substitute_id") or 0)
        if sub is None or sub.body_id != meeting.body_id or sub.org_id != delegate.org_id \
                or sub.role != "substitute" or not sub.active:
            _invalid({"substitute_id": _("The substitute must be a registered substitute of the same organisation.")},
                     _("The substitute must be a registered substitute of the same organisation."))
    values = {"status": status, "substitute_id": sub.id if sub else None, "recorded_by_id": actor.id,
              "recorded_at": utcnow()}
    meeting_id, did = meeting.id, delegate.id
    row = Attendance.query.filter_by(meeting_id=meeting_id, delegate_id=did).first()
    if row is None:
        # The unique constraint, not this check, keeps one row per delegate under races: a row
        # it refuses is not written and the transaction goes on (core.db.insert_row).
        row = insert_row(Attendance, if_free=True, meeting_id=meeting_id, delegate_id=did, **values)
        if row is None:
            # Another request recorded this delegate a moment ago: update that row instead.
            if not race_ok:
                raise Conflict("stale_state", _("Someone else has just recorded attendance; reload the page."))
            row = Attendance.query.filter_by(meeting_id=meeting_id, delegate_id=did).one()
        else:
            values = {}
    for k, v in values.items():
        setattr(row, k, v)
    audit.record("meetings.attendance", community=community, object_type="meetings_meeting",
                 object_id=str(meeting_id), actor=actor, after={"delegate_id": did, **values})
    return row


def record_resident(meeting, actor, user):
    """A resident (not a delegate) attended; counted for ``meeting.attended`` but not for quorum."""
    community = meeting.community
    _need(MANAGE, community, actor)
    _attending(meeting)
    if user is None or membership_of(user, community) is None:
        _invalid({"login": _("No member of this community has that phone number or user name.")})
    row = Attendance.query.filter_by(meeting_id=meeting.id, user_id=user.id).first()
    if row is None:
        # One row per resident and meeting under races too: one the unique constraint refuses is
        # not written, and the row recorded a moment ago is the answer.
        row = insert_row(Attendance, if_free=True, meeting_id=meeting.id, user_id=user.id, status="present",
                         recorded_by_id=actor.id)
        if row is None:
            return Attendance.query.filter_by(meeting_id=meeting.id, user_id=user.id).one()
        audit.record("meetings.attendance", community=community, object_type="meetings_meeting",
                     object_id=str(meeting.id), actor=actor, after={"user_id": user.id, "status": "present"})
    return row


def quorum(meeting, delegates=None, attendance=None):
    """Whether the meeting is quorate under its body's rule (R29: default a majority of delegates).

    Returns a dict: present, total, orgs_present, orgs_total, needed, met."""
    body = meeting.body
    delegates = delegates if delegates is not None else active_delegates(body, "delegate")
    delegates = [d for d in delegates if d.role == "delegate" and d.active]
    if attendance is None:
        attendance = Attendance.query.filter_by(meeting_id=meeting.id).all()
    here = {a.delegate_id for a in attendance if a.delegate_id and a.status in ("present", "substitute")}
    present = [d for d in delegates if d.id in here]
    orgs = {d.org_id for d in delegates}
    orgs_present = {d.org_id for d in present}
    total = len(delegates)
    if body.quorum_rule == "all_orgs":
        met, needed = bool(orgs) and orgs_present == orgs, len(orgs)
    elif body.quorum_rule == "number":
        needed = body.quorum_number or 1
        met = len(present) >= needed
    else:
        needed = total // 2 + 1
        met = total > 0 and 2 * len(present) > total
    return {"present": len(present), "total": total, "orgs_present": len(orgs_present), "orgs_total": len(orgs),
            "needed": needed, "met": met, "rule": body.quorum_rule}


def _present_users(meeting):
    """Accounts of the people who were there: delegates, substitutes who came, residents."""
    users = []
    for a in Attendance.query.filter_by(meeting_id=meeting.id).order_by(Attendance.id):
        if a.status == "present":
            uid = a.delegate.user_id if a.delegate_id else a.user_id
        elif a.status == "substitute":
            uid = a.substitute.user_id if a.substitute else None
        else:
            uid = None
        if uid and uid not in users:
            users.append(uid)
    return users


def close(meeting, actor):
    """Record that the meeting was held; refused without quorum (then only adjournment, R29)."""
    community = meeting.community
    _need(MANAGE, community, actor)
    _editable(meeting)
    q = quorum(meeting)
    if not q["met"]:
        raise Conflict("no_quorum", _("The meeting has no quorum (%(present)d of %(total)d delegates present); "
                                      "it can only be adjourned.", present=q["present"], total=q["total"]))
    _set_status(meeting, "held")
    meeting.quorum_met = True
    users = _present_users(meeting)
    audit.record("meetings.meeting.held", community=community, obj=meeting, actor=actor,
                 before={"status": "scheduled"}, after={"status": "held", "present": q["present"]})
    emit(community, Event("meeting.held", community.id, actor.id, tuple(users), f"meeting:{meeting.id}:held",
                          {"meeting_id": meeting.id, "body_id": meeting.body_id, "present": q["present"]}))
    for uid in users:
        emit(community, Event("meeting.attended", community.id, actor.id, (uid,),
                              f"meeting:{meeting.id}:attended:{uid}",
                              {"meeting_id": meeting.id, "body_id": meeting.body_id}))
    return meeting


def adjourn(meeting, actor, reason):
    community = meeting.community
    _need(MANAGE, community, actor)
    _editable(meeting)
    reason = (reason or "").strip()
    if not reason:
        _invalid({"reason": _("Say why the meeting is adjourned.")}, _("Say why the meeting is adjourned."))
    q = quorum(meeting)
    _set_status(meeting, "adjourned")
    meeting.quorum_met = q["met"]
    meeting.adjourn_reason = reason[:300]
    audit.record("meetings.meeting.adjourned", community=community, obj=meeting, actor=actor,
                 before={"status": "scheduled"}, after={"status": "adjourned"}, reason=reason)
    return meeting


def _set_status(meeting, status):
    """Conditional UPDATE so two clicks at once change the status once."""
    result = db.session.execute(update(Meeting).where(Meeting.id == meeting.id, Meeting.status == "scheduled")
                                .values(status=status, sequence=Meeting.sequence + 1, updated_at=utcnow())
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("stale_state", _("Someone else has just changed this meeting; reload the page."))
    db.session.refresh(meeting, ["status", "sequence", "updated_at"])


# ── resolutions and action items ────────────────────────────────────────────────────────
def carried(rule, votes_for, votes_against) -> bool:
    """Whether a motion with these votes meets ``rule``, in exact arithmetic (R28; RONR §44):
    ``majority`` more than half of the votes cast, ``two_thirds`` at least two thirds of them.
    Abstentions are not votes cast; when no vote is cast the motion is not carried."""
    cast = votes_for + votes_against
    if cast <= 0:
        return False
    share = Fraction(votes_for, cast)
    return share >= Fraction(2, 3) if rule == "two_thirds" else share > Fraction(1, 2)


def motion_rule(body, rescind=False, notice=False) -> str:
    """What a motion needs (R28): the body's own rule (a simple majority unless it set two thirds);
    a motion to rescind without prior notice two thirds, with notice the body's rule (RONR §35)."""
    if rescind and not notice:
        return "two_thirds"
    return body.decision_rule or "majority"


def _check_votes(outcome, rule, counts, present, rescind=False, notice=False):
    """A recorded outcome must agree with its show of hands (R28). Hands counted can never be
    more than the delegates present, substitutes included; a count not given is taken as none.
    Counts on a deferral are the vote to defer, which a simple majority carries (RONR §14)."""
    yes, no, abstain = (counts.get(k) or 0 for k in ("votes_for", "votes_against", "votes_abstain"))
    if yes + no + abstain > present:
        msg = _("The show of hands adds up to %(n)d, more than the number of delegates present "
                "(%(present)d, substitutes included).", n=yes + no + abstain, present=present)
        raise ServiceError("votes_exceed_present", msg,
                           fields={k: msg for k, v in counts.items() if v is not None})
    msg = None
    if outcome == "deferred":
        if not carried("majority", yes, no):
            msg = _("With %(yes)d for and %(no)d against, the vote to defer does not have a simple majority "
                    "of the votes cast.", yes=yes, no=no)
    elif outcome == "decided" and not carried(rule, yes, no):
        if rescind and not notice:
            msg = _("A motion to rescind without prior notice needs two thirds of the votes cast: with %(yes)d "
                    "for and %(no)d against it cannot be recorded as decided.", yes=yes, no=no)
        elif rule == "two_thirds":
            msg = _("With %(yes)d for and %(no)d against, the motion does not have two thirds of the votes "
                    "cast, so it cannot be recorded as decided.", yes=yes, no=no)
        else:
            msg = _("With %(yes)d for and %(no)d against, the motion does not have a simple majority of the "
                    "votes cast, so it cannot be recorded as decided.", yes=yes, no=no)
    elif outcome == "rejected" and carried(rule, yes, no):
        if rule == "two_thirds":
            msg = _("With %(yes)d for and %(no)d against, the motion has two thirds of the votes cast, so it "
                    "cannot be recorded as rejected.", yes=yes, no=no)
        else:
            msg = _("With %(yes)d for and %(no)d against, the motion has a simple majority of the votes cast, "
                    "so it cannot be recorded as rejected.", yes=yes, no=no)
    if msg:
        raise ServiceError("outcome_contradicts_votes", msg, fields={"outcome": msg})


def _flag(value, name, errors):
    if value in (None, "", False, 0, "0", "false", "off", "no"):
        return False
    if value in (True, 1, "1", "true", "on", "yes"):
        return True
    errors[name] = _("Answer yes or no.")
    return False


def rescindable(meeting):
    """Decisions of the meeting's body that a motion to rescind could name: decided and not
    rescinded already, latest first (one query)."""
    from sqlalchemy.orm import aliased, joinedload

    later = aliased(Resolution)
    return (Resolution.query.options(joinedload(Resolution.agenda_item), joinedload(Resolution.meeting))
            .join(Meeting, Meeting.id == Resolution.meeting_id)
            .outerjoin(later, db.and_(later.rescinds_id == Resolution.id, later.outcome == "decided"))
            .filter(Meeting.body_id == meeting.body_id, Resolution.outcome == "decided", later.id.is_(None))
            .order_by(Meeting.starts_at.desc(), Resolution.id.desc()).limit(100).all())


def _due(value, errors, name="due_date"):
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[name] = _("Give a date as YYYY-MM-DD.")
        return None


def _owner(body, data, errors, prefix=""):
    org = None
    if data.get("owner_org_id") not in (None, "", 0, "0"):
        org = db.session.get(Org, whole_number(data.get("owner_org_id"), "owner_org_id") or 0)
        if org is None or org.body_id != body.id:
            errors[prefix + "owner_org_id"] = _("Choose an organisation of this body.")
    user = None
    login = (data.get("owner_login") or "").strip()
    if login:
        from core.services.accounts import find_user

        user = find_user(login)
        if user is None or membership_of(user, _community_of(body)) is None:
            errors[prefix + "owner_login"] = _("No member of this community has that phone number or user name.")
    name = (data.get("owner_name") or "").strip()[:80] or None
    return org, user, name


def record_resolution(item, actor, data):
    """The resolution on one agenda item. Needs quorum (R29). A show of hands must agree with the
    outcome under the motion's rule (R28, ``_check_votes``); without one the chair's declaration
    stands. ``rescinds_id`` makes it a motion to rescind an earlier decision of the body, with
    ``notice_given`` when notice was given in advance. A decision creates its action items
    (``actions``: title, owner, due date) or at least one to be completed; a resolution on a
    proposal may move it on (``proposal_to``) through the core's transition service."""
    from core.services import proposals as proposal_svc

    meeting = db.session.get(Meeting, item.meeting_id)
    community = meeting.community
    _need(MANAGE, community, actor)
    if meeting.status not in ("scheduled", "held"):
        raise Conflict("not_open", _("Resolutions cannot be recorded for a meeting that is %(status)s.",
                                     status=meeting.status_label))
    q = quorum(meeting)
    if not (q["met"] or meeting.quorum_met):
        raise Conflict("no_quorum", _("The meeting has no quorum (%(present)d of %(total)d delegates present); "
                                      "it can only be adjourned.", present=q["present"], total=q["total"]))
    if Resolution.query.filter_by(agenda_item_id=item.id).first():
        raise Conflict("duplicate_resolution", _("This agenda item already has a resolution."))
    errors = {}
    outcome = data.get("outcome")
    text = (data.get("text") or "").strip()
    if outcome not in OUTCOMES:
        errors["outcome"] = _("Choose decided, deferred or rejected.")
    if not 2 <= len(text) <= 5000:
        errors["text"] = _("Write the resolution (2 to 5,000 characters).")
    counts = {k: whole_number(data.get(k), k, maximum=100000) for k in ("votes_for", "votes_against", "votes_abstain")}
    target = (data.get("proposal_to") or "").strip() or None
    proposal = db.session.get(Proposal, item.proposal_id) if item.proposal_id else None
    if target:
        if proposal is None:
            errors["proposal_to"] = _("Only a resolution on a proposal can move it on.")
        elif target not in proposal_svc.TRANSITIONS.get(proposal.state, ()):
            errors["proposal_to"] = _("The proposal cannot move from this stage to that one.")
        elif outcome != "decided":
            errors["proposal_to"] = _("Only a decision can move the proposal on.")
    if item.kind == "overdue" and item.action_item is not None and not (item.action_item.explanation or "").strip():
        errors["explanation"] = _("The responsible party must first explain why this item is overdue.")
    rescinds = None
    if data.get("rescinds_id") not in (None, "", 0, "0"):
        rescinds = db.session.get(Resolution, whole_number(data.get("rescinds_id"), "rescinds_id") or 0)
        if rescinds is None or rescinds.outcome != "decided" or rescinds.meeting.body_id != meeting.body_id:
            errors["rescinds_id"] = _("Choose a decision of this body to rescind.")
            rescinds = None
        elif Resolution.query.filter_by(rescinds_id=rescinds.id, outcome="decided").first():
            errors["rescinds_id"] = _("That decision has been rescinded already.")
    notice = _flag(data.get("notice_given"), "notice_given", errors)
    if notice and rescinds is None and "rescinds_id" not in errors:
        errors["notice_given"] = _("Notice matters only for a motion to rescind: choose the decision it rescinds.")
    actions = []
    if outcome == "decided":
        raw = data.get("actions") or []
        if not isinstance(raw, list):
            raw = []
        for i, a in enumerate(raw):
            if not isinstance(a, dict) or not any((a.get("title"), a.get("owner_org_id"), a.get("owner_name"),
                                                   a.get("owner_login"), a.get("due_date"))):
                continue
            title = (a.get("title") or "").strip() or text
            org, user, name = _owner(meeting.body, a, errors, prefix=f"actions.{i}.")
            due = _due(a.get("due_date"), errors, f"actions.{i}.due_date")
            actions.append((title[:300], org, user, name, due))
        if not actions and item.kind not in ("minutes", "overdue"):
            actions.append((text[:300], None, None, None, None))  # to be completed: owner and due date
    if errors:
        _invalid(errors, errors.get("explanation") or errors.get("proposal_to") or errors.get("rescinds_id")
                 or errors.get("notice_given"))
    rule = motion_rule(meeting.body, rescinds is not None, notice)
    if any(v is not None for v in counts.values()):
        _check_votes(outcome, rule, counts, q["present"], rescind=rescinds is not None, notice=notice)
    # The unique constraints (one resolution per item, a decision rescinded once) decide under
    # races: a row they refuse is not written, and the transaction goes on to say which.
    res = insert_row(Resolution, if_free=True, meeting_id=meeting.id, agenda_item_id=item.id, outcome=outcome,
                     text=text, proposal_id=proposal.id if proposal else None, proposal_to=target, rule=rule,
                     rescinds_id=rescinds.id if rescinds else None, notice_given=notice,
                     recorded_by_id=actor.id, **counts)
    if res is None:
        if rescinds is not None and not Resolution.query.filter_by(agenda_item_id=item.id).first():
            raise Conflict("already_rescinded", _("That decision has been rescinded already."),
                           fields={"rescinds_id": _("That decision has been rescinded already.")})
        raise Conflict("duplicate_resolution", _("This agenda item already has a resolution."))
    for title, org, user, name, due in actions:
        db.session.add(ActionItem(community_id=community.id, body_id=meeting.body_id, meeting_id=meeting.id,
                                  resolution_id=res.id, title=title, owner_org_id=org.id if org else None,
                                  owner_user_id=user.id if user else None, owner_name=name, due_date=due))
        if user is not None:
            notify(user.id, community, "meetings.action", N_("You are responsible for “%(title)s”."),
                   {"title": title}, url=_url("c.meetings.meeting", community, meeting_id=meeting.id))
    audit.record("meetings.resolution", community=community, obj=res, actor=actor,
                 after={"item": item.title, "outcome": outcome, "text": text, "proposal_to": target, "rule": rule,
                        "counted": res.counted, "present": q["present"], "rescinds_id": res.rescinds_id,
                        "notice_given": notice, **counts})
    users = tuple(u for u in _present_users(meeting))
    emit(community, Event("resolution.adopted", community.id, actor.id, users, f"resolution:{res.id}",
                          {"meeting_id": meeting.id, "resolution_id": res.id, "outcome": outcome,
                           "proposal_id": res.proposal_id, "proposal_to": target, "rescinds_id": res.rescinds_id}))
    if target:
        # A move the meeting makes (core.services.proposals.follow), in the same transaction: a veto
        # or a stale state refuses it, and the entry point rolls the resolution back with it.
        proposal_svc.follow(proposal, target, actor,
                            _("Resolution of %(body)s on %(date)s: %(text)s", body=meeting.body.name,
                              date=dates.format_local(meeting.starts_at)[:10], text=text)[:500])
    return res


def update_action(item, actor, data):
    """Set an action item's owner, due date, status or explanation. Closing it (``done``) needs an
    owner and a due date."""
    community = item.meeting.community
    body = db.session.get(Body, item.body_id)
    owner_user = item.owner_user_id == getattr(actor, "id", None)
    if not (can(ACTIONS, community, user=actor) or owner_user
            or (item.owner_org_id and Delegate.query.filter_by(org_id=item.owner_org_id, user_id=actor.id,
                                                               active=True).first())):
        raise Forbidden("forbidden", _("You do not have permission to do this."))
    errors = {}
    before = {"owner_org_id": item.owner_org_id, "owner_user_id": item.owner_user_id, "owner_name": item.owner_name,
              "due_date": item.due_date, "status": item.status, "explanation": item.explanation}
    changes = {}
    if any(k in data for k in ("owner_org_id", "owner_login", "owner_name")):
        org, user, name = _owner(body, data, errors)
        changes.update(owner_org_id=org.id if org else None, owner_user_id=user.id if user else item.owner_user_id,
                       owner_name=name)
    if "due_date" in data:
        changes["due_date"] = _due(data.get("due_date"), errors)
    if data.get("explanation") is not None:
        changes["explanation"] = (data.get("explanation") or "").strip()[:5000] or None
    status = data.get("status") or item.status
    if status not in ACTION_STATUSES:
        errors["status"] = _("Choose open, in progress or done.")
    if errors:
        _invalid(errors)
    merged = {**before, **changes}
    if status == "done" and item.status != "done":
        missing = {}
        if not (merged["owner_org_id"] or merged["owner_user_id"] or merged["owner_name"]):
            missing["owner_org_id"] = _("Name the responsible organisation or person first.")
        if merged["due_date"] is None:
            missing["due_date"] = _("Give the due date first.")
        if missing:
            raise ServiceError("incomplete_action", _("An action item needs an owner and a due date before it is closed."),
                               fields=missing)
    changes["status"] = status
    for k, v in changes.items():
        setattr(item, k, v)
    item.done_at = utcnow() if status == "done" else None
    audit.record("meetings.action.changed", community=community, obj=item, actor=actor, before=before,
                 after={k: merged.get(k, v) for k, v in changes.items()})
    return item


def mark_overdue(community, actor=None, today=None):
    """Announce action items past their due date, once each (idempotent): ``action_item.overdue``,
    a notification to the owner, and the item carried onto the body's next scheduled meeting."""
    today = today or dates.today(community)
    items = (ActionItem.query.filter(ActionItem.community_id == community.id, ActionItem.status != "done",
                                     ActionItem.due_date < today, ActionItem.overdue_at.is_(None))
             .order_by(ActionItem.id).all())
    announced = []
    for item in items:
        res = db.session.execute(update(ActionItem).where(ActionItem.id == item.id, ActionItem.overdue_at.is_(None))
                                 .values(overdue_at=utcnow()).execution_options(synchronize_session=False))
        if res.rowcount != 1:
            continue
        nxt = (Meeting.query.filter(Meeting.body_id == item.body_id, Meeting.status == "scheduled",
                                    Meeting.id != item.meeting_id)
               .order_by(Meeting.starts_at).first())
        if nxt is not None and not AgendaItem.query.filter_by(meeting_id=nxt.id, ref=f"action_item:{item.id}").first():
            last = db.session.query(db.func.max(AgendaItem.position)).filter_by(meeting_id=nxt.id).scalar()
            _carry(nxt, item, (last + 1) if last is not None else 0)
            _bump(nxt)
        users = tuple(u for u in (item.owner_user_id,) if u)
        emit(community, Event("action_item.overdue", community.id, getattr(actor, "id", None), users,
                              f"action_item:{item.id}:overdue",
                              {"action_item_id": item.id, "body_id": item.body_id, "due_date": item.due_date.isoformat()}))
        if item.owner_user_id:
            notify(item.owner_user_id, community, "meetings.overdue",
                   N_("“%(title)s” was due on %(date)s. Please explain the delay and how it will be fixed."),
                   {"title": item.title, "date": item.due_date.isoformat()},
                   url=_url("c.meetings.body", community, body_id=item.body_id))
        announced.append(item)
    if announced:
        audit.record("meetings.overdue", community=community, actor=actor, object_type="meetings_action_item",
                     after={"ids": [i.id for i in announced]})
    return announced


# ── minutes ─────────────────────────────────────────────────────────────────────────────
def _minutes_open(meeting):
    if meeting.status not in ("held", "adjourned"):
        raise Conflict("not_held", _("Minutes are written after the meeting is held or adjourned."))


def save_minutes(meeting, actor, text):
    community = meeting.community
    _need(MINUTES, community, actor)
    _minutes_open(meeting)
    if meeting.minutes_state != "draft":
        raise Conflict("minutes_locked", _("The minutes are %(state)s; return them to draft to edit.",
                                           state=meeting.minutes_label))
    text = (text or "").strip()
    if len(text) > 50000:
        _invalid({"minutes": _("Minutes have at most 50,000 characters.")})
    before = meeting.minutes
    meeting.minutes = text
    meeting.updated_at = utcnow()
    audit.record("meetings.minutes.saved", community=community, obj=meeting, actor=actor,
                 before={"minutes": before}, after={"minutes": text})
    return meeting


def _minutes_move(meeting, old, new):
    result = db.session.execute(update(Meeting).where(Meeting.id == meeting.id, Meeting.minutes_state == old)
                                .values(minutes_state=new, updated_at=utcnow())
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("stale_state", _("Someone else has just changed these minutes; reload the page."))
    meeting.minutes_state = new


def submit_minutes(meeting, actor):
    """draft → in review: each organisation's delegate is asked to approve."""
    community = meeting.community
    _need(MINUTES, community, actor)
    _minutes_open(meeting)
    if meeting.minutes_state != "draft":
        raise Conflict("minutes_locked", _("The minutes are %(state)s already.", state=meeting.minutes_label))
    if not meeting.minutes.strip():
        _invalid({"minutes": _("Write the minutes first.")}, _("Write the minutes first."))
    _minutes_move(meeting, "draft", "review")
    audit.record("meetings.minutes.review", community=community, obj=meeting, actor=actor,
                 before={"minutes_state": "draft"}, after={"minutes_state": "review"})
    for d in active_delegates(meeting.body, "delegate"):
        if d.user_id:
            notify(d.user_id, community, "meetings.minutes",
                   N_("Please review and approve the minutes of “%(title)s”."), {"title": meeting.title},
                   url=_url("c.meetings.meeting", community, meeting_id=meeting.id))
    return meeting


def reopen_minutes(meeting, actor):
    """in review → draft (to correct them); approvals given so far are withdrawn."""
    community = meeting.community
    _need(MINUTES, community, actor)
    if meeting.minutes_state != "review":
        raise Conflict("minutes_locked", _("Only minutes in review can go back to draft."))
    _minutes_move(meeting, "review", "draft")
    MinutesApproval.query.filter_by(meeting_id=meeting.id).delete()
    audit.record("meetings.minutes.reopened", community=community, obj=meeting, actor=actor,
                 before={"minutes_state": "review"}, after={"minutes_state": "draft"})
    return meeting


def approval_orgs(meeting):
    """The organisations whose delegates must approve the minutes (those with a delegate)."""
    ids = {d.org_id for d in active_delegates(meeting.body, "delegate")}
    return [o for o in Org.query.filter_by(body_id=meeting.body_id).order_by(Org.position, Org.id) if o.id in ids]


def approve_minutes(meeting, actor, org_id=None, delegate_id=None, reason=None):
    """One organisation approves the minutes, once (R32): its own delegate (or substitute) with
    their account. Staff (``meetings.minutes.write``) may record a named delegate's approval on
    that delegate's behalf (``delegate_id``) with a ``reason`` (for example a signature on paper):
    audited as an act for them and shown as such, never as the staff member's own approval.
    When every organisation has approved, the minutes are approved."""
    community = meeting.community
    staff = can(MINUTES, community, user=actor)
    if not (staff or is_delegate(actor, meeting.body)):
        raise Forbidden("forbidden", _("You do not have permission to do this."))
    if meeting.minutes_state in ("approved", "published"):
        raise Conflict("already_approved", _("These minutes are approved already."))
    if meeting.minutes_state != "review":
        raise Conflict("not_in_review", _("The minutes are not in review."))
    orgs = approval_orgs(meeting)
    mine = {}
    for d in (Delegate.query.filter_by(body_id=meeting.body_id, user_id=actor.id, active=True)
              .order_by(Delegate.role, Delegate.id)):
        mine.setdefault(d.org_id, d)
    org_id = whole_number(org_id, "org_id") or (next(iter(mine)) if len(mine) == 1 else None)
    org = next((o for o in orgs if o.id == org_id), None)
    if org is None:
        _invalid({"org_id": _("Choose the organisation you approve for.")})
    if MinutesApproval.query.filter_by(meeting_id=meeting.id, org_id=org.id).first():
        raise Conflict("already_approved", _("%(org)s has approved these minutes already.", org=org.name))
    named = None
    if delegate_id not in (None, "", 0, "0"):
        named = db.session.get(Delegate, whole_number(delegate_id, "delegate_id") or 0)
        if named is None or named.org_id != org.id or not named.active:
            _invalid({"delegate_id": _("Choose a delegate or substitute of %(org)s.", org=org.name)})
        if named.user_id == actor.id:
            named = None  # naming oneself is one's own approval
    reason = (reason or "").strip() if isinstance(reason, str) or reason is None else None
    if named is None:
        own = mine.get(org.id)
        if own is None:
            if not staff:
                raise Forbidden("forbidden", _("Only a delegate of %(org)s can approve for it.", org=org.name))
            msg = _("Only a delegate of %(org)s can approve for it. To record a delegate's approval for them, "
                    "choose the delegate and say why.", org=org.name)
            raise ServiceError("delegate_required", msg,
                               fields={"delegate_id": _("Choose the delegate whose approval you record."),
                                       "reason": _("Say why you record it for them.")})
        approval = MinutesApproval(meeting_id=meeting.id, org_id=org.id, user_id=actor.id, delegate_id=own.id,
                                   on_behalf=False)
        who, reason = own, None
    else:
        if not staff:
            raise Forbidden("forbidden", _("Only staff can record an approval for a delegate."))
        if reason is None or not 2 <= len(reason) <= 300:
            msg = _("Say why you record the approval for them (2 to 300 characters), for example "
                    "“signed the paper minutes”.")
            raise ServiceError("invalid", msg, fields={"reason": msg})
        approval = MinutesApproval(meeting_id=meeting.id, org_id=org.id, user_id=actor.id, delegate_id=named.id,
                                   on_behalf=True, reason=reason)
        who = named
    db.session.add(approval)
    try:
        db.session.flush()
    except IntegrityError:  # approved for it a moment ago: the entry point rolls back
        raise Conflict("already_approved", _("%(org)s has approved these minutes already.", org=org.name))
    audit.record("meetings.minutes.approved", community=community, obj=meeting, actor=actor,
                 on_behalf_of=who.user_id if approval.on_behalf else None,
                 on_behalf_of_name=who.name if approval.on_behalf else None,
                 after={"org": org.name, "delegate_id": who.id, "on_behalf": approval.on_behalf},
                 reason=reason)
    done = {a.org_id for a in MinutesApproval.query.filter_by(meeting_id=meeting.id)}
    if all(o.id in done for o in orgs):
        _minutes_move(meeting, "review", "approved")
    return meeting


def publish_minutes(meeting, actor):
    """approved → published: residents can read them."""
    community = meeting.community
    _need(MINUTES, community, actor)
    if meeting.minutes_state == "published":
        raise Conflict("already_published", _("These minutes are published already."))
    if meeting.minutes_state != "approved":
        raise Conflict("not_approved", _("Every organisation must approve the minutes before they are published."))
    _minutes_move(meeting, "approved", "published")
    meeting.minutes_published_at = utcnow()
    audit.record("meetings.minutes.published", community=community, obj=meeting, actor=actor,
                 before={"minutes_state": "approved"}, after={"minutes_state": "published"})
    return meeting


# ── iCalendar ───────────────────────────────────────────────────────────────────────────
def ics_event(meeting, delegates, agenda, stamp=None):
    from plugins.meetings import ics

    community = meeting.community
    lines = [meeting.body.name]
    if meeting.chair_org:
        lines.append(_("Chair: %(org)s", org=meeting.chair_org.name))
    if meeting.online_url:
        lines.append(_("Online: %(url)s", url=meeting.online_url))
    if agenda:
        lines.append(_("Agenda:"))
        lines.extend(f"{i}. {a.title}" for i, a in enumerate(agenda, 1))
    url = None
    try:
        url = url_for("c.meetings.meeting", community=community.slug, meeting_id=meeting.id, _external=True)
    except RuntimeError:
        pass
    return ics.event_lines(
        uid=meeting.uid, sequence=meeting.sequence, stamp=stamp or utcnow(), start=meeting.starts_at,
        end=meeting.ends_at, summary=meeting.title,
        status="CANCELLED" if meeting.status == "cancelled" else "CONFIRMED",
        location=meeting.place or meeting.online_url or "", description="\n".join(lines), url=url,
        organizer=(community.name, ics.cal_address("community", community.slug)),
        attendees=[(f"{d.name} ({d.org.name})", ics.cal_address("delegate", d.id)) for d in delegates
                   if d.role == "delegate"],
        created=meeting.created_at, modified=meeting.updated_at)


def meeting_ics(meeting) -> str:
    """The invitation (METHOD:REQUEST) or, once cancelled, the cancellation (METHOD:CANCEL)."""
    from plugins.meetings import ics

    delegates = active_delegates(meeting.body, "delegate")
    agenda = AgendaItem.query.filter_by(meeting_id=meeting.id).order_by(AgendaItem.position, AgendaItem.id).all()
    method = "CANCEL" if meeting.status == "cancelled" else "REQUEST"
    return ics.calendar([ics_event(meeting, delegates, agenda)], method=method)


def body_ics(body) -> str:
    """A subscription feed of a body's meetings (METHOD:PUBLISH), cancelled ones marked CANCELLED."""
    from sqlalchemy.orm import joinedload

    from plugins.meetings import ics

    meetings = (Meeting.query.options(joinedload(Meeting.chair_org), joinedload(Meeting.community),
                                      joinedload(Meeting.body))
                .filter_by(body_id=body.id).order_by(Meeting.starts_at).all())
    delegates = Delegate.query.options(joinedload(Delegate.org)).filter_by(body_id=body.id, active=True).all()
    items = {}
    for a in (AgendaItem.query.filter(AgendaItem.meeting_id.in_([m.id for m in meetings]))
              .order_by(AgendaItem.position, AgendaItem.id)):
        items.setdefault(a.meeting_id, []).append(a)
    stamp = utcnow()
    return ics.calendar([ics_event(m, delegates, items.get(m.id, []), stamp) for m in meetings],
                        method="PUBLISH", name=body.name)


def find_user_login(login):
    from core.services.accounts import find_user

    return find_user((login or "").strip()) if login else None


def drop_withdrawn(proposal):
    """Remove a withdrawn proposal from scheduled agendas (called from the core's transition,
    inside its transaction). Each meeting's calendar SEQUENCE goes up."""
    items = (AgendaItem.query.join(Meeting, Meeting.id == AgendaItem.meeting_id)
             .filter(AgendaItem.proposal_id == proposal.id, Meeting.status == "scheduled").all())
    for item in items:
        if Resolution.query.filter_by(agenda_item_id=item.id).first():
            continue
        meeting = db.session.get(Meeting, item.meeting_id)
        audit.record("meetings.agenda.removed", community=proposal.community, obj=item,
                     before={"title": item.title}, reason="proposal withdrawn")
        db.session.delete(item)
        _bump(meeting)
