"""Language choice and locale-aware formatting (dates, numbers, areas)."""
import os
import re
from decimal import Decimal

from babel.dates import get_datetime_format
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, format_time, get_locale
from flask_login import current_user
from markupsafe import Markup, escape

# Babel knows zh_Hans_CN / zh_Hant_TW; our catalog folders use the short script names.
LOCALE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}


def select_locale():
    """The user's choice, then the session's, then the browser's, then the community's default."""
    langs = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line: LINLI_LANG, then LANG (zh_CN.UTF-8, en_US, ...)
        env = (os.environ.get("LINLI_LANG") or os.environ.get("LANG") or "").split(".")[0].lower()
        if env.startswith("zh"):
            return "zh_Hant" if any(t in env for t in ("hant", "tw", "hk", "mo")) else "zh_Hans"
        return "en" if env.startswith("en") or env in ("c", "posix", "") else current_app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in langs:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in langs:
        return chosen
    header = request.accept_languages if request else None
    if header:
        for value, _q in header:
            v = value.replace("-", "_").lower()
            if v.startswith("zh"):
                if any(t in v for t in ("hant", "tw", "hk", "mo")):
                    return "zh_Hant"
                return "zh_Hans"
            if v.startswith("en"):
                return "en"
    community = g.get("community")
    if community is not None and community.default_locale in langs:
        return community.default_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    """Pages show times in the community's zone (core.dates), the site's outside a community."""
    from core.dates import zone

    return zone().key


def fmt_datetime(value, fmt="medium"):
    """A moment in the locale's format. The long forms name no zone ('+0800' inside a date reads as
    a typo on a printed notice): every time shown is in the community's zone (core.dates)."""
    if value is None:
        return ""
    if fmt in ("long", "full"):
        pattern = get_datetime_format(fmt, locale=get_locale()).replace("'", "")
        return pattern.replace("{1}", format_date(value, fmt)).replace("{0}", format_time(value, "short"))
    return format_datetime(value, fmt)


def fmt_date(value, fmt="medium"):
    """A calendar date (a ``date``, not a moment) in the locale's format."""
    return format_date(value, fmt) if value is not None else ""


def fmt_area(value):
    """A floor area with two decimals and the unit, e.g. 89.50 m²."""
    if value is None:
        return ""
    return f"{format_decimal(Decimal(value), format='#,##0.00')} m²"


def fmt_number(value):
    return format_decimal(value)


# A number, date, time, amount or code inside running text: -10, +40, 3/5, 2026-12-14, 14:30, 2026-0001.
_NUMBER_RUN = re.compile(r"[-+\u2212]?\d[\d.,:/\-]*\d%?|[-+\u2212]\d")
_TAG_OR_ENTITY = re.compile(r"(<[^>]*>|&#?\w+;)")


def nobreak(value):
    """``value`` as HTML, each number-like run in it kept on one line (a browser breaks
    "2026-12-14" after a hyphen, which large text on a phone makes likely). Plain text is escaped
    first; in Markup only the text between tags is touched."""
    html = str(escape(value))
    parts = _TAG_OR_ENTITY.split(html)
    for i in range(0, len(parts), 2):  # the even parts are text, the odd ones tags and entities
        parts[i] = _NUMBER_RUN.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', parts[i])
    return Markup("".join(parts))  # nosec B704  (built from escape(value); only spans added around text)


def html_lang():
    loc = str(get_locale() or "zh_Hans")
    return {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant"}.get(loc, loc.replace("_", "-"))
