"""Passwords: the policy (ASVS V6: length, no composition rules, not a common password) and
the hash."""
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

# Common passwords (ASVS V6.2.4): the 30,000 most common passwords of the zxcvbn package (MIT),
# loaded once on first use, plus passwords common in China that its list lacks.
CHINESE_COMMON_PASSWORDS = frozenset(
    """123456 5201314 1314520 woaini woaini1314 woaini520 wo5201314 5201314a 52013141314 woaini521
    qq123456 qq5201314 a123456 a5201314 aa123456 a1234567 abc12345 abc123456 dearbook xiazhili
    110110110 119119119 asdasdasd aaaaaaaa qqqqqqqq zzzzzzzz 1234512345 147258369 159357258 123456987
    88888888 66666666 99999999 00000000 11111111 168168168 518518518 888888888 666666666
    iloveyou1314 ilove5201314 zhang123456 wang123456 li123456 liu123456 chen123456 zhangwei
    wangwei123 admin123 admin888 root1234 a11111111 q1w2e3r4 qwer1234 asd123456 zxc123456
    woshishui 1qaz2wsx3edc 12qwaszx 741852963 789456123 123321123 321321321 zxcvbnm123""".split()
)
_common = None


def common_passwords():
    """The set of refused common passwords, lowercased (read from zxcvbn on first use)."""
    global _common
    if _common is None:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        _common = frozenset(w.lower() for w in FREQUENCY_LISTS["passwords"]) | CHINESE_COMMON_PASSWORDS
    return _common


def hash_password(password):
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


_dummy = {}


def dummy_hash():
    """A hash to check against when the account does not exist, so timing does not tell."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy:
        _dummy[method] = generate_password_hash("not-a-real-password", method=method)
    return _dummy[method]


def check_password_policy(password: str, login: str = ""):
    """Return a translated problem with ``password`` or None (ASVS V6: length, no composition rules)."""
    if len(password) < 8:
        return _("Use at least 8 characters.")
    if len(password) > 128:
        return _("Use at most 128 characters.")
    if password.lower() in common_passwords() or (login and password.lower() == login.lower()):
        return _("This password is too easy to guess; choose another.")
    return None
