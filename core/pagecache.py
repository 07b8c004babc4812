"""Whole-page cache for pages seen by visitors who are not logged in (issue 8).

A community's public pages (proposal list and detail, ballot results, meetings, the catalogue,
...) are the same for every anonymous visitor with the same language and display settings, except
for the CSRF token in the page's forms. Such a page is rendered once with a placeholder for the
token and kept in memory, keyed by

* the path with its query string,
* what the page depends on besides the data: the Accept-Language header and the session's
  choices (language, large text), and
* the **content version**: a counter in the database (table ``content_version``) that every
  committed write bumps *in the same transaction* (the session events below).

Every request reads the version (one indexed single-row SELECT), so a write made in any worker or
on any server shows on the very next request everywhere; an entry also expires after
``PAGE_CACHE_SECONDS`` (default 15) so that what changes with the clock alone (a ballot's
deadline passing, "open over one month") is never older than that. When a page is served, from
the cache or freshly rendered, the placeholder is replaced by the visitor's own CSRF token.

Never cached: logged-in users (their name, notifications, own votes and roles are on every
page), API requests, a session holding flash messages, anything but a 200 HTML answer, and any
page whose rendering asked for a real CSRF token itself (a form rendered with ``hidden_tag()``)
or wrote to the session.

Settings: ``PAGE_CACHE`` (default True), ``PAGE_CACHE_SECONDS`` (15), ``PAGE_CACHE_BYTES`` (8 MB of
pages per worker, least recently used dropped first).

Writes that do not change what a page shows can be declared neutral with a class attribute
``__page_cache_neutral__ = True`` on the model (the mediation access log: every read of the case
list writes one).
"""
import secrets
import time
from collections import OrderedDict
from threading import Lock

from flask import abort, current_app, g, request, session
from flask_sqlalchemy.session import Session
from sqlalchemy import event, text

MARKER = "linli-csrf-" + secrets.token_hex(12)  # never appears in real content
READ = text("SELECT n FROM content_version WHERE id = 1")
BUMP = text("INSERT INTO content_version (id, n) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET n = content_version.n + 1")
FLAG = "linli_content_changed"


# ── the content version ─────────────────────────────────────────────────────────────────
def _changes_content(objects):
    return any(not getattr(type(o), "__page_cache_neutral__", False) for o in objects)


def _after_flush(session, _ctx):
    if _changes_content(session.new) or _changes_content(session.dirty) or _changes_content(session.deleted):
        session.info[FLAG] = True


def _before_commit(session):
    changed = session.info.pop(FLAG, False) or _changes_content(session.new) or \
        _changes_content(session.dirty) or _changes_content(session.deleted)
    if changed:
        session.execute(BUMP)
        session.info.pop(FLAG, None)


def _on_execute(state):
    if state.is_select or state.statement is BUMP or state.statement is READ:
        return
    mapper = state.bind_mapper
    if mapper is not None and getattr(mapper.class_, "__page_cache_neutral__", False):
        return
    state.session.info[FLAG] = True


def _forget(session, *_args):
    session.info.pop(FLAG, None)


def listen():
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_rollback", _forget)


def current_version():
    """The content version now (0 before the first write)."""
    from core.extensions import db

    return db.session.execute(READ).scalar() or 0


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

    def put(self, key, body, mimetype):
        with self.lock:
            self.renewing.pop(key, None)
            if key in self.items:
                self._drop(key)
            self.items[key] = (time.monotonic(), body, mimetype)
            self.size += len(body)
            while self.size > self.max_bytes and self.items:
                self._drop(next(iter(self.items)))

    def _drop(self, key):
        self.renewing.pop(key, None)
        item = self.items.pop(key)
        self.size -= len(item[1])


def _eligible(app):
    if request.method != "GET" or not request.path.startswith("/c/") or "Authorization" in request.headers:
        return False
    if app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return False
    return "_user_id" not in session and "_flashes" not in session


def _key(version):
    extra = tuple(sorted((k, repr(v)) for k, v in session.items() if k not in ("csrf_token", "_permanent",
                                                                             "_fresh", "_id")))
    return (request.full_path, request.headers.get("Accept-Language", ""), extra, version)


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


def init_app(app):
    listen()
    cache = app.extensions["linli.page_cache"] = PageCache(app.config.get("PAGE_CACHE_BYTES", 8 * 1024 * 1024))
    # Flask-WTF puts its csrf_token() in every template's context; ours comes later and wins.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})

    @app.url_value_preprocessor
    def serve_cached(_endpoint, _values):
        # The app's URL preprocessors run first of all, before the community is looked up and
        # the plugins' switches are read: a hit costs the one SELECT of the version. (A
        # preprocessor cannot return a response; abort() with one is Flask's way to answer.)
        if request.endpoint is None or not app.config.get("PAGE_CACHE", True) or not _eligible(app):
            return
        key = _key(current_version())
        item = cache.get(key, app.config.get("PAGE_CACHE_SECONDS", 15))
        if item is None:
            g._page_cache_key = key
            return
        resp = current_app.response_class(_with_token(item[1]), mimetype=item[2])
        resp.headers["X-Linli-Cache"] = "hit"
        abort(resp)

    @app.after_request
    def store(resp):
        key = g.pop("_page_cache_key", None)
        if key is None or not g.pop("_page_cache_placeholder", False):
            return resp
        body = resp.get_data()
        if (resp.status_code == 200 and resp.mimetype == "text/html" and "Set-Cookie" not in resp.headers
                and not session.modified and "csrf_token" not in g):
            cache.put(key, body, resp.mimetype)
        resp.set_data(_with_token(body))
        return resp
