"""Phone numbers (手机号): one rule for every field that stores one.

An account's login, a household register entry, a row of the register import and a mediation
party's phone are all mainland Chinese mobile numbers, checked with the ``phonenumbers`` package
(libphonenumber's metadata: the 11 digits and the carriers' prefixes) and stored as the 11 national
digits. Spaces, dashes and a leading +86 / 0086 are accepted and dropped, so "138 1234 5678" and
"+86 13812345678" are the same number. A mistyped number (10 or 12 digits, a prefix no carrier
uses) is refused with a message that says so, never taken for something else (a user name)."""
import re

import phonenumbers
from flask_babel import gettext as _

from core.errors import ServiceError

# What a person types as a phone number: digits with spaces, dashes, dots, brackets, maybe a + first.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+$")
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def looks_like_phone(value) -> bool:
    """True when ``value`` is made of digits (and separators) only: meant as a phone number."""
    return isinstance(value, str) and bool(_PHONE_LIKE.match(value.strip())) and any(c.isdigit() for c in value)


def mobile_number(value):
    """The 11 national digits of the mainland mobile number ``value``, or None when it is not one."""
    if not looks_like_phone(value):
        return None
    try:
        number = phonenumbers.parse(value.strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return None
    national = str(number.national_number)
    return national if len(national) == 11 else None


def phone_problem(value):
    """The translated reason ``value`` is not a mobile number, for forms and import reports."""
    digits = re.sub(r"\D", "", value or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11:
        return _("“%(value)s” is not a mobile number: a mobile number has 11 digits, this one has %(count)s.",
                 value=value, count=len(digits))
    return _("“%(value)s” is not a mobile number in mainland China: check the digits.", value=value)


def normalise_mobile(value, field="phone", required=False):
    """The stored form (11 digits) of a phone field, None when it is empty and not ``required``;
    raises ServiceError("invalid_phone") naming ``field`` otherwise."""
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        if required:
            message = _("Enter a mobile number.")
            raise ServiceError("invalid_phone", message, fields={field: message})
        return None
    number = mobile_number(value)
    if number is None:
        message = phone_problem(value)
        raise ServiceError("invalid_phone", message, fields={field: message})
    return number
