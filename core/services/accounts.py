"""Accounts and memberships: register, log in, change password, verify, roles."""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from core.errors import Conflict, ServiceError
from core.extensions import db
from core.models import Household, HouseholdMember, Membership, User, utcnow
from core.phones import looks_like_phone, mobile_number, normalise_mobile
from core.permissions import note_membership
from core.services import audit
from core.services.passwords import check_password_policy, dummy_hash, hash_password

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,39}$")
def parse_login(login: str):
    """Split a login into (username, phone); raises ServiceError if it is neither.

    Digits are always meant as a phone number: a mistyped one (10 digits) is refused as such,
    with the reason (core/phones.py), never taken for a user name."""
    login = (login or "").strip()
    if looks_like_phone(login):
        return None, normalise_mobile(login, field="login")
    if USERNAME_RE.match(login):
        return login.lower(), None
    raise ServiceError(
        "invalid_login",
        _("Enter a mobile phone number (11 digits) or a user name of 3–40 letters and digits starting with a letter."),
        fields={"login": _("Not a phone number or user name.")},
    )


def find_user(login: str):
    login = (login or "").strip()
    if looks_like_phone(login):
        phone = mobile_number(login)
        return User.query.filter_by(phone=phone).first() if phone else None
    return User.query.filter_by(username=login.lower()).first()


def create_user(login, password, display_name, locale=None, is_superadmin=False):
    """Create an account; raises ServiceError on a bad login or password, Conflict if taken."""
    username, phone = parse_login(login)
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 80:
        raise ServiceError("invalid_name", _("Enter your name (up to 80 characters)."),
                           fields={"display_name": _("Enter your name (up to 80 characters).")})
    problem = check_password_policy(password or "", login)
    if problem:
        raise ServiceError("weak_password", problem, fields={"password": problem})
    if find_user(login) is not None:
        raise Conflict("login_taken", _("This phone number or user name is already registered."),
                       fields={"login": _("Already registered.")})
    user = User(username=username, phone=phone, display_name=display_name, locale=locale,
                password_hash=hash_password(password), is_superadmin=is_superadmin)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # taken meanwhile; messages lazy: read once the request has rolled back
        raise Conflict("login_taken", _l("This phone number or user name is already registered."),
                       fields={"login": _l("Already registered.")})
    return user


def create_site_admin(login, password, display_name):
    """A site administrator (every community's rights), made only by the operator at the command
    line (``linli users create-admin``): audited with no actor, like every act of the operator."""
    user = create_user(login, password, display_name, is_superadmin=True)
    audit.record("account.site_admin_created", obj=user, actor=None, after={"is_superadmin": True})
    return user


def given_residence(community, unit=None, room=None, address=None):
    """Where a resident registering says they live (自报住址): ``(household, text)``.

    ``unit`` (a Unit of the community, from the picker) with ``room`` names a room of the
    community's structure: when exactly one household of that unit has that room it is returned,
    so staff find it pre-selected on the verification page. ``address`` is the free text of a
    resident whose building is not listed. Either is required; the text kept is what staff read."""
    room = (room or "").strip()
    address = (address or "").strip()
    if unit is not None and unit.building.community_id != community.id:
        unit = None
    if len(room) > 20 or len(address) > 200:
        message = _("Too long.")
        raise ServiceError("invalid_address", message, fields={"room" if len(room) > 20 else "address": message})
    if unit is not None and room:
        household = Household.query.filter_by(community_id=community.id, unit_id=unit.id, room=room).first()
        if household is None and room.isdigit() is False:  # "502室" for 502
            bare = room.rstrip("室号號").strip()
            household = Household.query.filter_by(community_id=community.id, unit_id=unit.id, room=bare).first()
        text = f"{unit.building.name} {unit.name} {room}"
        return household, (text + (f" ({address})" if address else ""))[:200]
    if address:
        return None, address
    if unit is not None:
        message = _("Enter your room number.")
        raise ServiceError("residence_required", message, fields={"room": message})
    message = _("Choose your building and unit and enter your room, or write where you live.")
    raise ServiceError("residence_required", message, fields={"unit_id": message})


def register(community, login, password, display_name, locale=None, *, consent=False, unit=None, room=None,
             address=None):
    """A resident registers in ``community``: a new account with an unverified membership.

    The resident says where they live (``given_residence``) so staff can verify them quickly, and
    consents to the privacy notice in force (core/privacy.py), recorded with its version."""
    from core.events import Event, emit
    from core.privacy import NOTICE_VERSION

    user = create_user(login, password, display_name, locale=locale)
    household, residence = given_residence(community, unit, room, address)
    if consent is not True:
        message = _("To register, agree to the privacy notice.")
        raise ServiceError("consent_required", message, fields={"consent": message})
    user.privacy_consent_at, user.privacy_notice_version = utcnow(), NOTICE_VERSION
    membership = Membership(user_id=user.id, community_id=community.id, roles="resident",
                            claimed_household_id=household.id if household else None, claimed_address=residence)
    db.session.add(membership)
    db.session.flush()
    audit.record("account.registered", community=community, obj=membership, actor=user,
                 after={"login": user.login_name, "display_name": user.display_name, "address": residence,
                        "privacy_notice": NOTICE_VERSION})
    emit(community, Event("resident.registered", community.id, user.id, (user.id,),
                          f"membership:{membership.id}:registered"))
    note_membership(user, community, membership)
    return user, membership


def join(community, user):
    """An existing account joins another community (unverified)."""
    membership = Membership.query.filter_by(user_id=user.id, community_id=community.id).first()
    if membership:
        return membership
    membership = Membership(user_id=user.id, community_id=community.id, roles="resident")
    db.session.add(membership)
    db.session.flush()
    audit.record("membership.joined", community=community, obj=membership, actor=user)
    note_membership(user, community, membership)  # this request's later checks see it
    return membership


def authenticate(login, password, address=None):
    """The user for these credentials, or None (in constant-ish time).

    With ``address`` (the client's), failed attempts are counted per account and address and the
    attempt is refused with ``login_limits.LoginLocked`` (429) while that pair is locked; a
    stranger's failures never stop the owner signing in from elsewhere (core/services/login_limits.py)."""
    from core.services import login_limits

    user = find_user(login)
    key = None
    if address is not None:
        key = (login_limits.account_key(user, login), login_limits.address_key(address))
        had_failures = login_limits.check(*key)
    if user is None or not user.is_active:
        check_password_hash(dummy_hash(), password or "")
        user = None
    elif not check_password_hash(user.password_hash, password or ""):
        user = None
    if key is not None:
        if user is None:
            login_limits.record_failure(*key)
        elif had_failures:
            login_limits.forget(*key)
    return user


def change_password(user, old_password, new_password):
    """Change a password; every other session of the user ends."""
    if not check_password_hash(user.password_hash, old_password or ""):
        raise ServiceError("wrong_password", _("Your current password is not right."),
                           fields={"old_password": _("Not right.")})
    problem = check_password_policy(new_password or "", user.login_name)
    if problem:
        raise ServiceError("weak_password", problem, fields={"new_password": problem})
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    audit.record("account.password_changed", obj=user, actor=user)


def end_sessions(user):
    """End every session of ``user`` (logout): cookies issued before stop being accepted."""
    User.query.filter_by(id=user.id).update({User.session_version: User.session_version + 1},
                                            synchronize_session=False)
    db.session.refresh(user)


def set_preferences(user, locale=None, large_text=None):
    from flask import current_app

    if locale is not None:
        if locale not in current_app.config["LANGUAGES"]:
            raise ServiceError("invalid_locale", _("Unknown language."))
        user.locale = locale
    if large_text is not None:
        user.large_text = bool(large_text)


def verify_resident(membership, household, relation, actor, reason=None):
    """Staff verify a resident by linking them to a household (实名核实).

    The resident is put on the household's register (or their existing register entry, matched
    by phone, is linked to the account)."""
    from core.events import Event, emit
    from core.models.community import RELATIONS
    from core.plugins import registry

    if household is None or household.community_id != membership.community_id:
        raise ServiceError("invalid_household", _("Choose a household of this community."),
                           fields={"household_id": _("Choose a household of this community.")})
    if relation not in RELATIONS:
        raise ServiceError("invalid_relation", _("Choose owner, resident or tenant."),
                           fields={"relation": _("Choose owner, resident or tenant.")})
    if actor is not None and actor.id == membership.user_id:  # a vote and its weight: someone else's check
        from core.errors import Forbidden

        raise Forbidden("own_verification", _("You cannot verify your own residence: another staff member must do it."))
    before = {"household_id": membership.household_id, "verified": membership.is_verified}
    user = membership.user
    member = None
    for m in household.members:
        if m.user_id == user.id or (user.phone and m.phone == user.phone and m.user_id is None):
            member = m
            break
    if member is None:
        member = HouseholdMember(household=household, name=user.display_name, phone=user.phone)
        db.session.add(member)
    member.user_id = user.id
    member.relation = relation
    from core.services import persons

    persons.link_account(member, user, actor)  # the entry's person is the account's (R5)
    membership.household_id = household.id
    membership.verified_at = utcnow()
    membership.verified_by_id = actor.id
    db.session.flush()
    audit.record("membership.verified", community=membership.community, obj=membership, actor=actor,
                 before=before, after={"household_id": household.id, "relation": relation}, reason=reason)
    registry().hooks_for(membership.community).on_resident_verified(membership=membership, actor=actor)
    emit(membership.community, Event("resident.verified", membership.community_id, actor.id, (user.id,),
                                     f"membership:{membership.id}:verified"))
    from core.services.notifications import N_, notify

    notify(user.id, membership.community, "verified",
           N_("Staff verified your residence in %(household)s. You can now vote."),
           {"household": household.label})
    return membership


def unverify(membership, actor, reason):
    if not (reason or "").strip():
        raise ServiceError("reason_required", _("Give a reason."), fields={"reason": _("Give a reason.")})
    before = {"household_id": membership.household_id}
    membership.verified_at = None
    membership.verified_by_id = None
    membership.household_id = None
    HouseholdMember.query.filter_by(user_id=membership.user_id).filter(
        HouseholdMember.household_id.in_(
            db.session.query(Household.id).filter_by(community_id=membership.community_id))
    ).update({"user_id": None}, synchronize_session=False)
    from core.services import persons

    persons.unlink_account(membership.community_id, membership.user_id)
    audit.record("membership.unverified", community=membership.community, obj=membership, actor=actor,
                 before=before, reason=reason)


def set_roles(membership, roles, actor, building=None, grid=None):
    """Give a member their roles (the whole list); shared by the member page, the API and the
    command line.

    A role is always someone else's act: nobody changes their own roles. A community admin or a
    site administrator gives and takes away every role; other staff only the resident-level ones
    (permissions.grantable_roles): the mediator role (confidential mediation cases), staff and
    admin, and any role a module's permission opens beyond staff, need an admin. The last
    community admin keeps the role. ``actor`` None is the operator at the command line. Every
    change is audited with the roles and places before and after."""
    from core.errors import Forbidden
    from core.permissions import ROLES, grantable_roles

    community = membership.community
    if actor is not None and actor.id == membership.user_id:
        raise Forbidden("own_roles",
                        _("You cannot change your own roles; ask another staff member or a community administrator."))
    if actor is not None and not grantable_roles(actor, community):
        raise Forbidden("forbidden", _("You do not have permission to do this."))
    if not isinstance(roles, (list, tuple, set)) or not all(isinstance(r, str) for r in roles):
        roles = [None]  # not a list of role names: refused below like an unknown role
    roles = [r for r in roles if r != ""]
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ServiceError("invalid_roles", _("Choose at least one known role."),
                           fields={"roles": _("Choose at least one known role.")})
    if "building_head" in roles and building is None:
        raise ServiceError("building_required", _("A building head needs a building."),
                           fields={"building_id": _("Choose a building.")})
    if "grid_worker" in roles and grid is None:
        raise ServiceError("grid_required", _("A grid worker needs a grid."),
                           fields={"grid_id": _("Choose a grid.")})
    for place in (building, grid):
        if place is not None and place.community_id != membership.community_id:
            raise ServiceError("invalid_place", _("Choose a place in this community."))
    before = _roles_state(membership)
    new_roles = [r for r in ROLES if r in set(roles)]
    after = {"roles": new_roles,
             "building_id": building.id if building is not None and "building_head" in roles else None,
             "grid_id": grid.id if grid is not None and "grid_worker" in roles else None}
    if after == before:
        return membership
    changed = set(before["roles"]) ^ set(new_roles)
    refused = sorted(changed - set(grantable_roles(actor, community)), key=ROLES.index)
    if refused:
        from core.permissions import ROLE_LABELS

        raise Forbidden("admin_only_role", _("Only a community administrator can give or take away the role %(roles)s.",
                                             roles=", ".join(str(ROLE_LABELS[r]) for r in refused)),
                        fields={"roles": _("Only a community administrator can change this role.")})
    if "admin" in before["roles"] and "admin" not in new_roles:
        _lock_roles_of(community)
        others = db.session.query(Membership.roles).filter(
            Membership.community_id == community.id, Membership.id != membership.id,
            Membership.roles.like("%admin%")).all()
        if not any("admin" in held.split(",") for (held,) in others):
            raise Conflict("last_admin",
                           _("This is the community's last administrator: make someone else administrator first."),
                           fields={"roles": _("The community needs an administrator.")})
    membership.set_roles(new_roles)
    membership.building_id, membership.grid_id = after["building_id"], after["grid_id"]
    audit.record("membership.roles_changed", community=community, obj=membership, actor=actor,
                 before=before, after=after)
    return membership


def _roles_state(membership):
    return {"roles": membership.role_list, "building_id": membership.building_id, "grid_id": membership.grid_id}


def _lock_roles_of(community):
    """Take the community's row lock before counting its admins, so that two admins taking the
    role from each other at the same moment cannot leave it with none (FOR UPDATE on PostgreSQL;
    on SQLite the first write of a transaction takes the database's write lock)."""
    from sqlalchemy import select, update

    from core.models import Community

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Community.id).where(Community.id == community.id).with_for_update())
    else:
        db.session.execute(update(Community).where(Community.id == community.id)
                           .values(config_version=Community.config_version)
                           .execution_options(synchronize_session=False))
