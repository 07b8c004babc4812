"""The points JSON API under /api/v1/c/<community>/points/ (declared with core.api.endpoint)."""
import base64
import binascii
import io

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import identity
from core.dates import iso
from core.api import endpoint, json_body, paginate, require_api
from core.errors import NotFound, ServiceError
from core.extensions import db
from core.inputs import whole_number
from core.models import User, utcnow
from core.permissions import can, membership_of
from plugins.points import ledger
from plugins.points import services as svc
from plugins.points.models import (PointsActivity, PointsItem, PointsOrder, PointsRecord, PointsSignup,
                                   PointsTransfer)

api_bp = Blueprint("points_api", __name__, url_prefix="/points")
TAG = "points"


def _user(user_id, field="user_id"):
    user = db.session.get(User, whole_number(user_id, field, default=0))
    if user is None or membership_of(user, g.community) is None:
        raise ServiceError("invalid_resident", _("That person is not a member of this community."),
                           fields={field: _("Not a member of this community.")})
    return user


def _member():
    if membership_of(current_user, g.community) is None and not current_user.is_superadmin:
        raise NotFound("not_member", _("Join this community first."))


def _for(data, permission):
    """The resident named by ``user_id`` in ``data``, or the caller if none (or themselves) is named.
    Acting for someone else needs ``permission``, checked before the id is looked up: the answer
    must not tell a caller without it whether a user id belongs to a member of this community."""
    named = data.get("user_id")
    if not named or whole_number(named, "user_id") == current_user.id:
        return current_user
    require_api(permission)
    return _user(named)


def activity_json(a, names=False):
    data = {"id": a.id, "title": a.title, "description": a.description, "location": a.location,
            "starts_at": iso(a.starts_at), "ends_at": iso(a.ends_at), "places": a.places,
            "signed_up": a.signups_count, "cancelled": a.cancelled_at is not None}
    if current_user.is_authenticated:
        data["you_signed_up"] = PointsSignup.query.filter_by(activity_id=a.id, user_id=current_user.id).first() \
            is not None
    return data


def item_json(i):
    return {"id": i.id, "name": i.name, "description": i.description, "kind": i.kind, "price": i.price,
            "stock": i.stock, "per_resident_limit": i.per_resident_limit, "available_from": iso(i.available_from),
            "available_until": iso(i.available_until), "withdrawn": i.withdrawn_at is not None,
            "available": svc.is_available(i),
            "picture_url": url_for("c.points.picture", item_id=i.id, name=i.picture) if i.picture else None}


def order_json(o):
    return {"id": o.id, "item_id": o.item_id, "item": o.item.name, "user_id": o.user_id, "quantity": o.quantity,
            "price_each": o.price_each, "total": o.total, "status": o.status, "pickup_code": o.pickup_code,
            "assisted": o.placed_by_id is not None, "created_at": iso(o.created_at),
            "handed_over_at": iso(o.handed_over_at), "cancelled_at": iso(o.cancelled_at)}


def record_json(r):
    return {"id": r.id, "activity_id": r.activity_id, "user_id": r.user_id, "service_date": r.service_date.isoformat(),
            "minutes": r.minutes, "hours": str(r.hours), "content": r.content, "evaluation": r.evaluation,
            "status": r.status, "verified_by": r.verified_by_id, "verified_at": iso(r.verified_at),
            "points": r.transfer.amount if r.transfer else 0}


def entry_json(pair):
    entry, t = pair
    return {"id": entry.id, "transfer_id": t.id, "kind": t.kind, "amount": entry.amount, "text": svc.transfer_text(t),
            "rule_id": t.rule_id, "reverses": t.reverses_id, "at": iso(t.created_at)}


def _account_json(user):
    account = ledger.find_account(g.community.id, user.id)
    return {"user_id": user.id, "display_name": user.display_name,
            "balance": account.balance if account else 0}


# ── balances and statements ─────────────────────────────────────────────────────────────
@endpoint(api_bp, "/balance", summary="Your points balance", tag=TAG)
def balance():
    _member()
    return jsonify(_account_json(current_user))


@endpoint(api_bp, "/statement", summary="Your statement, newest first", tag=TAG,
          query={"page": ("integer", "page", False), "per_page": ("integer", "≤100", False)})
def statement():
    _member()
    account = ledger.find_account(g.community.id, current_user.id)
    if account is None:
        return jsonify({"items": [], "page": 1, "per_page": 20, "total": 0})
    return jsonify(paginate(svc.statement_query(account), entry_json))


@endpoint(api_bp, "/accounts/<int:user_id>", summary="A resident's balance and statement (staff)", tag=TAG,
          query={"page": ("integer", "page", False), "per_page": ("integer", "≤100", False)})
def account(user_id):
    require_api("points.accounts.view")
    user = db.session.get(User, user_id)
    if user is None or membership_of(user, g.community) is None:
        raise NotFound("not_found", _("That person is not a member of this community."))
    data = _account_json(user)
    acc = ledger.find_account(g.community.id, user.id)
    data["statement"] = paginate(svc.statement_query(acc), entry_json) if acc else {"items": [], "total": 0}
    return jsonify(data)


@endpoint(api_bp, "/adjustments", ["POST"], summary="Adjust a resident's points with a written reason (staff)",
          tag=TAG, body={"user_id": ("integer", "resident", True), "amount": ("integer", "points, + or −", True),
                         "reason": ("string", "why (4–500 characters)", True)})
def adjustment():
    require_api("points.accounts.adjust")  # before the user id is looked up (no membership oracle)
    data = json_body()
    user = _user(data.get("user_id"))
    t = svc.adjust(g.community, user, data.get("amount"), data.get("reason"), current_user)
    return jsonify({"transfer_id": t.id, "amount": t.amount, "kind": t.kind,
                    "balance": ledger.balance_of(g.community.id, user.id)}), 201


@endpoint(api_bp, "/transfers/<int:transfer_id>/correct", ["POST"], summary="Reverse a mistaken transfer (staff)",
          tag=TAG, body={"reason": ("string", "why (4–500 characters)", True)})
def correct(transfer_id):
    t = db.session.get(PointsTransfer, transfer_id)
    if t is None or t.community_id != g.community.id:
        raise NotFound("not_found", _("No such transfer."))
    r = svc.correct(g.community, t, json_body().get("reason"), current_user)
    return jsonify({"transfer_id": r.id, "reverses": t.id, "amount": r.amount}), 201


# ── volunteering ────────────────────────────────────────────────────────────────────────
@endpoint(api_bp, "/activities", summary="Volunteer activities, next first", tag=TAG,
          query={"when": ("string", "upcoming | past", False), "page": ("integer", "page", False),
                 "per_page": ("integer", "≤100", False)})
def activities():
    q = PointsActivity.query.filter_by(community_id=g.community.id)
    now = utcnow()
    if request.args.get("when") == "past":
        q = q.filter(PointsActivity.ends_at <= now).order_by(PointsActivity.starts_at.desc())
    else:
        q = q.filter(PointsActivity.ends_at > now).order_by(PointsActivity.starts_at)
    return jsonify(paginate(q, activity_json))


@endpoint(api_bp, "/activities", ["POST"], summary="Publish a volunteer activity (staff)", tag=TAG,
          body={"title": ("string", "what", True), "location": ("string", "where", True),
                "starts_at": ("string", "ISO 8601", True), "ends_at": ("string", "ISO 8601", True),
                "places": ("integer", "places (empty: no limit)", False), "description": ("string", "details", False)})
def activity_create():
    a = svc.save_activity(g.community, current_user, json_body())
    return jsonify(activity_json(a)), 201


@endpoint(api_bp, "/activities/<int:activity_id>", summary="One volunteer activity", tag=TAG)
def activity(activity_id):
    return jsonify(activity_json(svc.get_activity(g.community, activity_id)))


@endpoint(api_bp, "/activities/<int:activity_id>", ["PUT"], summary="Change a volunteer activity (staff)", tag=TAG,
          idempotent=True,
          body={"title": ("string", "what (2–120 characters)", True), "location": ("string", "where", True),
                "starts_at": ("string", "ISO 8601", True), "ends_at": ("string", "ISO 8601", True),
                "places": ("integer", "places (empty: no limit; not below those signed up)", False),
                "description": ("string", "details", False)})
def activity_update(activity_id):
    a = svc.save_activity(g.community, current_user, json_body(), svc.get_activity(g.community, activity_id))
    return jsonify(activity_json(a))


@endpoint(api_bp, "/activities/<int:activity_id>/cancel", ["POST"], tag=TAG, idempotent=True,
          summary="Cancel a volunteer activity; everyone signed up is told (staff)",
          body={"reason": ("string", "why", True)})
def activity_cancel(activity_id):
    a = svc.get_activity(g.community, activity_id)
    svc.cancel_activity(a, current_user, json_body().get("reason"))
    return jsonify(activity_json(a))


@endpoint(api_bp, "/activities/<int:activity_id>/signup", ["POST"], summary="Sign up for an activity",
          tag=TAG, idempotent=True,
          body={"user_id": ("integer", "staff: sign up this resident (an account)", False),
                "person_id": ("integer", "staff: …or this person of the register, with or without an account", False),
                "reason": ("string", "staff: why you act for them", False)})
def signup(activity_id):
    _member()
    a = svc.get_activity(g.community, activity_id)
    data = json_body() if request.get_json(silent=True) is not None else {}
    resident = _for(data, "points.activities.manage")
    s = svc.signup(a, resident, current_user, data.get("reason"), person_id=data.get("person_id"),
                   name=data.get("name"))
    return jsonify({"id": s.id, "activity_id": a.id, "user_id": s.user_id, "person_id": s.person_id,
                    "name": s.display_name}), 201


@endpoint(api_bp, "/activities/<int:activity_id>/signup", ["DELETE"], summary="Withdraw your sign-up", tag=TAG)
def signup_withdraw(activity_id):
    svc.withdraw_signup(svc.get_activity(g.community, activity_id), current_user)
    return "", 204


@endpoint(api_bp, "/activities/<int:activity_id>/signups", summary="Who signed up, with their hours (staff)", tag=TAG)
def signups(activity_id):
    require_api("points.activities.manage")
    a = svc.get_activity(g.community, activity_id)
    rows = PointsSignup.query.filter_by(activity_id=a.id).order_by(PointsSignup.id).all()
    records = {r.signup_id: r for r in PointsRecord.query.filter_by(activity_id=a.id)}
    return jsonify({"items": [{"id": s.id, "user_id": s.user_id, "person_id": s.person_id,
                               "display_name": s.display_name,
                               "record": record_json(records[s.id]) if s.id in records else None} for s in rows],
                    "total": len(rows)})


@endpoint(api_bp, "/activities/<int:activity_id>/hours", ["POST"], tag=TAG,
          summary="Record hours: staff verify a volunteer's hours; a volunteer reports their own",
          body={"user_id": ("integer", "the volunteer (staff); omit to report your own", False),
                "hours": ("string|integer", "exact decimal hours, e.g. \"1.5\"", False),
                "minutes": ("integer", "or whole minutes", False), "content": ("string", "what was done", True),
                "evaluation": ("string", "evaluation (staff)", False),
                "service_date": ("string", "YYYY-MM-DD", False)})
def hours(activity_id):
    _member()
    a = svc.get_activity(g.community, activity_id)
    data = json_body()
    if isinstance(data.get("hours"), float):
        raise ServiceError("invalid_hours", _("Send hours as a string, e.g. \"1.5\"."),
                           fields={"hours": _("Send hours as a string, e.g. \"1.5\".")})
    if data.get("user_id"):  # staff verify someone's hours (never their own: two-person rule)
        require_api("points.hours.verify")
        r = svc.record_hours(a, _user(data["user_id"]), current_user, hours=data.get("hours"),
                             minutes=data.get("minutes"), content=data.get("content"),
                             evaluation=data.get("evaluation"), service_date=data.get("service_date"))
    else:
        r = svc.claim_hours(a, current_user, hours=data.get("hours"), minutes=data.get("minutes"),
                            content=data.get("content"), service_date=data.get("service_date"))
    return jsonify(record_json(r)), 201


def _record(record_id):
    r = db.session.get(PointsRecord, record_id)
    if r is None or r.community_id != g.community.id:
        raise NotFound("not_found", _("No such record."))
    return r


@endpoint(api_bp, "/hours/<int:record_id>/verify", ["POST"], summary="Verify reported hours (not your own)", tag=TAG,
          body={"evaluation": ("string", "evaluation", False)})
def hours_verify(record_id):
    r = svc.verify_hours(_record(record_id), current_user, json_body().get("evaluation"))
    return jsonify(record_json(r))


@endpoint(api_bp, "/hours/<int:record_id>/reject", ["POST"], summary="Refuse reported hours, with a reason (verifiers)",
          tag=TAG, idempotent=True, body={"reason": ("string", "why the hours are not accepted", True)})
def hours_reject(record_id):
    r = _record(record_id)
    svc.reject_hours(r, current_user, json_body().get("reason"))
    return jsonify(record_json(r))


@endpoint(api_bp, "/hours", summary="Your volunteer records", tag=TAG)
def my_hours():
    _member()
    rows = svc.records_of(g.community, current_user)
    return jsonify({"items": [record_json(r) for r in rows], "total": len(rows),
                    "verified_minutes": sum(r.minutes for r in rows if r.status == "verified")})


# ── store ───────────────────────────────────────────────────────────────────────────────
@endpoint(api_bp, "/items", summary="The store catalogue", auth=False, tag=TAG,
          query={"all": ("boolean", "staff: include withdrawn items", False), "page": ("integer", "page", False),
                 "per_page": ("integer", "≤100", False)})
def items():
    q = PointsItem.query.filter_by(community_id=g.community.id)
    if not (request.args.get("all") in ("1", "true") and current_user.is_authenticated
            and can("points.store.manage")):
        q = q.filter(PointsItem.withdrawn_at.is_(None))
    return jsonify(paginate(q.order_by(PointsItem.price, PointsItem.name), item_json))


@endpoint(api_bp, "/items", ["POST"], summary="Add an item to the catalogue (staff)", tag=TAG,
          body={"name": ("string", "name", True), "price": ("integer", "points", True),
                "stock": ("integer", "units in stock", True), "kind": ("string", "goods | service", False),
                "per_resident_limit": ("integer", "most one resident may redeem", False),
                "available_from": ("string", "ISO 8601", False), "available_until": ("string", "ISO 8601", False),
                "description": ("string", "details", False), "low_stock": ("integer", "alert at or below", False)})
def item_create():
    i = svc.save_item(g.community, current_user, json_body())
    return jsonify(item_json(i)), 201


@endpoint(api_bp, "/items/<int:item_id>", summary="One catalogue item", auth=False, tag=TAG)
def item(item_id):
    i = svc.get_item(g.community, item_id)
    if i.withdrawn_at is not None and not (current_user.is_authenticated and can("points.store.manage")):
        raise NotFound("not_found", _("No such item in the store."))
    return jsonify(item_json(i))


@endpoint(api_bp, "/items/<int:item_id>/redeem", ["POST"], summary="Redeem an item; returns the pickup code",
          tag=TAG, idempotent=True,
          body={"quantity": ("integer", "how many (default 1)", False),
                "user_id": ("integer", "staff at the counter: redeem for this resident", False),
                "reason": ("string", "staff: why you act for them", False)})
def redeem(item_id):
    _member()
    data = json_body() if request.get_json(silent=True) is not None else {}
    i = svc.get_item(g.community, item_id)
    resident = _for(data, "points.orders.assist")
    o = svc.redeem(g.community, i, resident, current_user, data.get("quantity", 1), data.get("reason"))
    return jsonify(order_json(o)), 201


@endpoint(api_bp, "/orders", summary="Your orders (staff: ?all=1 for everyone's)", tag=TAG,
          query={"all": ("boolean", "staff: all orders", False), "status": ("string", "reserved | handed_over | cancelled", False),
                 "page": ("integer", "page", False), "per_page": ("integer", "≤100", False)})
def orders():
    _member()
    q = PointsOrder.query.filter_by(community_id=g.community.id)
    if not (request.args.get("all") in ("1", "true") and can("points.orders.manage")):
        q = q.filter_by(user_id=current_user.id)
    if request.args.get("status"):
        q = q.filter_by(status=request.args["status"])
    return jsonify(paginate(q.order_by(PointsOrder.id.desc()), order_json))


def _order(order_id):
    o = svc.get_order(g.community, order_id)
    if o.user_id != current_user.id and not can("points.orders.manage"):
        raise NotFound("not_found", _("No such order."))
    return o


@endpoint(api_bp, "/orders/<int:order_id>", summary="One order", tag=TAG)
def order(order_id):
    return jsonify(order_json(_order(order_id)))


@endpoint(api_bp, "/orders/<int:order_id>/cancel", ["POST"], summary="Cancel an order waiting for pickup (refund)",
          tag=TAG, body={"reason": ("string", "staff: why", False)})
def order_cancel(order_id):
    data = json_body() if request.get_json(silent=True) is not None else {}
    o = svc.cancel_order(_order(order_id), current_user, data.get("reason"))
    return jsonify(order_json(o))


@endpoint(api_bp, "/orders/handover", ["POST"], summary="Hand an order over by its pickup code (staff)", tag=TAG,
          body={"code": ("string", "pickup code", True)})
def handover():
    o = svc.hand_over(g.community, json_body().get("code"), current_user)
    return jsonify(order_json(o))


# ── rules and reports ───────────────────────────────────────────────────────────────────
@endpoint(api_bp, "/rules", summary="Earning rules of this community", tag=TAG)
def rules():
    _member()
    return jsonify({"hours": svc.hours_rule(g.community),
                    "events": [{"event_name": r.event_name, "points": r.points, "daily_cap": r.daily_cap,
                                "monthly_cap": r.monthly_cap, "active": r.active} for r in svc.rules(g.community)]})


@endpoint(api_bp, "/rules", ["PUT"], summary="Set the earning rule for one event (admin)", tag=TAG,
          body={"event_name": ("string", "declared event name", True), "points": ("integer", "points", True),
                "daily_cap": ("integer", "most per day", False), "monthly_cap": ("integer", "most per month", False),
                "active": ("boolean", "on or off", False)})
def rule_save():
    d = json_body()
    r = svc.save_rule(g.community, current_user, d.get("event_name"), d.get("points"), d.get("daily_cap"),
                      d.get("monthly_cap"), d.get("active", True))
    return jsonify({"event_name": r.event_name, "points": r.points, "daily_cap": r.daily_cap,
                    "monthly_cap": r.monthly_cap, "active": r.active})


@endpoint(api_bp, "/rules/hours", ["PUT"], tag=TAG, idempotent=True,
          summary="Set points per verified hour, the cap per activity, expiry and the balance alert (admin)",
          body={"points_per_hour": ("integer", "1–100", False),
                "max_hours_per_activity": ("integer", "hours credited per activity, 1–24", False),
                "expiry_months": ("integer", "earned points expire after N months, 0–120 (0: never)", False),
                "max_balance": ("integer", "flag accounts holding more (0: no limit)", False)})
def hours_rule_save():
    svc.save_hours_rule(g.community, current_user, json_body())
    return jsonify(svc.hours_rule(g.community))


@endpoint(api_bp, "/rules/certificate", ["PUT"], tag=TAG, idempotent=True,
          summary="Set the responsible person and contact printed on certificates (admin)",
          body={"head": ("string", "the issuer's responsible person", False),
                "contact": ("string", "the issuer's contact telephone", False)})
def certificate_issuer_save():
    data = json_body()
    return jsonify(svc.save_certificate_issuer(g.community, current_user, data.get("head"), data.get("contact")))


@endpoint(api_bp, "/reports/monthly", summary="Points issued and redeemed per month (staff)", tag=TAG)
def report_monthly():
    require_api("points.reports.view")
    return jsonify({"items": [{"month": m, "issued": i, "redeemed": r} for m, i, r in svc.monthly(g.community)],
                    "stock_alerts": [item_json(i) for i in svc.stock_alerts(g.community)]})


@endpoint(api_bp, "/items/<int:item_id>", ["PUT"], summary="Change a catalogue item (staff)", tag=TAG,
          body={"name": ("string", "name", True), "price": ("integer", "points", True),
                "stock_change": ("integer", "units to add (negative: write off)", False),
                "kind": ("string", "goods | service", False),
                "per_resident_limit": ("integer", "most one resident may redeem", False),
                "available_from": ("string", "ISO 8601", False), "available_until": ("string", "ISO 8601", False),
                "description": ("string", "details", False), "low_stock": ("integer", "alert at or below", False)})
def item_update(item_id):
    i = svc.save_item(g.community, current_user, json_body(), svc.get_item(g.community, item_id))
    return jsonify(item_json(i))


@endpoint(api_bp, "/items/<int:item_id>/withdraw", ["POST"], summary="Withdraw an item or put it back (staff)",
          tag=TAG, body={"withdrawn": ("boolean", "true: withdraw, false: back on sale", True),
                         "reason": ("string", "why", False)})
def item_withdraw(item_id):
    data = json_body()
    i = svc.get_item(g.community, item_id)
    svc.set_withdrawn(i, current_user, bool(data.get("withdrawn", True)), data.get("reason"))
    return jsonify(item_json(i))


@endpoint(api_bp, "/items/<int:item_id>/picture", ["PUT"], summary="Set an item's picture (staff)", tag=TAG,
          body={"picture": ("string", "the JPEG, PNG or WebP file, base64-encoded (at most 2 MB)", True)})
def item_picture(item_id):
    i = svc.get_item(g.community, item_id)
    try:
        data = base64.b64decode(str(json_body().get("picture") or ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""  # not base64: refused below as not a picture
    svc.save_picture(i, current_user, io.BytesIO(data))
    return jsonify(item_json(i))


@endpoint(api_bp, "/consent", ["PUT"], summary="Whether others may see your volunteering (名字和时长)", tag=TAG,
          body={"share_volunteering": ("boolean", "true to be shown on lists and rankings", True)})
def consent():
    _member()
    p = svc.set_consent(g.community, current_user, bool(json_body().get("share_volunteering")))
    return jsonify({"share_volunteering": p.share_volunteering})


def _identity_json(p):
    return {"id_type": p.id_type if p else None, "id_number": identity.masked(p.id_number) if p else "",
            "volunteer_number": p.volunteer_number if p else None}


@endpoint(api_bp, "/volunteer-identity", summary="Your identity document for certificates (number masked)", tag=TAG)
def volunteer_identity():
    _member()
    return jsonify(_identity_json(svc.profile(g.community, current_user)))


@endpoint(api_bp, "/volunteer-identity", ["PUT"], summary="Set or remove your identity document for certificates",
          tag=TAG, body={"id_type": ("string", "resident_id, hk_macao, taiwan, foreign_permanent or passport; "
                                               "empty removes", False),
                         "id_number": ("string", "the document's number", False),
                         "volunteer_number": ("string", "your national volunteer number, if any", False)})
def volunteer_identity_set():
    _member()
    data = json_body()
    p = svc.set_volunteer_identity(g.community, current_user, data.get("id_type"), data.get("id_number"),
                                   data.get("volunteer_number"))
    return jsonify(_identity_json(p))


@endpoint(api_bp, "/certificates", ["POST"], summary="Issue a volunteer-service certificate (staff: for user_id)",
          tag=TAG, body={"user_id": ("integer", "staff: the resident", False),
                         "id_type": ("string", "staff issuing in person: the document shown to them", False),
                         "id_number": ("string", "staff issuing in person: its number", False)})
def certificate_issue():
    _member()
    data = json_body() if request.get_json(silent=True) is not None else {}
    resident = _for(data, "points.certificates.issue")
    c = svc.issue_certificate(g.community, resident, current_user, id_type=data.get("id_type"),
                              id_number=data.get("id_number"))
    return jsonify({"number": c.number, "holder": c.holder_name, "total_minutes": c.total_minutes,
                    "id_type": c.holder_id_type, "id_number": identity.masked(c.holder_id_number),
                    "volunteer_number": c.volunteer_number, "issuer": c.issuer_name, "issuer_head": c.issuer_head,
                    "issuer_contact": c.issuer_contact, "handler": c.handler_name,
                    "issued_at": iso(c.issued_at), "records": c.records,
                    "url": url_for("c.points.certificate", number=c.number)}), 201


@endpoint(api_bp, "/hours/pending", summary="Reported hours waiting for verification (verifiers)", tag=TAG)
def hours_pending():
    require_api("points.hours.verify")
    rows = PointsRecord.query.filter_by(community_id=g.community.id, status="claimed").order_by(PointsRecord.id).all()
    return jsonify({"items": [record_json(r) for r in rows], "total": len(rows)})
