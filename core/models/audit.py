"""The audit log and in-app notifications."""
from core.extensions import db
from core.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """An append-only record of a change that matters: who, when, what, before and after."""

    __tablename__ = "audit_entry"
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), index=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # Set when staff acted for a resident (assisted action).
    on_behalf_of_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    on_behalf_of_name = db.Column(db.String(80))
    action = db.Column(db.String(60), nullable=False, index=True)
    object_type = db.Column(db.String(40))
    object_id = db.Column(db.String(40))
    before = db.Column(db.JSON)
    after = db.Column(db.JSON)
    reason = db.Column(db.String(500))
    ip = db.Column(db.String(45))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    actor = db.relationship("User", foreign_keys=[actor_id])
    on_behalf_of = db.relationship("User", foreign_keys=[on_behalf_of_id])


class Notification(db.Model):
    """An in-app notification. The message is stored as a msgid plus parameters and translated
    when shown, in the reader's language."""

    __tablename__ = "notification"
    __table_args__ = (db.Index("ix_notification_user_read", "user_id", "read_at"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"))
    kind = db.Column(db.String(40), nullable=False)
    message = db.Column(db.String(200), nullable=False)
    params = db.Column(db.JSON, nullable=False, default=dict)
    url = db.Column(db.String(300))
    read_at = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class IdempotentRequest(db.Model):
    """The first answer to an API request sent with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotent_request"
    __table_args__ = (db.UniqueConstraint("user_id", "key"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    key = db.Column(db.String(100), nullable=False)
    endpoint = db.Column(db.String(200), nullable=False)
    status = db.Column(db.Integer, nullable=False, default=0)  # 0 while the first request runs
    response = db.Column(db.JSON)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
