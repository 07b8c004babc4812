"""Tables of the meetings module (联席会议). Foreign keys only to core tables or our own."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_babel import lazy_pgettext
from sqlalchemy import CheckConstraint, Index, UniqueConstraint, false, text

from core.extensions import db
from core.models.types import UTCDateTime, utcnow

QUORUM_RULES = {
    "majority": _l("A majority of the delegates present"),
    "all_orgs": _l("Every member organisation present"),
    "number": _l("A fixed number of delegates present"),
}
# What a decision of the body needs, of the votes cast (abstentions are not votes cast; R28).
DECISION_RULES = {
    "majority": _l("A simple majority of the votes cast"),
    "two_thirds": _l("Two thirds of the votes cast"),
}
MEETING_STATUSES = {
    "scheduled": _l("Scheduled"),
    "held": _l("Held"),
    "adjourned": _l("Adjourned"),
    "cancelled": _l("Cancelled"),
}
ATTENDANCE = {
    "present": _l("Present"),
    "absent": _l("Absent"),
    "excused": _l("Excused"),
    "substitute": _l("Represented by a substitute"),
}
MINUTES_STATES = {
    "draft": _l("Draft"),
    "review": _l("In review"),
    "approved": _l("Approved"),
    "published": _l("Published"),
}
OUTCOMES = {
    "decided": _l("Decided"),
    "deferred": _l("Deferred"),
    "rejected": lazy_pgettext("meeting decision", "Rejected"),
}
ACTION_STATUSES = {
    "open": lazy_pgettext("action item", "Open"),
    "in_progress": _l("In progress"),
    "done": lazy_pgettext("action item", "Done"),
}
AGENDA_KINDS = {
    "minutes": _l("Confirm the previous minutes"),
    "free": _l("Topic"),
    "proposal": _l("Proposal"),
    "external": lazy_pgettext("agenda item", "Handed over"),
    "overdue": _l("Overdue action item"),
}
# Shown as state badges with the core's colours.
BADGE = {"scheduled": "open", "held": "accepted", "adjourned": "coordinating", "cancelled": "withdrawn",
         "draft": "draft", "review": "coordinating", "approved": "accepted", "published": "completed",
         "decided": "accepted", "deferred": "coordinating", "rejected": "rejected",
         "open": "open", "in_progress": "implementing", "done": "completed", "overdue": "rejected"}


class Body(db.Model):
    """A standing meeting body (四方联席会议, 物业联席会, 居民议事会, ...)."""

    __tablename__ = "meetings_body"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("quorum_number IS NULL OR quorum_number > 0", name="quorum_pos"),
        CheckConstraint("topic_deadline_days >= 0", name="deadline_nonneg"),
        CheckConstraint("decision_rule IN ('majority', 'two_thirds')", name="decision_rule"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(120), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    quorum_rule = db.Column(db.String(10), nullable=False, default="majority")
    quorum_number = db.Column(db.Integer)
    # What its decisions need when hands are counted (R28): a simple majority or two thirds of the votes cast.
    decision_rule = db.Column(db.String(12), nullable=False, default="majority", server_default="majority")
    # Topics must reach the body this many days before a meeting (R32).
    topic_deadline_days = db.Column(db.Integer, nullable=False, default=3)
    # Position in the chair rotation (轮值主席) of the next meeting.
    rotation_index = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    orgs = db.relationship("Org", back_populates="body", order_by="Org.position, Org.id")
    community = db.relationship("Community")

    @property
    def quorum_label(self):
        if self.quorum_rule == "number":
            return _l("At least %(n)d delegates present", n=self.quorum_number or 0)
        return QUORUM_RULES[self.quorum_rule]

    @property
    def decision_label(self):
        return DECISION_RULES[self.decision_rule]


class Org(db.Model):
    """A member organisation of a body (社区党委, 居委会, 物业公司, 派出所, ...)."""

    __tablename__ = "meetings_org"
    __table_args__ = (UniqueConstraint("body_id", "name"),)
    id = db.Column(db.Integer, primary_key=True)
    body_id = db.Column(db.Integer, db.ForeignKey("meetings_body.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(120), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)  # order in the chair rotation

    body = db.relationship("Body", back_populates="orgs")
    delegates = db.relationship("Delegate", back_populates="org", order_by="Delegate.role, Delegate.id")


class Delegate(db.Model):
    """A named person who represents an organisation: a delegate or a substitute.

    ``user_id`` links them to an account when they have one."""

    __tablename__ = "meetings_delegate"
    __table_args__ = (CheckConstraint("role IN ('delegate', 'substitute')", name="role"),)
    id = db.Column(db.Integer, primary_key=True)
    body_id = db.Column(db.Integer, db.ForeignKey("meetings_body.id", ondelete="CASCADE"), nullable=False, index=True)
    org_id = db.Column(db.Integer, db.ForeignKey("meetings_org.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)
    role = db.Column(db.String(10), nullable=False, default="delegate")
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    active = db.Column(db.Boolean, nullable=False, default=True)

    org = db.relationship("Org", back_populates="delegates")
    user = db.relationship("User")


class Meeting(db.Model):
    """One meeting of a body."""

    __tablename__ = "meetings_meeting"
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    body_id = db.Column(db.Integer, db.ForeignKey("meetings_body.id", ondelete="CASCADE"), nullable=False, index=True)
    title = db.Column(db.String(160), nullable=False)
    starts_at = db.Column(UTCDateTime, nullable=False)
    ends_at = db.Column(UTCDateTime, nullable=False)
    place = db.Column(db.String(200), nullable=False, default="")
    online_url = db.Column(db.String(300))
    chair_org_id = db.Column(db.Integer, db.ForeignKey("meetings_org.id", ondelete="SET NULL"))
    chair_reason = db.Column(db.String(300))  # why the rotation was overridden
    status = db.Column(db.String(10), nullable=False, default="scheduled")
    quorum_met = db.Column(db.Boolean)
    adjourn_reason = db.Column(db.String(300))
    # iCalendar (R33): a stable UID and a SEQUENCE bumped on every change.
    uid = db.Column(db.String(120), nullable=False, unique=True)
    sequence = db.Column(db.Integer, nullable=False, default=0)
    topics_deadline = db.Column(UTCDateTime, nullable=False)
    minutes = db.Column(db.Text, nullable=False, default="")
    minutes_state = db.Column(db.String(10), nullable=False, default="draft")
    minutes_published_at = db.Column(UTCDateTime)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    body = db.relationship("Body")
    chair_org = db.relationship("Org")
    community = db.relationship("Community")

    @property
    def status_label(self):
        return MEETING_STATUSES[self.status]

    @property
    def minutes_label(self):
        return MINUTES_STATES[self.minutes_state]


class AgendaItem(db.Model):
    """An item on a meeting's agenda. ``ref`` names what it is about (``proposal:12``,
    ``action_item:3``, a candidate's ref from another module) and is unique per meeting."""

    __tablename__ = "meetings_agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "ref"),)
    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings_meeting.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    kind = db.Column(db.String(10), nullable=False, default="free")
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    ref = db.Column(db.String(120))
    url = db.Column(db.String(300))
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposal.id", ondelete="SET NULL"), index=True)
    # The overdue action item carried onto this agenda (no foreign key: the tables would form a cycle).
    action_item_id = db.Column(db.Integer)
    submitted_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    meeting = db.relationship("Meeting")
    proposal = db.relationship("Proposal")
    action_item = db.relationship("ActionItem", primaryjoin="foreign(AgendaItem.action_item_id) == ActionItem.id",
                                  viewonly=True)
    submitted_by = db.relationship("User")

    @property
    def kind_label(self):
        return AGENDA_KINDS[self.kind]


class Attendance(db.Model):
    """Who came: one row per delegate (or resident) and meeting, enforced by the database."""

    __tablename__ = "meetings_attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "delegate_id"),
        UniqueConstraint("meeting_id", "user_id"),
        CheckConstraint("delegate_id IS NOT NULL OR user_id IS NOT NULL", name="who"),
    )
    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings_meeting.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    delegate_id = db.Column(db.Integer, db.ForeignKey("meetings_delegate.id", ondelete="CASCADE"))
    # A resident who attended (not a delegate); or the delegate's account, for the events.
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    status = db.Column(db.String(10), nullable=False, default="present")
    substitute_id = db.Column(db.Integer, db.ForeignKey("meetings_delegate.id", ondelete="SET NULL"))
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    delegate = db.relationship("Delegate", foreign_keys=[delegate_id])
    substitute = db.relationship("Delegate", foreign_keys=[substitute_id])
    user = db.relationship("User", foreign_keys=[user_id])

    @property
    def status_label(self):
        return ATTENDANCE[self.status]


class MinutesApproval(db.Model):
    """An organisation's approval of a meeting's minutes; once per organisation.

    ``delegate_id`` is the organisation's delegate (or substitute) who approved and ``user_id`` the
    account that recorded it: the delegate's own, or, when ``on_behalf`` is set, a staff member's,
    who then gave a ``reason``. Rows from before delegates were named may have no delegate."""

    __tablename__ = "meetings_minutes_approval"
    __table_args__ = (UniqueConstraint("meeting_id", "org_id"),)
    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings_meeting.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    org_id = db.Column(db.Integer, db.ForeignKey("meetings_org.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    delegate_id = db.Column(db.Integer, db.ForeignKey("meetings_delegate.id"))  # delegates are deactivated, not deleted
    on_behalf = db.Column(db.Boolean, nullable=False, default=False, server_default=false())
    reason = db.Column(db.String(300))
    approved_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    org = db.relationship("Org")
    user = db.relationship("User")
    delegate = db.relationship("Delegate")


class Resolution(db.Model):
    """The outcome of one agenda item (decided, deferred, rejected), with optional hand counts.

    ``rule`` is what the motion needed when it was put (R28): the body's rule, or two thirds for a
    motion to rescind without notice. A motion to rescind names the decision it rescinds
    (``rescinds_id``); a decision is rescinded once at most, which the partial unique index keeps
    under concurrent requests."""

    __tablename__ = "meetings_resolution"
    __table_args__ = (
        UniqueConstraint("agenda_item_id"),
        CheckConstraint("votes_for IS NULL OR votes_for >= 0", name="for_nonneg"),
        CheckConstraint("votes_against IS NULL OR votes_against >= 0", name="against_nonneg"),
        CheckConstraint("votes_abstain IS NULL OR votes_abstain >= 0", name="abstain_nonneg"),
        CheckConstraint("rule IN ('majority', 'two_thirds')", name="rule"),
        Index("ix_meetings_resolution_rescinded_once", "rescinds_id", unique=True,
              sqlite_where=text("outcome = 'decided'"), postgresql_where=text("outcome = 'decided'")),
    )
    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings_meeting.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    agenda_item_id = db.Column(db.Integer, db.ForeignKey("meetings_agenda_item.id", ondelete="CASCADE"),
                               nullable=False)
    outcome = db.Column(db.String(10), nullable=False)
    text = db.Column(db.Text, nullable=False)
    votes_for = db.Column(db.Integer)
    votes_against = db.Column(db.Integer)
    votes_abstain = db.Column(db.Integer)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposal.id", ondelete="SET NULL"), index=True)
    proposal_to = db.Column(db.String(15))  # the stage the resolution moved the proposal to
    rule = db.Column(db.String(12), nullable=False, default="majority", server_default="majority")
    # No ON DELETE action: a decision that a later one rescinded stays while that one exists (and
    # SQLite does not reflect actions of a column added later; see the migration).
    rescinds_id = db.Column(db.Integer, db.ForeignKey("meetings_resolution.id"))
    notice_given = db.Column(db.Boolean, nullable=False, default=False, server_default=false())  # of a motion to rescind
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    agenda_item = db.relationship("AgendaItem")
    meeting = db.relationship("Meeting")
    rescinds = db.relationship("Resolution", remote_side=[id])

    @property
    def outcome_label(self):
        return OUTCOMES[self.outcome]

    @property
    def counted(self):
        """Whether hands were counted; without a count the chair's declaration stands."""
        return any(v is not None for v in (self.votes_for, self.votes_against, self.votes_abstain))

    @property
    def rule_label(self):
        return DECISION_RULES[self.rule]


class ActionItem(db.Model):
    """Follow-up of a decision: who does what by when, followed until done (R32)."""

    __tablename__ = "meetings_action_item"
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    body_id = db.Column(db.Integer, db.ForeignKey("meetings_body.id", ondelete="CASCADE"), nullable=False, index=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings_meeting.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    resolution_id = db.Column(db.Integer, db.ForeignKey("meetings_resolution.id", ondelete="CASCADE"), index=True)
    title = db.Column(db.String(300), nullable=False)
    owner_org_id = db.Column(db.Integer, db.ForeignKey("meetings_org.id", ondelete="SET NULL"))
    owner_user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    owner_name = db.Column(db.String(80))
    due_date = db.Column(db.Date)
    status = db.Column(db.String(12), nullable=False, default="open")
    explanation = db.Column(db.Text)  # why it is late and how it will be fixed (required once overdue)
    overdue_at = db.Column(UTCDateTime)  # when it was announced overdue (once)
    done_at = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    owner_org = db.relationship("Org")
    owner_user = db.relationship("User")
    meeting = db.relationship("Meeting", foreign_keys=[meeting_id])
    resolution = db.relationship("Resolution")

    @property
    def owner_label(self):
        parts = [x for x in (self.owner_org.name if self.owner_org else None,
                             self.owner_user.display_name if self.owner_user else self.owner_name) if x]
        return " · ".join(parts)

    @property
    def status_label(self):
        return ACTION_STATUSES[self.status]
