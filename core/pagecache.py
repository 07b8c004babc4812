"""Whole-page cache for pages seen by visitors who are not logged in (issue 8).

A community's public pages (proposal list and detail, ballot results, meetings, the catalogue,
...) are the same for every anonymous visitor with the same language and display settings, except
for the CSRF token in the page's forms. Such a page is rendered once with a placeholder for the
token and kept in memory, keyed by

* the path with its query string,
* what the page depends on besides the data: the Accept-Language header and the session's
  choices (language, large text), and
* the **content version**, which every committed write that changes a page bumps (storage's:
  core/db/version.py, as is what a log is).

Every request reads the version (one indexed single-row SELECT), so a write made in any worker or
on any server shows on the very next request everywhere; an entry also expires after
``PAGE_CACHE_SECONDS`` (default 15) so that what changes with the clock alone (a ballot's
deadline passing, "open over one month") is never older than that. When a page is served, from
the cache or freshly rendered, the placeholder is replaced by the visitor's own CSRF token.

The same cache answers the API's GET requests made without a token (``/api/v1/c/...``): the API
ignores cookies, so every caller without a token gets the same JSON; the key is the path with its
query string, the Accept-Language header (error messages and labels) and the content version, and
the view's own headers (a download's file name) are kept with the body.

Never cached: logged-in users (their name, notifications, own votes and roles are on every
page; except one view's pages for its own user, ``per_user``), API requests with a token, a session holding flash messages, anything but a 200 HTML (or,
for the API, JSON) answer, a request that wrote anything (even an access log, which bumps no
version), and any page whose rendering asked for a real CSRF token itself (a form rendered with
``hidden_tag()``) or wrote to the session.

Headers: such a page is sent with ``Cache-Control: private, no-cache`` and the token-less API's
JSON with ``no-cache`` (``public_cache_control``); every other answer gets ``no-store`` (core.web).

Settings: ``PAGE_CACHE`` (default True), ``PAGE_CACHE_SECONDS`` (15), ``PAGE_CACHE_BYTES`` (8 MB of
pages per worker, least recently used dropped first).

On ``g`` for the request, this module's own: ``_page_cache_key`` (the key of a page being
rendered for the cache), ``_page_cache_placeholder`` (its CSRF placeholder was used); a
``per_user`` view's ``page_cache_meta`` (kept with its page, given to ``on_hit``).
"""
import secrets
import time
from collections import OrderedDict
from functools import wraps
from threading import Lock

from flask import abort, current_app, g, request, session
from flask_login import current_user

from core.db.version import current_version, wrote_in_request

MARKER = "linli-csrf-" + secrets.token_hex(12)  # never appears in real content


# ── the cache ───────────────────────────────────────────────────────────────────────────
class PageCache:
    """An LRU of rendered pages in this worker, bounded by total size."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.size = 0
        self.items = OrderedDict()
        self.renewing = {}
        self.lock = Lock()

    def get(self, key, max_age):
        """The entry for ``key`` if younger than ``max_age`` seconds. An older one is renewed by
        the first request that finds it (a miss); requests arriving while that one renders get
        the old entry for up to ``max_age`` more seconds instead of all rendering it at once.
        (Age only matters for what changes with the clock: a write changes the key itself.)"""
        now = time.monotonic()
        with self.lock:
            item = self.items.get(key)
            if item is None:
                return None
            age = now - item[0]
            if age > max_age:
                if age > 2 * max_age or key not in self.renewing:
                    self.renewing[key] = now
                    return None
            self.items.move_to_end(key)
            return item

    def put(self, key, body, mimetype, headers=()):
        with self.lock:
            self.renewing.pop(key, None)
            if key in self.items:
                self._drop(key)
            self.items[key] = (time.monotonic(), body, mimetype, headers)
            self.size += len(body)
            while self.size > self.max_bytes and self.items:
                self._drop(next(iter(self.items)))

    def _drop(self, key):
        self.renewing.pop(key, None)
        item = self.items.pop(key)
        self.size -= len(item[1])


def _is_api():
    return request.path.startswith("/api/v1/c/")


def _eligible(app):
    if request.method != "GET" or "Authorization" in request.headers:
        return False
    if _is_api():  # the API ignores cookies: without a token every caller gets the same answer
        return True
    if not request.path.startswith("/c/"):
        return False
    if app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return False
    return "_user_id" not in session and "_flashes" not in session


def _key(version):
    if _is_api():
        return (request.full_path, request.headers.get("Accept-Language", ""), "api", version)
    extra = tuple(sorted((k, repr(v)) for k, v in session.items() if k not in ("csrf_token", "_permanent",
                                                                             "_fresh", "_id")))
    return (request.full_path, request.headers.get("Accept-Language", ""), extra, version)


_NOT_KEPT = {"Content-Type", "Content-Length", "Set-Cookie", "Vary"}


def public_cache_control(resp):
    """The Cache-Control header of an answer every visitor gets alike (an anonymous visitor's
    community page, the API without a token: what this cache may answer), or None for anything
    else, which core.web marks "no-store". A page holds the visitor's own CSRF token, so only the
    visitor's browser may keep it ("private"); and any write may change it, so it is asked for
    again each time ("no-cache"). The token-less API's JSON is the same for everyone."""
    if resp.status_code != 200 or not _eligible(current_app):
        return None
    return "no-cache" if _is_api() else "private, no-cache"


def csrf_token():
    """The template's ``csrf_token()``: the placeholder while a cacheable page is rendered."""
    if g.get("_page_cache_key") is not None:
        g._page_cache_placeholder = True
        return MARKER
    from flask_wtf.csrf import generate_csrf

    return generate_csrf()


def _with_token(body):
    from flask_wtf.csrf import generate_csrf

    return body.replace(MARKER.encode(), generate_csrf().encode())


def per_user(check, on_hit=None):
    """Keep the pages a logged-in user was shown by a view, for that user alone (a mediator's case
    list: many rows, reloaded all day). The key is the session's user and its session version
    (Flask-Login's ``_user_id``, ``"<id>:<session_version>"``), the path with its query string,
    the language, the session's display choices and the content version, so a write anywhere (a
    new case, a notification for this user, a change of role) shows on the next request; a page
    is also renewed after ``PAGE_CACHE_SECONDS`` for what changes with the clock (overdue cases).

    **The safety rule.** A hit is answered like an anonymous visitor's, by ``serve_cached``, before
    the community, the user or the view's login and permission checks are loaded. This decorator
    is the only way a per-user page is served so, and it is safe only because:

    * ``check`` (the view's access check, e.g. ``member_required``) is applied here, inside, so
      that a page is kept only after the check passed for this user at this content version (a
      view whose checks sit outside this decorator would keep pages nobody checked); and
    * the check depends only on versioned state: rows whose every change is a write that bumps
      the content version (a session ended, a password changed, an account deactivated, a
      membership ended or a role taken away, a module switched off, a setting changed: none is a
      table declared ``core.db.logs_only``), so the same key means the check would pass again.
      A check that reads the clock or anything outside the database must not be cached here.

    The view may set ``g.page_cache_meta`` to something it needs again on a hit; ``on_hit(meta,
    user_id)`` runs for every answer from the cache (the case list logs each read of its cases). A
    page is not kept when the session holds flash messages, when the rendering asked for a real
    CSRF token (``hidden_tag()``) or wrote to the session, or when the view returned anything but
    a page."""

    def deco(view):
        view = check(view)

        @wraps(view)
        def wrapped(*args, **kwargs):
            app = current_app
            identity = _cacheable_identity()
            if not app.config.get("PAGE_CACHE", True) or identity is None:
                return view(*args, **kwargs)
            # A hit was answered before the community was loaded (serve_cached); here a miss.
            cache = app.extensions["linli.page_cache"]
            key = _user_key(identity, current_version())
            g._page_cache_key = key  # csrf_token() now renders the placeholder
            try:
                rv = view(*args, **kwargs)
            finally:
                g.pop("_page_cache_key", None)
            placeholder = g.pop("_page_cache_placeholder", False)
            if not isinstance(rv, str):
                return rv
            body = rv.encode()
            # Kept only for the user the checks passed for (not a session whose user failed to load).
            if (placeholder and "csrf_token" not in g and not session.modified and current_user.is_authenticated
                    and current_user.get_id() == identity):
                cache.put(key, body, "text/html", g.pop("page_cache_meta", None))
            return _with_token(body).decode() if placeholder else rv

        wrapped.page_cache_on_hit = on_hit or (lambda _meta, _user_id: None)
        return wrapped

    return deco


def _user_key(identity, version):
    return ("user", identity, *_key(version))


def _cacheable_identity():
    """The session's ``_user_id`` when this request may be answered from (or kept in) a user's
    own cache: a GET, no flash messages waiting, a logged-in session. Otherwise None."""
    identity = session.get("_user_id")
    if request.method != "GET" or "_flashes" in session or not isinstance(identity, str):
        return None
    return identity


def _serve_per_user(app, cache, on_hit):
    """A page of a ``per_user`` view from the cache, answered like an anonymous one: before the
    community, the user or anything else is loaded (the version alone is read). The view's
    ``on_hit(meta, user_id)`` runs first (the case list logs the read)."""
    identity = _cacheable_identity()
    if identity is None:
        return
    item = cache.get(_user_key(identity, current_version()), app.config.get("PAGE_CACHE_SECONDS", 15))
    if item is None:
        return
    on_hit(item[3], int(identity.split(":", 1)[0]))
    resp = app.response_class(_with_token(item[1]), mimetype=item[2])
    resp.headers["X-Linli-Cache"] = "hit"
    abort(resp)


def init_app(app):
    cache = app.extensions["linli.page_cache"] = PageCache(app.config.get("PAGE_CACHE_BYTES", 8 * 1024 * 1024))
    # Flask-WTF puts its csrf_token() in every template's context; ours comes later and wins.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})

    @app.url_value_preprocessor
    def serve_cached(_endpoint, _values):
        # The app's URL preprocessors run first of all, before the community is looked up and
        # the plugins' switches are read: a hit costs the one SELECT of the version. (A
        # preprocessor cannot return a response; abort() with one is Flask's way to answer.)
        if request.endpoint is None or not app.config.get("PAGE_CACHE", True):
            return
        on_hit = getattr(app.view_functions.get(request.endpoint), "page_cache_on_hit", None)
        if on_hit is not None:
            return _serve_per_user(app, cache, on_hit)
        if not _eligible(app):
            return
        key = _key(current_version())
        item = cache.get(key, app.config.get("PAGE_CACHE_SECONDS", 15))
        if item is None:
            g._page_cache_key = key
            return
        body = item[1] if _is_api() else _with_token(item[1])
        resp = current_app.response_class(body, mimetype=item[2])
        for name, value in item[3]:
            resp.headers[name] = value
        resp.headers["X-Linli-Cache"] = "hit"
        abort(resp)

    @app.after_request
    def store(resp):
        key = g.pop("_page_cache_key", None)
        if key is not None and _is_api():
            if (resp.status_code == 200 and resp.mimetype == "application/json" and not wrote_in_request()
                    and "Set-Cookie" not in resp.headers):
                cache.put(key, resp.get_data(), resp.mimetype,
                          tuple((k, v) for k, v in resp.headers.items() if k not in _NOT_KEPT))
            return resp
        if key is None or not g.pop("_page_cache_placeholder", False):
            return resp
        body = resp.get_data()
        if (resp.status_code == 200 and resp.mimetype == "text/html" and "Set-Cookie" not in resp.headers
                and not session.modified and "csrf_token" not in g and not wrote_in_request()):
            cache.put(key, body, resp.mimetype)
        resp.set_data(_with_token(body))
        return resp
