"""The JSON API under /api/v1: bearer tokens, stable error codes, pagination, OpenAPI.

Each route is declared with ``endpoint``; the OpenAPI document is built from those declarations
and the app's URL map, so it always matches what is served."""
import re
from functools import wraps

from flask import Blueprint, current_app, g, has_request_context, jsonify, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy import bindparam, event, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.db import built_once, transaction
from core.errors import Forbidden, ServiceError
from core.extensions import db
from core.inputs import check_json, too_deep, whole_number

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
community_api_bp = Blueprint("core", __name__)


def error_response(code, message, fields=None, status=400, details=None):
    body = {"code": code, "message": str(message), "fields": fields or {}}
    if details is not None:
        body["details"] = details
    resp = jsonify({"error": body})
    resp.status_code = status
    return resp


@api_bp.before_request
def token_only():
    # The API authenticates by bearer token only: a browser session cookie is ignored, so a
    # cross-site page cannot make API calls with a resident's session (no CSRF through the API).
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        g._login_user = AnonymousUserMixin()
    elif not current_user.is_authenticated:
        return error_response("invalid_token", _("The token is unknown or revoked."), status=401)


def endpoint(bp, rule, methods=("GET",), *, summary, auth=True, body=None, query=None, tag="core",
             idempotent=False, responses=None, refusal_commits=False):
    """Declare an API route and its documentation.

    ``body`` and ``query`` map field names to (JSON-schema type, description, required?). A
    writing handler runs in the request's transaction; with ``refusal_commits`` an error answer
    it returns (not raises) still commits what it wrote: a refused try that must be counted (a
    wrong reset code)."""

    def deco(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if auth and not current_user.is_authenticated:
                return error_response("unauthorized", _("Send a valid token: Authorization: Bearer <token>."),
                                      status=401)
            # Every body sent is checked, whether the route reads one or not: a JSON object within
            # the limits of core.inputs, or 400 with a stable code before the handler runs.
            takes_body = body is not None and request.method in ("POST", "PUT", "PATCH")
            if takes_body or (request.method in ("POST", "PUT", "PATCH", "DELETE") and request.get_data(cache=True)):
                try:
                    data = _checked_body()
                except ServiceError as err:
                    return _refused(error_response(err.code, err.message, err.fields, err.status))
                if data is None:
                    return _refused(error_response("invalid_json", _("Send a JSON object in the request body."),
                                                   status=400))
                wrong = _not_text(data, body) if takes_body else None
                if wrong:
                    msg = _("Please correct the marked fields.")
                    return _refused(error_response("invalid_field", msg, {name: msg for name in wrong}, status=400))
            if request.method in ("GET", "HEAD", "OPTIONS"):
                return view(*args, **kwargs)  # a read writes nothing (tests/contract/test_reads_write_nothing.py)
            if idempotent and request.headers.get("Idempotency-Key"):
                return _idempotent(view, args, kwargs)
            return _in_transaction(view, args, kwargs, refusal_commits)

        wrapped._api_doc = {"summary": summary, "auth": auth, "body": body or {}, "query": query or {},
                            "tag": tag, "idempotent": idempotent, "responses": responses or {}}
        bp.add_url_rule(rule, view_func=wrapped, methods=list(methods))
        return wrapped

    return deco


def _not_text(data, body):
    """The fields of ``body`` declared as text only ("string", not "string|array") that were sent as
    something else (a number, true, an object): refused before a service calls a string method on
    them. null is left to the service."""
    return sorted(name for name, (typ, _desc, _req) in body.items()
                  if typ == "string" and data.get(name) is not None
                  and not isinstance(data[name], str))


def _refused(resp):
    """A write refused before its handler ran: what the request wrote so far (a token's use, noted
    at sign-in) is undone; the token's use is then recorded at the end of the request."""
    db.session.rollback()
    return resp


class _Refused(Exception):
    """An error answer returned (not raised) by a handler: its writes are rolled back too."""

    def __init__(self, resp):
        super().__init__(resp.status_code)
        self.resp = resp


def _in_transaction(view, args, kwargs, refusal_commits=False):
    """Run a writing handler as the request's one transaction (core.db): it commits when the
    answer is a success; an error answer, returned or raised (a ServiceError, answered by the
    error handler), leaves nothing written."""
    try:
        with transaction():
            resp = current_app.make_response(view(*args, **kwargs))
            if resp.status_code >= 400 and not refusal_commits:
                raise _Refused(resp)
    except _Refused as refused:
        return refused.resp
    return resp


def _idempotent(view, args, kwargs):
    from core.models import IdempotentRequest

    key = request.headers["Idempotency-Key"][:100]
    where = f"{request.method} {request.path}"
    try:
        with transaction():  # the key is claimed in a transaction of its own, before the work
            row = IdempotentRequest(user_id=current_user.id, key=key, endpoint=where)
            db.session.add(row)
    except IntegrityError:
        first = IdempotentRequest.query.filter_by(user_id=current_user.id, key=key).first()
        if first is None or first.status == 0:
            return error_response("in_progress", _("A request with this Idempotency-Key is still running."), status=409)
        if first.endpoint != where:
            return error_response("key_reused", _("This Idempotency-Key was used for another request."), status=422)
        resp = jsonify(first.response)
        resp.status_code = first.status
        resp.headers["Idempotent-Replayed"] = "true"
        return resp
    row_id = row.id
    try:
        resp = _in_transaction(view, args, kwargs)
    except ServiceError as err:
        resp = error_response(err.code, str(err.message), {k: str(v) for k, v in err.fields.items()}, err.status,
                              getattr(err, "details", None))
    with transaction():  # the answer is kept for a retry with the same key
        row = db.session.get(IdempotentRequest, row_id)
        row.status, row.response = resp.status_code, resp.get_json()
    return resp


def note_token_use(token):
    """Remember to record ``token``'s use (at most once a minute). The UPDATE joins the request's
    own commit (``_record_token_use``), so a write request costs no extra transaction and no
    reloading of what the commit expires; a request that commits nothing records it at its end."""
    from core.models import utcnow

    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        g._token_use = (token.id, now)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            # A write: record it now, in the request's transaction, rather than just before its
            # COMMIT, where rows every request of its kind needs are already locked on PostgreSQL
            # (a ballot's chain head, the content version) and each statement makes them wait.
            _touch(db.session, g._token_use)
            g._token_use_written = True


@built_once
def _touch_stmt():
    from core.models import ApiToken

    t = ApiToken.__table__
    return update(t).where(t.c.id == bindparam("token")).values(last_used_at=bindparam("at"))


def _touch(session, token_use):
    session.execute(_touch_stmt(), {"token": token_use[0], "at": token_use[1]})


@event.listens_for(db.session, "before_commit")
def _record_token_use(session):
    if has_request_context():
        token_use = g.pop("_token_use", None)
        if token_use is not None and not g.pop("_token_use_written", False):
            _touch(session, token_use)


@event.listens_for(db.session, "after_rollback")
def _token_use_undone(session):
    if has_request_context():
        g.pop("_token_use_written", None)  # rolled back with the rest: written again at the end


def _record_token_use_at_end(resp):
    token_use = g.pop("_token_use", None)
    if token_use is not None:  # nothing committed during the request (a read, or a refused write)
        try:
            db.session.rollback()  # what a read loaded: the UPDATE is the transaction's one statement
            with transaction():
                _touch(db.session, token_use)
        except SQLAlchemyError:  # noting the use must never turn an answer into an error (rolled back)
            pass
    return resp


def paginate(query, serialize, load=None):
    """A page of ``query`` as {"items", "page", "per_page", "total"}; ?page= and ?per_page= capped.
    ``query`` may be a list already in order (names in natural order, core.sorting); ``load`` turns
    the page's items into what ``serialize`` takes (ids into rows, in one query)."""
    page = whole_number(request.args.get("page"), "page", default=1, minimum=1, code="invalid_page")
    per_page = min(current_app.config["API_MAX_PER_PAGE"],
                   whole_number(request.args.get("per_page"), "per_page", default=20, minimum=1, code="invalid_page"))
    if isinstance(query, list):
        items, total = query[(page - 1) * per_page:page * per_page], len(query)
    else:
        result = query.paginate(page=page, per_page=per_page, error_out=False)
        items, total = result.items, result.total
    if load is not None:
        items = load(items)
    return {"items": [serialize(x) for x in items], "page": page, "per_page": per_page, "total": total}


def _checked_body():
    """The request's JSON object, checked once per request by core.inputs.check_json (nesting,
    control characters, lone surrogates; multi-line fields normalised), or None when the body is
    not a JSON object. Every handler reads it through ``json_body``; a refused body raises
    ServiceError (400 ``too_deep`` or ``invalid_text``)."""
    if "_json_body" not in g:
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # nested deeper than the parser's stack: refused like any deep body
            raise too_deep()
        g._json_body = check_json(data) if isinstance(data, dict) else None
    return g._json_body


def json_body():
    """The request's checked JSON object (``_checked_body``), or {} when it sent none."""
    data = _checked_body()
    return data if data is not None else {}


def require_api(permission):
    from core.permissions import can

    if not can(permission):
        raise Forbidden("forbidden", _("You do not have permission to do this."))


def _type(typ):
    """A declared type as JSON schema: "string", or "string|array" for a field that takes either."""
    return {"type": typ.split("|")} if "|" in typ else {"type": typ}


def _path_schema(converter):
    """The JSON schema of a path parameter from its URL converter (int, any(...), string)."""
    from werkzeug.routing import AnyConverter, IntegerConverter

    if isinstance(converter, IntegerConverter):
        return {"type": "integer", "minimum": 0}
    if isinstance(converter, AnyConverter):
        return {"type": "string", "enum": sorted(converter.items)}
    return {"type": "string", "pattern": "^[^/]+$"}


def openapi_document(app):
    """The OpenAPI 3.1 document, generated from the declared routes in the URL map."""
    paths = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        doc = getattr(view, "_api_doc", None)
        if doc is None:
            continue
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"summary": doc["summary"], "tags": [doc["tag"]], "operationId": f"{rule.endpoint}.{method.lower()}",
                  "responses": {"200": {"description": "OK"},
                                "default": {"description": "Error",
                                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
            params = [{"name": a, "in": "path", "required": True, "schema": _path_schema(rule._converters.get(a))}
                      for a in sorted(rule.arguments)]
            for name, (typ, desc, required) in doc["query"].items():
                schema = {**_type(typ), "minimum": 1} if name in ("page", "per_page") else _type(typ)
                params.append({"name": name, "in": "query", "required": required, "description": desc,
                               "schema": schema})
            if doc["idempotent"]:
                params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                               "schema": {"type": "string", "maxLength": 100}})
            if params:
                op["parameters"] = params
            if doc["body"] and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {n: {**_type(t), "description": d} for n, (t, d, _r) in doc["body"].items()},
                    "required": [n for n, (_t, _d, r) in doc["body"].items() if r]}}}}
            if doc["auth"]:
                op["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "linli API", "version": "1"},
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "fields": {"type": "object"}},
                "required": ["code", "message", "fields"]}}}},
        },
    }


def init_api(app):
    app.after_request(_record_token_use_at_end)

    @app.route("/api/v1/openapi.json")
    def openapi():
        return jsonify(openapi_document(app))


from core.api import views  # noqa: E402,F401  (routes are declared on import)
from core.api import persons  # noqa: E402,F401
