"""Log in and out, register, account settings, language and text size, members."""
from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import joinedload

from core.accounts.forms import (LoginForm, PasswordForm, PreferencesForm, RegisterForm, ResetCodeForm,
                                 RolesForm, TokenForm, VerifyForm)
from core import confirm, pickers, places
from core.db import transaction
from core.errors import Conflict, Forbidden, ServiceError
from core.extensions import db, limiter
from core.forms import apply_error
from core.inputs import whole_number
from core.models import (ApiToken, Building, Community, Grid, Household, Membership, Notification,
                         Unit, utcnow)
from core.permissions import ROLES, can, grantable_roles, membership_of, require
from core.services import accounts, tokens
from core.services.login_limits import LoginLocked
from core.sorting import natural_sorted
from core.urls import safe_next

root_bp = Blueprint("root", __name__)
bp = Blueprint("auth", __name__, url_prefix="/auth")
community_bp = Blueprint("community", __name__)


@root_bp.route("/")
def index():
    communities = Community.query.order_by(Community.name).all()
    if len(communities) == 1:
        return redirect(url_for("c.community.home", community=communities[0].slug))
    return render_template("communities.html", communities=communities)


@root_bp.route("/language", methods=["POST"])
def set_language():
    locale = request.form.get("locale")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            with transaction():
                accounts.set_preferences(current_user, locale=locale)
    return redirect(safe_next(request.form.get("next")))


@root_bp.route("/text-size", methods=["POST"])
def toggle_large_text():
    large = request.form.get("large") == "1"
    session["large_text"] = large
    if current_user.is_authenticated:
        with transaction():
            accounts.set_preferences(current_user, large_text=large)
    return redirect(safe_next(request.form.get("next")))


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
# Per address, whatever the account: a flood of attempts. Failures per account are counted by
# the service, per account and address (core/services/login_limits.py), never per account alone:
# a stranger's guesses must not lock the owner out.
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            with transaction():
                user = accounts.authenticate(form.login.data, form.password.data, address=request.remote_addr or "")
        except LoginLocked as err:
            flash(err.message, "error")
            return (render_template("auth/login.html", form=form), err.status,
                    {"Retry-After": str(err.retry_after)})
        if user is None:
            flash(_("The phone number, user name or password is not right."), "error")
        else:
            locale, large = session.get("locale"), session.get("large_text")
            session.clear()  # a fresh session on login (no fixation)
            login_user(user, remember=form.remember.data)
            if locale and not user.locale:
                with transaction():
                    accounts.set_preferences(user, locale=locale)
            if large is not None:
                session["large_text"] = large
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # The session lives in a signed cookie: only the server-side version makes a copy of it
        # (and the remember-me cookie) useless once the user has logged out.
        with transaction():
            accounts.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("root.index"))


def _account_key():
    return "account:" + str(current_user.get_id())


@bp.route("/account", methods=["GET", "POST"])
@login_required
# Guessing the current password with a stolen session is limited like logging in (per account).
@limiter.limit(_login_limit, key_func=_account_key, methods=["POST"])
def account():
    pw_form = PasswordForm(prefix="pw")
    pref_form = PreferencesForm(prefix="pref", locale=current_user.locale or "zh_Hans",
                                large_text=current_user.large_text)
    token_form = TokenForm(prefix="tok")
    new_token = None
    if request.method == "POST":
        which = request.form.get("form")
        try:
            with transaction():
                if which == "password" and pw_form.validate_on_submit():
                    accounts.change_password(current_user, pw_form.old_password.data, pw_form.new_password.data)
                    login_user(current_user._get_current_object())  # keep this session, end the others
                    flash(_("Your password was changed. Other devices have been logged out."), "success")
                    return redirect(url_for("auth.account"))
                if which == "preferences" and pref_form.validate_on_submit():
                    accounts.set_preferences(current_user, locale=pref_form.locale.data,
                                             large_text=pref_form.large_text.data)
                    session["large_text"] = pref_form.large_text.data
                    flash(_("Saved."), "success")
                    return redirect(url_for("auth.account"))
                if which == "token" and token_form.validate_on_submit():
                    _t, new_token = tokens.create(current_user, token_form.name.data)
                    flash(_("Copy the token now: it will not be shown again."), "success")
                if which == "revoke" and not confirm.confirmed():  # a revoked token cannot come back: ask first
                    token = db.session.get(ApiToken, whole_number(request.form.get("token_id"), "token_id", default=0))
                    if token is not None and token.user_id == current_user.id and token.revoked_at is None:
                        return confirm.ask(confirm.Confirmation(
                            title=_("Revoke the token “%(name)s”?", name=token.name), action=url_for("auth.account"),
                            button=_("Revoke"), back_url=url_for("auth.account"), back_label=_("My account"),
                            cancel_label=_("Keep it"),
                            lines=[_("Programs using this token can no longer reach your account. This cannot be undone: "
                                     "they would need a new token.")]))
                if which == "revoke":
                    tokens.revoke(current_user, whole_number(request.form.get("token_id"), "token_id", default=0))
                    flash(_("The token was revoked."), "success")
                    return redirect(url_for("auth.account"))
        except ServiceError as err:
            apply_error({"password": pw_form, "token": token_form}.get(which), err)
        except ValueError:
            abort(400)
    user_tokens = ApiToken.query.filter_by(user_id=current_user.id).order_by(ApiToken.id.desc()).all()
    memberships = Membership.query.options(joinedload(Membership.community)).filter_by(user_id=current_user.id).all()
    return render_template("auth/account.html", pw_form=pw_form, pref_form=pref_form, token_form=token_form,
                           tokens=user_tokens, new_token=new_token, memberships=memberships)


@bp.route("/reset", methods=["GET", "POST"])
# Per address; each code also takes only a few wrong tries (core/services/reset_codes.py).
@limiter.limit(_login_limit, methods=["POST"])
def reset_password():
    """Set a new password with the one-time code staff gave in person (public)."""
    from core.services import reset_codes

    form = ResetCodeForm()
    if form.validate_on_submit():
        try:
            with transaction():
                user = reset_codes.redeem(form.login.data, form.code.data, form.new_password.data)
            if user is None:  # a wrong try, counted (committed above)
                raise reset_codes.wrong_code()
        except ServiceError as err:
            apply_error(form, err)
        else:
            flash(_("Your new password is set. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    if request.method == "POST":
        with transaction():
            Notification.query.filter_by(user_id=current_user.id, read_at=None).update({"read_at": utcnow()})
        return redirect(url_for("auth.notifications"))
    notes = (Notification.query.filter_by(user_id=current_user.id)
             .order_by(Notification.id.desc()).limit(100).all())
    return render_template("auth/notifications.html", notes=notes)


# ── community pages ─────────────────────────────────────────────────────────────────────
@community_bp.route("/")
def home():
    from core.models import Proposal

    community = g.community
    membership = membership_of(current_user, community)
    widgets = []
    for group in g.hooks.dashboard_widgets(community=community, user=current_user):
        widgets.extend(group or ())
    widgets.sort(key=lambda p: p.order)
    recent = (Proposal.query.filter(Proposal.community_id == community.id, Proposal.state != "draft")
              .order_by(Proposal.updated_at.desc()).limit(5).all())
    counts = dict(db.session.query(Proposal.state, db.func.count()).filter_by(community_id=community.id)
                  .group_by(Proposal.state).all())
    return render_template("community/home.html", membership=membership, widgets=widgets, recent=recent,
                           counts=counts)


@community_bp.route("/manage")
@login_required
def manage():
    return render_template("community/manage.html")


@community_bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register():
    community = g.community
    if current_user.is_authenticated:
        if request.method == "POST":
            with transaction():
                accounts.join(community, current_user)
            flash(_("You joined %(name)s. Staff will verify your household.", name=community.name), "success")
            return redirect(url_for("c.community.home"))
        return render_template("auth/join.html", membership=membership_of(current_user, community))
    form = RegisterForm()
    pickers.offer(form.unit_id, places.unit_choices(community))
    if form.validate_on_submit():
        try:
            with transaction():
                unit = db.session.get(Unit, form.unit_id.data or 0)
                user, _m = accounts.register(community, form.login.data, form.password.data, form.display_name.data,
                                             locale=session.get("locale"), consent=form.consent.data is True,
                                             unit=unit, room=form.room.data, address=form.address.data)
        except ServiceError as err:
            apply_error(form, err)
        else:
            session.clear()
            login_user(user)
            flash(_("Welcome! Community staff will verify your household; then you can vote."), "success")
            return redirect(url_for("c.community.home"))
    return render_template("auth/register.html", form=form)


@community_bp.route("/privacy")
def privacy():
    """The privacy notice residents consent to at registration (core/privacy.py)."""
    from core.privacy import NOTICE_VERSION

    return render_template("auth/privacy.html", version=NOTICE_VERSION)


@community_bp.route("/members")
@require("core.members.view")
def members():
    community = g.community
    q = (request.args.get("q") or "").strip()
    status = request.args.get("status", "")
    query = (Membership.query.options(joinedload(Membership.user),
                                      joinedload(Membership.household).joinedload(Household.unit).joinedload(Unit.building))
             .filter(Membership.community_id == community.id))
    if status == "unverified":
        query = query.filter(Membership.awaiting_verification())
    elif status == "verified":
        query = query.filter(Membership.verified_at.isnot(None))
    if q:
        from core.models import User

        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.join(Membership.user).filter(db.or_(User.display_name.ilike(like, escape="\\"),
                                                          User.phone.ilike(like, escape="\\"),
                                                          User.username.ilike(like, escape="\\")))
    page = query.order_by(Membership.verified_at.isnot(None), Membership.id.desc()).paginate(
                       per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("community/members.html", page=page, q=q, status=status)


def _household_choices(community):
    rows = (db.session.query(Household.id, Building.name, Unit.name, Household.room)
            .join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
            .filter(Household.community_id == community.id).all())
    return [(0, "—")] + [(hid, f"{b} {u} {r}") for hid, b, u, r in natural_sorted(rows, key=lambda r: r[1:])]


@community_bp.route("/members/<int:membership_id>", methods=["GET", "POST"])
@require("core.members.view")
def member(membership_id):
    community = g.community
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.community_id != community.id:
        abort(404)
    verify_form = VerifyForm(prefix="v", household_id=membership.household_id or membership.claimed_household_id or 0)
    pickers.offer(verify_form.household_id, _household_choices(community))
    roles_form = RolesForm(prefix="r", building_id=membership.building_id or 0, grid_id=membership.grid_id or 0)
    grids, buildings = places.choices(community)
    pickers.offer(roles_form.building_id, [(0, "—")] + [(b.id, b.name) for b in buildings])
    roles_form.grid_id.choices = [(0, "—")] + [(gr.id, gr.name) for gr in grids]
    grantable = grantable_roles(current_user, community)
    status = 200
    if request.method == "POST":
        if not can("core.members.manage"):
            abort(403)
        which = request.form.get("form")
        try:
            with transaction():
                if which == "verify" and verify_form.validate_on_submit():
                    household = db.session.get(Household, verify_form.household_id.data or 0)
                    accounts.verify_resident(membership, household, verify_form.relation.data, current_user,
                                             reason=verify_form.reason.data)
                    flash(_("%(name)s is verified.", name=membership.user.display_name), "success")
                    return redirect(url_for("c.community.member", membership_id=membership.id))
                if which == "unverify":
                    accounts.unverify(membership, current_user, request.form.get("reason"))
                    flash(_("Verification withdrawn."), "success")
                    return redirect(url_for("c.community.member", membership_id=membership.id))
                if which == "roles" and roles_form.validate_on_submit():
                    # The form offers only the roles this user may give; the others the member holds
                    # are kept. A role sent that was not offered reaches the service, which refuses it.
                    kept = [r for r in membership.role_list if r not in grantable]
                    roles = request.form.getlist("roles") + kept
                    building = db.session.get(Building, roles_form.building_id.data or 0)
                    grid = db.session.get(Grid, roles_form.grid_id.data or 0)
                    accounts.set_roles(membership, roles, current_user._get_current_object(), building=building, grid=grid)
                    flash(_("Roles saved."), "success")
                    return redirect(url_for("c.community.member", membership_id=membership.id))
        except ServiceError as err:
            apply_error({"verify": verify_form, "roles": roles_form}.get(which), err)
            if isinstance(err, (Forbidden, Conflict)):
                status = err.status
    return render_template("community/member.html", m=membership, verify_form=verify_form,
                           roles_form=roles_form, roles=ROLES, grantable=grantable,
                           own=membership.user_id == current_user.id), status


@community_bp.route("/members/<int:membership_id>/reset-code", methods=["POST"])
@require("core.members.manage")
def member_reset_code(membership_id):
    """Staff give a member a one-time password reset code, shown once to print or read out."""
    from core.services import reset_codes

    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.community_id != g.community.id:
        abort(404)
    try:
        with transaction():
            code, expires_at = reset_codes.issue(membership.user, current_user._get_current_object(), g.community)
    except ServiceError as err:
        flash(err.message, "error")
        return redirect(url_for("c.community.member", membership_id=membership.id)), 303
    return render_template("auth/reset_code.html", m=membership, code=reset_codes.format_code(code),
                           expires_at=expires_at)


@bp.route("/account/personal-data")
@login_required
def personal_data():
    """A copy of all the person's data, as a JSON file (PIPL Art. 45)."""
    from core.services import personal_data as pd

    resp = current_app.response_class(pd.export_json(current_user._get_current_object()),
                                      mimetype="application/json")
    resp.headers["Content-Disposition"] = 'attachment; filename="linli-personal-data.json"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
