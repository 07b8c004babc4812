"""Community administration: modules, settings, audit log."""
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from core import confirm, dates
from core.db import transaction
from core.errors import ServiceError
from core.extensions import db
from core.forms import Form, apply_error
from core.models import AuditEntry, User
from core.permissions import require
from core.services import audit as audit_log
from core.services import plugins as plugin_svc
from core.services import structure

bp = Blueprint("admin", __name__, url_prefix="/admin")


class SettingsForm(Form):
    name = StringField(_l("Community name"), validators=[DataRequired(), Length(max=120)])
    seconds_threshold = IntegerField(_l("Seconds needed to move a proposal to coordination"),
                                     validators=[DataRequired(), NumberRange(min=1, max=10000)])
    default_locale = SelectField(_l("Default language"),
                                 choices=[("zh_Hans", "简体中文"), ("zh_Hant", "繁體中文"), ("en", "English")])
    timezone = SelectField(_l("Time zone"), choices=[(z, z) for z in dates.ZONES],
                           description=_l("Dates, deadlines and expiry are counted in this zone."))


@bp.route("/modules", methods=["GET", "POST"])
@require("core.plugins.manage")
def modules():
    registry = current_app.extensions["linli.plugins"]
    if request.method == "POST":
        name = request.form.get("plugin", "")
        enable = request.form.get("enabled") == "1"
        confirmed = request.form.get("confirm") == "1"
        if not enable and not confirmed and name in registry.manifests and registry.is_enabled(g.community, name):
            # Switching off asks first and shows what people still have open in the module.
            label = registry.manifests[name].label
            return confirm.ask(confirm.Confirmation(
                title=_("Switch off %(module)s?", module=label), action=url_for("c.admin.modules"),
                button=_("Switch off"), back_url=url_for("c.admin.modules"), back_label=_("Modules"),
                cancel_label=_("Keep it on"), hidden=[("plugin", name), ("enabled", "0")]),
                "admin/module_off.html", items=plugin_svc.open_business(g.community, name))
        try:
            with transaction():
                plugin_svc.set_enabled(g.community, name, enable, actor=current_user, confirm=confirmed)
        except ServiceError as err:
            apply_error(None, err)
        else:
            label = registry.manifests[name].label
            flash(_("%(module)s is now on.", module=label) if enable else _("%(module)s is now off.", module=label),
                  "success")
        return redirect(url_for("c.admin.modules"))
    rows = [(name, registry.manifests[name], registry.is_enabled(g.community, name), registry.version(name))
            for name in registry.names]
    return render_template("admin/modules.html", rows=rows)


@bp.route("/settings", methods=["GET", "POST"])
@require("core.settings.manage")
def settings():
    form = SettingsForm(obj=g.community, timezone=dates.zone(g.community).key)
    if form.validate_on_submit():
        try:
            with transaction():
                structure.update_community(g.community, current_user, name=form.name.data,
                                           seconds_threshold=form.seconds_threshold.data,
                                           default_locale=form.default_locale.data, timezone=form.timezone.data)
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("c.admin.settings"))
    return render_template("admin/settings.html", form=form)


def _date(value, end=False):
    try:
        d = datetime.strptime(value, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None
    return dates.start_of_day(d + timedelta(days=1) if end else d, g.community)


@bp.route("/audit")
@require("core.audit.view")
def audit():
    args = request.args
    query = (AuditEntry.query.options(joinedload(AuditEntry.actor), joinedload(AuditEntry.on_behalf_of))
             .filter(AuditEntry.community_id == g.community.id))
    action = (args.get("action") or "").strip()[:60]
    actor = (args.get("actor") or "").strip()[:40]
    if action:
        query = query.filter(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.join(User, AuditEntry.actor_id == User.id).filter(
            db.or_(User.username == actor.lower(), User.phone == actor, User.display_name == actor))
    start, end = _date(args.get("from")), _date(args.get("to"), end=True)
    if start:
        query = query.filter(AuditEntry.created_at >= start)
    if end:
        query = query.filter(AuditEntry.created_at < end)
    page = query.order_by(AuditEntry.id.desc()).paginate(per_page=50, max_per_page=200, error_out=False)
    actions = [(a, audit_log.sentence(a)[0]) for (a,) in db.session.query(AuditEntry.action)
               .filter_by(community_id=g.community.id).distinct().order_by(AuditEntry.action)]
    # Each entry in words: its sentence and the changed fields (label, before, after).
    entries = [(e, audit_log.describe(e)) for e in page.items]
    return render_template("admin/audit.html", page=page, entries=entries, action=action, actor=actor,
                           actions=actions, date_from=args.get("from", ""), date_to=args.get("to", ""))


class EraseForm(Form):
    reason = StringField(_l("Reason (the request's date and reference)"), validators=[DataRequired(), Length(max=500)])


@bp.route("/members/<int:membership_id>/erase", methods=["GET", "POST"])
@require("core.members.manage")
def erase_member(membership_id):
    """Handle a person's erasure request (PIPL Art. 47): see core/services/personal_data.py."""
    from core.models import Membership
    from core.services import personal_data

    m = db.session.get(Membership, membership_id)
    if m is None or m.community_id != g.community.id:
        abort(404)
    form = EraseForm()
    status, refused = 200, None
    # This page is the confirmation (core/confirm.py): it says whose data goes and what stays;
    # only its own form (confirm=1) erases.
    if form.validate_on_submit() and confirm.confirmed():
        try:
            with transaction():
                summary = personal_data.erase(m.user, current_user._get_current_object(), form.reason.data)
        except ServiceError as err:
            if err.fields:
                apply_error(form, err)
            else:  # not allowed: said on the page, in place of the form
                status, refused = (err.status if err.status != 400 else 200), err.message
        else:
            flash(_("The personal data of this account was erased; it is now shown as %(label)s.",
                    label=summary["anonymous_id"]) if summary["changed"]
                  else _("Nothing more to erase: this account was erased already."), "success")
            return redirect(url_for("c.community.members"))
    if refused is None:  # who may not erase this account is told before filling in the form
        try:
            personal_data.check_may_erase(m.user, current_user._get_current_object())
        except ServiceError as err:
            refused = err.message
    return render_template("admin/erase.html", form=form, member=m, erased=personal_data.is_erased(m.user),
                           history=personal_data.erasures(m.user), refused=refused), status
