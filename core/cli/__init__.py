"""The `linli` command line: a Flask CLI group for operators. The commands live in the modules
of this package; what they share (a community from its short name, failing with a message, the
transaction of a command's writes) in ``support``."""
import sys

import click
from flask.cli import FlaskGroup
from flask_babel import lazy_gettext as _l

from core.cli.accounts import community_group, tokens_group, users_group
from core.cli.backup import backup_command, restore_command
from core.cli.residents import residents_group
from core.cli.setup import demo_command, init_command, plugins_group, run_command
from core.errors import ServiceError


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
