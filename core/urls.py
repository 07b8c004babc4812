"""Where a user-supplied target may send the browser: ``safe_next`` is the one check for every
redirect to a ``next`` field or parameter, or to the referrer (issue 16, item 8)."""
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import g, request, url_for
from werkzeug.urls import iri_to_uri

# Browsers drop tab, CR and LF anywhere in a URL and strip C0 controls and spaces at its ends
# (WHATWG URL standard); "\" counts as "/" in http(s) URLs.
_DROPPED = dict.fromkeys(map(ord, "\t\r\n"))
_ENDS = "".join(map(chr, range(0x21)))
MAX_LENGTH = 2000


def _browser_form(value):
    return value.strip(_ENDS).translate(_DROPPED).replace("\\", "/")


def _is_local_path(value):
    """A path on this site: one "/" first, not followed by another (or "\\"), no scheme, no host."""
    value = _browser_form(value)
    if not value.startswith("/") or value[1:2] in ("/", "\\"):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def _local_path(value):
    """``value`` as a same-site path, or None. Every way a browser could read it must be a path on
    this site: as sent, percent-decoded once, NFKC-folded (a full-width ／ or ＼), and as Werkzeug
    writes it into the Location header."""
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        return None
    path = _browser_form(value)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in path):
        return None  # other control or invisible characters: no page of ours needs them
    decoded = unquote(path)
    forms = (path, decoded, unicodedata.normalize("NFKC", path), unicodedata.normalize("NFKC", decoded),
             iri_to_uri(path))
    return path if all(_is_local_path(f) for f in forms) else None


def home():
    """The community's home page inside a community, else the site's front page."""
    if g.get("community") is not None:
        return url_for("c.community.home")
    return url_for("root.index")


def safe_next(value, fallback=None):
    """Where to redirect for a user-supplied ``value`` (a ``next`` field): ``value`` itself when it
    is a path on this site (tabs, CR/LF and surrounding controls removed, ``\\`` read as ``/``),
    otherwise ``fallback`` or the community's home. Never another site, never a 500."""
    return _local_path(value) or fallback or home()


def safe_referrer(fallback=None):
    """``safe_next`` for the page the request came from: the Referer's path and query when it names
    this host, otherwise ``fallback`` or the community's home."""
    ref = request.referrer
    if not isinstance(ref, str) or len(ref) > MAX_LENGTH:
        return fallback or home()
    parts = urlsplit(ref)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return fallback or home()
    return safe_next(parts.path + ("?" + parts.query if parts.query else ""), fallback)
