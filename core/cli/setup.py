"""`linli init`, `demo`, `run` and `plugins`: setting an instance up and switching modules."""
import json
import os
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.cli import support
from core.cli.support import fail, service_fail, transaction
from core.errors import ServiceError

_IDENTITY_KEY_LINES = ("# Keys the hashes of identity document numbers. Never change or lose it: stored hashes\n"
                       "# would no longer match. It is not the session secret and stays when that rotates.\n")


@click.command("init", help=_l("Write instance/config.py with a new secret key (if missing) and migrate the database."))
@with_appcontext
def init_command():
    from core.extensions import alembic

    path = Path(current_app.instance_path)
    path.mkdir(parents=True, exist_ok=True)
    config = path / "config.py"
    if not config.exists():
        config.write_text(
            "# Written by `linli init`. Keep this file secret.\n"
            f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
            f"{_IDENTITY_KEY_LINES}IDENTITY_HASH_KEY = {secrets.token_hex(32)!r}\n"
            "# SQLALCHEMY_DATABASE_URI = 'postgresql+psycopg://user@127.0.0.1:5432/linli'\n"
            "# RATELIMIT_STORAGE_URI = 'redis://127.0.0.1:6379/0'\n",
            encoding="utf-8")
        os.chmod(config, 0o600)
        click.echo(_("Wrote %(path)s.", path=config))
    elif "IDENTITY_HASH_KEY" not in config.read_text(encoding="utf-8"):
        # An instance from before identity documents: give it its key once, never replace it.
        with config.open("a", encoding="utf-8") as f:
            f.write(f"\n{_IDENTITY_KEY_LINES}IDENTITY_HASH_KEY = {secrets.token_hex(32)!r}\n")
        click.echo(_("Wrote %(path)s.", path=config))
    alembic.upgrade()
    click.echo(_("The database is up to date."))


@click.command("demo", help=_l("Load the demo community (slug demo) with accounts for every role."))
@click.option("--slug", default="demo", show_default=True, help=_l("Short name of the demo community."))
@with_appcontext
def demo_command(slug):
    from core.demo import DEMO_PASSWORD, load_demo

    try:
        with click.progressbar(length=5, label=_("Loading demo data")) as bar:
            community, created = load_demo(slug, progress=bar.update)
    except ServiceError as err:
        service_fail(err)
    if not created:
        click.echo(_("The demo community %(slug)s exists already.", slug=community.slug))
        return
    click.echo(_("Demo community: %(name)s (/c/%(slug)s/)", name=community.name, slug=community.slug))
    click.echo(_("Every demo account has the password: %(pw)s", pw=DEMO_PASSWORD))
    for login, name, roles in created:
        click.echo(f"  {login:<14} {name}  ({', '.join(roles)})")


@click.command("run", help=_l("Serve linli on 127.0.0.1 (PORT from the environment, default 5000)."))
@click.option("--port", type=click.IntRange(1, 65535), default=lambda: os.environ.get("PORT") or 5000,
              show_default="5000 or $PORT", help=_l("Port to listen on."))
@click.option("--host", default="127.0.0.1", show_default=True,
              help=_l("Address to listen on; 0.0.0.0 serves the whole network."))
@with_appcontext
def run_command(port, host):
    from werkzeug.serving import run_simple

    click.echo(_("linli is running on http://%(host)s:%(port)d/ (Ctrl+C stops it)", host=host, port=port))
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


@click.group("plugins", invoke_without_command=True, help=_l("List installed modules; enable or disable them per community."))
@click.pass_context
@with_appcontext
def plugins_group(ctx):
    if ctx.invoked_subcommand is None:
        ctx.invoke(plugins_list)


@plugins_group.command("list", help=_l("Installed modules with version, hooks and where they are enabled."))
@click.option("--json", "as_json", is_flag=True, help=_l("Print JSON."))
@click.option("--community", default=None, help=_l("Only show this community (short name)."))
@with_appcontext
def plugins_list(as_json=False, community=None):
    from core.models import Community

    registry = current_app.extensions["linli.plugins"]
    communities = [support.community(community)] if community else Community.query.order_by(Community.slug).all()
    rows = []
    for name in registry.names:
        rows.append({"name": name, "label": str(registry.manifests[name].label), "version": registry.version(name),
                     "hooks": registry.hooks_of(name),
                     "communities": {c.slug: registry.is_enabled(c, name) for c in communities}})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(_("No modules are installed."))
    for r in rows:
        click.echo(f"{r['name']} {r['version']} — {r['label']}")
        click.echo("  " + _("hooks: %(hooks)s", hooks=", ".join(r["hooks"])))
        states = ", ".join(f"{slug}: {_('on') if on else _('off')}" for slug, on in r["communities"].items())
        click.echo("  " + _("communities: %(states)s", states=states or "—"))


def _toggle(plugin, community, enabled, confirm=False):
    from core.services.plugins import set_enabled

    try:
        with transaction():
            set_enabled(support.community(community), plugin, enabled, confirm=confirm)
    except ServiceError as err:
        if err.code == "open_business":
            fail("\n".join([str(err.message)] + [f"  {i['label']}: {i['count']}" for i in err.details]
                             + [_("Run it again with --yes to switch it off all the same.")]))
        service_fail(err)
    click.echo(_("%(plugin)s is now on in %(community)s.", plugin=plugin, community=community) if enabled
               else _("%(plugin)s is now off in %(community)s.", plugin=plugin, community=community))


@plugins_group.command("enable", help=_l("Enable a module for a community."))
@click.argument("plugin")
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def plugins_enable(plugin, community):
    _toggle(plugin, community, True)


@plugins_group.command("disable", help=_l("Disable a module for a community (its data is kept)."))
@click.argument("plugin")
@click.option("--community", required=True, help=_l("Short name of the community."))
@click.option("--yes", is_flag=True, help=_l("Switch it off even though people have business open in it."))
@with_appcontext
def plugins_disable(plugin, community, yes=False):
    _toggle(plugin, community, False, confirm=yes)
