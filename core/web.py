"""Wiring of the web app: extensions, community-scoped blueprints, templates, security headers."""
import click

from flask import Blueprint, abort, current_app, g, has_request_context, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select

from core import CORE_DIR
from core.db import built_once
from core.extensions import babel, csrf, db, limiter, login_manager
from core.i18n import (LOCALE_NAMES, fmt_area, fmt_date, fmt_datetime, fmt_number, html_lang, nobreak,
                       select_locale, select_timezone)
from core.pagecache import per_user  # noqa: F401  (the one way a plugin's page is kept per user)
from core.plugins import load_community


def init_app(app, registry):
    from core import models  # noqa: F401  (register the tables)

    app.json.ensure_ascii = False  # readable Chinese in JSON and the audit log
    db.init_app(app)  # its engines are set up by core.db.init_app, last of all (core.create_app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    translation_dirs = [str(CORE_DIR / "translations")] + [str(p) for _n, p in registry.resource_dirs("translations")]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    app.config.setdefault("ALEMBIC", {})
    app.config["ALEMBIC"]["script_location"] = str(CORE_DIR / "migrations")
    app.config["ALEMBIC"]["version_locations"] = [(n, str(p)) for n, p in registry.resource_dirs("migrations")]
    app.config.setdefault("ALEMBIC_CONTEXT", {})["render_as_batch"] = True
    app.config["ALEMBIC_CONTEXT"]["render_item"] = _render_migration_item
    # Flask-Alembic itself is bound on first use (core.extensions.alembic): a request never needs it.
    app.cli.add_command(_LazyDbGroup("db"))

    @app.before_request
    def refuse_bad_input():
        # One check of every query-string and form value before any view reads one (core.inputs):
        # a NUL would end a string early in SQLite (a search for "\0" matched everything), a lone
        # surrogate cannot be encoded for the database (a 500), CR/LF in a URL cannot be redirected to.
        from core.inputs import check_values

        check_values(request.args, request.form)

    @app.before_request
    def csrf_protect():
        if not request.path.startswith("/api/") and app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()

    @app.get("/healthz")
    def healthz():
        """Liveness probe and the bench's reference endpoint: no database, no templates."""
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}

    from core import pagecache

    pagecache.init_app(app)  # after the checks above, before anything loads the user or the community
    _load_user(app)
    _register_blueprints(app, registry)
    _template_setup(app, registry)
    _security_headers(app)
    _cache_control(app)
    from core.web_errors import error_pages

    error_pages(app)

    from core.cli import register_cli

    register_cli(app, registry)


class _LazyDbGroup(click.Group):
    """Flask-Alembic's ``db`` command group, imported only when a ``db`` command runs."""

    def __init__(self, name):
        super().__init__(name, callback=self._bind)

    @staticmethod
    def _bind():
        from core.extensions import alembic

        click.get_current_context().obj = alembic.get()

    @staticmethod
    def _real():
        from flask_alembic.cli import cli

        return cli

    def list_commands(self, ctx):
        return self._real().list_commands(ctx)

    def get_command(self, ctx, name):
        from core.cli import DB_HELP

        cmd = self._real().get_command(ctx, name)
        if cmd is not None and name in DB_HELP:
            cmd.help, cmd.short_help = DB_HELP[name], None
        return cmd


def _render_migration_item(type_, obj, autogen_context):
    """Write our column types as their plain SQL types, so migrations never import model code."""
    from sqlalchemy.types import TypeDecorator

    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl.__class__.__name__}()"
    return False


@built_once
def _token_and_user(in_community):
    """A live API token and its user by the token's digest, and with ``in_community`` the user's
    membership of the request's community (built once: every API request asks)."""
    from core.models import ApiToken, Membership, User

    stmt = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None)))
    return _with_membership(stmt, User, Membership) if in_community else stmt


@built_once
def _session_user(in_community):
    """The logged-in user by id, and with ``in_community`` their membership of the request's community."""
    from core.models import Membership, User

    stmt = select(User).where(User.id == bindparam("uid"))
    return _with_membership(stmt, User, Membership) if in_community else stmt


def _with_membership(stmt, User, Membership):  # noqa: N803  (model classes)
    # The membership comes with the user, so that a community request's first permission check
    # asks nothing more (core.permissions.membership_of).
    return stmt.add_columns(Membership).outerjoin(
        Membership, (Membership.user_id == User.id) & (Membership.community_id == bindparam("c")))


def _load_user(app):
    """Flask-Login's loaders. With a community, the user's membership comes in the same query and
    is kept for the request in ``g._memberships`` (core.permissions.note_membership), where every
    permission check of the request finds it (core.permissions.membership_of)."""
    from core.models import ApiToken
    from core.permissions import note_membership

    @login_manager.user_loader
    def load(user_id):
        if has_request_context() and request.path.startswith("/api/"):
            return None  # the API knows bearer tokens only, never a browser's session
        try:
            uid, version = (int(x) for x in user_id.split(":"))
        except ValueError:
            return None
        community = g.get("community")
        if community is None:
            user = db.session.execute(_session_user(False), {"uid": uid}).scalar()
        else:
            row = db.session.execute(_session_user(True), {"uid": uid, "c": community.id}).first()
            user = row[0] if row else None
        if user is None or user.session_version != version:
            return None
        if community is not None:
            note_membership(user, community, row[1])
        return user

    @login_manager.request_loader
    def load_from_token(req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
            return None
        # The token and its user in one query; the use is recorded with the request's own commit
        # (core.api.note_token_use), not in a transaction of its own here.
        community = g.get("community")
        params = {"digest": ApiToken.digest(header[7:].strip())}
        if community is not None:
            params["c"] = community.id
        row = db.session.execute(_token_and_user(community is not None), params).first()
        if row is None or not row[1].is_active:
            return None
        if community is not None:
            note_membership(row[1], community, row[2])
        from core.api import note_token_use

        note_token_use(row[0])
        g.api_token = row[0]
        return row[1]


def _community_blueprint(url_prefix):
    """A per-app parent blueprint for ``url_prefix`` that loads ``g.community`` and gates plugins."""
    name = "c" if url_prefix == "/c/<community>" else "api_c"
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    @bp.url_value_preprocessor
    def pull_community(endpoint, values):
        slug = values.pop("community", None) if values else None
        community = load_community(slug) if slug else None
        if community is None:
            abort(404)
        g.community = community
        g.hooks = current_app.extensions["linli.plugins"].hooks_for(community)

    @bp.url_defaults
    def add_community(endpoint, values):
        if "community" not in values and g.get("community") is not None:
            values["community"] = g.community.slug

    if name == "api_c":
        from core.api import token_only

        bp.before_request(token_only)

    @bp.before_request
    def gate_plugins():
        # A plugin's page or API answers only where the plugin is on (its blueprints are noted
        # when they are registered: PluginRegistry.register_blueprints).
        registry = current_app.extensions["linli.plugins"]
        for bp_name in request.blueprints:
            plugin = registry.blueprint_owners.get(bp_name)
            if plugin is not None and not registry.is_enabled(g.community, plugin):
                abort(404)

    return bp


def _register_blueprints(app, registry):
    from core.accounts.views import bp as auth_bp
    from core.accounts.views import root_bp
    from core.admin.views import bp as admin_bp
    from core.api import api_bp, community_api_bp, init_api
    from core.proposals.views import bp as proposals_bp
    from core.structure.views import bp as structure_bp

    app.register_blueprint(root_bp)
    app.register_blueprint(auth_bp)
    c = _community_blueprint("/c/<community>")
    c.register_blueprint(proposals_bp)
    c.register_blueprint(structure_bp)
    c.register_blueprint(admin_bp)
    from core.accounts.views import community_bp

    c.register_blueprint(community_bp)
    registry.register_blueprints(c, "register_blueprints")
    app.register_blueprint(c)

    api_c = _community_blueprint("/api/v1/c/<community>")
    api_c.register_blueprint(community_api_bp)
    registry.register_blueprints(api_c, "register_api_blueprints")
    app.register_blueprint(api_bp)
    app.register_blueprint(api_c)
    init_api(app)


def _template_setup(app, registry):
    from jinja2 import ChoiceLoader, FileSystemLoader

    from core.permissions import ROLE_LABELS, can, membership_of
    from core.services.notifications import module_off as notification_module_off
    from core.services.notifications import render as render_notification
    from core.services.notifications import unread_count

    # Plugin templates live beside their code under templates/<plugin>/; core templates win.
    loaders = [app.jinja_loader] + [FileSystemLoader(str(p)) for _n, p in registry.resource_dirs("templates")]
    app.jinja_loader = ChoiceLoader(loaders)

    def render_markdown(text):
        from core.markup import render_markdown as render  # markdown-it is imported on first use

        return render(text)

    def nav(area="main"):
        community = g.get("community")
        if community is None:
            return []
        items = []
        for group in g.hooks.nav_items(community=community, user=current_user):
            for item in group or ():
                if item.area != area:
                    continue
                if item.permission and not can(item.permission, community):
                    continue
                items.append(item)
        items.sort(key=lambda i: (i.order, str(i.label)))
        return items

    def nav_url(item):
        return url_for(item.endpoint, **item.url_kwargs)

    def nav_active(item):
        return request.endpoint == item.endpoint or (
            request.endpoint or "").rsplit(".", 1)[0] == item.endpoint.rsplit(".", 1)[0]

    def current_membership():
        return membership_of(current_user, g.get("community"))

    app.jinja_env.globals.update(
        nav=nav, nav_url=nav_url, nav_active=nav_active, can=can, current_membership=current_membership,
        LOCALE_NAMES=LOCALE_NAMES, ROLE_LABELS=ROLE_LABELS, html_lang=html_lang,
        render_notification=render_notification, notification_module_off=notification_module_off,
        unread_count=unread_count,
    )
    app.jinja_env.filters.update(
        markdown=render_markdown, datetime=fmt_datetime, date=fmt_date, area=fmt_area, number=fmt_number,
        nobreak=nobreak,
    )
    from core import pickers

    pickers.register(app)


def _security_headers(app):
    @app.after_request
    def headers(resp):
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return resp


def _cache_control(app):
    from core import pagecache

    @app.after_request
    def cache_control(resp):
        # Nothing made for one person (a signed-in user's page, an API answer to a token, the
        # login form, a download) may be kept by the browser or a proxy: "no-store", unless the
        # view chose to let a file be kept (a max-age) or to forbid it itself. What every visitor
        # gets alike (core/pagecache.py) has the page cache's own header.
        if request.endpoint == "static":
            return resp
        public = pagecache.public_cache_control(resp)
        if public is not None:
            resp.headers.setdefault("Cache-Control", public)
        elif not resp.cache_control.no_store and not (resp.cache_control.max_age or 0) > 0:
            resp.headers["Cache-Control"] = "no-store"
        return resp
