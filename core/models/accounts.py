"""Accounts: a person who logs in, and their API tokens."""
import hashlib

from flask_login import UserMixin
from sqlalchemy import CheckConstraint

from core.extensions import db
from core.models.types import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    """An account (账户). Joins communities through a ``Membership``."""

    __tablename__ = "user"
    __table_args__ = (CheckConstraint("username IS NOT NULL OR phone IS NOT NULL", name="login"),)

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(40), unique=True)
    phone = db.Column(db.String(20), unique=True)
    display_name = db.Column(db.String(80), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    locale = db.Column(db.String(10))
    large_text = db.Column(db.Boolean, nullable=False, default=False)
    is_superadmin = db.Column(db.Boolean, nullable=False, default=False)
    is_active_account = db.Column(db.Boolean, nullable=False, default=True)
    # Bumped on password change and logout-everywhere: old sessions stop matching.
    session_version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # Consent to the privacy notice at registration (个人信息处理同意): when, and which version of
    # the notice was shown (core/privacy.py).
    privacy_consent_at = db.Column(UTCDateTime)
    privacy_notice_version = db.Column(db.String(20))

    @property
    def is_active(self):
        return self.is_active_account

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    @property
    def login_name(self):
        return self.username or self.phone

    def __repr__(self):
        return f"<User {self.id} {self.login_name}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    prefix = db.Column(db.String(12), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at = db.Column(UTCDateTime)
    revoked_at = db.Column(UTCDateTime)

    user = db.relationship("User")

    @staticmethod
    def digest(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class PasswordResetCode(db.Model):
    """A one-time password reset code (密码重置码) that staff hand a resident in person.

    Only a salted hash of the code is kept; it expires, is used once, and is spent after a few
    wrong tries (core/services/reset_codes.py)."""

    __tablename__ = "password_reset_code"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="SET NULL"))
    code_hash = db.Column(db.String(255), nullable=False)
    issued_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=False)
    used_at = db.Column(UTCDateTime)
    attempts = db.Column(db.Integer, nullable=False, default=0)

    user = db.relationship("User", foreign_keys=[user_id])
    issued_by = db.relationship("User", foreign_keys=[issued_by_id])
