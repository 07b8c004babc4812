"""API of requests to convene a residents' meeting, under /api/v1/c/<community>/voting/convening
(in the OpenAPI document). The rules are in plugins/voting/convening.py."""
from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from core import dates
from core.api import endpoint, json_body, paginate
from core.errors import ServiceError
from core.models import utcnow
from core.permissions import can
from plugins.voting import convening
from plugins.voting.api import TAG, api_bp
from plugins.voting.models import ConveningRequest

ASSIST_BODY = {
    "person_id": ("integer", "acting for a resident (代办): their person on the register", False),
    "on_behalf_of": ("string", "…or for this account holder (phone number or user name)", False),
    "reason": ("string", "why you act for them (required when acting for someone)", False),
}


def request_json(req, full=False):
    data = {"id": req.id, "subject": req.subject, "state": req.state, "created_at": dates.iso(req.created_at),
            "started_by_id": req.started_by_id, "reached_at": dates.iso(req.reached_at), "due_at": dates.iso(req.due_at),
            "last_day": convening.last_day(req).isoformat() if req.due_at else None,
            "answered_at": dates.iso(req.answered_at), "ballot_id": req.ballot_id, "reply": req.reply,
            "progress": convening.summary(req)}
    if full:
        data["reason"] = req.reason
        person = convening.person_of(g.community, current_user)
        data["me"] = {"supports": convening.support_of(req, person) is not None,
                      "on_register": person is not None and bool(person.members)}
        if can("voting.ballots.manage"):
            data["supports"] = [{"person_id": s.person_id, "name": s.person.label, "user_id": s.user_id,
                                 "acted_by_id": s.acted_by_id, "assist_reason": s.assist_reason,
                                 "households": s.households, "grids": s.grids, "at": dates.iso(s.created_at)}
                                for s in convening.active_supports(req)]
    return data


def _assisted(data):
    return {"person_id": data.get("person_id"), "login": data.get("on_behalf_of"),
            "name": data.get("name") or data.get("on_behalf_of_name"), "reason": data.get("reason")}


@endpoint(api_bp, "/convening", summary="Requests to convene a residents' meeting, newest first", auth=False, tag=TAG,
          query={"state": ("string", "collecting | reached | convened | replied | overdue", False),
                 "page": ("integer", "page", False), "per_page": ("integer", "≤100", False)})
def convening_list():
    state = request.args.get("state")
    q = convening.requests_query(g.community)
    if state == "overdue":
        q = q.filter(ConveningRequest.state == "reached", ConveningRequest.due_at <= utcnow())
    elif state in ("collecting", "reached", "convened", "replied"):
        q = q.filter(ConveningRequest.state == state)
    elif state:
        raise ServiceError("invalid_filter", _("Unknown value for %(name)s.", name="state"),
                           fields={"state": _("Unknown value.")})
    return jsonify(paginate(q.order_by(ConveningRequest.id.desc()), request_json))


@endpoint(api_bp, "/convening", ["POST"], summary="Ask for a residents' meeting; your support is the first", tag=TAG,
          idempotent=True,
          body={"subject": ("string", "what the meeting should decide, 2–120 characters", True),
                "reason": ("string", "why, 10–5,000 characters", True),
                "base": ("string", "adults (1/5 of residents 18+) | households (1/5) | groups (1/3 of residents' "
                                   "groups); fixed once started", True)})
def convening_start():
    req = convening.start(g.community, current_user, json_body())
    return jsonify(request_json(req, full=True)), 201


@endpoint(api_bp, "/convening/<int:request_id>", summary="One request with its progress", auth=False, tag=TAG)
def convening_get(request_id):
    return jsonify(request_json(convening.get(g.community, request_id), full=True))


@endpoint(api_bp, "/convening/<int:request_id>/support", ["POST"], tag=TAG, idempotent=True, body=ASSIST_BODY,
          summary="Support a request (one support per person), or record a resident's support for them")
def convening_support(request_id):
    req = convening.support(convening.get(g.community, request_id), current_user, **_assisted(json_body()))
    return jsonify(request_json(req, full=True)), 201


@endpoint(api_bp, "/convening/<int:request_id>/withdraw", ["POST"], tag=TAG, body=ASSIST_BODY,
          summary="Withdraw a support before the threshold is reached")
def convening_withdraw(request_id):
    req = convening.withdraw(convening.get(g.community, request_id), current_user, **_assisted(json_body()))
    return jsonify(request_json(req, full=True))


@endpoint(api_bp, "/convening/<int:request_id>/answer", ["POST"], tag=TAG,
          summary="The committee's answer to a request that reached its threshold (staff): the meeting's ballot "
                  "or a reasoned reply",
          body={"create_ballot": ("boolean", "set up the residents' meeting's ballot from the request", False),
                "ballot_id": ("integer", "…or link a ballot already set up", False),
                "reply": ("string", "…or reply with the committee's reasons, 10–5,000 characters", False)})
def convening_answer(request_id):
    data = json_body()
    create = data.get("create_ballot", False)
    if not isinstance(create, bool):
        raise ServiceError("invalid_field", _("Give true or false."), fields={"create_ballot": _("Give true or false.")})
    req = convening.answer(convening.get(g.community, request_id), current_user, create_ballot=create,
                           ballot_id=data.get("ballot_id"), reply=data.get("reply"))
    return jsonify(request_json(req, full=True))
