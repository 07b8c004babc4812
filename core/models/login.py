"""Failed sign-ins, kept briefly to slow down password guessing (core/services/login_limits.py)."""
from core.extensions import db
from core.models.types import UTCDateTime, utcnow


class LoginFailure(db.Model):
    """One failed sign-in: the account tried (``u:<user id>``, or ``n:<login>`` for a login no
    account has) and the address it came from (an IPv6 address by its /64). Rows older than the
    longest limit's window are deleted as new failures come in; a success from an address deletes
    that address's rows for the account."""

    __tablename__ = "login_failure"
    __table_args__ = (db.Index("ix_login_failure_account_at", "account", "at"),
                      db.Index("ix_login_failure_at", "at"))

    id = db.Column(db.Integer, primary_key=True)
    account = db.Column(db.String(50), nullable=False)
    address = db.Column(db.String(50), nullable=False)
    at = db.Column(UTCDateTime, nullable=False, default=utcnow)
