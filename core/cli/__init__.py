"""The `linli` command line: a Flask CLI group for operators."""
import json
import os
import secrets
import sys
from pathlib import Path

import click
from flask import current_app, g
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l

from core.errors import ServiceError


def _fail(message):
    raise click.ClickException(str(message))


def _service_fail(err):
    """Exit non-zero with a service error's message and its per-field messages, one a line."""
    lines = [str(err.message)] + [f"  {name}: {msg}" for name, msg in (err.fields or {}).items()
                                  if str(msg) != str(err.message)]
    _fail("\n".join(lines))


def _community(slug):
    from core.models import Community

    community = Community.query.filter_by(slug=slug).first()
    if community is None:
        _fail(_("No community with the short name %(slug)s.", slug=slug))
    g.community = community  # dates are read in its time zone (core.dates)
    return community


def _user(login):
    from core.services.accounts import find_user

    user = find_user(login)
    if user is None:
        _fail(_("No account %(login)s.", login=login))
    return user


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
        _service_fail(err)
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
    communities = [_community(community)] if community else Community.query.order_by(Community.slug).all()
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
        set_enabled(_community(community), plugin, enabled, confirm=confirm)
    except ServiceError as err:
        if err.code == "open_business":
            _fail("\n".join([str(err.message)] + [f"  {i['label']}: {i['count']}" for i in err.details]
                             + [_("Run it again with --yes to switch it off all the same.")]))
        _service_fail(err)
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


@click.group("users", help=_l("Manage accounts."))
def users_group():
    pass


@users_group.command("create-admin", help=_l("Create a site administrator (asks for the password)."))
@click.argument("login")
@click.option("--name", default=None, help=_l("Display name."))
@click.password_option(help=_l("The password (asked for if not given)."))
@with_appcontext
def create_admin(login, name, password):
    from core.services.accounts import create_site_admin

    try:
        user = create_site_admin(login, password, name or login)
    except ServiceError as err:
        _service_fail(err)
    click.echo(_("Created administrator %(login)s.", login=user.login_name))


@users_group.command("roles", help=_l("Set a member's roles in a community (the operator's act, audited)."))
@click.argument("login")
@click.argument("roles", nargs=-1, required=True)
@click.option("--community", required=True, help=_l("Short name of the community."))
@click.option("--building", default=None, help=_l("The building of a building head (its name)."))
@click.option("--grid", default=None, help=_l("The grid of a grid worker (its name)."))
@with_appcontext
def users_roles(login, roles, community, building, grid):
    from core.models import Building, Grid, Membership
    from core.permissions import ROLE_LABELS
    from core.services.accounts import set_roles

    c, user = _community(community), _user(login)
    m = Membership.query.filter_by(user_id=user.id, community_id=c.id).first()
    if m is None:
        _fail(_("%(login)s is not a member of %(name)s.", login=login, name=c.name))
    b = Building.query.filter_by(community_id=c.id, name=building).first() if building else None
    gr = Grid.query.filter_by(community_id=c.id, name=grid).first() if grid else None
    if (building and b is None) or (grid and gr is None):
        _fail(_("No such building or grid in %(name)s.", name=c.name))
    try:
        set_roles(m, list(roles), None, building=b or m.building, grid=gr or m.grid)
    except ServiceError as err:
        _service_fail(err)
    click.echo(", ".join(str(ROLE_LABELS[r]) for r in m.role_list))


@users_group.command("reset-code", help=_l("Give an account a one-time password reset code (valid 24 hours, "
                                             "used once) and print it once, to hand to the person (audited)."))
@click.argument("login")
@click.option("--community", default=None, help=_l("Short name of the community (needed when the account is a "
                                                   "member of several)."))
@with_appcontext
def users_reset_code(login, community):
    from core.models import Membership
    from core.services import reset_codes

    user = _user(login)
    if community:
        c = _community(community)
    else:
        memberships = Membership.query.filter_by(user_id=user.id).all()
        if len(memberships) != 1:
            _fail(_("%(login)s is a member of %(count)s communities: name one with --community.", login=login,
                    count=len(memberships)))
        c = memberships[0].community
    try:
        code, expires_at = reset_codes.issue(user, None, c)
    except ServiceError as err:
        _service_fail(err)
    from core import dates

    click.echo(_("Reset code for %(login)s: %(code)s (valid until %(until)s).", login=user.login_name,
                 code=reset_codes.format_code(code), until=dates.format_local(expires_at, c)))


@click.group("tokens", help=_l("Manage API tokens."))
def tokens_group():
    pass


@tokens_group.command("create", help=_l("Create an API token for an account and print it once."))
@click.argument("login")
@click.option("--name", default="cli", show_default=True, help=_l("What the token is for."))
@with_appcontext
def tokens_create(login, name):
    from core.services import tokens

    try:
        _t, raw = tokens.create(_user(login), name)
    except ServiceError as err:
        _service_fail(err)
    click.echo(raw)


@click.group("community", help=_l("Create and list communities."))
def community_group():
    pass


@community_group.command("create", help=_l("Create a community."))
@click.argument("slug")
@click.argument("name")
@click.option("--street", default=None, help=_l("The street office it belongs to."))
@with_appcontext
def community_create(slug, name, street):
    from core.services.structure import create_community

    try:
        c = create_community(slug, name, street=street)
    except ServiceError as err:
        _service_fail(err)
    click.echo(_("Created community %(name)s (/c/%(slug)s/).", name=c.name, slug=c.slug))


@click.group("residents", help=_l("Import and export households and residents."))
def residents_group():
    pass


@residents_group.command("import", help=_l("Import households and residents from .xlsx or .csv. Checks every "
                                            "row first; a file with errors is imported only with --skip-bad-rows."))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--community", required=True, help=_l("Short name of the community."))
@click.option("--skip-bad-rows", is_flag=True, help=_l("Import the good rows of a file that has errors."))
@click.option("--dry-run", is_flag=True, help=_l("Only check the file; exits with 1 if a row has errors."))
@with_appcontext
def residents_import(file, community, skip_bad_rows, dry_run):
    from core import spreadsheets
    from core.services import imports

    c = _community(community)
    try:
        data = spreadsheets.read_bounded(file)
    except OSError as err:
        _fail(_("Cannot read %(path)s: %(error)s", path=file, error=err.strerror or err))
    try:
        rows = imports.check_rows(c, imports.read_table(Path(file).name, data))
        if not rows:
            _fail(_("The file has no data rows."))
    except ServiceError as err:
        _service_fail(err)
    bad = [r for r in rows if r["errors"]]
    good = [r["values"] for r in rows if not r["errors"]]
    for r in bad:
        click.echo(_("line %(line)d: %(errors)s", line=r["line"], errors=" ".join(r["errors"])), err=True)
    for r in rows:  # changes to known rooms, and people to check (never merged by name)
        if r["notes"] and not r["errors"]:
            click.echo(_("line %(line)d: %(errors)s", line=r["line"], errors=" ".join(r["notes"])))
    click.echo(_("%(good)d good rows, %(bad)d rows with errors.", good=len(good), bad=len(bad)))
    if dry_run:
        sys.exit(1 if bad else 0)
    if bad and not skip_bad_rows:
        _fail(_("Nothing was imported. Fix the rows above, or pass --skip-bad-rows to import only the good rows."))
    if not good:
        _fail(_("No row of this file can be imported."))
    try:
        with click.progressbar(length=len(good), label=_("Importing")) as bar:
            counts = imports.import_rows(c, None, good, filename=Path(file).name, skipped=len(bad),
                                         progress=lambda n: bar.update(1))
    except ServiceError as err:
        _service_fail(err)
    click.echo(_("Imported: %(h)d new households, %(m)d new people, %(u)d records updated.",
                 h=counts["households"], m=counts["members"], u=counts["updated"]))


@residents_group.command("duplicates", help=_l("List possible duplicates: people of the same name on the register "
                                                "whom nothing tells apart (staff merge them or mark them as different "
                                                "people on the Possible duplicates page)."))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def residents_duplicates(community):
    from core.services import persons

    groups = persons.possible_duplicates(_community(community))
    for group in groups:
        click.echo(group["name"])
        for p in group["persons"]:
            click.echo("  " + _("No. %(number)d: %(entries)s", number=p.id,
                                entries="、".join(f"{m.household.label} ({m.name})" for m in p.members)))
    click.echo(ngettext("%(num)d possible duplicate.", "%(num)d possible duplicates.", len(groups)))
    sys.exit(1 if groups else 0)


@residents_group.command("export", help=_l("Export households and residents to .xlsx (the columns the import reads)."))
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--community", required=True, help=_l("Short name of the community."))
@with_appcontext
def residents_export(file, community):
    from core.services import imports

    c = _community(community)
    if not file.lower().endswith(".xlsx"):
        _fail(_("The export is an Excel file: give a file name ending in .xlsx."))
    try:
        Path(file).write_bytes(imports.export_xlsx(c))
    except OSError as err:
        _fail(_("Cannot write %(path)s: %(error)s", path=file, error=err.strerror or err))
    click.echo(_("Wrote %(path)s.", path=file))


@residents_group.command("export-data", help=_l("Write a copy of all the personal data about one account "
                                                 "to FILE as JSON (Personal Information Protection Law, "
                                                 "Article 45); - writes to the screen."))
@click.argument("login")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@with_appcontext
def residents_export_data(login, file):
    from core.services import personal_data

    data = personal_data.export_json(_user(login))
    if file == "-":
        click.echo(data.decode("utf-8"))
        return
    if Path(file).exists():
        _fail(_("%(path)s exists already; choose a new file.", path=file))
    try:
        Path(file).write_bytes(data)
    except OSError as err:
        _fail(_("Cannot write %(path)s: %(error)s", path=file, error=err.strerror or err))
    click.echo(_("Wrote %(path)s.", path=file))


@residents_group.command("erase", help=_l("Erase the personal data of one account on request (Personal "
                                           "Information Protection Law, Article 47): "
                                           "the account can no longer log in and is shown under an anonymous id. "
                                           "Running it again changes nothing more."))
@click.argument("login")
@click.option("--reason", required=True, help=_l("The request's date and reference (kept in the audit log)."))
@with_appcontext
def residents_erase(login, reason):
    from core.services import personal_data

    try:
        summary = personal_data.erase(_user(login), None, reason)
    except ServiceError as err:
        _service_fail(err)
    if summary["changed"]:
        click.echo(_("Erased: the account is now shown as %(label)s (%(count)d records changed).",
                     label=summary["anonymous_id"], count=summary["changed"]))
    else:
        click.echo(_("Nothing more to erase: this account was erased already."))


SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _pg_command(url):
    """(libpq connection string, environment) for pg_dump/pg_restore from a SQLAlchemy URL."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return conninfo, env


def _run_pg(args, env):
    import subprocess

    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True)
    except OSError as err:
        _fail(_("Cannot run %(program)s: %(error)s", program=args[0], error=err.strerror or err))
    if done.returncode != 0:
        _fail(_("%(program)s failed: %(error)s", program=Path(args[0]).name,
                error=(done.stderr or done.stdout).strip()[-2000:]))


def _file_kind(path):
    """'sqlite', 'pgdump' or None, from the first bytes of the file."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "pgdump"
    return None


def _release_connections():
    """Close this process's own connections, so they neither hold locks nor look like other users."""
    from core.extensions import db

    db.session.remove()
    db.engine.dispose()


@click.command("backup", help=_l("Back up the database to FILE while linli keeps running (SQLite: a copy of "
                                  "the database file; PostgreSQL: a pg_dump archive in custom format)."))
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(file):
    import sqlite3

    from core.extensions import db

    url = db.engine.url
    target = Path(file)
    if target.exists():
        _fail(_("%(path)s exists already; choose a new file.", path=file))
    if url.get_backend_name() == "postgresql":
        conninfo, env = _pg_command(url)
        _run_pg([current_app.config.get("LINLI_PG_DUMP", "/usr/bin/pg_dump"), "--format=custom",
                 "--no-owner", "--file", str(target), "--dbname", conninfo], env)
        click.echo(_("Wrote %(path)s.", path=file))
        return
    try:
        src = sqlite3.connect(url.database)
        dst = sqlite3.connect(str(target))
    except sqlite3.Error as err:
        _fail(_("Cannot write %(path)s: %(error)s", path=file, error=err))
    pages = src.execute("PRAGMA page_count").fetchone()[0] or 1
    with click.progressbar(length=pages, label=_("Backing up")) as bar:
        done = [0]

        def progress(status, remaining, total):
            bar.update(total - remaining - done[0])
            done[0] = total - remaining

        src.backup(dst, pages=256, progress=progress)
    dst.close()
    src.close()
    click.echo(_("Wrote %(path)s.", path=file))


@click.command("restore", help=_l("Replace the whole database with the backup in FILE (made by linli backup). "
                                   "Everything written since that backup is lost."))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help=_l("SQLite: restore even though the database seems to be in use "
                                               "(stop linli first if you can)."))
@with_appcontext
def restore_command(file, force):
    import sqlite3

    from core.extensions import db

    source = Path(file)
    if not source.is_file():
        _fail(_("There is no file %(path)s.", path=file))
    try:
        kind = _file_kind(source)
    except OSError as err:
        _fail(_("Cannot read %(path)s: %(error)s", path=file, error=err.strerror or err))
    url = db.engine.url
    backend = url.get_backend_name()
    _release_connections()
    if backend == "postgresql":
        if kind == "sqlite":
            _fail(_("%(path)s is a SQLite database, but this database is PostgreSQL: nothing was changed.", path=file))
        if kind != "pgdump":
            _fail(_("%(path)s is not a backup made by linli backup: nothing was changed.", path=file))
        conninfo, env = _pg_command(url)
        # One transaction: a dump that fails half-way leaves the database as it was.
        _run_pg([current_app.config.get("LINLI_PG_RESTORE", "/usr/bin/pg_restore"), "--clean", "--if-exists",
                 "--no-owner", "--single-transaction", "--exit-on-error", "--dbname", conninfo, str(source)], env)
        click.echo(_("Restored the database from %(path)s.", path=file))
        return
    if kind == "pgdump":
        _fail(_("%(path)s is a PostgreSQL dump, but this database is SQLite: nothing was changed.", path=file))
    if kind != "sqlite":
        _fail(_("%(path)s is not a backup made by linli backup: nothing was changed.", path=file))
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        ok = src.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        ok, tables = False, set()
    if not ok or not {"user", "community"} <= tables:
        _fail(_("%(path)s is not a backup made by linli backup: nothing was changed.", path=file))
    target = Path(url.database)
    in_use = any(Path(f"{target}{suffix}").exists() for suffix in ("-wal", "-shm", "-journal"))
    if in_use and not force:
        src.close()
        _fail(_("The database %(path)s seems to be in use (linli is running?). Stop linli and try again, "
                "or pass --force: nothing was changed.", path=str(target)))
    dst = sqlite3.connect(str(target), timeout=15)
    try:
        src.backup(dst)  # page by page under the database's own lock: readers never see half a restore
    except sqlite3.Error as err:
        _fail(_("The restore failed: %(error)s", error=err))
    finally:
        dst.close()
        src.close()
    click.echo(_("Restored the database from %(path)s.", path=file))


# Flask-Alembic's `db` group speaks English only; these give its commands help in the user's language.
DB_HELP = {
    None: _l("Upgrade and inspect the database schema (the core and every module's migrations)."),
    "upgrade": _l("Apply every pending migration (the default: all heads)."),
    "downgrade": _l("Undo migrations down to a revision, e.g. points@base."),
    "current": _l("Show the revisions the database is at."),
    "heads": _l("Show the newest revision of each branch."),
    "branches": _l("Show the migration branches."),
    "log": _l("List the migrations."),
    "show": _l("Show one revision."),
    "stamp": _l("Mark the database as being at a revision without running migrations."),
    "revision": _l("Create a new migration (use --branch <module> for a module)."),
    "merge": _l("Merge several revisions into one."),
    "check": _l("Check whether the models need a new migration."),
}


def _translate_db_help(app):
    group = app.cli.commands.get("db")
    if group is None:
        return
    group.help = DB_HELP[None]
    for name, cmd in getattr(group, "commands", {}).items():
        if name in DB_HELP:
            cmd.help = DB_HELP[name]
            cmd.short_help = None


def register_cli(app, registry):
    for cmd in (init_command, demo_command, run_command, plugins_group, users_group, tokens_group,
                community_group, residents_group, backup_command, restore_command):
        app.cli.add_command(cmd)
    _translate_db_help(app)
    for group in registry.pm.hook.register_cli_commands():
        for cmd in group or ():
            app.cli.add_command(cmd)
    _check_text_values(app.cli)


class _Text(click.ParamType):
    """A command-line value held to the rules of every text input (core.inputs): one line, no
    control characters, no lone surrogates (a file name with broken UTF-8 arrives as those)."""

    name = "text"

    def convert(self, value, param, ctx):
        from core.inputs import check_text

        try:
            return check_text(value, param.name if param else "value")
        except ServiceError as err:
            self.fail(str(err.message), param, ctx)


def _check_text_values(group):
    """Every plain text option and argument of ``group``'s commands (the core's and each module's,
    nested groups included) is checked as text; paths, numbers and choices have their own types."""
    text = _Text()
    stack = [group]
    while stack:
        cmd = stack.pop()
        for param in cmd.params:
            if param.type is click.STRING:
                param.type = text
        stack.extend(getattr(cmd, "commands", {}).values())



def main():
    """Entry point of the `linli` console script.

    The app context is pushed around the whole command line, so that help texts and messages are
    in the user's language (LINLI_LANG, then LANG)."""
    from core import create_app
    from core.config import ConfigError

    try:
        app = create_app()
    except ConfigError as err:  # a bad LINLI_* variable: say which, no traceback
        click.echo(f"linli: {err}", err=True)
        sys.exit(2)
    cli = FlaskGroup(create_app=lambda: app, add_default_commands=False, add_version_option=False,
                     help=_l("linli (邻里) — resident deliberation platform"))
    with app.app_context():
        cli.main(prog_name="linli")
