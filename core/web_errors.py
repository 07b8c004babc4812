"""Error pages and answers: one page (or, under /api/, one JSON error) for every HTTP error, a
service's refusal, and a database that is down or refuses writes (core.web)."""
from flask import g, render_template, request
from flask_babel import gettext as _

from core.extensions import db, login_manager


def _wants_json():
    return request.path.startswith("/api/")


def error_pages(app):
    from flask_wtf.csrf import CSRFError

    from core.api import error_response
    from core.errors import ServiceError

    messages = {
        400: lambda: _("The request was not understood."),
        403: lambda: _("You do not have permission to do this."),
        404: lambda: _("This page does not exist, or is not available in this community."),
        405: lambda: _("This action is not allowed here."),
        413: lambda: _("The file is too large."),
        429: lambda: _("Too many attempts. Please wait a minute and try again."),
        500: lambda: _("Something went wrong on our side. Please try again."),
        503: lambda: _("The service is busy or under maintenance. Please try again shortly."),
    }
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
             413: "too_large", 429: "rate_limited", 500: "server_error", 503: "unavailable"}

    def handle(status, message=None):
        message = message or messages.get(status, messages[500])()
        if _wants_json():
            resp = error_response(codes.get(status, "error"), message, status=status)
        else:
            resp = app.make_response((render_template("error.html", status=status, message=message), status))
        if status == 503:
            resp.headers["Retry-After"] = "30"
        return resp

    def http_error(e, status):
        resp = handle(status)
        # What the exception says about itself stays: a 405's Allow (RFC 9110), a 401's WWW-Authenticate.
        for name, value in e.get_headers() if hasattr(e, "get_headers") else ():
            if name.lower() not in ("content-type", "content-length"):
                resp.headers[name] = value
        return resp

    for status in messages:
        app.register_error_handler(status, lambda e, s=status: http_error(e, s))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return handle(400, _("The form expired or was sent from elsewhere. Please reload the page and try again."))

    @app.errorhandler(ServiceError)
    def service_error(e):
        db.session.rollback()
        if _wants_json():
            return error_response(e.code, str(e.message), fields={k: str(v) for k, v in e.fields.items()},
                                  status=e.status, details=e.details)
        return render_template("error.html", status=e.status, message=e.message), e.status

    from sqlalchemy.exc import DataError, InternalError, OperationalError

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def out_of_range(e):
        # e.g. ?page=99999999999999999999: an offset the database cannot hold is a bad request
        db.session.rollback()
        return handle(400)

    @app.errorhandler(OperationalError)
    def db_down(e):
        db.session.rollback()
        app.logger.error("database error: %s", e)
        _without_database()
        return handle(503)

    def _without_database():
        # Render the error page without touching the database again: no user to load (the
        # language comes from the session), no community menu to build.
        g._login_user = login_manager.anonymous_user()
        g.pop("community", None)
        g.pop("_token_use", None)  # nor a token's use to record at the end (core.api)

    @app.errorhandler(InternalError)
    def db_read_only(e):
        # PostgreSQL refusing writes (a read-only database or a standby after failover): 503, and
        # drop the pooled connections so the next request gets a fresh session once it is back.
        if getattr(getattr(e, "orig", None), "sqlstate", None) != "25006":
            raise e
        db.session.rollback()
        db.engine.dispose()
        app.logger.error("database refuses writes: %s", e)
        _without_database()  # the write may have been the user's own loading (a token's use)
        return handle(503)
