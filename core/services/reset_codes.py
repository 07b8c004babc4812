"""One-time password reset codes (密码重置码) that staff give a resident in person.

A resident who forgot their password goes to the community office. Staff check who they are and
give them a code, printed or read out; the resident then sets a new password with it on the public
page (``/auth/reset``), the API or at the counter. There is no SMS and no e-mail in between, so the
code is only as good as the staff member's check: that is why issuing one is audited and the
resident is notified.

* Only a salted hash of the code is stored; the code is shown once, to the staff member.
* It expires (``VALID_FOR``), is used once, and is spent after ``MAX_ATTEMPTS`` wrong tries; a new
  code replaces any earlier one still open.
* Who may issue one follows the rules of role grants (core/services/accounts.py ``set_roles``):
  staff of a community the person belongs to, never for themselves, and only for someone whose
  roles they could give or take away themselves (staff do not reset an admin's or another staff
  member's password; a community admin or the operator does). A site administrator's password is
  reset only by another site administrator or the operator.
* Setting the password ends every session of the account, like a password change."""
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import Forbidden, NotFound, ServiceError
from core.extensions import db
from core.models import Membership, PasswordResetCode, User, utcnow
from core.services import accounts, audit
from core.services.passwords import check_password_policy, dummy_hash, hash_password

VALID_FOR = timedelta(hours=24)
MAX_ATTEMPTS = 5
CODE_DIGITS = 8  # digits only: read out over the counter and typed on a phone's number pad


def format_code(code):
    """The code as shown and read out: two groups of four digits (1234 5678)."""
    return f"{code[:4]} {code[4:]}"


def check_may_issue(user, actor, community):
    """Raise Forbidden/NotFound unless ``actor`` (None: the operator) may give ``user`` a code."""
    from core.permissions import can, grantable_roles

    membership = Membership.query.filter_by(user_id=user.id, community_id=community.id).first()
    if membership is None or not user.is_active_account:
        raise NotFound("not_found", _("No such member."))
    if actor is None:
        return membership
    if actor.id == user.id:
        raise Forbidden("own_reset_code", _("You cannot give yourself a reset code: change your password on your "
                                            "account page, or ask another staff member."))
    if not can("core.members.manage", community, user=actor):
        raise Forbidden("forbidden", _("You do not have permission to do this."))
    above = user.is_superadmin and not actor.is_superadmin
    for m in Membership.query.filter_by(user_id=user.id):
        held = set(m.role_list) - {"resident"}
        if held - set(grantable_roles(actor, m.community)):  # a role elsewhere counts as much as here
            above = True
    if above:
        raise Forbidden("reset_code_above", _("Only a community administrator can give this person a reset code: "
                                              "they hold a role you cannot give."))
    return membership


def issue(user, actor, community):
    """Give ``user`` a new reset code; returns ``(code, expires_at)`` with the code in clear, to be
    shown once. Earlier open codes of the user stop working."""
    from core.services.notifications import N_, notify

    membership = check_may_issue(user, actor, community)
    now = utcnow()
    db.session.execute(update(PasswordResetCode).where(
        PasswordResetCode.user_id == user.id, PasswordResetCode.used_at.is_(None),
        PasswordResetCode.expires_at > now).values(expires_at=now))
    code = "".join(secrets.choice("0123456789") for _i in range(CODE_DIGITS))
    row = PasswordResetCode(user_id=user.id, community_id=community.id, issued_by_id=actor.id if actor else None,
                            code_hash=generate_password_hash(code, method=current_app.config["PASSWORD_HASH_METHOD"]),
                            created_at=now, expires_at=now + VALID_FOR, attempts=0)
    db.session.add(row)
    db.session.flush()
    audit.record("account.reset_code_issued", community=community, obj=membership, actor=actor,
                 after={"code_id": row.id, "expires_at": row.expires_at})
    notify(user.id, community, "reset_code",
           N_("Staff gave you a code to set a new password. If you did not ask for one, tell the community office."))
    return code, row.expires_at


def wrong_code():
    """The refusal of a code that is not right, has expired or was used."""
    return ServiceError("invalid_reset_code",
                        _("This code is not right, has expired or was used already. Ask community staff for a new one."),
                        fields={"code": _("Not right, expired or used.")})


def redeem(login, code, new_password):
    """Set a new password with a reset code (the resident's own act). Returns the user, or None
    when the code is not right (``wrong_code()``): a wrong try at an open code is counted, so
    the caller commits its transaction before answering with the refusal (the tries of a code
    are limited). A password the policy refuses raises ServiceError."""
    user = accounts.find_user(login) if isinstance(login, str) else None
    problem = check_password_policy(new_password if isinstance(new_password, str) else "",
                                    user.login_name if user else "")
    if problem:
        raise ServiceError("weak_password", problem, fields={"new_password": problem})
    code = "".join(ch for ch in (code if isinstance(code, str) else "") if not ch.isspace() and ch != "-")
    now = utcnow()
    row = None
    if user is not None and user.is_active_account:
        query = PasswordResetCode.query.filter(
            PasswordResetCode.user_id == user.id, PasswordResetCode.used_at.is_(None),
            PasswordResetCode.expires_at > now, PasswordResetCode.attempts < MAX_ATTEMPTS)
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = query.order_by(PasswordResetCode.id.desc()).first()
    if row is None:
        check_password_hash(dummy_hash(), code)  # the same time whether or not there is a code
        return None
    if not check_password_hash(row.code_hash, code):
        # Counted in the database, so tries sent at the same moment are all counted.
        db.session.execute(update(PasswordResetCode).where(PasswordResetCode.id == row.id)
                           .values(attempts=PasswordResetCode.attempts + 1))
        return None
    used = db.session.execute(update(PasswordResetCode).where(
        PasswordResetCode.id == row.id, PasswordResetCode.used_at.is_(None),
        PasswordResetCode.attempts < MAX_ATTEMPTS).values(used_at=now))
    if used.rowcount != 1:  # the same code used twice at once: only one sets the password
        return None
    db.session.execute(update(User).where(User.id == user.id).values(
        password_hash=hash_password(new_password), session_version=User.session_version + 1))
    audit.record("account.password_reset", community=row.community_id, obj=user, actor=user,
                 after={"code_id": row.id})
    db.session.refresh(user)
    return user
