"""Every state change of the points module: earning, volunteering, the store, adjustments, expiry.

Views, the API and the command line call these, each inside its own transaction (core.db): a
service never commits. A refused action raises a ``core.errors`` ``ServiceError``; the entry
point's transaction then rolls back everything the request did, so nothing is half-saved."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError

from core import dates, identity
from core.errors import Conflict, Forbidden, NotFound, ServiceError
from core.inputs import INT_MAX, whole_number
from core.events import Event, emit
from core.extensions import db
from core.models import Community, Membership, User, utcnow
from core.permissions import can, membership_of
from core.db import insert_row, keep_loaded
from core.services import audit
from core.services import settings as core_settings
from core.services.notifications import N_, notify
from plugins.points import ledger
from plugins.points.models import (ITEM_KINDS, PointsAccount, PointsActivity, PointsAward, PointsCertificate,
                                   PointsItem, PointsOrder, PointsProfile, PointsRecord, PointsRule, PointsSignup,
                                   PointsTransfer)

PLUGIN = "points"
PICTURE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
MAX_PICTURE_BYTES = 2 * 1024 * 1024
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud at the counter


def setting(community, key):
    return core_settings.get(community, PLUGIN, key)


def _expires_at(community):
    """When points earned now expire under the community's rule (None: never; R27, core.dates)."""
    months = hours_rule(community)["expiry_months"]
    return dates.months_after(utcnow(), months, community) if months else None


def _verified(community, user) -> bool:
    m = Membership.query.filter_by(user_id=getattr(user, "id", user), community_id=community.id).first()
    return m is not None and m.is_verified


def _member(community, user):
    m = membership_of(user, community) if hasattr(user, "is_authenticated") else None
    if m is None:
        m = Membership.query.filter_by(user_id=user.id, community_id=community.id).first()
    return m


def _require(permission, community, actor, message=None):
    if actor is None or not can(permission, community, user=actor):
        raise Forbidden("forbidden", message or _("You do not have permission to do this."))


# ── settings: the hours rule and expiry ──────────────────────────────────────────────────
def hours_rule(community):
    return {"points_per_hour": int(setting(community, "points_per_hour")),
            "max_hours_per_activity": int(setting(community, "max_hours_per_activity")),
            "expiry_months": int(setting(community, "expiry_months")),
            "max_balance": int(setting(community, "max_balance"))}


def save_hours_rule(community, actor, data):
    _require("points.rules.manage", community, actor)
    errors = {}
    values = {}
    for key, low, high, msg in (
            ("points_per_hour", 1, 100, _("Give a whole number of points per hour from 1 to 100.")),
            ("max_hours_per_activity", 1, 24, _("Give a whole number of hours from 1 to 24.")),
            ("expiry_months", 0, 120, _("Give a number of months from 0 (never) to 120.")),
            ("max_balance", 0, 10_000_000, _("Give a whole number of 0 (no limit) or more."))):
        try:
            v = int(str(data.get(key, setting(community, key))).strip())
            if not low <= v <= high:
                raise ValueError
            values[key] = v
        except (TypeError, ValueError):
            errors[key] = msg
    if errors:
        raise ServiceError("invalid_rule", _("Please correct the marked fields."), fields=errors)
    for key, v in values.items():
        if setting(community, key) != v:
            core_settings.set(community, PLUGIN, key, v, actor=actor)
    return values


def points_for_minutes(community, minutes):
    rule = hours_rule(community)
    counted = min(minutes, rule["max_hours_per_activity"] * 60)
    return counted * rule["points_per_hour"] // 60, rule


# ── earning rules for other modules' events ──────────────────────────────────────────────
def event_choices():
    """(name, EventType, owner plugin or 'core') for every declared event but our own."""
    registry = current_app.extensions["linli.plugins"]
    owners = {}
    for name in registry.names:
        for ns in (name, *registry.manifests[name].namespaces):
            owners[ns] = name
    out = []
    for name, etype in sorted(registry.event_types.items()):
        prefix = name.split(".", 1)[0]
        if prefix == PLUGIN:
            continue
        out.append((name, etype, owners.get(prefix, "core")))
    return out


def rules(community):
    return PointsRule.query.filter_by(community_id=community.id).order_by(PointsRule.event_name).all()


def save_rule(community, actor, event_name, points, daily_cap=None, monthly_cap=None, active=True):
    _require("points.rules.manage", community, actor)
    known = {name for name, _e, _o in event_choices()}
    existing = PointsRule.query.filter_by(community_id=community.id, event_name=event_name).first()
    if event_name not in known and existing is None:
        raise ServiceError("unknown_event", _("No installed module announces this event."),
                           fields={"event_name": _("Choose an event from the list.")})
    numbers = {}
    for key, value, optional, message in (
            ("points", points, False, _("Give a whole number of points of at least 1.")),
            ("daily_cap", daily_cap, True, _("Leave empty or give a whole number of at least 1.")),
            ("monthly_cap", monthly_cap, True, _("Leave empty or give a whole number of at least 1."))):
        try:
            numbers[key] = whole_number(value, key, minimum=1)
        except ServiceError:
            numbers[key] = None
        if numbers[key] is None and not (optional and value in (None, "")):
            raise ServiceError("invalid_" + key, message, fields={key: message})
    points, daily_cap, monthly_cap = numbers["points"], numbers["daily_cap"], numbers["monthly_cap"]
    before = None
    if existing is None:
        existing = PointsRule(community_id=community.id, event_name=event_name)
        db.session.add(existing)
    else:
        before = {"points": existing.points, "daily_cap": existing.daily_cap, "monthly_cap": existing.monthly_cap,
                  "active": existing.active}
    existing.points, existing.daily_cap, existing.monthly_cap = points, daily_cap, monthly_cap
    existing.active = bool(active)
    existing.updated_at = utcnow()
    db.session.flush()
    audit.record("points.rule_saved", community=community, obj=existing, actor=actor, before=before,
                 after={"event_name": event_name, "points": points, "daily_cap": daily_cap,
                        "monthly_cap": monthly_cap, "active": bool(active)})
    core_settings.touch(community)
    return existing


class RuleTerms(NamedTuple):
    """What paying an event needs of its rule (a copy, kept between requests: see _active_rule)."""
    id: int
    points: int
    daily_cap: int | None
    monthly_cap: int | None


def _active_rule(community, event_name):
    """The terms (id, points, daily_cap, monthly_cap) of the community's active rule for the
    event, or None. Every write that announces an event asks, inside its transaction (a vote,
    while it holds its ballot's lock), so a worker keeps the answers, keyed by the community's
    ``config_version`` as this request read it: saving a rule grows that number in the same
    transaction (save_rule), so no request that starts after the change gets the old terms."""
    store = current_app.extensions.setdefault("points.active_rules", {})
    known = store.get((community.id, event_name))
    if known is not None and known[0] == community.config_version:
        return known[1]
    row = ledger.active_rule(community.id, event_name)
    terms = None if row is None else RuleTerms(*row)
    store[(community.id, event_name)] = (community.config_version, terms)
    return terms


def _ref(*parts):
    ref = ":".join(str(p) for p in parts)
    return ref if len(ref) <= 200 else "h:" + hashlib.sha256(ref.encode()).hexdigest()


def handle_event(event):
    """Pay the residents an event concerns, if this community has an active rule for it.

    Runs inside the emitter's transaction: adds rows, never commits, never rolls back."""
    if event.name.startswith(PLUGIN + "."):
        return
    community = db.session.get(Community, event.community_id)  # the request's own, already loaded
    rule = _active_rule(community, event.name)
    if rule is None:
        return
    for user_id in dict.fromkeys(event.user_ids or ()):
        _pay_event(community, rule, event, user_id)


def _pay_event(community, rule, event, user_id):
    if not _verified(community, user_id):
        return None
    ref = _ref(event.ref)[:160]
    if not ledger.insert_ignore(PointsAward, community_id=community.id, user_id=user_id, event_name=event.name,
                                ref=ref, points=0, created_at=utcnow()):
        return None  # this event already paid (or was considered for) this resident
    grant = rule.points
    today = dates.local_date(event.created, community)
    monthly_key = daily_key = None
    if rule.monthly_cap:
        monthly_key = f"cap:{rule.id}:{user_id}:m:{today:%Y-%m}"
        grant = ledger.grant_within(community.id, monthly_key, grant, rule.monthly_cap)
    if rule.daily_cap and grant > 0:
        daily_key = f"cap:{rule.id}:{user_id}:d:{today.isoformat()}"
        daily = ledger.grant_within(community.id, daily_key, grant, rule.daily_cap)
        if monthly_key and daily < grant:
            ledger.release(community.id, monthly_key, grant - daily)
        grant = daily
    if grant <= 0:
        return None
    transfer = ledger.credit(community.id, user_id, grant, ref=_ref("event", event.name, event.ref, user_id),
                             rule_id=rule.id, expires_at=_expires_at(community),
                             details={"event": event.name, "rule_points": rule.points,
                                      "capped": grant < rule.points, "data": _small(event.data)})
    db.session.execute(update(PointsAward).where(PointsAward.community_id == community.id,
                                                 PointsAward.user_id == user_id,
                                                 PointsAward.event_name == event.name, PointsAward.ref == ref)
                       .values(points=grant).execution_options(synchronize_session=False))
    _earned(community, transfer, user_id)
    return transfer


def _small(data):
    return {k: v for k, v in dict(data or {}).items() if isinstance(v, (int, str, bool)) and len(str(v)) < 100}


def _earned(community, transfer, user_id):
    emit(community, Event("points.earned", community.id, transfer.actor_id, (user_id,),
                          f"points:transfer:{transfer.id}", {"amount": transfer.amount, "transfer_id": transfer.id}))
    notify(user_id, community, "points.earned", N_("You earned %(amount)s points."), {"amount": transfer.amount},
           url=_url("c.points.index", community))


def _url(endpoint, community, **kw):
    try:
        return url_for(endpoint, community=community.slug, **kw)
    except RuntimeError:
        return None


# ── consent ──────────────────────────────────────────────────────────────────────────────
def profile(community, user):
    return PointsProfile.query.filter_by(community_id=community.id, user_id=user.id).first()


def shares(community, user) -> bool:
    p = profile(community, user)
    return bool(p and p.share_volunteering)


def set_consent(community, user, share: bool):
    p = profile(community, user)
    before = bool(p and p.share_volunteering)
    if p is None:
        p = PointsProfile(community_id=community.id, user_id=user.id)
        db.session.add(p)
    p.share_volunteering = bool(share)
    p.changed_at = utcnow()
    db.session.flush()
    audit.record("points.consent_changed", community=community, obj=p, actor=user,
                 before={"share_volunteering": before}, after={"share_volunteering": bool(share)})
    return p


def _own_profile(community, user):
    p = profile(community, user)
    if p is None:
        p = PointsProfile(community_id=community.id, user_id=user.id)
        db.session.add(p)
    return p


def set_volunteer_identity(community, user, id_type, id_number, volunteer_number=None):
    """The volunteer's identity document and volunteer number, printed on their certificates
    (志愿服务记录与证明出具办法). Given by the volunteer for that purpose only (PIPL Art. 14, 17);
    empty values remove them. The audit log keeps only the masked number."""
    id_type, id_number = identity.normalise(id_type, id_number)
    volunteer_number = _volunteer_number(volunteer_number)
    p = _own_profile(community, user)
    before = {"id_type": p.id_type, "id_number": identity.masked(p.id_number), "volunteer_number": p.volunteer_number}
    p.id_type, p.id_number, p.volunteer_number = id_type, id_number, volunteer_number
    p.changed_at = utcnow()
    db.session.flush()
    audit.record("points.volunteer_identity_changed", community=community, obj=p, actor=user, before=before,
                 after={"id_type": id_type, "id_number": identity.masked(id_number),
                        "volunteer_number": volunteer_number})
    return p


def _volunteer_number(value):
    """A volunteer number from the national volunteer system (optional): letters, digits, dashes."""
    value = "".join(value.split()) if isinstance(value, str) else value
    if not value:
        return None
    if not (isinstance(value, str) and len(value) <= 40 and value.isascii() and value.replace("-", "").isalnum()):
        msg = _("A volunteer number has at most 40 letters, digits or dashes.")
        raise ServiceError("invalid_volunteer_number", msg, fields={"volunteer_number": msg})
    return value


def certificate_issuer(community):
    return {"head": setting(community, "certificate_head") or "", "contact": setting(community, "certificate_contact") or ""}


def save_certificate_issuer(community, actor, head, contact):
    """The responsible person and contact printed on certificates (办法: the issuer's details)."""
    _require("points.rules.manage", community, actor)
    errors = {k: _("Give text.") for k, v in (("head", head), ("contact", contact))
              if v is not None and not isinstance(v, str)}
    head = head.strip() if isinstance(head, str) else ""
    contact = contact.strip() if isinstance(contact, str) else ""
    if len(head) > 80:
        errors["head"] = _("Use at most 80 characters.")
    if len(contact) > 80:
        errors["contact"] = _("Use at most 80 characters.")
    if errors:
        raise ServiceError("invalid_issuer", _("Please correct the marked fields."), fields=errors)
    core_settings.set(community, PLUGIN, "certificate_head", head, actor=actor)
    core_settings.set(community, PLUGIN, "certificate_contact", contact, actor=actor)
    return certificate_issuer(community)


def sharing_user_ids(community):
    return {uid for (uid,) in db.session.query(PointsProfile.user_id).filter_by(
        community_id=community.id, share_volunteering=True)}


# ── volunteer activities ─────────────────────────────────────────────────────────────────
def _parse_dt(community, value, field):
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip())
        except (TypeError, ValueError):
            raise ServiceError("invalid_" + field, _("Give a date and time."), fields={field: _("Give a date and time.")})
    return dates.from_local(dt, community)


def get_activity(community, activity_id) -> PointsActivity:
    a = db.session.get(PointsActivity, activity_id)
    if a is None or a.community_id != community.id:
        raise NotFound("not_found", _("No such volunteer activity."))
    return a


def save_activity(community, actor, data, activity=None):
    _require("points.activities.manage", community, actor)
    errors = {}
    title = (data.get("title") or "").strip()
    location = (data.get("location") or "").strip()
    description = (data.get("description") or "").strip()
    if not 2 <= len(title) <= 120:
        errors["title"] = _("Give a title of 2 to 120 characters.")
    if not 1 <= len(location) <= 200:
        errors["location"] = _("Say where it takes place.")
    if len(description) > 5000:
        errors["description"] = _("Use at most 5,000 characters.")
    starts = ends = None
    try:
        starts = _parse_dt(community, data.get("starts_at"), "starts_at")
    except ServiceError as e:
        errors.update(e.fields)
    try:
        ends = _parse_dt(community, data.get("ends_at"), "ends_at")
    except ServiceError as e:
        errors.update(e.fields)
    if starts and ends and ends <= starts:
        errors["ends_at"] = _("The end must be after the start.")
    places = None
    try:
        places = whole_number(data.get("places"), "places", minimum=1)
    except ServiceError:
        errors["places"] = _("Leave empty or give a whole number of at least 1.")
    if (activity is not None and starts and ends and (starts, ends) != (activity.starts_at, activity.ends_at)
            and PointsRecord.query.filter(PointsRecord.activity_id == activity.id,
                                          PointsRecord.status != "rejected").first() is not None):
        errors["starts_at"] = _("Hours are recorded for this activity already: its times can no longer change.")
    if activity is not None and places is not None and places < activity.signups_count:
        errors["places"] = _("%(n)d people have signed up already.", n=activity.signups_count)
    if errors:
        raise ServiceError("invalid_activity", _("Please correct the marked fields."), fields=errors)
    values = dict(title=title, location=location, description=description, starts_at=starts, ends_at=ends,
                  places=places)
    before = None
    if activity is None:
        activity = PointsActivity(community_id=community.id, created_by_id=actor.id, **values)
        db.session.add(activity)
    else:
        before = {k: getattr(activity, k) for k in values}
        for k, v in values.items():
            setattr(activity, k, v)
    db.session.flush()
    audit.record("points.activity_saved", community=community, obj=activity, actor=actor, before=before,
                 after=values)
    return activity


def cancel_activity(activity, actor, reason):
    community = activity.community_id and db.session.get(Community, activity.community_id)
    _require("points.activities.manage", community, actor)
    if not (reason or "").strip():
        raise ServiceError("reason_required", _("Give a reason."), fields={"reason": _("Give a reason.")})
    activity.cancelled_at = utcnow()
    audit.record("points.activity_cancelled", community=community, obj=activity, actor=actor, reason=reason)
    for s in PointsSignup.query.filter(PointsSignup.activity_id == activity.id, PointsSignup.user_id.isnot(None)):
        notify(s.user_id, community, "points.activity_cancelled",
               N_("The volunteer activity “%(title)s” was cancelled."), {"title": activity.title})


def signup(activity, resident=None, actor=None, reason=None, *, person_id=None, name=None):
    """Sign ``resident`` up (once); staff may sign up a resident at the desk (assisted, 代办):
    an account holder (``resident`` another than ``actor``) or a person of the register picked by
    ``person_id``, with or without an account, never by a typed ``name`` (refused). The sign-up
    is the resident's, linked to their person; a person holds one place however signed up."""
    from core.services import assist

    community = db.session.get(Community, activity.community_id)
    actor = actor or resident
    helped = assist.acting_for(community, actor, person_id=person_id, name=name, reason=reason,
                               account=resident if resident is not None and resident.id != actor.id else None,
                               permission="points.activities.manage",
                               refused=_("You may not sign up other residents."))
    assisted = helped is not None
    who = helped or assist.own(community, actor)
    if who.user is not None and _member(community, who.user) is None:
        raise Forbidden("not_member", _("Join this community first."))
    if activity.cancelled_at is not None:
        raise Conflict("activity_cancelled", _("This activity was cancelled."))
    if activity.ends_at <= utcnow():
        raise Conflict("activity_over", _("This activity is over; sign-up has closed."))
    row = PointsSignup(activity_id=activity.id, user_id=who.user_id, person_id=who.person_id,
                       name=None if who.user_id else who.name[:80],
                       acted_by_id=actor.id if assisted else None,
                       assist_reason=reason.strip()[:200] if assisted else None)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # messages lazy: read once the entry point has rolled back the failed flush
        raise Conflict("already_signed_up", _l("You have signed up for this activity already.") if not assisted else
                       _l("%(name)s is already signed up for this activity.", name=who.name))
    # Places and cancellation are checked again in the write: the activity read above may be stale.
    result = db.session.execute(
        update(PointsActivity).where(PointsActivity.id == activity.id, PointsActivity.cancelled_at.is_(None),
                                     (PointsActivity.places.is_(None)) |
                                     (PointsActivity.signups_count < PointsActivity.places))
        .values(signups_count=PointsActivity.signups_count + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        if db.session.execute(select(PointsActivity.cancelled_at)
                              .where(PointsActivity.id == activity.id)).scalar() is not None:
            raise Conflict("activity_cancelled", _("This activity was cancelled."))
        raise Conflict("activity_full", _("All places are taken."))
    db.session.expire(activity, ["signups_count"])
    audit.record("points.signed_up", community=community, obj=row, actor=actor,
                 on_behalf_of=who.user if assisted else None, on_behalf_of_name=who.name if assisted else None,
                 reason=row.assist_reason,
                 after={"activity_id": activity.id, "user_id": who.user_id, "person_id": who.person_id})
    return row


def withdraw_signup(activity, resident):
    community = db.session.get(Community, activity.community_id)
    row = PointsSignup.query.filter_by(activity_id=activity.id, user_id=resident.id).first()
    if row is None:
        raise NotFound("not_signed_up", _("You have not signed up for this activity."))
    if activity.starts_at <= utcnow() or PointsRecord.query.filter_by(signup_id=row.id).first():
        raise Conflict("activity_started", _("The activity has started; ask staff to take you off the list."))
    db.session.delete(row)
    db.session.execute(update(PointsActivity).where(PointsActivity.id == activity.id, PointsActivity.signups_count > 0)
                       .values(signups_count=PointsActivity.signups_count - 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(activity, ["signups_count"])
    audit.record("points.signup_withdrawn", community=community, object_type="points_signup",
                 object_id=str(row.id), actor=resident, before={"activity_id": activity.id})


def parse_minutes(hours=None, minutes=None) -> int:
    """Hours as an exact decimal ("1.5") or whole minutes, as whole minutes (> 0, ≤ 24 h)."""
    msg = _("Give the hours served as a positive number, at most 24 (for example 1.5).")
    if minutes not in (None, ""):
        try:
            value = whole_number(minutes, "minutes", minimum=-INT_MAX)
        except ServiceError:
            raise ServiceError("invalid_minutes", msg, fields={"minutes": msg}) from None
    else:
        if isinstance(hours, float):
            hours = repr(hours)
        try:
            value = int((Decimal(str(hours).strip().replace(",", ".")) * 60).quantize(Decimal(1), ROUND_HALF_UP))
        except (InvalidOperation, TypeError, ValueError):
            raise ServiceError("invalid_hours", msg, fields={"hours": msg})
    if not 0 < value <= 24 * 60:
        raise ServiceError("invalid_hours", msg, fields={"hours": msg})
    return value


def _record_fields(community, activity, minutes, content, evaluation, service_date):
    """The claim's content and date, checked against the activity's time window (R26: hours
    that happened): no more minutes than the activity lasted, a service date inside it."""
    length = int((activity.ends_at - activity.starts_at).total_seconds() // 60)
    first, last = dates.local_date(activity.starts_at, community), dates.local_date(activity.ends_at, community)
    if minutes > length:
        msg = _("The activity lasted %(hours)s hours (%(start)s – %(end)s); no more can be claimed for it.",
                hours=_hours(length), start=dates.format_local(activity.starts_at, community),
                end=dates.format_local(activity.ends_at, community))
        raise ServiceError("hours_outside_activity", msg, fields={"hours": msg})
    content = (content or "").strip()
    if not 2 <= len(content) <= 500:
        raise ServiceError("invalid_content", _("Describe the service in 2 to 500 characters."),
                           fields={"content": _("Describe the service in 2 to 500 characters.")})
    if isinstance(service_date, str) and service_date:
        try:
            service_date = date.fromisoformat(service_date)
        except ValueError:
            raise ServiceError("invalid_date", _("Give a date."), fields={"service_date": _("Give a date.")})
    service_date = service_date or first
    if not first <= service_date <= last:
        msg = _("The date must be a day of the activity (%(first)s – %(last)s).", first=first.isoformat(),
                last=last.isoformat())
        raise ServiceError("date_outside_activity", msg, fields={"service_date": msg})
    return content, (evaluation or "").strip()[:500] or None, service_date


def _check_time_passed(community, activity, user_id, minutes):
    """A volunteer cannot serve twice at once (R26): over every stretch of time, the hours claimed
    or verified for activities that lie wholly inside it may not exceed its length (Horn's
    condition, so one schedule fitting every claim into its activity's window exists). The
    volunteer's points account is locked first, so two claims at once are checked one after the
    other."""
    ledger.lock_account(ledger.resident_account(community.id, user_id).id)
    rows = db.session.execute(
        select(PointsActivity.starts_at, PointsActivity.ends_at, PointsRecord.minutes)
        .join(PointsRecord, PointsRecord.activity_id == PointsActivity.id)
        .where(PointsRecord.community_id == community.id, PointsRecord.user_id == user_id,
               PointsRecord.status != "rejected", PointsRecord.activity_id != activity.id,
               PointsActivity.starts_at < activity.ends_at, PointsActivity.ends_at > activity.starts_at)).all()
    if not rows:
        return
    claims = [(r.starts_at, r.ends_at, r.minutes) for r in rows] + [(activity.starts_at, activity.ends_at, minutes)]
    points = sorted({t for start, end, _m in claims for t in (start, end)})
    for i, t1 in enumerate(points):
        for t2 in points[i + 1:]:
            inside = sum(m for start, end, m in claims if t1 <= start and end <= t2)
            if inside * 60 > (t2 - t1).total_seconds():
                msg = _("These hours overlap hours already claimed for another activity at the same time: "
                        "together they are more than the time that passed.")
                raise Conflict("hours_overlap", msg, fields={"hours": msg})


def claim_hours(activity, resident, *, hours=None, minutes=None, content="", service_date=None):
    """A volunteer reports their own hours; someone else verifies them (R26)."""
    community = db.session.get(Community, activity.community_id)
    minutes = parse_minutes(hours, minutes)
    content, _e, service_date = _record_fields(community, activity, minutes, content, None, service_date)
    s = PointsSignup.query.filter_by(activity_id=activity.id, user_id=resident.id).first()
    if s is None:
        raise Conflict("not_signed_up", _("Only people who signed up beforehand can report hours."))
    if activity.starts_at > utcnow():
        raise Conflict("not_started", _("Hours can be reported once the activity has started."))
    _check_time_passed(community, activity, resident.id, minutes)
    record = PointsRecord(community_id=community.id, signup_id=s.id, activity_id=activity.id, user_id=resident.id,
                          service_date=service_date, minutes=minutes, content=content, status="claimed",
                          recorded_by_id=resident.id)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:  # the message is lazy: read once the entry point has rolled back
        raise Conflict("already_recorded", _l("Hours for this activity are recorded already."))
    audit.record("points.hours_claimed", community=community, obj=record, actor=resident,
                 after={"minutes": minutes, "content": content})
    return record


def record_hours(activity, volunteer, actor, *, hours=None, minutes=None, content="", evaluation=None,
                 service_date=None):
    """Staff record and verify a volunteer's hours in one step; the points are paid at once."""
    community = db.session.get(Community, activity.community_id)
    _require("points.hours.verify", community, actor)
    if actor.id == volunteer.id:
        raise Forbidden("own_hours", _("Someone other than the volunteer must verify their hours."),
                        fields={"user_id": _("Someone other than the volunteer must verify their hours.")})
    minutes = parse_minutes(hours, minutes)
    content, evaluation, service_date = _record_fields(community, activity, minutes, content, evaluation,
                                                       service_date)
    s = PointsSignup.query.filter_by(activity_id=activity.id, user_id=volunteer.id).first()
    if s is None:
        raise Conflict("not_signed_up", _("Only people who signed up beforehand can earn points for it."))
    if activity.starts_at > utcnow():
        raise Conflict("not_started", _("Hours can be recorded once the activity has started."))
    _check_time_passed(community, activity, volunteer.id, minutes)
    record = PointsRecord.query.filter_by(signup_id=s.id).first()
    if record is not None and record.status == "verified":
        raise Conflict("already_verified", _("These hours are verified already."))
    if record is None:
        record = PointsRecord(community_id=community.id, signup_id=s.id, activity_id=activity.id,
                              user_id=volunteer.id, status="claimed", recorded_by_id=actor.id,
                              service_date=service_date, minutes=minutes, content=content)
        db.session.add(record)
        try:
            db.session.flush()
        except IntegrityError:  # the message is lazy: read once the entry point has rolled back
            raise Conflict("already_recorded", _l("Hours for this activity are recorded already."))
    else:  # reported by the volunteer (or refused before): staff now record and verify it
        record.minutes, record.content, record.service_date = minutes, content, service_date
        record.status = "claimed"
    record.evaluation = evaluation
    db.session.flush()
    return _verify(record, actor, community)


def verify_hours(record, actor, evaluation=None):
    """Verify hours a volunteer reported (two-person rule: never your own)."""
    community = db.session.get(Community, record.community_id)
    _require("points.hours.verify", community, actor)
    if actor.id == record.user_id:
        raise Forbidden("own_hours", _("Someone other than the volunteer must verify their hours."))
    if evaluation is not None:
        record.evaluation = (evaluation or "").strip()[:500] or None
    return _verify(record, actor, community)


def _verify(record, actor, community):
    activity = db.session.get(PointsActivity, record.activity_id)
    result = db.session.execute(
        update(PointsRecord).where(PointsRecord.id == record.id, PointsRecord.status == "claimed")
        .values(status="verified", verified_by_id=actor.id, verified_at=utcnow(), evaluation=record.evaluation,
                minutes=record.minutes, content=record.content, service_date=record.service_date)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("already_verified", _("These hours are verified already."))
    points, rule = points_for_minutes(community, record.minutes)
    transfer = None
    if points > 0 and _verified(community, record.user_id):
        transfer = ledger.credit(
            community.id, record.user_id, points, ref=_ref("hours", activity.id, record.user_id), actor_id=actor.id,
            expires_at=_expires_at(community),
            details={"activity_id": activity.id, "activity": activity.title, "minutes": record.minutes,
                     "per_hour": rule["points_per_hour"], "max_hours": rule["max_hours_per_activity"]})
        db.session.execute(update(PointsRecord).where(PointsRecord.id == record.id)
                           .values(transfer_id=transfer.id).execution_options(synchronize_session=False))
        _earned(community, transfer, record.user_id)
    db.session.expire(record)
    audit.record("points.hours_verified", community=community, obj=record, actor=actor,
                 after={"minutes": record.minutes, "points": points, "user_id": record.user_id})
    return record


def reject_hours(record, actor, reason):
    community = db.session.get(Community, record.community_id)
    _require("points.hours.verify", community, actor)
    if not (reason or "").strip():
        raise ServiceError("reason_required", _("Give a reason."), fields={"reason": _("Give a reason.")})
    result = db.session.execute(update(PointsRecord).where(PointsRecord.id == record.id,
                                                           PointsRecord.status == "claimed")
                                .values(status="rejected", evaluation=reason.strip()[:500])
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("already_verified", _("These hours are verified already."))
    db.session.expire(record)
    audit.record("points.hours_rejected", community=community, obj=record, actor=actor, reason=reason)


def records_of(community, user):
    return (PointsRecord.query.filter_by(community_id=community.id, user_id=user.id)
            .order_by(PointsRecord.service_date.desc(), PointsRecord.id.desc()).all())


def issue_certificate(community, resident, actor, id_type=None, id_number=None):
    """A numbered volunteer-service certificate of the verified records (free of charge, R23).

    It carries what 志愿服务记录与证明出具办法 asks: the volunteer's name, identity document
    type and number (when given: on their profile, or shown to the staff member issuing it in
    person, then kept on this certificate only), volunteer number, hours and content, the issuer
    with its responsible person, handler and contact, the certificate number and date. A
    volunteer without a national volunteer number gets the community's (``<SLUG>-V<id>``)."""
    if actor.id != resident.id:
        _require("points.certificates.issue", community, actor)
    given_type, given_number = identity.normalise(id_type, id_number)
    records = [r for r in records_of(community, resident) if r.status == "verified"]
    if not records:
        raise ServiceError("no_records", _("There are no verified volunteer hours to certify yet."))
    p = _own_profile(community, resident)
    db.session.flush()
    if not p.volunteer_number:
        p.volunteer_number = f"{community.slug.upper()[:12]}-V{p.id:06d}"
    doc_type, doc_number = (given_type, given_number) if given_number else (p.id_type, p.id_number)
    issuer = certificate_issuer(community)
    snapshot = [{"date": r.service_date.isoformat(), "activity": r.activity.title, "content": r.content,
                 "minutes": r.minutes, "evaluation": r.evaluation or "",
                 "verifier": r.verified_by.display_name if r.verified_by else ""} for r in records]
    cert = PointsCertificate(community_id=community.id, number="pending-" + secrets.token_hex(8),
                             user_id=resident.id, issued_by_id=actor.id, total_minutes=sum(r.minutes for r in records),
                             records=snapshot, holder_name=resident.display_name, issued_at=utcnow(),
                             holder_id_type=doc_type, holder_id_number=doc_number,
                             volunteer_number=p.volunteer_number,
                             issuer_name=" · ".join(x for x in (community.street, community.name) if x),
                             issuer_head=issuer["head"] or None, issuer_contact=issuer["contact"] or None,
                             handler_name=actor.display_name if actor.id != resident.id else None)
    db.session.add(cert)
    db.session.flush()
    cert.number = f"{community.slug.upper()[:12]}-{dates.local(cert.issued_at, community):%Y}-{cert.id:06d}"
    audit.record("points.certificate_issued", community=community, obj=cert, actor=actor,
                 on_behalf_of=resident if actor.id != resident.id else None,
                 after={"number": cert.number, "total_minutes": cert.total_minutes})
    return cert


# ── store catalogue ──────────────────────────────────────────────────────────────────────
def get_item(community, item_id) -> PointsItem:
    item = db.session.get(PointsItem, item_id)
    if item is None or item.community_id != community.id:
        raise NotFound("not_found", _("No such item in the store."))
    return item


def is_available(item, now=None):
    now = now or utcnow()
    return (item.withdrawn_at is None and (item.available_from is None or item.available_from <= now)
            and (item.available_until is None or item.available_until > now))


def save_item(community, actor, data, item=None):
    _require("points.store.manage", community, actor)
    errors = {}
    name = (data.get("name") or "").strip()
    if not 1 <= len(name) <= 120:
        errors["name"] = _("Give a name of up to 120 characters.")
    description = (data.get("description") or "").strip()
    if len(description) > 5000:
        errors["description"] = _("Use at most 5,000 characters.")
    kind = data.get("kind") or "goods"
    if kind not in ITEM_KINDS:
        errors["kind"] = _("Choose goods or a service.")
    values = {}
    for key, minimum, none_ok, msg in (
            ("price", 1, False, _("Give the price as a whole number of points, at least 1.")),
            ("per_resident_limit", 1, True, _("Leave empty or give a whole number of at least 1.")),
            ("low_stock", 0, False, _("Give a whole number of 0 or more."))):
        raw = data.get(key)
        if key == "low_stock" and raw in (None, ""):
            raw = item.low_stock if item else 3
        try:
            values[key] = whole_number(raw, key, minimum=minimum)
        except ServiceError:
            values[key] = None
        if values[key] is None and not (none_ok and raw in (None, "")):
            errors[key] = msg
    stock_change = 0
    if item is None:
        try:
            values["stock"] = whole_number(data.get("stock"), "stock", default=0)
        except ServiceError:
            errors["stock"] = _("Give the stock as a whole number of 0 or more.")
    else:
        try:
            stock_change = whole_number(data.get("stock_change"), "stock_change", default=0, minimum=-INT_MAX)
        except ServiceError:
            errors["stock_change"] = _("Give a whole number (negative to write off).")
    window = {}
    for key in ("available_from", "available_until"):
        raw = data.get(key)
        if raw in (None, ""):
            window[key] = None
            continue
        try:
            window[key] = _parse_dt(community, raw, key)
        except ServiceError as e:
            errors.update(e.fields)
    if window.get("available_from") and window.get("available_until") and \
            window["available_until"] <= window["available_from"]:
        errors["available_until"] = _("The end must be after the start.")
    if errors:
        raise ServiceError("invalid_item", _("Please correct the marked fields."), fields=errors)
    values.update(window, name=name, description=description, kind=kind)
    before = None
    if item is None:
        item = PointsItem(community_id=community.id, **values)
        db.session.add(item)
    else:
        before = {k: getattr(item, k) for k in values} | {"stock": item.stock}
        for k, v in values.items():
            setattr(item, k, v)
        item.updated_at = utcnow()
    db.session.flush()
    if stock_change:
        result = db.session.execute(update(PointsItem).where(PointsItem.id == item.id,
                                                             PointsItem.stock + stock_change >= 0)
                                    .values(stock=PointsItem.stock + stock_change)
                                    .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise ServiceError("invalid_stock", _("The stock cannot go below zero."),
                               fields={"stock_change": _("The stock cannot go below zero.")})
        db.session.expire(item, ["stock"])
    audit.record("points.item_saved", community=community, obj=item, actor=actor, before=before,
                 after=values | {"stock": item.stock})
    return item


def set_withdrawn(item, actor, withdrawn: bool, reason=None):
    community = db.session.get(Community, item.community_id)
    _require("points.store.manage", community, actor)
    before = item.withdrawn_at is not None
    item.withdrawn_at = utcnow() if withdrawn else None
    item.updated_at = utcnow()
    audit.record("points.item_withdrawn" if withdrawn else "points.item_restored", community=community, obj=item,
                 actor=actor, before={"withdrawn": before}, after={"withdrawn": withdrawn}, reason=reason)


def sniff_picture(head: bytes):
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def upload_dir() -> Path:
    return Path(current_app.instance_path) / "uploads" / "points"


def save_picture(item, actor, stream, max_bytes=MAX_PICTURE_BYTES):
    """Store a JPEG, PNG or WebP picture of an item (type checked by its first bytes)."""
    community = db.session.get(Community, item.community_id)
    _require("points.store.manage", community, actor)
    data = stream.read(max_bytes + 1)
    msg_big = _("The picture is too large (at most %(mb)d MB).", mb=max_bytes // (1024 * 1024))
    if len(data) > max_bytes:
        raise ServiceError("picture_too_large", msg_big, fields={"picture": msg_big})
    ext = sniff_picture(data[:16])
    if ext is None:
        msg = _("Upload a JPEG, PNG or WebP picture.")
        raise ServiceError("picture_type", msg, fields={"picture": msg})
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"item-{item.id}-{secrets.token_hex(8)}.{ext}"
    (folder / name).write_bytes(data)
    old = item.picture
    item.picture, item.picture_type = name, PICTURE_TYPES[ext]
    item.updated_at = utcnow()
    audit.record("points.item_picture", community=community, obj=item, actor=actor,
                 before={"picture": old}, after={"picture": name})
    if old and old != name:  # once the item no longer names it: after the entry point's commit
        db.session().info.setdefault(_REPLACED_PICTURES, []).append(folder / old)
    return name


_REPLACED_PICTURES = "points_replaced_pictures"  # session.info: files to remove when the commit succeeds


@event.listens_for(db.session, "after_commit")
def _remove_replaced_pictures(session):
    for path in session.info.pop(_REPLACED_PICTURES, ()):
        try:
            path.unlink()
        except OSError:
            pass


@event.listens_for(db.session, "after_rollback")
def _keep_replaced_pictures(session):
    session.info.pop(_REPLACED_PICTURES, None)


# ── redemption, pickup, cancellation ─────────────────────────────────────────────────────
def _new_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))


def _insert_order(**values):
    """The order with a pickup code no other order has: the unique index decides, and a taken
    code (rare: there are 32⁸ codes) is drawn again."""
    for _attempt in range(10):
        order = insert_row(PointsOrder, if_free=True, pickup_code=_new_code(), **values)
        if order is not None:
            return order
    raise RuntimeError("could not draw a free pickup code")


def normalize_code(code):
    return re.sub(r"[\s-]", "", (code or "")).upper()


def _check_redemption(community, item, resident, actor, quantity, reason):
    """What redeeming checks before it touches anything: who acts, membership, quantity, the
    item's state. Returns (assisted, quantity, now)."""
    assisted = actor.id != resident.id
    if assisted:
        _require("points.orders.assist", community, actor, _("You may not redeem for other residents."))
        if not (reason or "").strip():
            raise ServiceError("reason_required", _("Say why you are acting for this resident."),
                               fields={"reason": _("Say why you are acting for this resident.")})
    m = _member(community, resident)
    if m is None:
        raise Forbidden("not_member", _("Join this community first."))
    try:
        quantity = whole_number(quantity, "quantity", minimum=1, maximum=99)
    except ServiceError:
        quantity = None
    if quantity is None:
        raise ServiceError("invalid_quantity", _("Give a quantity from 1 to 99."),
                           fields={"quantity": _("Give a quantity from 1 to 99.")})
    if item.withdrawn_at is not None:
        raise Conflict("item_withdrawn", _("This item has been withdrawn from the store."))
    now = utcnow()
    if not is_available(item, now):
        raise Conflict("not_available", _("This item is not available at this time."))
    return assisted, quantity, now


def redemption_preview(community, item, resident, actor=None, quantity=1, reason=None):
    """What redeeming would do, for the confirmation page (兑换确认), changing nothing: the
    quantity, the points it costs and the balance before and after. Refuses what ``redeem`` would
    refuse for the item, the quantity, the stock or the balance; ``redeem`` still decides."""
    actor = actor or resident
    _assisted, quantity, _now = _check_redemption(community, item, resident, actor, quantity, reason)
    total = item.price * quantity
    if item.stock < quantity:
        raise Conflict("out_of_stock", _("Sorry, this item is out of stock."))
    balance = ledger.balance_of(community.id, resident.id)
    if balance < total:
        raise Conflict("insufficient_points", _("You do not have enough points for this."))
    return {"item": item, "quantity": quantity, "total": total, "balance_before": balance,
            "balance_after": balance - total}


def redeem(community, item, resident, actor=None, quantity=1, reason=None):
    """Redeem ``quantity`` of ``item`` for ``resident``: stock, limit and balance are checked by
    conditional UPDATEs, so concurrent redemptions never oversell or overdraw."""
    actor = actor or resident
    assisted, quantity, now = _check_redemption(community, item, resident, actor, quantity, reason)
    total = item.price * quantity
    if item.per_resident_limit is not None:
        if quantity > item.per_resident_limit or not ledger.bump(
                community.id, f"limit:{item.id}:{resident.id}", quantity, item.per_resident_limit):
            raise Conflict("limit_reached", _("You have reached the limit of %(n)d for this item.",
                                              n=item.per_resident_limit))
    if item.stock < quantity:  # the answer most residents get; the UPDATE below is what decides
        raise Conflict("out_of_stock", _("Sorry, this item is out of stock."))
    try:
        transfer = ledger.debit(community.id, resident.id, total, kind="redeem", actor_id=actor.id,
                                reason=(reason or "").strip()[:500] or None if assisted else None,
                                details={"item_id": item.id, "item": item.name, "quantity": quantity})
    except ledger.InsufficientPoints:
        raise Conflict("insufficient_points", _("You do not have enough points for this."))
    order = _insert_order(community_id=community.id, item_id=item.id, user_id=resident.id,
                          quantity=quantity, price_each=item.price, total=total, status="reserved",
                          transfer_id=transfer.id, placed_by_id=actor.id if assisted else None,
                          assist_reason=(reason or "").strip()[:200] or None if assisted else None, created_at=now)
    audit.record("points.redeemed", community=community, obj=order, actor=actor,
                 on_behalf_of=resident if assisted else None, reason=order.assist_reason,
                 after={"item_id": item.id, "quantity": quantity, "total": total})
    emit(community, Event("points.redeemed", community.id, actor.id, (resident.id,), f"points:order:{order.id}",
                          {"order_id": order.id, "item_id": item.id, "amount": total}))
    # The stock last: every resident redeeming this item needs its row, and on PostgreSQL the
    # row stays locked from this UPDATE to the commit, so the less comes after it the better.
    if not ledger.take_stock(item.id, quantity):
        raise Conflict("out_of_stock", _("Sorry, this item is out of stock."))
    keep_loaded()  # the order is as written: its answer needs no second read
    return order


def get_order(community, order_id) -> PointsOrder:
    order = db.session.get(PointsOrder, order_id)
    if order is None or order.community_id != community.id:
        raise NotFound("not_found", _("No such order."))
    return order


def hand_over(community, code, actor):
    """Staff hand an order over by its pickup code; a code works once."""
    _require("points.orders.manage", community, actor)
    code = normalize_code(code)
    order = PointsOrder.query.filter_by(community_id=community.id, pickup_code=code).first() if code else None
    if order is None:
        raise NotFound("unknown_code", _("No order has this pickup code."), fields={"code": _("Unknown code.")})
    result = db.session.execute(
        update(PointsOrder).where(PointsOrder.id == order.id, PointsOrder.status == "reserved")
        .values(status="handed_over", handed_over_by_id=actor.id, handed_over_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(order)
        if order.status == "cancelled":
            raise Conflict("order_cancelled", _("This order was cancelled."), fields={"code": _("Cancelled.")})
        raise Conflict("code_used", _("This pickup code has been used already."), fields={"code": _("Used already.")})
    db.session.expire(order)
    audit.record("points.handed_over", community=community, obj=order, actor=actor,
                 before={"status": "reserved"}, after={"status": "handed_over"})
    notify(order.user_id, community, "points.handed_over", N_("You collected %(item)s."), {"item": order.item.name})
    return order


def cancel_order(order, actor, reason=None):
    """Cancel a reserved order: the points come back by a reversing transfer and stock is restored."""
    community = db.session.get(Community, order.community_id)
    own = actor.id == order.user_id
    if not own:
        _require("points.orders.manage", community, actor)
        if not (reason or "").strip():
            raise ServiceError("reason_required", _("Give a reason."), fields={"reason": _("Give a reason.")})
    result = db.session.execute(
        update(PointsOrder).where(PointsOrder.id == order.id, PointsOrder.status == "reserved")
        .values(status="cancelled", cancelled_by_id=actor.id, cancelled_at=utcnow(),
                cancel_reason=(reason or "").strip()[:500] or None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("not_reserved", _("Only orders waiting for pickup can be cancelled."))
    item = db.session.get(PointsItem, order.item_id)
    if item.per_resident_limit is not None:
        ledger.release(community.id, f"limit:{item.id}:{order.user_id}", order.quantity)
    db.session.execute(update(PointsItem).where(PointsItem.id == item.id)
                       .values(stock=PointsItem.stock + order.quantity).execution_options(synchronize_session=False))
    db.session.expire(item, ["stock"])
    original = db.session.get(PointsTransfer, order.transfer_id)
    refund = ledger.reverse(original, kind="refund", actor_id=actor.id, reason=(reason or "").strip()[:500] or None,
                            details={"order_id": order.id, "item": item.name},
                            expires_at=_expires_at(community))
    db.session.execute(update(PointsOrder).where(PointsOrder.id == order.id).values(refund_transfer_id=refund.id)
                       .execution_options(synchronize_session=False))
    db.session.expire(order)
    audit.record("points.order_cancelled", community=community, obj=order, actor=actor,
                 before={"status": "reserved"}, after={"status": "cancelled", "refund": refund.amount},
                 reason=reason)
    if not own:
        notify(order.user_id, community, "points.order_cancelled",
               N_("Your order of %(item)s was cancelled and %(amount)s points were returned."),
               {"item": item.name, "amount": refund.amount})
    return order


# ── staff: adjustments and corrections ───────────────────────────────────────────────────
def adjust(community, resident, amount, reason, actor):
    """A staff adjustment with a written reason (audited): + from ADJUSTMENTS, − to ADJUSTMENTS."""
    _require("points.accounts.adjust", community, actor)
    if getattr(resident, "id", None) == actor.id:  # two people for every hand-made change of a balance
        raise Forbidden("own_account", _("You cannot adjust your own points; ask another staff member."))
    errors = {}
    try:
        amount = whole_number(amount, "amount", minimum=-100000, maximum=100000)
    except ServiceError:
        amount = None
    if not amount:
        errors["amount"] = _("Give a whole number of points other than 0.")
    reason = (reason or "").strip()
    if not 4 <= len(reason) <= 500:
        errors["reason"] = _("Write down why (4 to 500 characters).")
    if errors:
        raise ServiceError("invalid_adjustment", _("Please correct the marked fields."), fields=errors)
    if _member(community, resident) is None:
        raise ServiceError("invalid_resident", _("That person is not a member of this community."),
                           fields={"user_id": _("Not a member of this community.")})
    before = ledger.balance_of(community.id, resident.id)
    try:
        if amount > 0:
            transfer = ledger.credit(community.id, resident.id, amount, kind="adjust", source_kind="ADJUSTMENTS",
                                     actor_id=actor.id, reason=reason,
                                     expires_at=_expires_at(community))
        else:
            transfer = ledger.debit(community.id, resident.id, -amount, kind="adjust",
                                    destination_kind="ADJUSTMENTS", actor_id=actor.id, reason=reason)
    except ledger.InsufficientPoints:
        raise Conflict("insufficient_points", _("The balance cannot go below zero."),
                       fields={"amount": _("The balance cannot go below zero.")})
    audit.record("points.adjusted", community=community, obj=transfer, actor=actor, reason=reason,
                 on_behalf_of=resident, before={"balance": before}, after={"balance": before + amount})
    return transfer


REVERSIBLE = ("earn", "adjust", "expire")


def correct(community, transfer, reason, actor):
    """Reverse a mistaken transfer (points paid in error, a wrong adjustment) with a reason."""
    _require("points.accounts.adjust", community, actor)
    reason = (reason or "").strip()
    if not 4 <= len(reason) <= 500:
        raise ServiceError("reason_required", _("Write down why (4 to 500 characters)."),
                           fields={"reason": _("Write down why (4 to 500 characters).")})
    if transfer.community_id != community.id:
        raise NotFound("not_found", _("No such transfer."))
    if transfer.kind not in REVERSIBLE:
        raise Conflict("not_reversible", _("Orders are undone by cancelling them; corrections cannot be corrected."))
    if PointsTransfer.query.filter_by(reverses_id=transfer.id).first():
        raise Conflict("already_reversed", _("This transfer was corrected already."))
    try:
        reversal = ledger.reverse(transfer, actor_id=actor.id, reason=reason, details={"of": transfer.id},
                                  expires_at=_expires_at(community))
        db.session.flush()
    except ledger.InsufficientPoints:
        raise Conflict("insufficient_points", _("The balance cannot go below zero."))
    except IntegrityError:  # the message is lazy: read once the entry point has rolled back
        raise Conflict("already_reversed", _l("This transfer was corrected already."))
    audit.record("points.corrected", community=community, obj=reversal, actor=actor, reason=reason,
                 before={"transfer_id": transfer.id}, after={"reversal_id": reversal.id})
    return reversal


# ── expiry (R27) ─────────────────────────────────────────────────────────────────────────
def due_lots(now=None, community=None):
    """The ids of the earning lots past their date with points left, oldest first."""
    return ledger.due_lots(now or utcnow(), community.id if community else None)


def expire_lot(lot_id, now=None):
    """Expire what is left of one lot past its date (the caller runs each lot in a transaction of
    its own, so one resident's lock is held only for their lot); None when nothing was left."""
    return ledger.expire_lot(lot_id, now or utcnow())


# ── reading ──────────────────────────────────────────────────────────────────────────────
def statement_query(account):
    from plugins.points.models import PointsEntry

    return (db.session.query(PointsEntry, PointsTransfer)
            .join(PointsTransfer, PointsTransfer.id == PointsEntry.transfer_id)
            .filter(PointsEntry.account_id == account.id)
            .order_by(PointsEntry.id.desc()))


def transfer_text(t: PointsTransfer) -> str:
    """What a transfer was for, in the reader's language."""
    d = t.details or {}
    if t.kind == "earn" and "activity" in d:
        return _("Volunteering: %(activity)s, %(hours)s h (%(per)d point(s) per hour, at most %(max)d h)",
                 activity=d.get("activity"), hours=_hours(d.get("minutes", 0)), per=d.get("per_hour", 1),
                 max=d.get("max_hours", 2))
    if t.kind == "earn" and "event" in d:
        registry = current_app.extensions["linli.plugins"]
        etype = registry.event_types.get(d["event"])
        label = str(etype.label) if etype else d["event"]
        if d.get("capped"):
            return _("Rule: %(label)s (capped)", label=label)
        return _("Rule: %(label)s", label=label)
    if t.kind == "redeem":
        return _("Redeemed: %(item)s × %(n)d", item=d.get("item", ""), n=d.get("quantity", 1))
    if t.kind == "refund":
        return _("Refund of cancelled order: %(item)s", item=d.get("item", ""))
    if t.kind == "adjust":
        return _("Adjustment by staff: %(reason)s", reason=t.reason or "")
    if t.kind == "expire":
        return _("Points expired (earned %(date)s)", date=(d.get("earned_at") or "")[:10])
    if t.kind == "reversal":
        return _("Correction of entry %(id)s: %(reason)s", id=t.reverses_id, reason=t.reason or "")
    return t.kind


def _hours(minutes):
    value = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    return format(value.normalize(), "f")


def hours_text(minutes):
    return _hours(minutes)


def resident_accounts(community, q=None):
    query = (db.session.query(Membership, PointsAccount)
             .outerjoin(PointsAccount, (PointsAccount.community_id == Membership.community_id)
                        & (PointsAccount.user_id == Membership.user_id))
             .join(User, User.id == Membership.user_id)
             .filter(Membership.community_id == community.id))
    if q:
        like = f"%{q}%"
        query = query.filter((User.display_name.ilike(like)) | (User.username.ilike(like)) | (User.phone.ilike(like)))
    return query.order_by(User.display_name)


def monthly(community, months=12, now=None, trim=False):
    """[(\"YYYY-MM\", issued, redeemed)] for the last ``months`` months (local time)."""
    tz = dates.zone(community)
    now = (now or utcnow()).astimezone(tz)
    keys = []
    y, m = now.year, now.month
    for _i in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    keys.reverse()
    start = datetime(int(keys[0][:4]), int(keys[0][5:]), 1, tzinfo=tz).astimezone(timezone.utc)
    rows = db.session.execute(
        select(PointsTransfer.created_at, PointsTransfer.kind, PointsTransfer.amount, PointsTransfer.reverses_id)
        .where(PointsTransfer.community_id == community.id, PointsTransfer.created_at >= start)).all()
    reversed_kinds = dict(db.session.execute(
        select(PointsTransfer.id, PointsTransfer.kind).where(PointsTransfer.community_id == community.id,
                                                             PointsTransfer.kind == "earn")).all())
    issued = dict.fromkeys(keys, 0)
    redeemed = dict.fromkeys(keys, 0)
    for created, kind, amount, reverses in rows:
        key = created.astimezone(tz).strftime("%Y-%m")
        if key not in issued:
            continue
        if kind == "earn":
            issued[key] += amount
        elif kind == "reversal" and reverses in reversed_kinds:
            issued[key] -= amount
        elif kind == "redeem":
            redeemed[key] += amount
        elif kind == "refund":
            redeemed[key] -= amount
    rows = [(k, issued[k], redeemed[k]) for k in keys]
    if trim:  # leave out the empty months before the first points moved (keep at least three)
        while len(rows) > 3 and rows[0][1] == 0 and rows[0][2] == 0:
            rows.pop(0)
    return rows


def top_volunteers(community, limit=10):
    """Residents with the most verified hours, only those who agreed to be shown (R23)."""
    rows = (db.session.query(User, func.sum(PointsRecord.minutes).label("minutes"), func.count(PointsRecord.id))
            .join(PointsRecord, PointsRecord.user_id == User.id)
            .join(PointsProfile, (PointsProfile.user_id == User.id) & (PointsProfile.community_id == community.id))
            .filter(PointsRecord.community_id == community.id, PointsRecord.status == "verified",
                    PointsProfile.share_volunteering.is_(True))
            .group_by(User.id).order_by(func.sum(PointsRecord.minutes).desc(), User.id).limit(limit).all())
    return rows


def stock_alerts(community):
    return (PointsItem.query.filter(PointsItem.community_id == community.id, PointsItem.withdrawn_at.is_(None),
                                    PointsItem.stock <= PointsItem.low_stock)
            .order_by(PointsItem.stock, PointsItem.name).all())


def totals(community):
    issued = db.session.execute(select(func.coalesce(func.sum(PointsTransfer.amount), 0)).where(
        PointsTransfer.community_id == community.id, PointsTransfer.kind == "earn")).scalar()
    outstanding = db.session.execute(select(func.coalesce(func.sum(PointsAccount.balance), 0)).where(
        PointsAccount.community_id == community.id, PointsAccount.user_id.isnot(None))).scalar()
    return {"issued": int(issued), "outstanding": int(outstanding)}


def week_ago():
    return utcnow() - timedelta(days=7)
