"""Tables of the mediation module (矛盾调解). Every table is named ``mediation_*``; foreign keys
point only to core tables or to these. Case contents are confidential: read them only through
``plugins.mediation.access``."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_babel import lazy_pgettext
from sqlalchemy import UniqueConstraint

from core.extensions import db
from core.models.types import UTCDateTime, utcnow

SOURCES = {
    "grid_report": _l("Grid worker's report (网格发现)"),
    "application": _l("Resident's application"),
    "building_head": _l("Building head's report"),
    "committee": _l("Committee's own initiative"),
    "police": _l("Referred by the police station"),
    "court": _l("Entrusted by a court"),
    "government": _l("Assigned by a government department"),
}
CATEGORIES = {
    "noise": _l("Neighbour noise"),
    "water_leak": _l("Water leak"),
    "parking": _l("Parking"),
    "pets": _l("Pets"),
    "shared_space": _l("Shared space"),
    "family": _l("Family"),
    "privacy": _l("Neighbours' private matters"),
    "property": _l("Property management"),
    "other": _l("Other"),
}
TIERS = {
    "grid": _l("Grid"),
    "community": _l("Community mediation committee"),
    "street": _l("Street"),
}
TIER_ORDER = ("grid", "community", "street")
URGENCIES = {"normal": _l("Normal"), "urgent": _l("Urgent")}
STATUSES = {"open": lazy_pgettext("mediation", "Open"), "closed": lazy_pgettext("mediation", "Closed")}
OUTCOMES = {
    "resolved": _l("Resolved"),
    "not_resolved": _l("Not resolved"),
    "referred": _l("Referred"),
    "withdrawn": _l("Withdrawn"),
    "refused": _l("Refused by a party"),
    "stopped": _l("Stopped at a party's request"),
}
# Heard in private only: family matters and neighbours' private matters (若干规定 Art. 29, R22).
PRIVATE_CATEGORIES = ("family", "privacy")
PARTY_REQUESTS = {"stop": _l("Stop the mediation"), "private": _l("Hold the mediation in private")}
PARTY_ROLES = {"applicant": _l("Applicant"), "respondent": _l("Respondent"), "other": _l("Other party")}
CONSENTS = {"pending": _l("Not yet asked"), "agreed": _l("Agrees to mediation"), "refused": _l("Refuses mediation")}
AGREEMENT_FORMS = {"written": _l("Written agreement"), "oral": _l("Oral agreement")}
SIGN_METHODS = {"signature": _l("Signature"), "seal": _l("Seal"), "fingerprint": _l("Fingerprint")}
FOLLOWUP_RESULTS = {
    "performed": _l("Performed"),
    "partly": _l("Partly performed"),
    "not_performed": _l("Not performed"),
}
FOLLOWUP_ACTIONS = {
    "none": _l("No further action"),
    "urged": _l("Party urged to perform"),
    "right_to_sue": _l("Told of the right to sue"),
}
DOCUMENT_KINDS = {
    "application": _l("Application or intake form"),
    "rights_notice": _l("Notice of rights and duties"),
    "id_proof": _l("Proof of identity"),
    "evidence": _l("Evidence (photo, scan)"),
    "record": _l("Mediation record"),
    "agreement": _l("Signed agreement"),
    "performance": _l("Proof of performance"),
    "other": _l("Other"),
}
HISTORY_KINDS = {
    "opened": _l("Case opened"),
    "escalated": _l("Escalated"),
    "referred": _l("Referred out"),
    "assigned": _l("Mediator assigned"),
    "unassigned": _l("Mediator removed"),
    "consent": _l("Consent recorded"),
    "violence": _l("Risk of violence flagged"),
    "closed": _l("Case closed"),
    "reopened": _l("Case re-opened"),
    "joint_meeting": _l("Handed to the joint meeting"),
    "agreement": _l("Agreement recorded"),
    "effective": _l("Agreement took effect"),
    "pi_consent": _l("Consent to processing personal information recorded"),
    "stopped": _l("A party asked to stop the mediation"),
    "private": _l("A party asked for a private hearing"),
    "extended": _l("Time limit extended with every party's consent"),
    "confirmation": _l("Agreement to apply for judicial confirmation recorded"),
    "followup": _l("Follow-up visit scheduled"),
}
PI_CONSENT_METHODS = {  # R22: separate consent to processing sensitive personal information (PIPL Art. 29)
    "form": _l("Recorded in the system"),
    "paper": _l("Given on paper (form on file)"),
}
SEXES = {"female": _l("Female"), "male": _l("Male")}
COMMITTEE_ROLES = {"chair": _l("Chair (主任)"), "vice_chair": _l("Vice-chair (副主任)"), "member": _l("Member (委员)")}
ACCESS_ACTIONS = {
    "create": _l("Registered the case"),
    "view": _l("Read the case"),
    "list": _l("Listed cases"),
    "download": _l("Downloaded a document"),
    "print": _l("Printed the agreement"),
    "print_file": _l("Printed the case file"),
    "stats": _l("Read the statistics"),
    "export": _l("Exported the register"),
    "api_view": _l("Read the case (API)"),
    "api_list": _l("Listed cases (API)"),
    "api_stats": _l("Read the statistics (API)"),
}


class MediationCase(db.Model):
    """A dispute case (调解案件) with its intake registration."""

    __tablename__ = "mediation_case"
    # The case list pages through a community's cases in this order straight from the index.
    __table_args__ = (UniqueConstraint("community_id", "number"),
                      db.Index("ix_mediation_case_list", "community_id", "status", "opened_at", "id"))
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    number = db.Column(db.String(40), nullable=False)  # 卷号, e.g. 2026-0003
    source = db.Column(db.String(20), nullable=False)
    source_detail = db.Column(db.String(200))  # which police station, court or department
    category = db.Column(db.String(20), nullable=False)
    description = db.Column(db.Text, nullable=False)
    grid_id = db.Column(db.Integer, db.ForeignKey("grid.id", ondelete="SET NULL"), index=True)
    building_id = db.Column(db.Integer, db.ForeignKey("building.id", ondelete="SET NULL"), index=True)
    location = db.Column(db.String(200))
    urgency = db.Column(db.String(10), nullable=False, default="normal")
    tier = db.Column(db.String(20), nullable=False, default="grid")
    status = db.Column(db.String(10), nullable=False, default="open")
    outcome = db.Column(db.String(20))
    referred_to = db.Column(db.String(200))
    violence_risk = db.Column(db.Boolean, nullable=False, default=False)
    rights_notified = db.Column(db.Boolean, nullable=False, default=False)
    voluntary_statement = db.Column(db.Boolean, nullable=False, default=False)
    private_hearing = db.Column(db.Boolean, nullable=False, default=True)
    for_joint_meeting = db.Column(db.Boolean, nullable=False, default=False)
    reported_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    opened_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    closed_at = db.Column(UTCDateTime)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    purged_at = db.Column(UTCDateTime)  # R22: personal details erased after the retention period
    # R20: the one-month target moved with every party's consent (mediation_extension); None: not extended
    extended_until = db.Column(db.Date)

    community = db.relationship("Community")
    grid = db.relationship("Grid")
    building = db.relationship("Building")
    reported_by = db.relationship("User")
    parties = db.relationship("MediationParty", back_populates="case", order_by="MediationParty.id",
                              cascade="all, delete-orphan")
    assignments = db.relationship("MediationAssignment", back_populates="case", order_by="MediationAssignment.id",
                                  cascade="all, delete-orphan")

    @property
    def is_open(self):
        return self.status == "open"


class MediationParty(db.Model):
    """A party to a case; may or may not be a registered resident (``user_id``)."""

    __tablename__ = "mediation_party"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    role = db.Column(db.String(20), nullable=False)
    name = db.Column(db.String(80), nullable=False)
    phone = db.Column(db.String(20))
    address = db.Column(db.String(200))
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    consent = db.Column(db.String(10), nullable=False, default="pending")
    consent_at = db.Column(UTCDateTime)
    # R22: separate consent to processing sensitive personal information (PIPL Art. 29)
    pi_consent_on = db.Column(db.Date)
    pi_consent_method = db.Column(db.String(10))
    pi_consent_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    # R16 (Art. 23): the party asked, at any time, to stop the mediation or to be heard in private
    stop_requested_at = db.Column(UTCDateTime)
    private_requested_at = db.Column(UTCDateTime)

    case = db.relationship("MediationCase", back_populates="parties")
    user = db.relationship("User", foreign_keys=[user_id])
    pi_consent_by = db.relationship("User", foreign_keys=[pi_consent_by_id])


class MediationAssignment(db.Model):
    """A mediator assigned to a case (Art. 19)."""

    __tablename__ = "mediation_assignment"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    assigned_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    assigned_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    case = db.relationship("MediationCase", back_populates="assignments")
    user = db.relationship("User", foreign_keys=[user_id])


class MediationHistory(db.Model):
    """The case's route: opened, escalated, referred, assigned, closed, each with a reason."""

    __tablename__ = "mediation_history"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(20), nullable=False)
    from_tier = db.Column(db.String(20))
    to_tier = db.Column(db.String(20))
    reason = db.Column(db.String(500))
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    actor = db.relationship("User")


class MediationSession(db.Model):
    """One mediation session (调解记录)."""

    __tablename__ = "mediation_session"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    held_at = db.Column(UTCDateTime, nullable=False)
    place = db.Column(db.String(200), nullable=False)
    attendees = db.Column(db.String(500), nullable=False)
    public = db.Column(db.Boolean, nullable=False, default=False)
    notes = db.Column(db.Text, nullable=False, default="")
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    recorded_by = db.relationship("User")


class MediationDocument(db.Model):
    """An uploaded photo or scan; the bytes live under instance/uploads/mediation."""

    __tablename__ = "mediation_document"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(20), nullable=False, default="evidence")
    filename = db.Column(db.String(200), nullable=False)
    stored_name = db.Column(db.String(80), nullable=False, unique=True)
    content_type = db.Column(db.String(40), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    uploaded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    uploaded_by = db.relationship("User")


class MediationAgreement(db.Model):
    """A mediation agreement (调解协议): written or oral, effective once all have signed (R18)."""

    __tablename__ = "mediation_agreement"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    form = db.Column(db.String(10), nullable=False, default="written")
    facts = db.Column(db.Text, nullable=False)
    terms = db.Column(db.Text, nullable=False)
    mediator_signed_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    mediator_signed_at = db.Column(UTCDateTime)
    seal_applied_at = db.Column(UTCDateTime)
    effective_on = db.Column(db.Date)  # in the community's time zone
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    case = db.relationship("MediationCase")
    mediator_signed_by = db.relationship("User", foreign_keys=[mediator_signed_by_id])
    signatures = db.relationship("MediationSignature", back_populates="agreement", cascade="all, delete-orphan",
                                 order_by="MediationSignature.id")
    obligations = db.relationship("MediationObligation", back_populates="agreement", cascade="all, delete-orphan",
                                  order_by="MediationObligation.id")
    confirmations = db.relationship("MediationConfirmation", back_populates="agreement",
                                    cascade="all, delete-orphan", order_by="MediationConfirmation.id")


class MediationSignature(db.Model):
    """A party's signature, seal or fingerprint on an agreement, as recorded by the mediator."""

    __tablename__ = "mediation_signature"
    __table_args__ = (UniqueConstraint("agreement_id", "party_id"),)
    id = db.Column(db.Integer, primary_key=True)
    agreement_id = db.Column(db.Integer, db.ForeignKey("mediation_agreement.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    party_id = db.Column(db.Integer, db.ForeignKey("mediation_party.id", ondelete="CASCADE"), nullable=False)
    method = db.Column(db.String(20), nullable=False, default="signature")
    signed_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))

    agreement = db.relationship("MediationAgreement", back_populates="signatures")
    party = db.relationship("MediationParty")


class MediationConfirmation(db.Model):
    """A party's agreement to apply jointly to a court for judicial confirmation of the agreement
    (R19: the application needs every party; 人民调解法 Art. 33)."""

    __tablename__ = "mediation_confirmation"
    __table_args__ = (UniqueConstraint("agreement_id", "party_id"),)
    id = db.Column(db.Integer, primary_key=True)
    agreement_id = db.Column(db.Integer, db.ForeignKey("mediation_agreement.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    party_id = db.Column(db.Integer, db.ForeignKey("mediation_party.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    agreed_on = db.Column(db.Date, nullable=False)  # in the community's time zone
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    agreement = db.relationship("MediationAgreement", back_populates="confirmations")
    party = db.relationship("MediationParty")


class MediationExtension(db.Model):
    """The one-month target extended to ``until`` with every party's consent (R20)."""

    __tablename__ = "mediation_extension"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    until = db.Column(db.Date, nullable=False)
    reason = db.Column(db.String(500))
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    recorded_by = db.relationship("User")
    consents = db.relationship("MediationExtensionConsent", back_populates="extension", cascade="all, delete-orphan",
                               order_by="MediationExtensionConsent.id")


class MediationExtensionConsent(db.Model):
    """One party's consent to an extension, and the day it was given."""

    __tablename__ = "mediation_extension_consent"
    __table_args__ = (UniqueConstraint("extension_id", "party_id"),)
    id = db.Column(db.Integer, primary_key=True)
    extension_id = db.Column(db.Integer, db.ForeignKey("mediation_extension.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    party_id = db.Column(db.Integer, db.ForeignKey("mediation_party.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    consented_on = db.Column(db.Date, nullable=False)

    extension = db.relationship("MediationExtension", back_populates="consents")
    party = db.relationship("MediationParty")


class MediationObligation(db.Model):
    """Who performs what by when under an agreement."""

    __tablename__ = "mediation_obligation"
    id = db.Column(db.Integer, primary_key=True)
    agreement_id = db.Column(db.Integer, db.ForeignKey("mediation_agreement.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    party_id = db.Column(db.Integer, db.ForeignKey("mediation_party.id", ondelete="CASCADE"), nullable=False)
    description = db.Column(db.String(500), nullable=False)
    due_on = db.Column(db.Date, nullable=False)

    agreement = db.relationship("MediationAgreement", back_populates="obligations")
    party = db.relationship("MediationParty")


class MediationFollowup(db.Model):
    """A follow-up visit (回访) on the agreement's performance."""

    __tablename__ = "mediation_followup"
    # The case list shows the visits due: a few open ones among every visit ever made.
    __table_args__ = (db.Index("ix_mediation_followup_open", "due_on", "case_id",
                               sqlite_where=db.text("done_at IS NULL"), postgresql_where=db.text("done_at IS NULL")),)
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    obligation_id = db.Column(db.Integer, db.ForeignKey("mediation_obligation.id", ondelete="SET NULL"))
    due_on = db.Column(db.Date, nullable=False)
    done_at = db.Column(UTCDateTime)
    result = db.Column(db.String(20))
    findings = db.Column(db.Text)
    action = db.Column(db.String(20))
    visited_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))

    case = db.relationship("MediationCase")
    obligation = db.relationship("MediationObligation")
    visited_by = db.relationship("User")


class MediationTask(db.Model):
    """A task outside the mediation room, e.g. the police referral a violence risk requires (R21)."""

    __tablename__ = "mediation_task"
    __table_args__ = (UniqueConstraint("case_id", "kind"),
                      # the case list shows the open tasks: a few among every task ever done
                      db.Index("ix_mediation_task_open", "case_id",
                               sqlite_where=db.text("done_at IS NULL"), postgresql_where=db.text("done_at IS NULL")))
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(20), nullable=False, default="police_referral")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    done_at = db.Column(UTCDateTime)
    done_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    note = db.Column(db.String(500))

    case = db.relationship("MediationCase")


class MediationHoliday(db.Model):
    """A public holiday (法定休假日) in the calendar mediation staff keep, for R19 deadlines."""

    __tablename__ = "mediation_holiday"
    __table_args__ = (UniqueConstraint("community_id", "day"),)
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    day = db.Column(db.Date, nullable=False)
    name = db.Column(db.String(80), nullable=False)


class MediationRosterSlot(db.Model):
    """Weekly duty hours of a mediator, e.g. the 道德门诊 clinic that residents can book."""

    __tablename__ = "mediation_roster_slot"
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    weekday = db.Column(db.Integer, nullable=False)  # 0 = Monday
    start_time = db.Column(db.Time, nullable=False)
    end_time = db.Column(db.Time, nullable=False)
    place = db.Column(db.String(120), nullable=False)
    title = db.Column(db.String(80), nullable=False)
    capacity = db.Column(db.Integer, nullable=False, default=4)
    active = db.Column(db.Boolean, nullable=False, default=True)

    user = db.relationship("User")


class MediationBooking(db.Model):
    """A resident's booking of a clinic hour on one date."""

    __tablename__ = "mediation_booking"
    __table_args__ = (UniqueConstraint("slot_id", "on_date", "user_id"),)
    id = db.Column(db.Integer, primary_key=True)
    slot_id = db.Column(db.Integer, db.ForeignKey("mediation_roster_slot.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    on_date = db.Column(db.Date, nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    slot = db.relationship("MediationRosterSlot")
    user = db.relationship("User")


class MediationCommitteeMember(db.Model):
    """A member of the people's mediation committee (人民调解委员会, R15: 3–9 members, at least one
    woman, a three-year term; 人民调解法 Art. 8–9)."""

    __tablename__ = "mediation_committee_member"
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    sex = db.Column(db.String(10), nullable=False)
    role = db.Column(db.String(20), nullable=False, default="member")
    term_start = db.Column(db.Date, nullable=False)
    term_end = db.Column(db.Date, nullable=False)  # term_start + 3 years, computed by the services
    active = db.Column(db.Boolean, nullable=False, default=True)
    ended_on = db.Column(db.Date)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    user = db.relationship("User")


class MediationAccessLog(db.Model):
    """Every read of a case: who, when, what, from where. Visible to mediation staff only."""

    __tablename__ = "mediation_access_log"
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    case_id = db.Column(db.Integer, db.ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    action = db.Column(db.String(30), nullable=False)
    ip = db.Column(db.String(45))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    user = db.relationship("User")
    case = db.relationship("MediationCase")
