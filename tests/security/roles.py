"""Roles of the access matrix and shorthands for declaring expected answers.

An access declaration maps an endpoint (``"c.proposals.detail"``) or a method and an endpoint
(``"POST auth.account"``) to ``{role: {statuses}}``. Statuses are HTTP codes, except that a page's
redirect to the login page is written ``401`` (the same as the API's "send a token").

Plugins import these from ``tests.security.roles`` in ``tests/plugins/<name>/access.py``."""

ROLES = ("anonymous", "unverified", "resident", "building_head", "grid_worker", "mediator", "staff", "admin",
         "outsider")
MEMBERS = ("unverified", "resident", "building_head", "grid_worker", "mediator", "staff", "admin")
VERIFIED = ("resident", "building_head", "grid_worker", "staff", "admin")  # linked to a household
STAFF = ("staff", "admin")

LOGIN = {401}
DENIED = {403}
GONE = {404}
OK = {200}


def matrix(default, **overrides):
    """Every role answers ``default`` unless named: matrix(DENIED, staff=OK, admin=OK)."""
    unknown = set(overrides) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return {role: set(overrides.get(role, default)) for role in ROLES}


def only(roles, allowed, denied=DENIED, anonymous=LOGIN, outsider=None):
    """``roles`` get ``allowed``; other logged-in roles ``denied``; the anonymous user ``anonymous``;
    the member of another community ``outsider`` (default: as ``denied``)."""
    result = {role: set(allowed if role in roles else denied) for role in ROLES}
    result["anonymous"] = set(anonymous)
    result["outsider"] = set(denied if outsider is None else outsider)
    return result


def public(answer=OK):
    """Everyone, logged in or not, gets ``answer``."""
    return matrix(answer)


def logged_in(answer, anonymous=LOGIN):
    """Any logged-in user (of any community) gets ``answer``."""
    return matrix(answer, anonymous=anonymous)
