"""API tokens: created per user, shown once, revocable."""
import secrets

from flask_babel import gettext as _

from core.errors import NotFound, ServiceError
from core.extensions import db
from core.models import ApiToken, utcnow
from core.services import audit


def create(user, name):
    """Create a token and return (token, raw secret). Only the hash is stored."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise ServiceError("invalid_name", _("Say what the token is for (up to 80 characters)."),
                           fields={"name": _("Say what the token is for (up to 80 characters).")})
    raw = "lnl_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=ApiToken.digest(raw), prefix=raw[:10])
    db.session.add(token)
    db.session.flush()
    audit.record("token.created", obj=token, actor=user, after={"name": name, "prefix": token.prefix})
    return token, raw


def revoke(user, token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("not_found", _("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("token.revoked", obj=token, actor=user)
    return token
