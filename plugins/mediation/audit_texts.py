"""This module's audit keys in words, for the core's audit log (register_audit_events): one
sentence per key it writes with ``audit.record``, and labels of the fields its entries hold."""
from flask_babel import lazy_gettext as _l, lazy_pgettext

from core.services.audit import AuditEvent, AuditField

EVENTS = [
    AuditEvent("mediation.case.opened", _l("Opened a mediation case")),
    AuditEvent("mediation.case.rights", _l("Recorded that the parties were told their rights")),
    AuditEvent("mediation.party.added", _l("Added a party to a case")),
    AuditEvent("mediation.party.consent", _l("Recorded a party's answer to mediation")),
    AuditEvent("mediation.party.stop", _l("Recorded a party's request to stop the mediation")),
    AuditEvent("mediation.party.private", _l("Recorded a party's request for a private hearing")),
    AuditEvent("mediation.party.pi_consent",
               _l("Recorded a party's consent to the use of their personal information")),
    AuditEvent("mediation.case.assigned", _l("Assigned a mediator to a case")),
    AuditEvent("mediation.case.unassigned", _l("Took a mediator off a case")),
    AuditEvent("mediation.case.escalated", _l("Passed a case up to the next level")),
    AuditEvent("mediation.case.violence_risk", _l("Flagged a risk of violence")),
    AuditEvent("mediation.task.done", _l("Marked a task of a case done")),
    AuditEvent("mediation.case.joint_meeting", _l("Referred a case to the joint meeting")),
    AuditEvent("mediation.session.recorded", _l("Recorded a mediation session")),
    AuditEvent("mediation.document.uploaded", _l("Added a document to a case")),
    AuditEvent("mediation.agreement.recorded", _l("Recorded a mediation agreement")),
    AuditEvent("mediation.agreement.signed", _l("Recorded a signature of the agreement")),
    AuditEvent("mediation.agreement.confirmation", _l("Recorded the application for judicial confirmation")),
    AuditEvent("mediation.followup.scheduled", _l("Scheduled a follow-up visit")),
    AuditEvent("mediation.followup.recorded", _l("Recorded a follow-up visit")),
    AuditEvent("mediation.case.extended", _l("Extended a case's time limit")),
    AuditEvent("mediation.case.closed", _l("Closed a mediation case")),
    AuditEvent("mediation.case.reopened", _l("Reopened a mediation case")),
    AuditEvent("mediation.case.purged",
               _l("Erased a closed case's personal details after the retention period")),
    AuditEvent("mediation.holidays.added", _l("Added a public holiday to the calendar")),
    AuditEvent("mediation.holidays.removed", _l("Removed a public holiday from the calendar")),
    AuditEvent("mediation.roster.added", _l("Added a mediator to the duty roster")),
    AuditEvent("mediation.roster.removed", _l("Removed a mediator from the duty roster")),
    AuditEvent("mediation.staff_granted", _l("Made someone mediation staff")),
    AuditEvent("mediation.staff_removed", _l("Removed someone from the mediation staff")),
    AuditEvent("mediation.committee.added", _l("Added a member of the mediation committee")),
    AuditEvent("mediation.committee.ended", _l("Ended a committee member's term")),
]
# Labels of the fields its entries hold in before / after (the log's small table).
FIELDS = [
    AuditField("case_id", lazy_pgettext("audit field", "Case number")),
    AuditField("day", lazy_pgettext("audit field", "Day")),
]
