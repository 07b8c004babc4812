"""Tables of the points module (积分兑换超市). Every table is named ``points_*``.

The ledger is double-entry and append-only (R25): a ``PointsTransfer`` moves a positive amount
from one account to another and has exactly two ``PointsEntry`` rows, −amount and +amount. Rows of
both tables are never updated or deleted (a session guard refuses it); a correction is a new,
reversing transfer. Each account keeps its balance in a column that is changed only together with
its entries; resident accounts may never go below zero (CHECK constraint and conditional
UPDATE). Credits to a resident form earning lots that expire oldest first (R27).
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, UniqueConstraint, event
from sqlalchemy.orm import Session

from core.extensions import db
from core.models.types import UTCDateTime, utcnow

# System accounts of a community (TimeOverflow-style double entry).
SYSTEM_ACCOUNTS = {
    "ISSUED": _l("Points issued"),
    "STORE": _l("Points store"),
    "EXPIRED": _l("Expired points"),
    "ADJUSTMENTS": _l("Staff adjustments"),
}

TRANSFER_KINDS = {
    "earn": _l("Earned"),
    "redeem": _l("Redeemed"),
    "refund": _l("Refund"),
    "adjust": _l("Adjustment"),
    "expire": _l("Expired"),
    "reversal": _l("Correction"),
}

ORDER_STATES = {
    "reserved": _l("Ready for pickup"),
    "handed_over": _l("Handed over"),
    "cancelled": _l("Cancelled"),
}

ITEM_KINDS = {"goods": _l("Goods"), "service": _l("Service")}

RECORD_STATES = {"claimed": _l("Waiting for verification"), "verified": _l("Verified"),
                 "rejected": _l("Not accepted")}


class PointsAccount(db.Model):
    """A resident's account (``key`` = ``user:<id>``) or a system account (ISSUED, STORE, ...)."""

    __tablename__ = "points_account"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        CheckConstraint("user_id IS NULL OR balance >= 0", name="resident_nonneg"),
        CheckConstraint("(user_id IS NULL) = (kind <> 'resident')", name="kind_user"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    key = db.Column(db.String(40), nullable=False)
    kind = db.Column(db.String(20), nullable=False)  # resident | ISSUED | STORE | EXPIRED | ADJUSTMENTS
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    balance = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    user = db.relationship("User")

    @property
    def label(self):
        if self.user is not None:
            return self.user.display_name
        return SYSTEM_ACCOUNTS.get(self.kind, self.kind)


class PointsTransfer(db.Model):
    """One movement of points between two accounts; immutable. ``ref`` makes payments idempotent."""

    __tablename__ = "points_transfer"
    __table_args__ = (
        UniqueConstraint("community_id", "ref"),
        CheckConstraint("amount > 0", name="amount_pos"),
        CheckConstraint("source_id <> destination_id", name="two_accounts"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    kind = db.Column(db.String(20), nullable=False)
    source_id = db.Column(db.Integer, db.ForeignKey("points_account.id"), nullable=False)
    destination_id = db.Column(db.Integer, db.ForeignKey("points_account.id"), nullable=False)
    amount = db.Column(db.Integer, nullable=False)
    ref = db.Column(db.String(200))
    rule_id = db.Column(db.Integer, db.ForeignKey("points_rule.id", ondelete="SET NULL"))
    # What paid or what was bought, for the statement (rendered translated when shown).
    details = db.Column(db.JSON, nullable=False, default=dict)
    reason = db.Column(db.String(500))  # staff's written reason (adjustments, corrections, assisted)
    reverses_id = db.Column(db.Integer, db.ForeignKey("points_transfer.id"), unique=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    source = db.relationship("PointsAccount", foreign_keys=[source_id])
    destination = db.relationship("PointsAccount", foreign_keys=[destination_id])
    rule = db.relationship("PointsRule")
    actor = db.relationship("User")
    reverses = db.relationship("PointsTransfer", remote_side=[id], foreign_keys=[reverses_id])


class PointsEntry(db.Model):
    """One side of a transfer: −amount on the source, +amount on the destination. Immutable."""

    __tablename__ = "points_entry"
    __table_args__ = (
        UniqueConstraint("transfer_id", "account_id"),
        CheckConstraint("amount <> 0", name="nonzero"),
    )
    id = db.Column(db.Integer, primary_key=True)
    transfer_id = db.Column(db.Integer, db.ForeignKey("points_transfer.id"), nullable=False, index=True)
    account_id = db.Column(db.Integer, db.ForeignKey("points_account.id"), nullable=False, index=True)
    amount = db.Column(db.Integer, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    transfer = db.relationship("PointsTransfer")


class PointsLot(db.Model):
    """Points credited to a resident in one go; spent and expired oldest first (R27)."""

    __tablename__ = "points_lot"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_range"),
        CheckConstraint("amount > 0", name="amount_pos"),
        db.Index("ix_points_lot_account_open", "account_id", "remaining"),
    )
    id = db.Column(db.Integer, primary_key=True)
    account_id = db.Column(db.Integer, db.ForeignKey("points_account.id"), nullable=False)
    transfer_id = db.Column(db.Integer, db.ForeignKey("points_transfer.id"), nullable=False, unique=True)
    amount = db.Column(db.Integer, nullable=False)
    remaining = db.Column(db.Integer, nullable=False)
    earned_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, index=True)


class PointsLotUse(db.Model):
    """How much of a lot a transfer used (+) or gave back (−): remaining = amount − Σ uses."""

    __tablename__ = "points_lot_use"
    __table_args__ = (CheckConstraint("amount <> 0", name="nonzero"),)
    id = db.Column(db.Integer, primary_key=True)
    lot_id = db.Column(db.Integer, db.ForeignKey("points_lot.id"), nullable=False, index=True)
    transfer_id = db.Column(db.Integer, db.ForeignKey("points_transfer.id"), nullable=False, index=True)
    amount = db.Column(db.Integer, nullable=False)


class PointsCounter(db.Model):
    """A counter changed only by conditional UPDATEs: per-resident item limits, earning caps."""

    __tablename__ = "points_counter"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        CheckConstraint("used >= 0", name="used_nonneg"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    key = db.Column(db.String(120), nullable=False)
    used = db.Column(db.Integer, nullable=False, default=0)


class PointsAward(db.Model):
    """The claim that an event paid a resident: the same event never pays twice (R25)."""

    __tablename__ = "points_award"
    __table_args__ = (UniqueConstraint("community_id", "user_id", "event_name", "ref"),)
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    event_name = db.Column(db.String(80), nullable=False)
    ref = db.Column(db.String(160), nullable=False)
    points = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class PointsRule(db.Model):
    """An earning rule: an event of another module pays ``points``, with optional caps."""

    __tablename__ = "points_rule"
    __table_args__ = (
        UniqueConstraint("community_id", "event_name"),
        CheckConstraint("points > 0", name="points_pos"),
        CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name="daily_pos"),
        CheckConstraint("monthly_cap IS NULL OR monthly_cap > 0", name="monthly_pos"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    event_name = db.Column(db.String(80), nullable=False)
    points = db.Column(db.Integer, nullable=False)
    daily_cap = db.Column(db.Integer)
    monthly_cap = db.Column(db.Integer)
    active = db.Column(db.Boolean, nullable=False, default=True)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class PointsProfile(db.Model):
    """A resident's choices: whether others may see their volunteering (志愿服务条例 Art. 20)."""

    __tablename__ = "points_profile"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    share_volunteering = db.Column(db.Boolean, nullable=False, default=False)
    changed_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # What a volunteer-service certificate carries (志愿服务记录与证明出具办法): given by the
    # volunteer for that purpose only; shown masked anywhere but on their own certificate.
    id_type = db.Column(db.String(20))
    id_number = db.Column(db.String(40))
    volunteer_number = db.Column(db.String(40))


class PointsActivity(db.Model):
    """A volunteer activity published beforehand (only these earn points, R26)."""

    __tablename__ = "points_activity"
    __table_args__ = (
        CheckConstraint("places IS NULL OR places > 0", name="places_pos"),
        CheckConstraint("ends_at > starts_at", name="time_order"),
        CheckConstraint("places IS NULL OR signups_count <= places", name="not_full"),
        CheckConstraint("signups_count >= 0", name="count_nonneg"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    title = db.Column(db.String(120), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    location = db.Column(db.String(200), nullable=False)
    starts_at = db.Column(UTCDateTime, nullable=False)
    ends_at = db.Column(UTCDateTime, nullable=False)
    places = db.Column(db.Integer)
    signups_count = db.Column(db.Integer, nullable=False, default=0)
    cancelled_at = db.Column(UTCDateTime)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class PointsSignup(db.Model):
    """A resident's sign-up for an activity (once each person).

    ``person_id`` is the resident on the register (core.models.person); ``user_id`` their account,
    None for a resident without one whom staff signed up at the desk (代办, ``acted_by_id``). Both
    are unique per activity: a person holds one place however they were signed up."""

    __tablename__ = "points_signup"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"), UniqueConstraint("activity_id", "person_id"))
    id = db.Column(db.Integer, primary_key=True)
    activity_id = db.Column(db.Integer, db.ForeignKey("points_activity.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    person_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    # The register name of a volunteer without an account (one with an account shows the
    # account's name, which erasure anonymises).
    name = db.Column(db.String(80))
    acted_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    assist_reason = db.Column(db.String(200))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    activity = db.relationship("PointsActivity")
    user = db.relationship("User", foreign_keys=[user_id])

    @property
    def display_name(self):
        return self.user.display_name if self.user is not None else (self.name or "—")


class PointsRecord(db.Model):
    """A volunteer-service record (R23): date, hours (whole minutes), content, evaluation, verifier."""

    __tablename__ = "points_record"
    __table_args__ = (
        UniqueConstraint("signup_id"),
        CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_range"),
        CheckConstraint("verified_by_id IS NULL OR verified_by_id <> user_id", name="two_person"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    signup_id = db.Column(db.Integer, db.ForeignKey("points_signup.id", ondelete="CASCADE"), nullable=False)
    activity_id = db.Column(db.Integer, db.ForeignKey("points_activity.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    service_date = db.Column(db.Date, nullable=False)
    minutes = db.Column(db.Integer, nullable=False)
    content = db.Column(db.String(500), nullable=False)
    evaluation = db.Column(db.String(500))
    status = db.Column(db.String(20), nullable=False, default="claimed")
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    verified_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    verified_at = db.Column(UTCDateTime)
    transfer_id = db.Column(db.Integer, db.ForeignKey("points_transfer.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    activity = db.relationship("PointsActivity")
    user = db.relationship("User", foreign_keys=[user_id])
    verified_by = db.relationship("User", foreign_keys=[verified_by_id])
    transfer = db.relationship("PointsTransfer")

    @property
    def hours(self):
        from decimal import Decimal

        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))


class PointsCertificate(db.Model):
    """A volunteer-service certificate (志愿服务证明), numbered, issued free of charge (R23)."""

    __tablename__ = "points_certificate"
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.String(40), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    issued_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    issued_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    total_minutes = db.Column(db.Integer, nullable=False)
    # A snapshot of the records it certifies: [{date, activity, content, minutes, verifier}].
    records = db.Column(db.JSON, nullable=False)
    holder_name = db.Column(db.String(80), nullable=False)
    holder_id_type = db.Column(db.String(20))
    holder_id_number = db.Column(db.String(40))
    volunteer_number = db.Column(db.String(40))
    # The issuer as the 办法 asks: organisation, responsible person, handler and contact.
    issuer_name = db.Column(db.String(200))
    issuer_head = db.Column(db.String(80))
    issuer_contact = db.Column(db.String(80))
    handler_name = db.Column(db.String(80))

    user = db.relationship("User", foreign_keys=[user_id])
    issued_by = db.relationship("User", foreign_keys=[issued_by_id])


class PointsItem(db.Model):
    """A catalogue item of the store: goods or a service, with a point price and stock."""

    __tablename__ = "points_item"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_pos"),
        CheckConstraint("stock >= 0", name="stock_nonneg"),
        CheckConstraint("per_resident_limit IS NULL OR per_resident_limit > 0", name="limit_pos"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    name = db.Column(db.String(120), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    kind = db.Column(db.String(20), nullable=False, default="goods")
    price = db.Column(db.Integer, nullable=False)
    stock = db.Column(db.Integer, nullable=False, default=0)
    per_resident_limit = db.Column(db.Integer)
    available_from = db.Column(UTCDateTime)
    available_until = db.Column(UTCDateTime)
    low_stock = db.Column(db.Integer, nullable=False, default=3)
    withdrawn_at = db.Column(UTCDateTime)
    picture = db.Column(db.String(80))  # file name under instance/uploads/points
    picture_type = db.Column(db.String(20))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None


class PointsOrder(db.Model):
    """A redemption: the points went to the STORE account; the resident collects with the code."""

    __tablename__ = "points_order"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="qty_pos"),
        CheckConstraint("total = quantity * price_each", name="total"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    item_id = db.Column(db.Integer, db.ForeignKey("points_item.id"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="RESTRICT"), nullable=False, index=True)
    quantity = db.Column(db.Integer, nullable=False, default=1)
    price_each = db.Column(db.Integer, nullable=False)
    total = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="reserved")
    pickup_code = db.Column(db.String(12), nullable=False, unique=True)
    transfer_id = db.Column(db.Integer, db.ForeignKey("points_transfer.id"), nullable=False)
    refund_transfer_id = db.Column(db.Integer, db.ForeignKey("points_transfer.id"))
    placed_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    assist_reason = db.Column(db.String(200))
    handed_over_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    handed_over_at = db.Column(UTCDateTime)
    cancelled_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    cancelled_at = db.Column(UTCDateTime)
    cancel_reason = db.Column(db.String(500))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    item = db.relationship("PointsItem")
    user = db.relationship("User", foreign_keys=[user_id])
    placed_by = db.relationship("User", foreign_keys=[placed_by_id])
    handed_over_by = db.relationship("User", foreign_keys=[handed_over_by_id])


# ── append-only guard ───────────────────────────────────────────────────────────────────
class LedgerIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _append_only(session, flush_context, instances):
    for obj in session.deleted:
        if isinstance(obj, (PointsEntry, PointsTransfer)):
            raise LedgerIsAppendOnly("ledger rows are never deleted; post a reversing transfer")
    for obj in session.dirty:
        if isinstance(obj, (PointsEntry, PointsTransfer)) and session.is_modified(obj, include_collections=False):
            raise LedgerIsAppendOnly("ledger rows are never changed; post a reversing transfer")
