"""The voting module's tables (voting_*); foreign keys only to core tables or our own."""
from sqlalchemy import CheckConstraint, UniqueConstraint

from core.extensions import db
from core.models.types import Centi, UTCDateTime, utcnow

STATES = ("draft", "open", "closed", "cancelled")


class Ballot(db.Model):
    """A ballot (表决) on a proposal or a standalone poll.

    Everything that decides the count (method, rule, unit, matter class, quorum, options, the
    electorate and the tie-break seed) is frozen into ``manifest`` when the ballot opens; its hash
    starts the chain of ballots (R31)."""

    __tablename__ = "voting_ballot"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'open', 'closed', 'cancelled')", name="state"),
        CheckConstraint("entries_count >= 0", name="entries_nonneg"),
        db.Index("ix_voting_ballot_community_state", "community_id", "state"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposal.id", ondelete="SET NULL"), index=True)
    title = db.Column(db.String(120), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    method = db.Column(db.String(10), nullable=False, default="majority")
    rule = db.Column(db.String(20), nullable=False, default="simple")
    unit = db.Column(db.String(10), nullable=False, default="person")
    matter_class = db.Column(db.String(10))
    quorum = db.Column(db.String(10), nullable=False, default="none")
    secret = db.Column(db.Boolean, nullable=False, default=False)
    max_choices = db.Column(db.Integer)
    scope = db.Column(db.String(10), nullable=False, default="community")
    grid_id = db.Column(db.Integer, db.ForeignKey("grid.id"))
    building_id = db.Column(db.Integer, db.ForeignKey("building.id"))
    # Rule "unanimous" (Civil Code Art. 279): who else is interested besides the owners of the
    # building in scope, {"buildings": [ids], "households": [ids]} (SPC Interpretation Art. 11);
    # staff widen it before the notice. Null: the building's owners only.
    interested = db.Column(db.JSON)
    # When a voter has both an online vote and a paper ballot: "refuse", "paper_wins" or
    # "first_wins" (docs/voting.md); "latest" on ballots opened before these.
    paper_rule = db.Column(db.String(10), nullable=False, default="refuse")
    spoiled_participates = db.Column(db.Boolean, nullable=False, default=True)
    # A residents' meeting (rule "residents_meeting", R12): who makes it up — "adults",
    # "households" or "groups" — and, for "groups", the representatives staff chose from the
    # register, {"<grid id>": [person ids]} (plugins/voting/residents_meeting.py).
    electorate_mode = db.Column(db.String(12))
    group_representatives = db.Column(db.JSON)
    counting_rule_source = db.Column(db.String(200))
    state = db.Column(db.String(10), nullable=False, default="draft")
    opens_at = db.Column(UTCDateTime, nullable=False)
    closes_at = db.Column(UTCDateTime, nullable=False)
    opened_at = db.Column(UTCDateTime)
    closed_at = db.Column(UTCDateTime)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # The notice (公告, R8): published with the full agenda before voting opens; from then on the
    # agenda, options and times cannot change. ``notice_days`` is the minimum notice that applied.
    temporary = db.Column(db.Boolean, nullable=False, default=False)
    notice_published_at = db.Column(UTCDateTime)
    notice_days = db.Column(db.Integer)
    notice_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    # Frozen at opening.
    manifest = db.Column(db.JSON)
    tie_seed = db.Column(db.String(64))
    tag_salt = db.Column(db.String(64))  # secret ballots: voters appear in the chain by a salted tag
    genesis_hash = db.Column(db.String(64))
    heads_total = db.Column(db.Integer, nullable=False, default=0)
    area_total = db.Column(Centi, nullable=False, default=0)
    # The chain's head, moved by a conditional update under the ballot's row lock.
    entries_count = db.Column(db.Integer, nullable=False, default=0)
    head_hash = db.Column(db.String(64))
    voted_count = db.Column(db.Integer, nullable=False, default=0)
    # Set at closing.
    closing_hash = db.Column(db.String(64))
    result = db.Column(db.JSON)
    # Elections (选举, R14): the seats to fill, and when staff published the candidates (the
    # nominations that qualified became the options; nominations close then).
    seats = db.Column(db.Integer)
    candidates_published_at = db.Column(UTCDateTime)

    options = db.relationship("BallotOption", order_by="BallotOption.position", cascade="all, delete-orphan",
                              back_populates="ballot")
    proposal = db.relationship("Proposal")
    community = db.relationship("Community")
    grid = db.relationship("Grid")
    building = db.relationship("Building")
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    notice_by = db.relationship("User", foreign_keys=[notice_by_id])


class BallotOption(db.Model):
    """A choice on a ballot; majority ballots have yes (0), no (1) and abstain (2)."""

    __tablename__ = "voting_option"
    __table_args__ = (UniqueConstraint("ballot_id", "position"), UniqueConstraint("ballot_id", "label"))
    id = db.Column(db.Integer, primary_key=True)
    ballot_id = db.Column(db.Integer, db.ForeignKey("voting_ballot.id", ondelete="CASCADE"), nullable=False)
    position = db.Column(db.Integer, nullable=False)
    label = db.Column(db.String(120), nullable=False)

    ballot = db.relationship("Ballot", back_populates="options")


class Voter(db.Model):
    """One entry of a ballot's published electorate (选民名册): a person, a household (户代表) or an
    owner (业主: all their units, one head, the sum of their areas; unsold developer units
    together form one such owner). ``user_id`` is the account that may vote online for it."""

    __tablename__ = "voting_voter"
    __table_args__ = (
        UniqueConstraint("ballot_id", "key"),
        UniqueConstraint("ballot_id", "ref"),
        db.Index("ix_voting_voter_ballot_user", "ballot_id", "user_id"),
        CheckConstraint("heads >= 0", name="heads_nonneg"),
    )
    id = db.Column(db.Integer, primary_key=True)
    ballot_id = db.Column(db.Integer, db.ForeignKey("voting_ballot.id", ondelete="CASCADE"), nullable=False)
    key = db.Column(db.String(120), nullable=False)  # person / household / owner identity (private)
    ref = db.Column(db.String(12), nullable=False)  # public roll number: V1, V2, ...
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id", ondelete="SET NULL"))
    name = db.Column(db.String(80), nullable=False)
    units = db.Column(db.String(300), nullable=False, default="")  # room labels, for paper ballots
    heads = db.Column(db.Integer, nullable=False, default=1)
    area = db.Column(Centi, nullable=False, default=0)
    # Who voted (kept apart from what, for secret ballots): set on the first counted ballot.
    voted_at = db.Column(UTCDateTime)
    voted_via = db.Column(db.String(10))  # online | paper | proxy

    user = db.relationship("User")
    household = db.relationship("Household")


class Entry(db.Model):
    """One ballot in the chain. Append-only: a change of vote or a correction is a new entry; the
    earlier one stays, with ``counted`` false. At most one counted entry per voter, enforced by a
    partial unique index. For secret ballots ``voter_id`` stays empty; only the salted tag links
    the entries of one voter."""

    __tablename__ = "voting_entry"
    __table_args__ = (
        UniqueConstraint("ballot_id", "seq"),
        UniqueConstraint("ballot_id", "receipt"),
        db.Index("ix_voting_entry_one_counted", "ballot_id", "voter_tag", unique=True,
                 sqlite_where=db.text("counted"), postgresql_where=db.text("counted")),
    )
    id = db.Column(db.Integer, primary_key=True)
    ballot_id = db.Column(db.Integer, db.ForeignKey("voting_ballot.id", ondelete="CASCADE"), nullable=False)
    seq = db.Column(db.Integer, nullable=False)
    voter_tag = db.Column(db.String(32), nullable=False)
    voter_id = db.Column(db.Integer, db.ForeignKey("voting_voter.id", ondelete="SET NULL"))
    choice = db.Column(db.JSON)  # list of option positions; null = spoiled
    heads = db.Column(db.Integer, nullable=False)
    area = db.Column(Centi, nullable=False)
    source = db.Column(db.String(12), nullable=False)  # online | paper | correction | proxy | roll
    counted = db.Column(db.Boolean, nullable=False, default=True)
    # Recorded without ever counting: a paper ballot entered after the voter's online vote under
    # the paper rule "first_wins" (marked so in the chain). A "roll" entry is no ballot: it adds a
    # voter to the roll after it was fixed (note: the reason).
    set_aside = db.Column(db.Boolean, nullable=False, default=False)
    rule_source = db.Column(db.String(200))
    at = db.Column(db.String(40), nullable=False)  # the ISO time that was hashed
    prev_hash = db.Column(db.String(64), nullable=False)
    hash = db.Column(db.String(64), nullable=False)
    receipt = db.Column(db.String(64), nullable=False)
    # Paper ballots and corrections: who typed it in, the witness, why.
    entered_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    witness = db.Column(db.String(80))
    note = db.Column(db.String(300))
    # Cast by a proxy (委托代理人) under this written authorisation; ``entered_by`` is who cast it.
    proxy_id = db.Column(db.Integer, db.ForeignKey("voting_proxy.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    entered_by = db.relationship("User")
    voter = db.relationship("Voter")
    proxy = db.relationship("Proxy", foreign_keys=[proxy_id])


class Proxy(db.Model):
    """A written proxy authorisation (委托书, R10) for one voter of an owners' or household ballot.

    The proxy is a verified member of the community (``user_id``, votes online) or a named
    person without an account (their ballot is entered on paper). ``holder_key`` identifies the
    proxy person for the per-ballot limit. At most one authorisation per voter is in force (a
    partial unique index); the limit per holder is checked under the ballot's row lock."""

    __tablename__ = "voting_proxy"
    __table_args__ = (
        UniqueConstraint("ballot_id", "ref"),
        db.Index("ix_voting_proxy_one_active", "ballot_id", "voter_id", unique=True,
                 sqlite_where=db.text("revoked_at IS NULL"), postgresql_where=db.text("revoked_at IS NULL")),
        db.Index("ix_voting_proxy_holder", "ballot_id", "holder_key"),
    )
    id = db.Column(db.Integer, primary_key=True)
    ballot_id = db.Column(db.Integer, db.ForeignKey("voting_ballot.id", ondelete="CASCADE"), nullable=False)
    ref = db.Column(db.String(12), nullable=False)  # P1, P2, ... (in the ballot file)
    voter_id = db.Column(db.Integer, db.ForeignKey("voting_voter.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    name = db.Column(db.String(80), nullable=False)
    holder_key = db.Column(db.String(120), nullable=False)
    instructions = db.Column(db.Text, nullable=False, default="")
    witness = db.Column(db.String(80), nullable=False)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at = db.Column(UTCDateTime)
    revoked_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    revoke_reason = db.Column(db.String(300))
    # The scan or photo of the signed authorisation (optional).
    scan_type = db.Column(db.String(40))
    scan_data = db.Column(db.LargeBinary)
    scan_sha256 = db.Column(db.String(64))

    voter = db.relationship("Voter")
    user = db.relationship("User", foreign_keys=[user_id])
    recorded_by = db.relationship("User", foreign_keys=[recorded_by_id])


class PaperScan(db.Model):
    """The photo of a signed paper ballot sheet."""

    __tablename__ = "voting_paper_scan"
    id = db.Column(db.Integer, primary_key=True)
    entry_id = db.Column(db.Integer, db.ForeignKey("voting_entry.id", ondelete="CASCADE"), nullable=False,
                         unique=True)
    content_type = db.Column(db.String(40), nullable=False)
    data = db.Column(db.LargeBinary, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)


class Nomination(db.Model):
    """A candidate nominated for an election (候选人提名, R14): a person on the register, by key.
    They stand once they consent and (residents' committee) enough voters or household
    representatives support them; ``position`` is their option once the candidates are published."""

    __tablename__ = "voting_nomination"
    __table_args__ = (UniqueConstraint("ballot_id", "person_id"),)
    id = db.Column(db.Integer, primary_key=True)
    ballot_id = db.Column(db.Integer, db.ForeignKey("voting_ballot.id", ondelete="CASCADE"), nullable=False,
                          index=True)
    person_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(80), nullable=False)  # as on the register when nominated
    nominated_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    consented_at = db.Column(UTCDateTime)
    consent_recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    position = db.Column(db.Integer)

    person = db.relationship("Person")
    supports = db.relationship("NominationSupport", back_populates="nomination", cascade="all, delete-orphan",
                               order_by="NominationSupport.id")


class NominationSupport(db.Model):
    """One voter's support of a nomination (联名推荐): one per person and nomination (a unique
    constraint). ``household_id``: the household whose representative (户代表) the supporter was
    when they signed, counted towards the households' threshold."""

    __tablename__ = "voting_nomination_support"
    __table_args__ = (UniqueConstraint("nomination_id", "person_id"),
                      db.Index("ix_voting_nomination_support_ballot_person", "ballot_id", "person_id"))
    id = db.Column(db.Integer, primary_key=True)
    ballot_id = db.Column(db.Integer, db.ForeignKey("voting_ballot.id", ondelete="CASCADE"), nullable=False)
    nomination_id = db.Column(db.Integer, db.ForeignKey("voting_nomination.id", ondelete="CASCADE"), nullable=False,
                              index=True)
    person_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    household_id = db.Column(db.Integer, db.ForeignKey("household.id", ondelete="SET NULL"))
    via = db.Column(db.String(10), nullable=False, default="online")  # online | paper (a signed form)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    nomination = db.relationship("Nomination", back_populates="supports")


CONVENING_BASES = ("adults", "households", "groups")
CONVENING_STATES = ("collecting", "reached", "convened", "replied")


class ConveningRequest(db.Model):
    """Residents asking the residents' committee to convene a residents' meeting (提议召集居民会议,
    Organic Law of Urban Residents' Committees Art. 10, R13). The base of the threshold is chosen
    when the request starts and never changes, and so is its size (``base_total``, counted from
    the register on ``base_on``, a day of the community's calendar). plugins/voting/convening.py
    holds the rules."""

    __tablename__ = "voting_convening"
    __table_args__ = (
        CheckConstraint("base IN ('adults', 'households', 'groups')", name="base"),
        CheckConstraint("state IN ('collecting', 'reached', 'convened', 'replied')", name="state"),
        CheckConstraint("base_total > 0", name="base_total_pos"),
        CheckConstraint("progress >= 0 AND supporters >= 0", name="counts_nonneg"),
        db.Index("ix_voting_convening_community_state", "community_id", "state"),
    )
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    subject = db.Column(db.String(120), nullable=False)
    reason = db.Column(db.Text, nullable=False)
    base = db.Column(db.String(12), nullable=False)
    base_total = db.Column(db.Integer, nullable=False)
    base_on = db.Column(db.Date, nullable=False)
    state = db.Column(db.String(12), nullable=False, default="collecting")
    # Kept up to date under the request's row lock: people supporting it, and how many of the
    # base they make (people, households or groups).
    supporters = db.Column(db.Integer, nullable=False, default=0)
    progress = db.Column(db.Integer, nullable=False, default=0)
    started_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    reached_at = db.Column(UTCDateTime)
    due_at = db.Column(UTCDateTime)  # the committee answers by then (setting convening_answer_days)
    overdue_notified_at = db.Column(UTCDateTime)
    answered_at = db.Column(UTCDateTime)
    answered_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    ballot_id = db.Column(db.Integer, db.ForeignKey("voting_ballot.id", ondelete="SET NULL"))
    reply = db.Column(db.Text)

    community = db.relationship("Community")
    started_by = db.relationship("User", foreign_keys=[started_by_id])
    answered_by = db.relationship("User", foreign_keys=[answered_by_id])
    ballot = db.relationship("Ballot")


class ConveningSupport(db.Model):
    """One person's support of a convening request: one per person on the register, whatever
    accounts or entries they have (a partial unique index: the database decides a race).
    ``households`` and ``grids`` are those of the person's register entries when they supported
    it. ``acted_by`` is whoever recorded it for a person without an account (assisted), with the
    reason; a support withdrawn before the threshold keeps its row, with ``withdrawn_at``."""

    __tablename__ = "voting_convening_support"
    __table_args__ = (
        db.Index("ix_voting_convening_support_one", "request_id", "person_id", unique=True,
                 sqlite_where=db.text("withdrawn_at IS NULL"), postgresql_where=db.text("withdrawn_at IS NULL")),
    )
    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("voting_convening.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    person_id = db.Column(db.Integer, db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    acted_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    assist_reason = db.Column(db.String(200))
    households = db.Column(db.JSON, nullable=False)
    grids = db.Column(db.JSON, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    withdrawn_at = db.Column(UTCDateTime)
    withdrawn_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))

    person = db.relationship("Person")
    user = db.relationship("User", foreign_keys=[user_id])
    acted_by = db.relationship("User", foreign_keys=[acted_by_id])
