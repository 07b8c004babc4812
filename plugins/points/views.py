"""Pages of the points module: my points, the store, volunteering, the counter, rules, reports."""
import io

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from core import confirm, dates, identity
from core import spreadsheets
from core.db import transaction
from core.errors import Forbidden, ServiceError
from core.extensions import db
from core.forms import apply_error
from core.i18n import fmt_number
from core.models import User, utcnow
from core.permissions import can, membership_of, require
from core.services import accounts as core_accounts
from core.urls import safe_referrer
from plugins.points import ledger
from plugins.points import services as svc
from plugins.points.forms import (ActivityForm, AdjustForm, CertificateIssuerForm, ClaimForm, ConsentForm,
                                  CounterRedeemForm, HandoverForm, HoursForm, HoursRuleForm, ItemForm, RedeemForm,
                                  VolunteerIdentityForm)
from plugins.points.models import (ITEM_KINDS, ORDER_STATES, RECORD_STATES, TRANSFER_KINDS, PointsActivity,
                                   PointsCertificate, PointsItem, PointsOrder, PointsRecord, PointsSignup,
                                   PointsTransfer)

bp = Blueprint("points", __name__, url_prefix="/points")


@bp.app_template_filter("points_hours")
def _hours_filter(minutes):
    return svc.hours_text(minutes or 0)


@bp.app_template_filter("points_hours_unit")
def _hours_unit_filter(minutes):
    """Hours with the unit of the reader's language (4.5 小时, 4.5 h)."""
    return _("%(hours)s h", hours=svc.hours_text(minutes or 0))


@bp.context_processor
def _ctx():
    return {"ORDER_STATES": ORDER_STATES, "RECORD_STATES": RECORD_STATES, "ITEM_KINDS": ITEM_KINDS,
            "TRANSFER_KINDS": TRANSFER_KINDS, "transfer_text": svc.transfer_text, "is_available": svc.is_available}


def _member_or_404():
    if not current_user.is_authenticated:
        return
    if membership_of(current_user, g.community) is None and not current_user.is_superadmin:
        abort(404)


def _to_form(dt):
    return dates.local(dt, g.community).replace(tzinfo=None) if dt else None


def _resident_by_login(login, field="resident"):
    user = core_accounts.find_user(login or "")
    if user is None or membership_of(user, g.community) is None:
        raise ServiceError("invalid_resident", _("No member of this community has that phone number or user name."),
                           fields={field: _("Not a member of this community.")})
    return user


def _named_resident(login, permission, message=None):
    """The member named by ``login`` (phone or user name), or the current user if none (or
    themselves) is named. Acting for someone else needs ``permission``, checked before the name
    is looked up: the answer must not tell whether a phone number belongs to a member."""
    login = (login or "").strip()
    if not login:
        return current_user
    found = core_accounts.find_user(login)
    if found is not None and found.id == current_user.id:
        return current_user
    if not can(permission):
        raise Forbidden("forbidden", message or _("You do not have permission to do this."))
    return _resident_by_login(login)


def _running(account, rows):
    """The balance after each of ``rows`` (entries, newest first): {entry id: balance}."""
    if account is None or not rows:
        return {}
    from sqlalchemy import func

    from plugins.points.models import PointsEntry

    newer = db.session.query(func.coalesce(func.sum(PointsEntry.amount), 0)).filter(
        PointsEntry.account_id == account.id, PointsEntry.id > rows[0][0].id).scalar()
    balance = account.balance - int(newer)
    out = {}
    for entry, _t in rows:
        out[entry.id] = balance
        balance -= entry.amount
    return out


# ── my points ───────────────────────────────────────────────────────────────────────────
@bp.route("/")
@login_required
def index():
    _member_or_404()
    account = ledger.find_account(g.community.id, current_user.id)
    entries = svc.statement_query(account).limit(10).all() if account else []
    open_orders = (PointsOrder.query.filter_by(community_id=g.community.id, user_id=current_user.id, status="reserved")
                   .order_by(PointsOrder.id.desc()).all())
    return render_template("points/index.html", balance=account.balance if account else 0, entries=entries,
                           running=_running(account, entries),
                           open_orders=open_orders, rule=svc.hours_rule(g.community),
                           event_rules=[r for r in svc.rules(g.community) if r.active],
                           event_types=current_app.extensions["linli.plugins"].event_types)


@bp.route("/statement")
@login_required
def statement():
    _member_or_404()
    account = ledger.find_account(g.community.id, current_user.id)
    page = svc.statement_query(account).paginate(per_page=30, error_out=False) if account else None
    return render_template("points/statement.html", page=page, balance=account.balance if account else 0,
                           who=current_user, staff_view=False,
                           running=_running(account, page.items if page else []))


# ── store ───────────────────────────────────────────────────────────────────────────────
@bp.route("/store")
def store():
    items = (PointsItem.query.filter_by(community_id=g.community.id).filter(PointsItem.withdrawn_at.is_(None))
             .order_by(PointsItem.price, PointsItem.name).all())
    balance = ledger.balance_of(g.community.id, current_user.id) if current_user.is_authenticated else None
    return render_template("points/store.html", items=items, balance=balance)


@bp.route("/store/<int:item_id>")
def item(item_id):
    it = svc.get_item(g.community, item_id)
    if it.withdrawn_at is not None and not can("points.store.manage"):
        abort(404)
    balance = ledger.balance_of(g.community.id, current_user.id) if current_user.is_authenticated else None
    return render_template("points/item.html", item=it, form=RedeemForm(), balance=balance)


@bp.route("/store/<int:item_id>/redeem", methods=["POST"])
@login_required
def redeem(item_id):
    _member_or_404()
    it = svc.get_item(g.community, item_id)
    form = RedeemForm()
    if not form.validate_on_submit():
        flash(_("Give a quantity from 1 to 99."), "error")
        return redirect(url_for("c.points.item", item_id=it.id))
    if not confirm.confirmed():  # points spent are spent: say what it costs first
        try:
            preview = svc.redemption_preview(g.community, it, current_user, current_user, form.quantity.data)
        except ServiceError as err:
            apply_error(None, err)
            return redirect(url_for("c.points.item", item_id=it.id))
        return confirm.ask(_redeem_confirmation(preview, url_for("c.points.redeem", item_id=it.id),
                                                url_for("c.points.item", item_id=it.id), it.name))
    try:
        with transaction():
            order = svc.redeem(g.community, it, current_user, current_user, form.quantity.data)
    except ServiceError as err:
        apply_error(None, err)
        return redirect(url_for("c.points.item", item_id=it.id))
    flash(_("Done. Show the pickup code at the community office."), "success")
    return redirect(url_for("c.points.order", order_id=order.id))


def _redeem_confirmation(preview, action, back_url, back_label, resident=None):
    """The confirmation page of a redemption (core/confirm.py): the item, the points it costs, the
    balance before and after, and how the pickup works."""
    item = preview["item"]
    whose = resident.display_name if resident is not None else None
    facts = [(_("Item"), f"{item.name} × {preview['quantity']}"),
             (_("Points it costs"), fmt_number(preview["total"])),
             (_("Balance of %(name)s now", name=whose) if whose else _("Your balance now"),
              fmt_number(preview["balance_before"])),
             (_("Balance of %(name)s afterwards", name=whose) if whose else _("Your balance afterwards"),
              fmt_number(preview["balance_after"]))]
    if whose:
        facts.insert(0, (_("Resident"), whose))
    return confirm.Confirmation(
        title=_("Redeem %(item)s?", item=item.name), action=action, button=_("Redeem"), back_url=back_url,
        back_label=back_label, cancel_label=_("Not now"), facts=facts, danger=False,
        lines=[_("The points are taken off at once and an order with a pickup code is made. Show the code at the "
                 "community office to collect the item. Until it is collected the order can be cancelled and the "
                 "points come back.")])


@bp.route("/pictures/<int:item_id>/<name>")
def picture(item_id, name):
    it = svc.get_item(g.community, item_id)
    if not it.picture or it.picture != name:
        abort(404)
    path = svc.upload_dir() / it.picture
    if not path.is_file():
        abort(404)
    resp = current_app.response_class(path.read_bytes(), mimetype=it.picture_type)
    resp.headers["Cache-Control"] = "private, max-age=86400"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Disposition"] = "inline"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.route("/orders")
@login_required
def orders():
    _member_or_404()
    rows = (PointsOrder.query.filter_by(community_id=g.community.id, user_id=current_user.id)
            .order_by(PointsOrder.id.desc()).limit(200).all())
    return render_template("points/orders.html", orders=rows)


@bp.route("/orders/<int:order_id>")
@login_required
def order(order_id):
    o = svc.get_order(g.community, order_id)
    if o.user_id != current_user.id and not can("points.orders.manage"):
        abort(404)
    return render_template("points/order.html", order=o, staff=can("points.orders.manage"))


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@login_required
def order_cancel(order_id):
    o = svc.get_order(g.community, order_id)
    if o.user_id != current_user.id and not can("points.orders.manage"):
        abort(404)
    if not confirm.confirmed() and o.status == "reserved":  # a cancelled order cannot be taken back: ask first
        own = o.user_id == current_user.id
        return confirm.ask(confirm.Confirmation(
            title=_("Cancel the order for %(item)s?", item=o.item.name),
            action=url_for("c.points.order_cancel", order_id=o.id), button=_("Cancel the order"),
            back_url=url_for("c.points.order", order_id=o.id), back_label=_("Order"), cancel_label=_("Keep the order"),
            reason_label=None if own else _("Reason"), reason_required=not own,
            facts=[(_("Item"), f"{o.item.name} × {o.quantity}"), (_("Points returned"), fmt_number(o.total))],
            lines=[_("The pickup code stops working and the points go back to the balance at once. To have the item "
                     "after all, it has to be redeemed again.")]))
    try:
        with transaction():
            svc.cancel_order(o, current_user, request.form.get("reason"))
        flash(_("The order was cancelled and the points returned."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.points.order", order_id=o.id))


# ── volunteering ────────────────────────────────────────────────────────────────────────
@bp.route("/activities")
def activities():
    now = utcnow()
    base = PointsActivity.query.filter_by(community_id=g.community.id)
    upcoming = base.filter(PointsActivity.ends_at > now).order_by(PointsActivity.starts_at).all()
    past = base.filter(PointsActivity.ends_at <= now).order_by(PointsActivity.starts_at.desc()).limit(30).all()
    mine = set()
    if current_user.is_authenticated:
        mine = {s.activity_id for s in PointsSignup.query.filter_by(user_id=current_user.id)}
    pending = []
    if can("points.hours.verify"):
        pending = (PointsRecord.query.filter_by(community_id=g.community.id, status="claimed")
                   .order_by(PointsRecord.id).limit(100).all())
    return render_template("points/activities.html", upcoming=upcoming, past=past, mine=mine, pending=pending,
                           rule=svc.hours_rule(g.community), honour=svc.top_volunteers(g.community, 10))


@bp.route("/activities/<int:activity_id>")
def activity(activity_id):
    a = svc.get_activity(g.community, activity_id)
    manage = can("points.activities.manage")
    signups = PointsSignup.query.filter_by(activity_id=a.id).order_by(PointsSignup.id).all()
    records = {r.signup_id: r for r in PointsRecord.query.filter_by(activity_id=a.id)}
    sharing = svc.sharing_user_ids(g.community)
    mine = None
    if current_user.is_authenticated:
        mine = next((s for s in signups if s.user_id == current_user.id), None)
    hours_form = HoursForm()
    # Hours earn points on an account: a volunteer without one is listed, not offered here.
    hours_form.user_id.choices = [(s.user_id, s.user.display_name) for s in signups if s.user_id
                                  and (s.id not in records or records[s.id].status == "claimed")]
    from core.services.assist import people_in_reach

    people = people_in_reach(g.community, current_user) if manage else []
    return render_template("points/activity.html", activity=a, signups=signups, records=records, manage=manage,
                           people=people,
                           verify=can("points.hours.verify"), sharing=sharing, mine=mine,
                           my_record=records.get(mine.id) if mine else None, hours_form=hours_form,
                           claim_form=ClaimForm(), now=utcnow(), rule=svc.hours_rule(g.community))


@bp.route("/activities/<int:activity_id>/signup", methods=["POST"])
@login_required
def signup(activity_id):
    _member_or_404()
    a = svc.get_activity(g.community, activity_id)
    try:
        resident = _named_resident(request.form.get("resident"), "points.activities.manage",
                                   _("You may not sign up other residents."))
        with transaction():
            row = svc.signup(a, resident, current_user, request.form.get("reason"),
                             person_id=request.form.get("person_id"), name=request.form.get("name"))
            done = (_("%(name)s is signed up.", name=row.display_name) if row.acted_by_id
                    else _("You are signed up. Thank you!"))
        flash(done, "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.points.activity", activity_id=a.id))


@bp.route("/activities/<int:activity_id>/withdraw", methods=["POST"])
@login_required
def signup_withdraw(activity_id):
    _member_or_404()
    a = svc.get_activity(g.community, activity_id)
    try:
        with transaction():
            svc.withdraw_signup(a, current_user)
        flash(_("Your sign-up was withdrawn."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.points.activity", activity_id=a.id))


@bp.route("/activities/<int:activity_id>/claim", methods=["POST"])
@login_required
def claim(activity_id):
    _member_or_404()
    a = svc.get_activity(g.community, activity_id)
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            with transaction():
                svc.claim_hours(a, current_user, hours=form.hours.data, content=form.content.data)
            flash(_("Your hours were reported; staff will verify them."), "success")
        except ServiceError as err:
            apply_error(None, err)
    else:
        flash(_("Give the hours and what you did."), "error")
    return redirect(url_for("c.points.activity", activity_id=a.id))


@bp.route("/activities/<int:activity_id>/hours", methods=["POST"])
@require("points.hours.verify")
def record_hours(activity_id):
    a = svc.get_activity(g.community, activity_id)
    form = HoursForm()
    form.user_id.choices = []
    if form.validate_on_submit():
        volunteer = db.session.get(User, form.user_id.data)
        if volunteer is None:
            abort(400)
        try:
            with transaction():
                r = svc.record_hours(a, volunteer, current_user, hours=form.hours.data, content=form.content.data,
                                     evaluation=form.evaluation.data, service_date=form.service_date.data)
                paid = r.transfer.amount if r.transfer else 0
            flash(_("Hours verified for %(name)s: %(points)d points.", name=volunteer.display_name, points=paid),
                  "success")
        except ServiceError as err:
            apply_error(None, err)
    else:
        flash(_("Give the hours and what they did."), "error")
    return redirect(url_for("c.points.activity", activity_id=a.id) + "#signups")


def _record(record_id):
    r = db.session.get(PointsRecord, record_id)
    if r is None or r.community_id != g.community.id:
        abort(404)
    return r


@bp.route("/records/<int:record_id>/verify", methods=["POST"])
@require("points.hours.verify")
def verify(record_id):
    r = _record(record_id)
    try:
        with transaction():
            svc.verify_hours(r, current_user, request.form.get("evaluation"))
        flash(_("Hours verified."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.points.activity", activity_id=r.activity_id) + "#signups")


@bp.route("/records/<int:record_id>/reject", methods=["POST"])
@require("points.hours.verify")
def reject(record_id):
    r = _record(record_id)
    try:
        with transaction():
            svc.reject_hours(r, current_user, request.form.get("reason"))
        flash(_("The reported hours were not accepted."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.points.activity", activity_id=r.activity_id) + "#signups")


def _activity_data(form):
    return {"title": form.title.data, "location": form.location.data, "description": form.description.data,
            "starts_at": dates.from_local(form.starts_at.data, g.community),
            "ends_at": dates.from_local(form.ends_at.data, g.community),
            "places": form.places.data}


@bp.route("/activities/new", methods=["GET", "POST"])
@require("points.activities.manage")
def activity_new():
    form = ActivityForm()
    if form.validate_on_submit():
        try:
            with transaction():
                a = svc.save_activity(g.community, current_user, _activity_data(form))
            flash(_("The activity is published."), "success")
            return redirect(url_for("c.points.activity", activity_id=a.id))
        except ServiceError as err:
            apply_error(form, err)
    return render_template("points/activity_form.html", form=form, activity=None)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@require("points.activities.manage")
def activity_edit(activity_id):
    a = svc.get_activity(g.community, activity_id)
    form = ActivityForm(obj=a)
    if request.method == "GET":
        form.starts_at.data, form.ends_at.data = _to_form(a.starts_at), _to_form(a.ends_at)
    if form.validate_on_submit():
        try:
            with transaction():
                svc.save_activity(g.community, current_user, _activity_data(form), a)
            flash(_("Saved."), "success")
            return redirect(url_for("c.points.activity", activity_id=a.id))
        except ServiceError as err:
            apply_error(form, err)
    return render_template("points/activity_form.html", form=form, activity=a)


@bp.route("/activities/<int:activity_id>/cancel", methods=["POST"])
@require("points.activities.manage")
def activity_cancel(activity_id):
    a = svc.get_activity(g.community, activity_id)
    if not confirm.confirmed() and a.cancelled_at is None:  # calling it off cannot be undone: ask first
        back = url_for("c.points.activity", activity_id=a.id)
        signed_up = PointsSignup.query.filter_by(activity_id=a.id).count()
        return confirm.ask(confirm.Confirmation(
            title=_("Call off %(title)s?", title=a.title), action=url_for("c.points.activity_cancel", activity_id=a.id),
            button=_("Call off the activity"), back_url=back, back_label=a.title, cancel_label=_("Keep it"),
            reason_label=_("Reason"), reason_required=True, facts=[(_("Signed up"), fmt_number(signed_up))],
            lines=[_("Everyone signed up is told it is called off; nobody can sign up or report hours for it any "
                     "more. This cannot be undone.")]))
    try:
        with transaction():
            svc.cancel_activity(a, current_user, request.form.get("reason"))
        flash(_("The activity was cancelled."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.points.activity", activity_id=a.id))


@bp.route("/volunteering", methods=["GET", "POST"])
@login_required
def volunteering():
    _member_or_404()
    form = ConsentForm()
    if request.method == "POST" and form.validate_on_submit():
        with transaction():
            svc.set_consent(g.community, current_user, form.share.data)
        flash(_("Your choice was saved."), "success")
        return redirect(url_for("c.points.volunteering"))
    form.share.data = svc.shares(g.community, current_user)
    records = svc.records_of(g.community, current_user)
    certs = (PointsCertificate.query.filter_by(community_id=g.community.id, user_id=current_user.id)
             .order_by(PointsCertificate.id.desc()).all())
    verified = sum(r.minutes for r in records if r.status == "verified")
    return render_template("points/volunteering.html", records=records, certs=certs, form=form,
                           verified_minutes=verified, identity_form=_identity_form(),
                           profile=svc.profile(g.community, current_user), masked=identity.masked,
                           id_label=identity.type_label)


def _identity_form(formdata=None):
    form = VolunteerIdentityForm(formdata=formdata)
    form.id_type.choices = [("", _("None"))] + [(k, str(v)) for k, v in identity.ID_TYPES.items()]
    return form


@bp.route("/volunteering/identity", methods=["POST"])
@login_required
def volunteer_identity():
    """The volunteer's own identity document for certificates (shown back masked)."""
    _member_or_404()
    form = _identity_form(request.form)
    if form.validate_on_submit():
        try:
            with transaction():
                svc.set_volunteer_identity(g.community, current_user, form.id_type.data, form.id_number.data,
                                           form.volunteer_number.data)
        except ServiceError as err:
            apply_error(None, err)
        else:
            flash(_("Saved. Your certificates will carry this document."), "success")
    else:
        flash(_("Please correct the marked fields."), "error")
    return redirect(url_for("c.points.volunteering") + "#identity")


@bp.route("/certificates", methods=["POST"])
@login_required
def certificate_issue():
    _member_or_404()
    try:
        resident = _named_resident(request.form.get("resident"), "points.certificates.issue")
        with transaction():
            cert = svc.issue_certificate(g.community, resident, current_user, id_type=request.form.get("id_type"),
                                         id_number=request.form.get("id_number"))
    except ServiceError as err:
        apply_error(None, err)
        return redirect(safe_referrer(url_for("c.points.volunteering")))
    return redirect(url_for("c.points.certificate", number=cert.number))


@bp.route("/certificates/<number>")
@login_required
def certificate(number):
    cert = PointsCertificate.query.filter_by(community_id=g.community.id, number=number).first_or_404()
    if cert.user_id != current_user.id and not can("points.certificates.issue"):
        abort(404)
    from core.models import Membership

    m = Membership.query.filter_by(user_id=cert.user_id, community_id=g.community.id).first()
    return render_template("points/certificate.html", cert=cert, community=g.community,
                           household=m.household.label if m is not None and m.household is not None else None,
                           id_label=identity.type_label)


# ── staff: catalogue ────────────────────────────────────────────────────────────────────
@bp.route("/manage/items")
@require("points.store.manage")
def manage_items():
    rows = PointsItem.query.filter_by(community_id=g.community.id).order_by(
        PointsItem.withdrawn_at.isnot(None), PointsItem.name).all()
    return render_template("points/manage_items.html", items=rows, alerts=svc.stock_alerts(g.community))


def _item_data(form):
    return {"name": form.name.data, "kind": form.kind.data, "price": form.price.data, "stock": form.stock.data,
            "stock_change": form.stock_change.data, "per_resident_limit": form.per_resident_limit.data,
            "low_stock": form.low_stock.data, "available_from": dates.from_local(form.available_from.data, g.community),
            "available_until": dates.from_local(form.available_until.data, g.community),
            "description": form.description.data}


def _save_item_form(form, it):
    """The item and its picture, in one transaction: a refused picture saves nothing."""
    with transaction():
        saved = svc.save_item(g.community, current_user, _item_data(form), it)
        upload = request.files.get("picture")
        if upload and upload.filename:
            svc.save_picture(saved, current_user, upload.stream)
    return saved


@bp.route("/manage/items/new", methods=["GET", "POST"])
@require("points.store.manage")
def item_new():
    form = ItemForm()
    if request.method == "GET":
        form.low_stock.data = 3
        form.stock.data = 0
    if form.validate_on_submit():
        try:
            it = _save_item_form(form, None)
            flash(_("Saved."), "success")
            return redirect(url_for("c.points.item", item_id=it.id))
        except ServiceError as err:
            apply_error(form, err)
    return render_template("points/item_form.html", form=form, item=None)


@bp.route("/manage/items/<int:item_id>/edit", methods=["GET", "POST"])
@require("points.store.manage")
def item_edit(item_id):
    it = svc.get_item(g.community, item_id)
    form = ItemForm(obj=it)
    if request.method == "GET":
        form.available_from.data, form.available_until.data = _to_form(it.available_from), _to_form(it.available_until)
        form.stock_change.data = None
    if form.validate_on_submit():
        try:
            _save_item_form(form, it)
            flash(_("Saved."), "success")
            return redirect(url_for("c.points.item", item_id=it.id))
        except ServiceError as err:
            apply_error(form, err)
    return render_template("points/item_form.html", form=form, item=it)


@bp.route("/manage/items/<int:item_id>/withdraw", methods=["POST"])
@require("points.store.manage")
def item_withdraw(item_id):
    it = svc.get_item(g.community, item_id)
    with transaction():
        svc.set_withdrawn(it, current_user, request.form.get("withdraw") != "0", request.form.get("reason"))
    flash(_("Saved."), "success")
    return redirect(url_for("c.points.manage_items"))


# ── staff: the counter ──────────────────────────────────────────────────────────────────
def _counter_forms():
    redeem_form = CounterRedeemForm(prefix="r")
    redeem_form.item_id.choices = [(i.id, f"{i.name} · {i.price}") for i in PointsItem.query.filter_by(
        community_id=g.community.id).filter(PointsItem.withdrawn_at.is_(None)).order_by(PointsItem.name)]
    return HandoverForm(prefix="h"), redeem_form


@bp.route("/counter", methods=["GET"])
@require("points.orders.manage")
def counter():
    handover_form, redeem_form = _counter_forms()
    return _render_counter(handover_form, redeem_form)


def _render_counter(handover_form, redeem_form, handed=None):
    waiting = (PointsOrder.query.filter_by(community_id=g.community.id, status="reserved")
               .order_by(PointsOrder.id.desc()).limit(50).all())
    return render_template("points/counter.html", handover_form=handover_form, redeem_form=redeem_form,
                           waiting=waiting, handed=handed, can_assist=can("points.orders.assist"))


@bp.route("/counter/handover", methods=["POST"])
@require("points.orders.manage")
def counter_handover():
    handover_form, redeem_form = _counter_forms()
    handed = None
    if handover_form.validate_on_submit():
        try:
            with transaction():
                handed = svc.hand_over(g.community, handover_form.code.data, current_user)
            flash(_("Hand over: %(item)s × %(n)d to %(name)s.", item=handed.item.name, n=handed.quantity,
                    name=handed.user.display_name), "success")
            handover_form.code.data = ""
        except ServiceError as err:
            apply_error(handover_form, err)
    return _render_counter(handover_form, redeem_form, handed)


@bp.route("/counter/redeem", methods=["POST"])
@require("points.orders.assist")
def counter_redeem():
    handover_form, redeem_form = _counter_forms()
    if redeem_form.validate_on_submit():
        try:
            resident = _resident_by_login(redeem_form.resident.data)
            it = svc.get_item(g.community, redeem_form.item_id.data)
            if not confirm.confirmed():  # the resident hears what it costs before it is done
                preview = svc.redemption_preview(g.community, it, resident, current_user, redeem_form.quantity.data,
                                                 redeem_form.reason.data)
                return confirm.ask(_redeem_confirmation(preview, url_for("c.points.counter_redeem"),
                                                        url_for("c.points.counter"), _("Store counter"), resident))
            with transaction():
                o = svc.redeem(g.community, it, resident, current_user, redeem_form.quantity.data,
                               redeem_form.reason.data)
            flash(_("Redeemed for %(name)s. Pickup code: %(code)s", name=resident.display_name, code=o.pickup_code),
                  "success")
            return redirect(url_for("c.points.order", order_id=o.id))
        except ServiceError as err:
            apply_error(redeem_form, err)
    return _render_counter(handover_form, redeem_form)


# ── staff: accounts ─────────────────────────────────────────────────────────────────────
@bp.route("/accounts")
@require("points.accounts.view")
def accounts():
    q = (request.args.get("q") or "").strip()[:40]
    page = svc.resident_accounts(g.community, q or None).paginate(per_page=50, error_out=False)
    return render_template("points/accounts.html", page=page, q=q, totals=svc.totals(g.community),
                           max_balance=svc.hours_rule(g.community)["max_balance"])


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
@require("points.accounts.view")
def account(user_id):
    user = db.session.get(User, user_id)
    if user is None or membership_of(user, g.community) is None:
        abort(404)
    form = AdjustForm()
    if request.method == "POST":
        if not can("points.accounts.adjust"):
            abort(403)
        if form.validate_on_submit():
            try:
                with transaction():
                    svc.adjust(g.community, user, form.amount.data, form.reason.data, current_user)
                flash(_("The adjustment was recorded."), "success")
                return redirect(url_for("c.points.account", user_id=user.id))
            except ServiceError as err:
                apply_error(form, err)
        else:
            flash(_("Give the points and a reason."), "error")
    acc = ledger.find_account(g.community.id, user.id)
    page = svc.statement_query(acc).paginate(per_page=30, error_out=False) if acc else None
    reversed_ids = set()
    if page:
        ids = [t.id for _e, t in page.items]
        reversed_ids = {r for (r,) in db.session.query(PointsTransfer.reverses_id).filter(
            PointsTransfer.reverses_id.in_(ids))}
    return render_template("points/statement.html", page=page, balance=acc.balance if acc else 0, who=user,
                           running=_running(acc, page.items if page else []), staff_view=True, form=form,
                           can_adjust=can("points.accounts.adjust"),
                           reversed_ids=reversed_ids, reversible=svc.REVERSIBLE)


@bp.route("/transfers/<int:transfer_id>/correct", methods=["POST"])
@require("points.accounts.adjust")
def correct(transfer_id):
    t = db.session.get(PointsTransfer, transfer_id)
    if t is None or t.community_id != g.community.id:
        abort(404)
    user_id = t.destination.user_id or t.source.user_id
    try:
        with transaction():
            svc.correct(g.community, t, request.form.get("reason"), current_user)
        flash(_("The entry was corrected by a reversing transfer."), "success")
    except ServiceError as err:
        apply_error(None, err)
    return redirect(url_for("c.points.account", user_id=user_id))


# ── rules ───────────────────────────────────────────────────────────────────────────────
@bp.route("/rules", methods=["GET", "POST"])
@require("points.rules.manage")
def rules():
    form = HoursRuleForm()
    if request.method == "GET":
        for k, v in svc.hours_rule(g.community).items():
            getattr(form, k).data = v
    elif form.validate_on_submit():
        try:
            with transaction():
                svc.save_hours_rule(g.community, current_user, {
                    "points_per_hour": form.points_per_hour.data,
                    "max_hours_per_activity": form.max_hours_per_activity.data,
                    "expiry_months": form.expiry_months.data or 0, "max_balance": form.max_balance.data or 0})
            flash(_("Saved."), "success")
            return redirect(url_for("c.points.rules"))
        except ServiceError as err:
            apply_error(form, err)
    registry = current_app.extensions["linli.plugins"]
    existing = {r.event_name: r for r in svc.rules(g.community)}
    rows = []
    for name, etype, owner in svc.event_choices():
        enabled = owner == "core" or registry.is_enabled(g.community, owner)
        rows.append({"name": name, "label": etype.label, "owner": owner, "enabled": enabled,
                     "rule": existing.pop(name, None)})
    for name, rule in existing.items():  # rules for events of modules no longer installed
        rows.append({"name": name, "label": name, "owner": None, "enabled": False, "rule": rule})
    issuer = svc.certificate_issuer(g.community)
    return render_template("points/rules.html", form=form, rows=rows,
                           issuer_form=CertificateIssuerForm(data=issuer))


@bp.route("/rules/certificate", methods=["POST"])
@require("points.rules.manage")
def certificate_issuer():
    form = CertificateIssuerForm()
    if form.validate_on_submit():
        try:
            with transaction():
                svc.save_certificate_issuer(g.community, current_user, form.head.data, form.contact.data)
        except ServiceError as err:
            apply_error(None, err)
        else:
            flash(_("Saved."), "success")
    else:
        flash(_("Please correct the marked fields."), "error")
    return redirect(url_for("c.points.rules") + "#certificate")


@bp.route("/rules/event", methods=["POST"])
@require("points.rules.manage")
def rule_save():
    f = request.form
    try:
        with transaction():
            if f.get("remove") == "1":
                svc.save_rule(g.community, current_user, f.get("event_name"), f.get("points") or 1,
                              f.get("daily_cap"), f.get("monthly_cap"), active=False)
            else:
                svc.save_rule(g.community, current_user, f.get("event_name"), f.get("points"), f.get("daily_cap"),
                              f.get("monthly_cap"), active=f.get("active") == "1")
        flash(_("Saved."), "success")
    except ServiceError as err:
        apply_error(None, err)
        for message in err.fields.values():
            flash(str(message), "error")
    return redirect(url_for("c.points.rules") + "#events")


# ── reports ─────────────────────────────────────────────────────────────────────────────
def bar_chart(rows, title):
    """A grouped bar chart (issued, redeemed per month) as inline SVG: no script, no style."""
    width, height, top, bottom, left = 360, 220, 24, 32, 40
    n = max(1, len(rows))
    peak = max([1] + [max(i, r) for _m, i, r in rows])
    slot = (width - left - 8) / n
    bar = max(2, slot * 0.36)
    plot = height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" width="100%" preserveAspectRatio="xMidYMid meet">',
             f"<title>{escape(title)}</title>",
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#7a4a00" stroke-width="3"/></pattern></defs>',
             f'<line x1="{left}" y1="{top + plot}" x2="{width - 4}" y2="{top + plot}" stroke="#545d63"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="14" fill="#545d63">{peak}</text>',
             f'<text x="{left - 6}" y="{top + plot}" text-anchor="end" font-size="14" fill="#545d63">0</text>']
    for idx, (month, issued, redeemed) in enumerate(rows):
        x = left + idx * slot + slot * 0.12
        for j, (value, fill) in enumerate(((issued, "#0b6158"), (max(0, redeemed), "url(#hatch)"))):
            h = plot * value / peak
            bx = x + j * bar
            parts.append(f'<rect x="{bx:.1f}" y="{top + plot - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{fill}" stroke="#1d2327" stroke-width="0.5"><title>{escape(month)}: {value}</title></rect>')
            if value:
                parts.append(f'<text x="{bx + bar / 2:.1f}" y="{top + plot - h - 3:.1f}" text-anchor="middle" '
                             f'font-size="13" fill="#1d2327">{value}</text>')
        parts.append(f'<text x="{x + bar:.1f}" y="{top + plot + 20}" text-anchor="middle" font-size="14" '
                     f'fill="#1d2327">{escape(month[5:])}</text>')
    parts.append("</svg>")
    # bandit B704: month and title are escape()d, the rest are numbers
    return Markup("".join(parts))  # nosec B704


@bp.route("/reports")
@require("points.reports.view")
def reports():
    rows = svc.monthly(g.community, trim=True)
    chart = bar_chart(rows, _("Points issued and redeemed per month"))
    return render_template("points/reports.html", rows=rows, chart=chart, top=svc.top_volunteers(g.community),
                           alerts=svc.stock_alerts(g.community), totals=svc.totals(g.community))


@bp.route("/reports.xlsx")
@require("points.reports.view")
def reports_xlsx():
    wb = spreadsheets.Workbook()  # names are written as text, never formulas
    ws = wb.create_sheet(_("Per month"))
    ws.append([_("Month"), _("Issued"), _("Redeemed")])
    for row in svc.monthly(g.community):
        ws.append(list(row))
    ws = wb.create_sheet(_("Top volunteers"))
    ws.append([_("Name"), _("Hours"), _("Activities")])
    for user, minutes, count in svc.top_volunteers(g.community, 50):
        ws.append([user.display_name, float(svc.hours_text(minutes)), count])
    ws = wb.create_sheet(_("Stock"))
    ws.append([_("Item"), _("Price"), _("Stock"), _("Alert at"), pgettext("store item", "Withdrawn")])
    for it in PointsItem.query.filter_by(community_id=g.community.id).order_by(PointsItem.name):
        ws.append([it.name, it.price, it.stock, it.low_stock, _("yes") if it.withdrawn_at else ""])
    ws = wb.create_sheet(_("Orders"))
    ws.append([_("Order"), _("Date"), _("Item"), _("Quantity"), _("Points"), _("Status")])
    for o in PointsOrder.query.filter_by(community_id=g.community.id).order_by(PointsOrder.id):
        ws.append([o.id, dates.format_local(o.created_at, g.community), o.item.name,
                   o.quantity, o.total, str(ORDER_STATES.get(o.status, o.status))])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"points-{g.community.slug}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
