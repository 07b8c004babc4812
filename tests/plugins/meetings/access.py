"""Expected answers of every meetings route, per role (tests/security, docs/plugins.md).

The objects: a body with four organisations and named delegates (no accounts), a held meeting
with a decision and its action item, and the next meeting (scheduled, no quorum yet) whose
first agenda item confirms the previous minutes."""
from datetime import timedelta

from tests.security.roles import GONE, MEMBERS, OK, STAFF, logged_in, only, public

REDIRECT = {302}  # a form that answers by redirecting back with a message
INVALID = {400}   # the empty request body was refused after the permission check
CONFLICT = {409}  # the permission check passed; the meeting is not in a state for this


def url_args(world):
    from core.db import transaction
    from core.models import utcnow
    from plugins.meetings import services as svc
    from plugins.meetings.models import ActionItem, AgendaItem, Delegate, Org

    staff = world.staff
    with transaction():  # set up as an entry point would: committed before the requests
        body = svc.create_body(world.community, staff, {"name": "四方联席会议", "orgs": ["社区党委", "居委会", "物业公司", "派出所"]})
        orgs = Org.query.filter_by(body_id=body.id).order_by(Org.position).all()
        for i, org in enumerate(orgs):
            svc.add_delegate(body, staff, {"org_id": org.id, "name": f"代表{i}"})
        sub = svc.add_delegate(body, staff, {"org_id": orgs[0].id, "name": "替补", "role": "substitute"})
        start = (utcnow() + timedelta(days=5)).replace(second=0, microsecond=0)
        first = svc.schedule(body, staff, {"starts_at": start, "place": "会议室"})
        item = svc.add_agenda_item(first, staff, {"title": "东门僵尸车"})
        for d in Delegate.query.filter_by(body_id=body.id, role="delegate"):
            svc.record_attendance(first, staff, d.id, "present")
        svc.record_resolution(item, staff, {"outcome": "decided", "text": "两周内清理"})
        svc.close(first, staff)
        action = ActionItem.query.filter_by(meeting_id=first.id).one()
        nxt = svc.schedule(body, staff, {"starts_at": start + timedelta(days=5), "place": "会议室"})
        confirm = AgendaItem.query.filter_by(meeting_id=nxt.id, kind="minutes").one()
    return {"body_id": body.id, "meeting_id": nxt.id, "item_id": confirm.id, "action_id": action.id,
            "delegate_id": sub.id}


STAFF_ONLY_PAGE = only(STAFF, OK)
ACCESS = {
    # pages anyone may read
    "c.meetings.index": public(),
    "c.meetings.body": public(),
    "c.meetings.meeting": public(),
    "c.meetings.body_ics": public(),
    "c.meetings.meeting_ics": public(),
    # staff forms (an empty POST shows the form again with its errors)
    "c.meetings.body_new": STAFF_ONLY_PAGE,
    "GET c.meetings.body_edit": STAFF_ONLY_PAGE,
    "POST c.meetings.body_edit": only(STAFF, REDIRECT),  # an empty form keeps the body as it is
    "c.meetings.schedule": STAFF_ONLY_PAGE,
    "c.meetings.meeting_edit": STAFF_ONLY_PAGE,
    "c.meetings.minutes": STAFF_ONLY_PAGE,
    # unpublished minutes: staff (and the body's delegates) only; others are told they do not exist
    "c.meetings.minutes_print": only(STAFF, OK, denied=GONE, anonymous=GONE),
    # actions answer with a redirect back and a message; what they did is checked by the
    # meetings tests (test_rules.py: residents cannot run meetings)
    "c.meetings.body_org": logged_in(REDIRECT),
    "c.meetings.body_delegate": logged_in(REDIRECT),
    # removing a delegate or an agenda item asks staff first (the confirmation page)
    "c.meetings.body_delegate_remove": logged_in(REDIRECT) | {"staff": OK, "admin": OK},
    "c.meetings.meeting_status": logged_in(REDIRECT),
    "c.meetings.agenda_add": logged_in(REDIRECT),
    "c.meetings.agenda_remove": logged_in(REDIRECT) | {"staff": OK, "admin": OK},
    "c.meetings.attendance": logged_in(REDIRECT),
    "c.meetings.attendance_resident": logged_in(REDIRECT),
    "c.meetings.resolution": logged_in(REDIRECT),
    "c.meetings.minutes_action": logged_in(REDIRECT),
    "c.meetings.action_update": logged_in(REDIRECT),
    # API
    "api_c.meetings_api.bodies": public(),
    "api_c.meetings_api.body_get": public(),
    "api_c.meetings_api.body_meetings": public(),
    "api_c.meetings_api.body_actions": public(),
    "api_c.meetings_api.meeting_get": public(),
    "api_c.meetings_api.body_create": only(STAFF, INVALID),
    "api_c.meetings_api.body_update": only(STAFF, OK),  # nothing to change
    "api_c.meetings_api.org_create": only(STAFF, INVALID),
    "api_c.meetings_api.delegate_create": only(STAFF, INVALID),
    "api_c.meetings_api.meeting_create": only(STAFF, INVALID),
    "api_c.meetings_api.meeting_update": only(STAFF, OK),  # nothing to change
    "api_c.meetings_api.meeting_cancel": only(STAFF, INVALID),
    "api_c.meetings_api.meeting_held": only(STAFF, CONFLICT),  # no quorum yet
    "api_c.meetings_api.meeting_adjourn": only(STAFF, INVALID),
    "api_c.meetings_api.agenda_create": only(MEMBERS, INVALID),  # members submit topics before the deadline
    "api_c.meetings_api.agenda_candidates": only(STAFF, OK),
    "api_c.meetings_api.attendance_create": only(STAFF, INVALID),
    "api_c.meetings_api.resolution_create": only(STAFF, CONFLICT),  # no quorum yet
    "api_c.meetings_api.minutes_save": only(STAFF, CONFLICT),  # the meeting has not been held
    "api_c.meetings_api.minutes_step": only(STAFF, CONFLICT),  # approve: not in review
    "api_c.meetings_api.action_update": only(STAFF, OK),  # nothing to change
}
