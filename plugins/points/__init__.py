"""The points module of linli: Points store (积分兑换超市)."""
from flask_babel import lazy_gettext as _l

from core.plugins import PluginManifest

manifest = PluginManifest(
    name="points",
    label=_l("Points store (积分兑换超市)"),
    description=_l("Volunteer hours and participation earn points in an append-only ledger; residents redeem them in the community store."),
)
