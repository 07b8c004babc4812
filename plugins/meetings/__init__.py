"""The meetings module of linli: Joint meetings (联席会议)."""
from flask_babel import lazy_gettext as _l

from core.plugins import PluginManifest

manifest = PluginManifest(
    name="meetings",
    label=_l("Joint meetings (联席会议)"),
    description=_l("Standing meeting bodies, rotating chair, agendas, attendance and quorum, minutes, resolutions and action items; iCalendar invitations."),
)
