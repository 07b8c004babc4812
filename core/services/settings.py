"""Per-community settings of the core and plugins, with declared defaults (cf. Indico's proxies)."""
from flask import current_app

from core.extensions import db
from core.models import CommunitySetting

CORE_DEFAULTS = {"timezone": ""}  # empty: the site's zone (core.dates)


def _defaults(module):
    if module == "core":
        return CORE_DEFAULTS
    return dict(current_app.extensions["linli.plugins"].manifests[module].settings_defaults)


def get(community, module, key):
    """A setting's value for ``community``, or its declared default. Unknown keys are an error."""
    defaults = _defaults(module)
    if key not in defaults:
        raise KeyError(f"{module}.{key} is not a declared setting")
    row = db.session.get(CommunitySetting, (community.id, module, key))
    return defaults[key] if row is None else row.value


def get_all(community, module):
    values = _defaults(module)
    for row in CommunitySetting.query.filter_by(community_id=community.id, module=module):
        if row.key in values:
            values[row.key] = row.value
    return values


def set(community, module, key, value, actor=None):
    from core.services import audit

    defaults = _defaults(module)
    if key not in defaults:
        raise KeyError(f"{module}.{key} is not a declared setting")
    row = db.session.get(CommunitySetting, (community.id, module, key))
    before = defaults[key] if row is None else row.value
    if row is None:
        row = CommunitySetting(community_id=community.id, module=module, key=key, value=value)
        db.session.add(row)
    else:
        row.value = value
    audit.record("setting.changed", community=community, actor=actor, object_type="setting",
                 object_id=f"{module}.{key}", before={"value": before}, after={"value": value})
    touch(community)


def touch(community):
    """Note, in the current transaction, that ``community``'s settings or a module's rules changed:
    its ``config_version`` grows by one (read with the community at the start of every request,
    so a worker that keeps such things between requests knows when to read them again)."""
    from sqlalchemy import update

    from core.models import Community

    db.session.execute(update(Community).where(Community.id == community.id)
                       .values(config_version=Community.config_version + 1)
                       .execution_options(synchronize_session="evaluate"))
