"""This module's audit keys in words, for the core's audit log (register_audit_events): one
sentence per key it writes with ``audit.record``, and labels of the fields its entries hold."""
from flask_babel import lazy_gettext as _l, lazy_pgettext

from core.services.audit import AuditEvent, AuditField

EVENTS = [
    AuditEvent("meetings.body.created", _l("Set up a meeting body")),
    AuditEvent("meetings.body.edited", _l("Changed a meeting body")),
    AuditEvent("meetings.org.added", _l("Added an organisation to a meeting body")),
    AuditEvent("meetings.delegate.added", _l("Added a delegate")),
    AuditEvent("meetings.delegate.removed", _l("Removed a delegate")),
    AuditEvent("meetings.meeting.scheduled", _l("Scheduled a meeting")),
    AuditEvent("meetings.meeting.changed", _l("Changed a meeting")),
    AuditEvent("meetings.meeting.cancelled", _l("Cancelled a meeting")),
    AuditEvent("meetings.meeting.held", _l("Closed a meeting as held")),
    AuditEvent("meetings.meeting.adjourned", _l("Adjourned a meeting")),
    AuditEvent("meetings.agenda.added", _l("Put an item on a meeting's agenda")),
    AuditEvent("meetings.agenda.removed", _l("Took an item off a meeting's agenda")),
    AuditEvent("meetings.attendance", _l("Recorded who attended a meeting")),
    AuditEvent("meetings.resolution", _l("Recorded a meeting's decision")),
    AuditEvent("meetings.action.changed", _l("Changed a follow-up task of a meeting")),
    AuditEvent("meetings.overdue", _l("Noted that a follow-up task is overdue")),
    AuditEvent("meetings.minutes.saved", _l("Saved the minutes")),
    AuditEvent("meetings.minutes.review", _l("Sent the minutes for review")),
    AuditEvent("meetings.minutes.reopened", _l("Reopened the minutes for changes")),
    AuditEvent("meetings.minutes.approved", _l("Approved the minutes")),
    AuditEvent("meetings.minutes.published", _l("Published the minutes")),
]
# Labels of the fields its entries hold in before / after (the log's small table).
FIELDS = [
    AuditField("title", lazy_pgettext("audit field", "Title")),
    AuditField("status", lazy_pgettext("audit field", "Status")),
    AuditField("outcome", lazy_pgettext("audit field", "Outcome")),
    AuditField("minutes", lazy_pgettext("audit field", "Minutes")),
]
