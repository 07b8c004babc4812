"""The plugin registry: loads installed plugins and relays hooks per community.

Installed plugins come from the entry-point group ``linli.plugins`` (optionally narrowed by the
``LINLI_PLUGINS`` setting) or, in tests, from an explicit list. Whether a plugin is *enabled* is a
per-community row read once per request, so an admin's switch takes effect on the next request in
every worker, without a restart.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping

import pluggy
from flask import g

from core import hookspecs
from core.db.memo import built_once

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "linli.plugins"


@dataclass(frozen=True)
class PluginManifest:
    """What a plugin says about itself: module attribute ``manifest`` in its package."""

    name: str
    label: Any
    description: Any = ""
    default_enabled: bool = True
    settings_defaults: Mapping[str, Any] = field(default_factory=dict)
    version: str | None = None
    # Extra name prefixes this plugin owns for its events and permissions (e.g. voting: "vote",
    # "ballot"); its own name is always one.
    namespaces: tuple[str, ...] = ()


class CommunityHooks:
    """A hook relay with the plugins disabled for one community left out (cf. pytest's
    FSHookProxy): ``hooks.nav_items(...)`` calls only the enabled plugins and the core."""

    def __init__(self, pm: pluggy.PluginManager, remove: frozenset):
        self._pm = pm
        self._remove = remove
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        caller = self._cache.get(name)
        if caller is None:
            if self._remove:
                caller = self._pm.subset_hook_caller(name, remove_plugins=self._remove)
            else:
                caller = getattr(self._pm.hook, name)
            self._cache[name] = caller
        return caller


class PluginRegistry:
    """Per-app plugin state, stored in ``app.extensions["linli.plugins"]``."""

    def __init__(self, app, plugins=None):
        self.app = app
        self.pm = pluggy.PluginManager("linli")
        self.pm.add_hookspecs(hookspecs)
        from core import hookimpls

        self.pm.register(hookimpls, name="core")
        self.modules: dict[str, ModuleType] = {}
        self.manifests: dict[str, PluginManifest] = {}
        self._load(plugins)
        self.pm.check_pending()
        if app.config.get("LINLI_TRACE_HOOKS"):
            self.pm.trace.root.setwriter(lambda msg: log.warning("hook %s", msg.rstrip()))
            self.pm.enable_tracing()
        self._relays: dict[frozenset, CommunityHooks] = {}
        # The plugin of each blueprint a plugin registered, by the blueprint's full name
        # ("c.mediation"): a request to it is refused where the plugin is off (core.web).
        self.blueprint_owners: dict[str, str] = {}
        self.permissions = {}
        for owner, perm in self._collect("register_permissions"):
            self._check_namespace(owner, perm.name, "permission")
            self.permissions[perm.name] = perm
        self.audit_events, self.audit_fields = {}, {}
        for owner, item in self._collect("register_audit_events"):
            from core.services.audit import AuditEvent

            if isinstance(item, AuditEvent):
                if owner != "core":
                    self._check_namespace(owner, item.name, "audit event")
                self.audit_events[item.name] = item
            else:
                self.audit_fields.setdefault(item.name, item)
        self.event_types = {}
        for owner, etype in self._collect("register_event_types"):
            self._check_namespace(owner, etype.name, "event type")
            self.event_types[etype.name] = etype

    def _collect(self, hook_name):
        """(plugin name, item) for every item each plugin returns from an install-time hook."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            for item in impl.function() or ():
                yield impl.plugin_name, item

    # ── loading ──────────────────────────────────────────────────────────────────────────
    def _load(self, plugins):
        if plugins is None:
            allow = self.app.config.get("LINLI_PLUGINS")
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                if allow is not None and ep.name not in allow:
                    continue
                try:
                    self._add(ep.name, ep.load())
                except Exception:  # a broken third-party plugin must not take the site down
                    if self.app.testing:
                        raise
                    log.exception("plugin %s failed to load; skipped", ep.name)
            return
        eps = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
        for item in plugins:
            if isinstance(item, str):
                module = eps[item].load() if item in eps else importlib.import_module(f"plugins.{item}")
                self._add(item, module)
            else:
                self._add(item.manifest.name, item)

    def _add(self, name: str, module):
        manifest = getattr(module, "manifest", None)
        if not isinstance(manifest, PluginManifest) or manifest.name != name:
            raise RuntimeError(f"plugin {name!r} has no manifest named {name!r}")
        if name in ("core", "c", "api", "admin", "auth") or name in self.modules:
            raise RuntimeError(f"plugin name {name!r} is reserved or taken")
        claimed = {ns: other for other, m in self.manifests.items() for ns in (other, *m.namespaces)}
        for ns in (name, *manifest.namespaces):
            if ns in claimed or ns in self.CORE_NAMESPACES:
                raise RuntimeError(f"namespace {ns!r} of plugin {name!r} is already taken")
        self.pm.register(module, name=name)
        self.modules[name] = module
        self.manifests[name] = manifest

    CORE_NAMESPACES = ("core", "resident", "proposal", "account")

    def _check_namespace(self, owner, name, what):
        """A plugin's permissions and events are named ``<plugin>.<...>``; the core's its own."""
        prefix = name.split(".", 1)[0]
        allowed = self.CORE_NAMESPACES if owner == "core" else (owner, *self.manifests[owner].namespaces)
        if prefix not in allowed or "." not in name:
            raise RuntimeError(f"{what} {name!r} of {owner!r} is not namespaced by its owner")

    def register_blueprints(self, parent, hook_name):
        """Register under ``parent`` the blueprints the plugins return from ``hook_name``
        (``register_blueprints``, ``register_api_blueprints``) and note each one's plugin."""
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):  # in pluggy's call order
            for bp in impl.function() or ():
                parent.register_blueprint(bp)
                if impl.plugin_name in self.modules:
                    self.blueprint_owners[f"{parent.name}.{bp.name}"] = impl.plugin_name

    @property
    def names(self) -> list[str]:
        return sorted(self.modules)

    def version(self, name) -> str:
        manifest = self.manifests[name]
        if manifest.version:
            return manifest.version
        try:
            return metadata.version("linli")
        except metadata.PackageNotFoundError:
            return "0"

    def plugin_dir(self, name) -> Path | None:
        """The plugin package's folder (None for a plugin object built in code, as in tests)."""
        module = self.modules[name]
        if getattr(module, "__file__", None):
            return Path(module.__file__).resolve().parent
        try:
            return Path(str(resources.files(module.__name__)))
        except (ModuleNotFoundError, TypeError):
            return None

    def resource_dirs(self, sub: str) -> list[tuple[str, Path]]:
        """(plugin, path) for each plugin that ships a ``sub`` folder (templates, migrations, ...)."""
        out = []
        for name in self.names:
            base = self.plugin_dir(name)
            path = base / sub if base else None
            if path is not None and path.is_dir():
                out.append((name, path))
        return out

    # ── per community ────────────────────────────────────────────────────────────────────
    def enabled_names(self, community) -> frozenset[str]:
        """Names of the plugins enabled for ``community`` (one SELECT per request)."""
        cache = g.setdefault("_enabled_plugins", {}) if _has_g() else {}
        if community.id in cache:
            return cache[community.id]
        from core.extensions import db

        return self.note_switches(community, db.session.execute(_plugin_switches(), {"c": community.id}).all())

    def note_switches(self, community, rows) -> frozenset[str]:
        """Remember for this request the (plugin, enabled) rows read for ``community`` (the
        community's own query may bring them along: see ``load_community``)."""
        switches = dict(rows)
        enabled = frozenset(n for n in self.names if switches.get(n, self.manifests[n].default_enabled))
        if _has_g():
            g.setdefault("_enabled_plugins", {})[community.id] = enabled
        return enabled

    def is_enabled(self, community, name) -> bool:
        return name in self.enabled_names(community)

    def forget(self, community):
        if _has_g():
            g.setdefault("_enabled_plugins", {}).pop(community.id, None)

    def hooks_for(self, community) -> CommunityHooks:
        disabled = frozenset(n for n in self.names if n not in self.enabled_names(community))
        relay = self._relays.get(disabled)
        if relay is None:
            remove = frozenset(self.modules[n] for n in disabled)
            relay = self._relays[disabled] = CommunityHooks(self.pm, remove)
        return relay

    def hooks_for_plugin(self, name) -> CommunityHooks:
        """A relay that calls only plugin ``name`` (lifecycle hooks)."""
        others = frozenset(["core", *[n for n in self.names if n != name]])
        remove = frozenset(self.pm.get_plugin(n) for n in others)
        return CommunityHooks(self.pm, remove)

    def hooks_of(self, plugin_name) -> list[str]:
        module = self.modules[plugin_name]
        return sorted(c.name for c in (self.pm.get_hookcallers(module) or []))


@built_once
def _plugin_switches():
    """(plugin, enabled) rows of a community, built once (every community request asks)."""
    from sqlalchemy import bindparam, select

    from core.models import CommunityPlugin

    t = CommunityPlugin.__table__
    return select(t.c.plugin, t.c.enabled).where(t.c.community_id == bindparam("c"))


@built_once
def _community_with_switches(dialect_name):
    """A community by its slug, with its plugin switches (one row per switch, or one row with no
    switch) and the content version the page cache is keyed by (core/db/version.py): every community
    request starts with this, so it is one query, built once per database kind."""
    from sqlalchemy import bindparam, select

    from core.models import Community, CommunityPlugin
    from core.db.version import version_subquery

    t = CommunityPlugin.__table__
    return (select(Community, t.c.plugin, t.c.enabled, version_subquery(dialect_name))
            .outerjoin(t, t.c.community_id == Community.id)
            .where(Community.slug == bindparam("slug")))


def load_community(slug):
    """The community with ``slug`` (None if there is none); its plugin switches are remembered
    for the request, so ``enabled_names`` asks nothing more."""
    from core.extensions import db

    stmt = _community_with_switches(db.engine.dialect.name)
    rows = db.session.execute(stmt, {"slug": slug}).all()
    if not rows:
        return None
    community = rows[0][0]
    registry().note_switches(community, [(plugin, enabled) for _c, plugin, enabled, _v in rows if plugin is not None])
    if _has_g():
        from core.db.version import remember

        remember(rows[0][3])  # g._content_version, for the page cache (core.db.version.current_version)
    return community


def _has_g():
    from flask import has_app_context

    return has_app_context()


def registry():
    from flask import current_app

    return current_app.extensions["linli.plugins"]
