"""What every `linli` command shares, the core's and the plugins' alike: finding a community or
an account from an argument, failing with a translated message, and the command's transaction."""
import click
from flask import g
from flask_babel import gettext as _

from core.db import transaction  # noqa: F401  (a command's writes run in one: `with transaction():`)
from core.errors import ServiceError


def fail(message):
    """Stop the command with ``message`` (exit status 1)."""
    raise click.ClickException(str(message))


def service_fail(err: ServiceError):
    """Stop with a service error's message and its per-field messages, one a line."""
    lines = [str(err.message)] + [f"  {name}: {msg}" for name, msg in (err.fields or {}).items()
                                  if str(msg) != str(err.message)]
    fail("\n".join(lines))


def community(slug, *, required=True):
    """The community with short name ``slug``; dates are then read in its time zone
    (core.dates). None for no slug when not ``required``."""
    from core.models import Community

    if slug is None and not required:
        return None
    found = Community.query.filter_by(slug=slug).first()
    if found is None:
        fail(_("No community with the short name %(slug)s.", slug=slug))
    g.community = found
    return found


def account(login):
    """The account with phone number or user name ``login``."""
    from core.services.accounts import find_user

    user = find_user(login)
    if user is None:
        fail(_("No account %(login)s.", login=login))
    return user
