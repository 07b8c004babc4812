"""This module's audit keys in words, for the core's audit log (register_audit_events): one
sentence per key it writes with ``audit.record``, and labels of the fields its entries hold."""
from flask_babel import lazy_gettext as _l, lazy_pgettext

from core.services.audit import AuditEvent, AuditField

EVENTS = [
    AuditEvent("voting.ballot_created", _l("Prepared a ballot")),
    AuditEvent("voting.ballot_updated", _l("Changed a ballot in preparation")),
    AuditEvent("voting.notice_published", _l("Published a ballot's notice")),
    AuditEvent("voting.ballot_opened", _l("Opened a ballot")),
    AuditEvent("voting.ballot_closed", _l("Closed a ballot and counted the votes")),
    AuditEvent("voting.ballot_cancelled", _l("Cancelled a ballot")),
    AuditEvent("voting.roll_added", _l("Added a voter the roll had missed")),
    AuditEvent("voting.paper_entered", _l("Entered a paper ballot")),
    AuditEvent("voting.paper_corrected", _l("Corrected a paper ballot")),
    AuditEvent("voting.proxy_voted", _l("Voted as a proxy")),
    AuditEvent("voting.proxy_recorded", _l("Recorded a proxy")),
    AuditEvent("voting.proxy_revoked", _l("Revoked a proxy")),
    AuditEvent("voting.convening_started", _l("Started a request for a residents' meeting")),
    AuditEvent("voting.convening_supported", _l("Supported a request for a residents' meeting")),
    AuditEvent("voting.convening_withdrawn", _l("Withdrew support for a residents' meeting")),
    AuditEvent("voting.convening_reached", _l("A request for a residents' meeting reached its threshold")),
    AuditEvent("voting.convening_answered", _l("Answered a request for a residents' meeting")),
    AuditEvent("voting.convening_overdue", _l("A request for a residents' meeting was not answered in time")),
    AuditEvent("voting.representatives_chosen", _l("Recorded the representatives of a residents' meeting")),
    AuditEvent("voting.nominated", _l("Nominated a candidate")),
    AuditEvent("voting.candidate_consented", _l("Recorded a candidate's consent")),
    AuditEvent("voting.nomination_supported", _l("Supported a nomination")),
    AuditEvent("voting.candidates_published", _l("Published the list of candidates")),
]
# Labels of the fields its entries hold in before / after (the log's small table).
FIELDS = [
    AuditField("opens_at", lazy_pgettext("audit field", "Opens")),
    AuditField("closes_at", lazy_pgettext("audit field", "Closes")),
    AuditField("passed", lazy_pgettext("audit field", "Passed")),
    AuditField("turnout", lazy_pgettext("audit field", "Turnout")),
    AuditField("voter", lazy_pgettext("audit field", "Voter")),
    AuditField("receipt", lazy_pgettext("audit field", "Receipt")),
    AuditField("via", lazy_pgettext("audit field", "How")),
    # What a merge of two people (person.merged) moved, by table.
    AuditField("voting_nomination", lazy_pgettext("audit field", "Nominations")),
    AuditField("voting_nomination_support", lazy_pgettext("audit field", "Supports of nominations")),
    AuditField("voting_convening_support", lazy_pgettext("audit field", "Supports of requests for a residents' meeting")),
    AuditField("voting_proxy", lazy_pgettext("audit field", "Proxies held")),
]
