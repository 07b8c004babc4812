"""The mediation module of linli: Dispute mediation (矛盾调解)."""
from flask_babel import lazy_gettext as _l

from core.plugins import PluginManifest

manifest = PluginManifest(
    name="mediation",
    label=_l("Dispute mediation (矛盾调解)"),
    description=_l("Confidential dispute cases from grid report to follow-up visit: tiers, mediators, sessions, agreements, deadlines and statistics."),
)
