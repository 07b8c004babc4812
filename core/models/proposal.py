"""Proposals (议题) and what residents do with them."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, UniqueConstraint

from core.extensions import db
from core.models.types import UTCDateTime, utcnow

STATES = {
    "draft": _l("Draft"),
    "open": _l("Open for comment"),
    "coordinating": _l("Coordinating"),
    "voting": _l("Voting"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "implementing": _l("Implementing"),
    "completed": _l("Completed"),
    "withdrawn": _l("Withdrawn"),
}

CATEGORIES = {
    "parking": _l("Parking"),
    "facilities": _l("Public facilities"),
    "property": _l("Property management"),
    "greenery": _l("Greenery and hygiene"),
    "safety": _l("Safety"),
    "pets": _l("Pets"),
    "abandoned_cars": _l("Abandoned cars"),
    "elderly": _l("Elderly care"),
    "other": _l("Other"),
}

SCOPES = {
    "community": _l("Whole community"),
    "grid": _l("One grid"),
    "building": _l("One building"),
}


class Proposal(db.Model):
    """A proposal (议题) moving through 议事 → 协调 → 表决 → 实施."""

    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint("seconds_count >= 0", name="seconds_nonneg"),
        db.Index("ix_proposal_community_state", "community_id", "state"),
        # The list's order (newest activity first) straight from an index: no sort of the whole
        # community's proposals per page (docs/performance.md).
        db.Index("ix_proposal_community_updated", "community_id", "updated_at", "id"),
        # Covers the list's visibility filter, so its page count reads the index only.
        db.Index("ix_proposal_community_visible", "community_id", "state", "author_id", "submitted_by_id"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    title = db.Column(db.String(120), nullable=False)
    body = db.Column(db.Text, nullable=False)
    category = db.Column(db.String(20), nullable=False)
    scope = db.Column(db.String(10), nullable=False, default="community")
    grid_id = db.Column(db.Integer, db.ForeignKey("grid.id"))
    building_id = db.Column(db.Integer, db.ForeignKey("building.id"))
    state = db.Column(db.String(15), nullable=False, default="draft")
    # The resident whose proposal it is; None when that resident has no account.
    author_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    author_name = db.Column(db.String(80), nullable=False)
    # The author on the register (core.models.person): set when someone typed it in for them
    # (代办), with or without an account of their own, and when an author on the register wrote it.
    author_person_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    # Who typed it in, when not the author (a building head or staff acting for a resident).
    submitted_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    assist_reason = db.Column(db.String(200))
    seconds_count = db.Column(db.Integer, nullable=False, default=0)
    comments_count = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    author = db.relationship("User", foreign_keys=[author_id])
    submitted_by = db.relationship("User", foreign_keys=[submitted_by_id])
    grid = db.relationship("Grid")
    building = db.relationship("Building")
    community = db.relationship("Community")

    @property
    def is_assisted(self):
        return self.submitted_by_id is not None and self.submitted_by_id != self.author_id

    @property
    def state_label(self):
        return STATES[self.state]

    @property
    def category_label(self):
        return CATEGORIES.get(self.category, self.category)

    @property
    def scope_label(self):
        if self.scope == "grid" and self.grid:
            return self.grid.name
        if self.scope == "building" and self.building:
            return self.building.name
        return SCOPES[self.scope]


class ProposalSecond(db.Model):
    """A resident's second (附议); one per person, enforced by the database.

    ``person_id`` is the resident on the register; ``user_id`` their account, None for a resident
    without one whose second a building head or staff member recorded (代办, ``acted_by_id``).
    Both are unique per proposal, so a person is counted once however the second arrives."""

    __tablename__ = "proposal_second"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"), UniqueConstraint("proposal_id", "person_id"))
    id = db.Column(db.Integer, primary_key=True)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    person_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    acted_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    user = db.relationship("User", foreign_keys=[user_id])


class ProposalComment(db.Model):
    """A comment in a proposal's deliberation (征集意见)."""

    __tablename__ = "proposal_comment"
    id = db.Column(db.Integer, primary_key=True)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False, index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    # The author on the register; for a resident without an account the only link to them.
    author_person_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    author_name = db.Column(db.String(80), nullable=False)
    acted_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    body = db.Column(db.Text, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class ProposalTransition(db.Model):
    """One step in a proposal's history, with who moved it and why."""

    __tablename__ = "proposal_transition"
    id = db.Column(db.Integer, primary_key=True)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False, index=True)
    from_state = db.Column(db.String(15))
    to_state = db.Column(db.String(15), nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    reason = db.Column(db.String(500))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    actor = db.relationship("User")
