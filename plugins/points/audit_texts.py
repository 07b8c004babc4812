"""This module's audit keys in words, for the core's audit log (register_audit_events): one
sentence per key it writes with ``audit.record``, and labels of the fields its entries hold."""
from flask_babel import lazy_gettext as _l, lazy_pgettext

from core.services.audit import AuditEvent, AuditField

EVENTS = [
    AuditEvent("points.rule_saved", _l("Changed the points rules")),
    AuditEvent("points.consent_changed", _l("Changed their volunteering consent")),
    AuditEvent("points.volunteer_identity_changed", _l("Changed their volunteer registration details")),
    AuditEvent("points.activity_saved", _l("Saved a volunteering activity")),
    AuditEvent("points.activity_cancelled", _l("Cancelled a volunteering activity")),
    AuditEvent("points.signed_up", _l("Signed up for an activity")),
    AuditEvent("points.signup_withdrawn", _l("Withdrew from an activity")),
    AuditEvent("points.hours_claimed", _l("Reported volunteering hours")),
    AuditEvent("points.hours_verified", _l("Confirmed volunteering hours")),
    AuditEvent("points.hours_rejected", _l("Turned down reported hours")),
    AuditEvent("points.certificate_issued", _l("Issued a volunteering certificate")),
    AuditEvent("points.item_saved", _l("Saved an item of the points store")),
    AuditEvent("points.item_withdrawn", _l("Took an item off the shelf")),
    AuditEvent("points.item_restored", _l("Put an item back on the shelf")),
    AuditEvent("points.item_picture", _l("Changed an item's picture")),
    AuditEvent("points.redeemed", _l("Redeemed points for an item")),
    AuditEvent("points.handed_over", _l("Handed over a redeemed item")),
    AuditEvent("points.order_cancelled", _l("Cancelled a redemption and returned the points")),
    AuditEvent("points.adjusted", _l("Adjusted a resident's points")),
    AuditEvent("points.corrected", _l("Corrected a points entry")),
]
# Labels of the fields its entries hold in before / after (the log's small table).
FIELDS = [
    AuditField("points", lazy_pgettext("audit field", "Points")),
    AuditField("balance", lazy_pgettext("audit field", "Balance")),
    AuditField("minutes", lazy_pgettext("audit field", "Minutes of service")),
    AuditField("quantity", lazy_pgettext("audit field", "Quantity")),
    AuditField("status", lazy_pgettext("audit field", "Status")),
    # What a merge of two people (person.merged) moved.
    AuditField("points_signup", lazy_pgettext("audit field", "Volunteer sign-ups")),
]
