"""One set of rules for what people send: text and whole numbers from web forms, query strings,
JSON bodies and the command line. Every way in applies these, so each refuses the same input with
the same translated message, naming the field, and nothing is saved.

Text. No control character (C0 but tab, LF and CR; DEL; C1), no lone surrogate and no U+FFFE/U+FFFF
anywhere: they cannot be stored (NUL, surrogates), break exports and hide text from readers.
Single-line text (names, titles, phone numbers, logins, reasons, query-string values, command-line
values) takes no tab or line break either; multi-line text (a proposal's body, a comment, minutes,
notes) takes line breaks, CRLF and CR normalised to LF, and tabs.

Whole numbers. An id, page or count is an integer within bounds or absent; anything else is
refused (400, code ``invalid_parameter``), never read as 0 or ignored."""
import re

from flask_babel import gettext as _

from core.errors import ServiceError

# Prose fields of the JSON API: multi-line like the pages' text areas. Every other text field,
# query-string value and command-line value is single-line.
MULTILINE = frozenset({"body", "description", "notes", "minutes", "facts", "terms", "findings", "instructions",
                       "text", "explanation"})
MAX_JSON_DEPTH = 20  # objects and arrays inside each other; the API's deepest body has 3
INT_MAX = 2**31 - 1  # the largest id a PostgreSQL integer column holds

_NEVER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE = re.compile("[\t\n\r]")
_WHOLE = re.compile(r"\s*[+-]?\d{1,18}\s*")


def _shown(field):
    """A field's name fit to show and to send back: a name made of the input itself (a JSON key,
    a query-string key) may hold the very characters refused."""
    return _LINE.sub(" ", _NEVER.sub("\ufffd", str(field)))[:100]


def text_problem(value, multiline=False):
    """Why ``value`` (a str) is refused as text: "invalid" (a control character, a lone surrogate),
    "line" (a tab or line break in single-line text), or None when it is fine."""
    if _NEVER.search(value):
        return "invalid"
    if not multiline and _LINE.search(value):
        return "line"
    return None


def normalise_newlines(value):
    """Multi-line text with every line break as LF (browsers send CRLF)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def text_message(field, problem):
    """The translated refusal of ``problem`` (from ``text_problem``) in the field called ``field``."""
    field = _shown(field)
    if problem == "line":
        return _("“%(field)s” takes a single line: remove the line breaks and tabs.", field=field)
    return _("“%(field)s” contains an invisible control character or a damaged character (often from "
             "copying and pasting). Please remove it and try again.", field=field)


def check_text(value, field, multiline=False):
    """``value`` as checked text (line breaks normalised when ``multiline``); raises ServiceError
    ``invalid_text`` naming ``field``. Anything but a str is returned as it is."""
    if not isinstance(value, str):
        return value
    problem = text_problem(value, multiline)
    if problem:
        message = text_message(field, problem)
        raise ServiceError("invalid_text", message, fields={_shown(field): message})
    return normalise_newlines(value) if multiline else value


def check_values(args, form):
    """Refuse a request whose query string or form has text no field may hold: every query-string
    value is single-line (as is a form's ``next``, a URL), every other form value may have line
    breaks (the form's own check, core.forms.Form, then holds single-line fields to one line);
    ``page`` and ``per_page`` are whole numbers of at least 1 wherever they appear."""
    for multidict, multiline in ((args, False), (form, True)):
        for key, values in multidict.lists():
            check_text(key, key)
            for value in values:
                check_text(value, key, multiline and key != "next")
    for key in ("page", "per_page"):
        for value in args.getlist(key):
            whole_number(value, key, minimum=1, code="invalid_page")


def whole_number(value, field, *, default=None, minimum=0, maximum=INT_MAX, code="invalid_parameter"):
    """``value`` from a query string, form, JSON body or command line as an int. None and "" give
    ``default``; a value that is not a whole number (text, a fraction, true) or lies outside
    ``minimum``..``maximum`` raises ServiceError ``code`` (400) naming ``field``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    field = _shown(field)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (
            isinstance(value, str) and not _WHOLE.fullmatch(value)):
        message = _("“%(field)s” must be a whole number.", field=field)
        raise ServiceError(code, message, fields={field: message})
    number = int(value)
    if not minimum <= number <= maximum:
        message = _("“%(field)s” must be a whole number from %(low)d to %(high)d.", field=field, low=minimum,
                    high=maximum)
        raise ServiceError(code, message, fields={field: message})
    return number


def too_deep(field=None):
    """The refusal of a JSON body nested deeper than ``MAX_JSON_DEPTH`` (in ``field``, if known)."""
    message = _("The request body is nested too deeply (at most %(n)d levels).", n=MAX_JSON_DEPTH)
    return ServiceError("too_deep", message, fields={field: message} if field else None)


def check_json(data):
    """``data`` (a parsed JSON object) checked: nested at most ``MAX_JSON_DEPTH`` deep (``too_deep``)
    and every key and string acceptable text (``invalid_text``); errors name the top-level field.
    Strings of the ``MULTILINE`` fields may have line breaks: they come back normalised to LF.
    Iterative, so a deep body cannot exhaust the stack."""
    stack = [(data, 1, None)]
    while stack:
        node, depth, field = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise too_deep(field)
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            name = field or key
            if isinstance(key, str):
                check_text(key, name)
            if isinstance(child, str):
                check_text(child, name, multiline=depth == 1 and name in MULTILINE)
            elif isinstance(child, (dict, list)):
                stack.append((child, depth + 1, name))
    return {k: normalise_newlines(v) if k in MULTILINE and isinstance(v, str) else v for k, v in data.items()}
