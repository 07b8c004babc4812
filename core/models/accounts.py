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
    __page_cache_neutral__ = True  # noting a token's use changes no page (core/pagecache.py)
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
