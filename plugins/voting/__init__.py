"""The voting module of linli: Voting (表决)."""
from flask_babel import lazy_gettext as _l

from core.plugins import PluginManifest

manifest = PluginManifest(
    name="voting",
    label=_l("Voting (表决)"),
    description=_l("Ballots on proposals and polls: majority, approval, ranked choice, Schulze; owners' double majority by area and headcount; paper ballots and recounts."),
)
