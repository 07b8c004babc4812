"""`linli users`, `tokens` and `community`: accounts, roles, reset codes, API tokens, communities."""
import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.cli import support
from core.cli.support import fail, service_fail, transaction
from core.errors import ServiceError

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
        with transaction():
            user = create_site_admin(login, password, name or login)
    except ServiceError as err:
        service_fail(err)
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

    c, user = support.community(community), support.account(login)
    m = Membership.query.filter_by(user_id=user.id, community_id=c.id).first()
    if m is None:
        fail(_("%(login)s is not a member of %(name)s.", login=login, name=c.name))
    b = Building.query.filter_by(community_id=c.id, name=building).first() if building else None
    gr = Grid.query.filter_by(community_id=c.id, name=grid).first() if grid else None
    if (building and b is None) or (grid and gr is None):
        fail(_("No such building or grid in %(name)s.", name=c.name))
    try:
        with transaction():
            set_roles(m, list(roles), None, building=b or m.building, grid=gr or m.grid)
    except ServiceError as err:
        service_fail(err)
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

    user = support.account(login)
    if community:
        c = support.community(community)
    else:
        memberships = Membership.query.filter_by(user_id=user.id).all()
        if len(memberships) != 1:
            fail(_("%(login)s is a member of %(count)s communities: name one with --community.", login=login,
                    count=len(memberships)))
        c = memberships[0].community
    try:
        with transaction():
            code, expires_at = reset_codes.issue(user, None, c)
    except ServiceError as err:
        service_fail(err)
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
        with transaction():
            _t, raw = tokens.create(support.account(login), name)
    except ServiceError as err:
        service_fail(err)
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
        with transaction():
            c = create_community(slug, name, street=street)
    except ServiceError as err:
        service_fail(err)
    click.echo(_("Created community %(name)s (/c/%(slug)s/).", name=c.name, slug=c.slug))
