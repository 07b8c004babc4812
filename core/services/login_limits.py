"""Failed sign-ins, counted in the database so that every worker and every server sees the same
counts (issue 16, item 12). A stranger guessing a resident's password must not lock the resident
out, so nothing here locks an account as such:

* **per account and address** (``LOGIN_LOCK``, default 5 failures in 15 minutes): the address
  that failed is refused for that account, even with the right password, until its failures age
  out of the window;
* **per account** (``LOGIN_ACCOUNT_LIMIT``, default 50 failures in an hour, from all addresses
  together): once reached, every address that has failed for the account within the hour is
  refused for it; an address that has not failed may still sign in with the right password (so
  the owner, at home or on mobile data, still gets in). A guesser then gets one try per new
  address per hour.

An IPv6 address counts by its /64 (one household's or phone's prefix: changing the low bits gives
no new tries). A login no account has is counted by its text, like an account, so locking says
nothing about which accounts exist. The address-wide request limit (``RATELIMIT_LOGIN``,
Flask-Limiter, in core/accounts/views.py) stays on top of this.

Failures are counted before the password is checked and written after it failed, so attempts
made at the very same moment from one address may pass the limit by the number still in flight;
the address-wide request limit bounds that. Rows are kept no longer than the longer window."""
import ipaddress
from datetime import timedelta

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import and_, case, delete, func, select

from core.config import parse_limit
from core.errors import ServiceError
from core.extensions import db
from core.models import LoginFailure, utcnow


class LoginLocked(ServiceError):
    """Too many failed sign-ins for this account from this address; ``retry_after`` in seconds."""

    status = 429

    def __init__(self, message, retry_after):
        super().__init__("login_locked", message)
        self.retry_after = retry_after


def _limits():
    config = current_app.config
    return (parse_limit("LOGIN_LOCK", config["LOGIN_LOCK"]),
            parse_limit("LOGIN_ACCOUNT_LIMIT", config["LOGIN_ACCOUNT_LIMIT"]))


def address_key(address):
    """The address failures are counted by: IPv4 as it is, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return (address or "?")[:50]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_key(user, login):
    return f"u:{user.id}" if user is not None else "n:" + (login or "").strip().lower()[:45]


def check(account, address):
    """Refuse (``LoginLocked``) a sign-in to ``account`` from ``address`` while it is locked;
    otherwise return whether the address has failures for the account to forget on success."""
    (pair_max, pair_seconds), (account_max, account_seconds) = _limits()
    now = utcnow()
    pair_since, account_since = now - timedelta(seconds=pair_seconds), now - timedelta(seconds=account_seconds)
    here = LoginFailure.address == address
    pair_recent, here_in_hour, in_hour, here_any = db.session.execute(
        select(func.coalesce(func.sum(case((and_(here, LoginFailure.at > pair_since), 1), else_=0)), 0),
               func.coalesce(func.sum(case((and_(here, LoginFailure.at > account_since), 1), else_=0)), 0),
               func.coalesce(func.sum(case((LoginFailure.at > account_since, 1), else_=0)), 0),
               func.coalesce(func.sum(case((here, 1), else_=0)), 0))
        .where(LoginFailure.account == account, LoginFailure.at > min(pair_since, account_since))).one()
    if pair_recent >= pair_max:
        raise _locked(pair_seconds)
    if in_hour >= account_max and here_in_hour:
        raise _locked(account_seconds)
    return bool(here_any)


def _locked(seconds):
    minutes = max(1, -(-seconds // 60))
    return LoginLocked(ngettext(
        "Too many wrong passwords for this account from your network. Please try again in %(num)d minute, "
        "or sign in from another network (for example your phone's mobile data).",
        "Too many wrong passwords for this account from your network. Please try again in %(num)d minutes, "
        "or sign in from another network (for example your phone's mobile data).", minutes), seconds)


def record_failure(account, address):
    """Count a failed sign-in (in the caller's transaction, which commits it although the sign-in
    fails: ``authenticate`` answers None, it raises nothing) and drop failures older than both windows."""
    (_pm, pair_seconds), (_am, account_seconds) = _limits()
    now = utcnow()
    db.session.add(LoginFailure(account=account, address=address, at=now))
    db.session.execute(delete(LoginFailure).where(
        LoginFailure.at < now - timedelta(seconds=max(pair_seconds, account_seconds))))


def forget(account, address):
    """A successful sign-in from ``address``: its failures for ``account`` no longer count."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.account == account, LoginFailure.address == address))
