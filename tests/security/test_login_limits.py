"""Failed sign-ins (issue 16, item 12): counted per account and address in the database, so a
stranger guessing a resident's password locks only their own address out, never the resident;
a slower per-account limit stops a guesser with many addresses from retrying on the ones that
failed, without blocking an address that has not (core/services/login_limits.py)."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from core import create_app
from core.config import ConfigError
from core.extensions import db
from core.models import utcnow
from tests.conftest import PASSWORD
from tests.security.figures import add

MESSAGES = {"zh-CN": "密码错误次数过多", "zh-TW": "密碼錯誤次數過多", "en": "Too many wrong passwords"}


def attempt(app, login, password, address, language="zh-CN"):
    c = app.test_client()
    return c.post("/auth/login", data={"login": login, "password": password},
                  environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": language})


def test_a_stranger_failing_locks_their_own_address_not_the_owner(app, world):
    stranger = [attempt(app, "resident", f"guess-{i}-pw", "203.0.113.7").status_code for i in range(20)]
    assert stranger[:5] == [200] * 5  # the form again, "not right"
    assert stranger[5:] == [429] * 15  # then refused without a password check
    # the stranger's address is locked for this account, even with the right password ...
    r = attempt(app, "resident", PASSWORD, "203.0.113.7")
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 15 * 60
    # ... and told why, in the visitor's language
    for language, words in MESSAGES.items():
        page = attempt(app, "resident", "guess-pw", "203.0.113.7", language).get_data(as_text=True)
        assert words in page, language
    # the owner, from home, signs in at once; and the stranger may still sign in to their own account
    assert attempt(app, "resident", PASSWORD, "198.51.100.20").status_code == 302
    assert attempt(app, "resident2", PASSWORD, "203.0.113.7").status_code == 302
    # only the five failures were counted, in the database, for this account and address
    from core.models import LoginFailure

    assert LoginFailure.query.filter_by(account=f"u:{world.resident.id}", address="203.0.113.7").count() == 5
    add("failed sign-ins tried", 24)


def test_the_lock_ends_with_its_window_and_a_success_forgets_the_address(app, world):
    for i in range(5):
        attempt(app, "resident", f"guess-{i}-pw", "203.0.113.8")
    assert attempt(app, "resident", PASSWORD, "203.0.113.8").status_code == 429
    from core.models import LoginFailure

    db.session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    assert attempt(app, "resident", PASSWORD, "203.0.113.8").status_code == 302  # 15 minutes later
    for i in range(4):
        attempt(app, "resident", f"typo-{i}-pw", "203.0.113.9")
    assert attempt(app, "resident", PASSWORD, "203.0.113.9").status_code == 302  # the owner's typos ...
    for i in range(4):  # ... are forgotten once they get in
        assert attempt(app, "resident", f"typo-{i}-pw", "203.0.113.9").status_code == 200
    assert attempt(app, "resident", PASSWORD, "203.0.113.9").status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_ACCOUNT_LIMIT": "12 per hour"}])
def test_the_slower_account_limit_stops_many_addresses_but_not_a_new_one(app, world):
    # a guesser with four addresses, three tries each: twelve failures reach the account limit
    for n in range(4):
        for i in range(3):
            assert attempt(app, "resident", f"guess-{n}-{i}", f"192.0.2.{n + 1}").status_code == 200
    # every address that failed is now refused for this account, even with the right password
    for n in range(4):
        assert attempt(app, "resident", PASSWORD, f"192.0.2.{n + 1}").status_code == 429
    # an address that has not failed signs in with the right password (the owner) ...
    assert attempt(app, "resident", PASSWORD, "198.51.100.30").status_code == 302
    # ... and a new address gets one try, then it too is refused
    assert attempt(app, "resident", "another-guess", "192.0.2.99").status_code == 200
    assert attempt(app, "resident", "another-guess", "192.0.2.99").status_code == 429
    assert attempt(app, "resident2", PASSWORD, "192.0.2.1").status_code == 302  # other accounts: as before


def test_the_count_is_shared_by_every_worker(app, world, extra_app):
    """Two app instances (two gunicorn workers, or two servers) on one database: the failures
    made on either count together (an in-process counter would give each its own five)."""
    other = extra_app()
    for i in range(3):
        assert attempt(app, "resident", f"guess-{i}-pw", "203.0.113.10").status_code == 200
    for i in range(2):
        assert attempt(other, "resident", f"guess-x{i}-pw", "203.0.113.10").status_code == 200
    assert attempt(app, "resident", PASSWORD, "203.0.113.10").status_code == 429
    assert attempt(other, "resident", PASSWORD, "203.0.113.10").status_code == 429
    assert attempt(other, "resident", PASSWORD, "203.0.113.11").status_code == 302


def test_a_login_no_account_has_is_locked_the_same_way(app, world):
    """Locking says nothing about which accounts exist."""
    unknown = [attempt(app, "nobody-here", f"guess-{i}-pw", "203.0.113.12") for i in range(6)]
    known = [attempt(app, "resident", f"guess-{i}-pw", "203.0.113.13") for i in range(6)]
    assert [r.status_code for r in unknown] == [r.status_code for r in known] == [200] * 5 + [429]
    assert unknown[-1].get_data(as_text=True).count("密码错误次数过多") == 1
    assert known[-1].get_data(as_text=True).count("密码错误次数过多") == 1


def test_an_ipv6_address_counts_by_its_64_prefix(app, world):
    for i in range(5):
        attempt(app, "resident", f"guess-{i}-pw", f"2001:db8:1:2::{i + 1:x}")
    assert attempt(app, "resident", PASSWORD, "2001:db8:1:2:ffff::9").status_code == 429  # same /64
    assert attempt(app, "resident", PASSWORD, "2001:db8:1:3::1").status_code == 302  # another network


def test_login_limits_are_checked_at_start_up(tmp_path):
    def build(**config):
        return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite",
                           "SECRET_KEY": "x", **config}, plugins=[])

    for bad in ({"LOGIN_LOCK": "often"}, {"LOGIN_ACCOUNT_LIMIT": "0 per hour"}, {"LOGIN_LOCK": None}):
        with pytest.raises(ConfigError) as err:
            build(**bad)
        assert next(iter(bad)) in str(err.value)
    assert build(LOGIN_LOCK="3 per 10 minutes").config["LOGIN_LOCK"] == "3 per 10 minutes"
