"""Expected answers of every points route, per role (tests/security, docs/plugins.md).

The objects: a volunteer activity under way (started an hour ago, ends in three hours) that the
resident and the staff member signed up for; the resident reported two hours and the staff
member verified them (2 points), the staff member reported their own hours, still waiting (the
record the matrix verifies: staff may not verify their own, the admin may); the resident's
certificate of their verified hours; an adjustment of 28 points for the resident (the transfer
the matrix corrects); a store item of 30 points the resident redeemed (the order with its pickup
code) and that was then withdrawn, so the store shows it to staff only and nobody can redeem it.

Every member (even unverified) has an account, redeems and volunteers; staff and admins manage
activities, hours, the catalogue, the counter, accounts and reports; admins alone the earning
rules. A member of another community is told the community's personal pages do not exist (404)
and refused the staff pages (403). Order matters where a request changes something: API routes
are requested before pages, and each route as anonymous, unverified, resident, …, admin,
outsider in turn (tests/security/matrix.py); the notes say what a request did.
No picture is uploaded (no file is written outside the tests' temporary folders), so the picture
route answers 404 to everyone; tests/plugins/points/test_web.py covers it."""
from tests.security.roles import GONE, LOGIN, OK, STAFF, logged_in, matrix, only, public

CREATED = {201}
REDIRECT = {302}  # a form that answers by redirecting back with a message
INVALID = {400}   # the permission check passed; the empty request was refused
CONFLICT = {409}  # the permission check passed; the object is not in a state for this
ADMIN = ("admin",)
SIGNED_UP = ("resident", "staff")  # signed up for the activity in url_args


def url_args(world):
    from datetime import timedelta

    from core.models import utcnow
    from tests.plugins.points.conftest import SERVICES as svc

    c, staff, resident = world.community, world.staff, world.resident
    now = utcnow()
    activity = svc.save_activity(c, staff, {"title": "楼道清理", "location": "3号楼",
                                            "starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(hours=3)})
    svc.signup(activity, resident)
    svc.signup(activity, staff)
    svc.verify_hours(svc.claim_hours(activity, resident, hours="2", content="清理楼道杂物"), staff)
    own = svc.claim_hours(activity, staff, hours="1.5", content="组织分工")
    cert = svc.issue_certificate(c, resident, resident)
    gift = svc.adjust(c, resident, 28, "重阳节敬老活动补录", world.admin)
    item = svc.save_item(c, staff, {"name": "大米（5公斤）", "price": 30, "stock": 10})
    order = svc.redeem(c, item, resident)  # 2 + 28 points: the balance is 0 afterwards
    svc.set_withdrawn(item, staff, True, "换季下架")
    return {"activity_id": activity.id, "record_id": own.id, "number": cert.number, "transfer_id": gift.id,
            "item_id": item.id, "order_id": order.id, "user_id": resident.id}


def members(answer, **overrides):
    """Every member of the community gets ``answer``; anonymous a login, another community's member 404."""
    return matrix(answer, anonymous=LOGIN, outsider=GONE, **overrides)


def own(answer, staff_answer=None):
    """The resident's own order or certificate: the resident and staff get ``answer`` (staff
    ``staff_answer`` if given); every other member is told it does not exist."""
    staff_answer = answer if staff_answer is None else staff_answer
    return members(GONE, resident=answer, staff=staff_answer, admin=staff_answer)


STAFF_PAGE = only(STAFF, OK)        # others 403, anonymous 401 (login), another community's staff 403
WITHDRAWN = only(STAFF, OK, denied=GONE, anonymous=GONE)  # the withdrawn item: staff only

ACCESS = {
    # ── API (bearer tokens; 401 without one) ───────────────────────────────────────────────
    # your own account, hours, orders, consent: every member; another community's member 404
    "api_c.points_api.balance": members(OK),
    "api_c.points_api.statement": members(OK),
    "api_c.points_api.my_hours": members(OK),
    "api_c.points_api.orders": members(OK),
    "api_c.points_api.rules": members(OK),
    "api_c.points_api.consent": members(OK),  # {} : share_volunteering false
    "api_c.points_api.certificate_issue": members(INVALID, resident=CREATED),  # only the resident has verified hours
    # any resident's account and adjustments: staff
    "api_c.points_api.account": only(STAFF, OK),
    "api_c.points_api.adjustment": only(STAFF, INVALID),
    "api_c.points_api.correct": only(STAFF, INVALID),  # no reason given
    # activities: read by any token holder, managed by staff
    "api_c.points_api.activities": logged_in(OK),
    "api_c.points_api.activity": logged_in(OK),
    "api_c.points_api.activity_create": only(STAFF, INVALID),
    "api_c.points_api.activity_update": only(STAFF, INVALID),
    "api_c.points_api.activity_cancel": only(STAFF, INVALID),  # no reason given: not cancelled
    "api_c.points_api.signups": only(STAFF, OK),
    # withdrawing (requested before signing up): not signed up 404; signed up, the activity has started 409
    "api_c.points_api.signup_withdraw": members(GONE, **dict.fromkeys(SIGNED_UP, CONFLICT)),
    "api_c.points_api.signup": members(CREATED, **dict.fromkeys(SIGNED_UP, CONFLICT)),
    # reporting one's own hours ({}: no hours given); verifying: staff, never their own
    "api_c.points_api.hours": members(INVALID),
    "api_c.points_api.hours_pending": only(STAFF, OK),
    "api_c.points_api.hours_reject": only(STAFF, INVALID),  # no reason given
    "api_c.points_api.hours_verify": only(ADMIN, OK),  # the staff member's own hours: staff 403, the admin verifies
    # the store: a public catalogue; the withdrawn item is seen by staff only and redeemed by nobody
    "api_c.points_api.items": public(),
    "api_c.points_api.item": WITHDRAWN,
    "api_c.points_api.redeem": members(CONFLICT),
    "api_c.points_api.item_create": only(STAFF, INVALID),
    "api_c.points_api.item_update": only(STAFF, INVALID),
    "api_c.points_api.item_picture": only(STAFF, INVALID),  # not a picture
    "api_c.points_api.item_withdraw": only(STAFF, OK),  # {} : withdraw (it is already)
    # the resident's order: theirs and staff's; the resident cancels it ({}), staff need a reason
    "api_c.points_api.order": own(OK),
    "api_c.points_api.order_cancel": own(OK, staff_answer=INVALID),
    "api_c.points_api.handover": only(STAFF, GONE),  # no pickup code given: no such order
    "api_c.points_api.report_monthly": only(STAFF, OK),
    "api_c.points_api.rule_save": only(ADMIN, INVALID),
    "api_c.points_api.hours_rule_save": only(ADMIN, OK),  # {} keeps every value
    "api_c.points_api.certificate_issuer_save": only(ADMIN, OK),  # {} : no responsible person or contact
    "GET api_c.points_api.volunteer_identity": members(OK),
    "PUT api_c.points_api.volunteer_identity_set": members(OK),  # {} : no document kept
    # ── pages (anonymous: the login page, written 401) ──────────────────────────────────────
    "c.points.index": members(OK),
    "c.points.statement": members(OK),
    "c.points.orders": members(OK),
    "GET c.points.volunteering": members(OK),
    "POST c.points.volunteering": members(REDIRECT),  # consent saved (not shared)
    "c.points.volunteer_identity": members(REDIRECT),  # back to the page with the form's message
    "c.points.certificate_issuer": only(ADMIN, REDIRECT),
    "c.points.certificate_issue": members(REDIRECT),  # to the certificate, or back: nothing to certify
    "c.points.certificate": own(OK),
    # activities: public; members sign up, withdraw and report hours (answers: redirect back with a message)
    "c.points.activities": public(),
    "c.points.activity": public(),
    "c.points.signup": members(REDIRECT),
    "c.points.signup_withdraw": members(REDIRECT),
    "c.points.claim": members(REDIRECT),
    "c.points.activity_new": STAFF_PAGE,  # an empty POST shows the form again with its errors
    "GET c.points.activity_edit": STAFF_PAGE,
    "POST c.points.activity_edit": only(STAFF, REDIRECT),  # an empty form keeps the activity as it is
    "c.points.activity_cancel": only(STAFF, OK),  # the confirmation page (calling off asks first)
    "c.points.record_hours": only(STAFF, REDIRECT),
    "c.points.verify": only(STAFF, REDIRECT),  # staff: their own hours, refused; the admin: verified already
    "c.points.reject": only(STAFF, REDIRECT),
    # the store
    "c.points.store": public(),
    "c.points.item": WITHDRAWN,
    "c.points.picture": public(GONE),
    "c.points.redeem": members(REDIRECT),  # withdrawn: refused with a message
    "c.points.order": own(OK),
    "c.points.order_cancel": own(REDIRECT),  # cancelled already (API): a message
    "c.points.manage_items": STAFF_PAGE,
    "c.points.item_new": STAFF_PAGE,
    "GET c.points.item_edit": STAFF_PAGE,
    "POST c.points.item_edit": only(STAFF, REDIRECT),  # an empty form keeps the item as it is
    "c.points.item_withdraw": only(STAFF, REDIRECT),
    "c.points.counter": STAFF_PAGE,
    "c.points.counter_handover": STAFF_PAGE,  # the form again with its errors
    "c.points.counter_redeem": STAFF_PAGE,
    # accounts, corrections, reports: staff; earning rules: admins
    "c.points.accounts": STAFF_PAGE,
    "c.points.account": STAFF_PAGE,  # POST: an empty adjustment is refused, the statement shown again
    "c.points.correct": only(STAFF, REDIRECT),
    "c.points.reports": STAFF_PAGE,
    "c.points.reports_xlsx": STAFF_PAGE,
    "c.points.rules": only(ADMIN, OK),
    "c.points.rule_save": only(ADMIN, REDIRECT),
}
CROSS_COMMUNITY_ARGS = ("number",)  # a certificate's number names it
