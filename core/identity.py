"""Identity documents (身份证件): the kinds a 社区 office accepts, their check, and their masked form.

A resident identity card number (居民身份证号码, GB 11643-1999) has 17 digits and a check
character computed from them; other documents are checked only for their shape. Lists and
answers that are not the holder's own document show the masked form (last four characters)."""
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import ServiceError

ID_TYPES = {
    "resident_id": _l("Resident identity card"),
    "hk_macao": _l("Hong Kong or Macao resident permit"),
    "taiwan": _l("Taiwan resident permit"),
    "foreign_permanent": _l("Foreign permanent resident ID card"),
    "passport": _l("Passport"),
}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def resident_id_is_valid(number: str) -> bool:
    """GB 11643-1999: 17 digits, a real date of birth at positions 7–14, then the check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    return _CHECK[sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS)) % 11] == number[17]


def normalise(id_type, number, field="id_number"):
    """(type, number) cleaned and checked; (None, None) when both are empty. Raises ServiceError."""
    if id_type in (None, "") and number in (None, ""):
        return None, None
    id_type = id_type.strip() if isinstance(id_type, str) else None
    number = "".join(number.split()).upper() if isinstance(number, str) else ""
    if id_type not in ID_TYPES:
        raise ServiceError("invalid_id_type", _("Choose the kind of identity document."),
                           fields={"id_type": _("Choose the kind of identity document.")})
    if id_type == "resident_id":
        ok = resident_id_is_valid(number)
    else:
        ok = 5 <= len(number) <= 30 and number.isascii() and number.replace("-", "").isalnum()
    if not ok:
        msg = _("This is not a valid number for that document; check it against the document.")
        raise ServiceError("invalid_id_number", msg, fields={field: msg})
    return id_type, number


def masked(number) -> str:
    """The last four characters, the rest hidden: ``**************123X``."""
    if not number:
        return ""
    return "*" * max(len(number) - 4, 0) + number[-4:]


def type_label(id_type) -> str:
    return str(ID_TYPES.get(id_type, "")) if id_type else ""
