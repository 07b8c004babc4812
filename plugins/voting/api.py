"""The voting JSON API under /api/v1/c/<community>/voting/... (in the OpenAPI document)."""
import base64
import binascii

from flask import Blueprint, Response, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from core import dates
from core.api import endpoint, json_body, paginate, require_api
from core.errors import Conflict, Forbidden, NotFound, ServiceError
from core.extensions import db
from core.inputs import whole_number
from core.models import Proposal
from core.permissions import can
from plugins.voting import elections, services
from plugins.voting import residents_meeting
from plugins.voting.models import Ballot, Entry, Voter

api_bp = Blueprint("voting_api", __name__, url_prefix="/voting")
TAG = "voting"


def ballot_json(b, full=False):
    # ``status``: the state as people see it; ``closing`` for an open ballot whose time is up, counted
    # by `linli ballots close-due` within the minute.
    data = {"id": b.id, "title": b.title, "state": b.state, "status": services.status(b), "method": b.method,
            "unit": b.unit, "rule": b.rule,
            "matter_class": b.matter_class, "quorum": b.quorum, "secret": b.secret, "max_choices": b.max_choices,
            "proposal_id": b.proposal_id, "scope": b.scope, "grid_id": b.grid_id, "building_id": b.building_id,
            "opens_at": dates.iso(b.opens_at), "closes_at": dates.iso(b.closes_at),
            "closed_at": dates.iso(b.closed_at),
            "options": [{"position": o.position, "label": o.label,
                         "display": services.option_label(b, o.position)} for o in b.options],
            "electorate": ({"voters": b.manifest["electorate"]["voters"], "heads": b.heads_total,
                            "area": str(b.area_total)} if b.manifest else None),
            "voted": b.voted_count, "temporary": b.temporary,
            "notice_published_at": dates.iso(b.notice_published_at), "notice_days": b.notice_days}
    if elections.is_election(b):
        data.update(election_json(b))
    data.update(meeting_json(b))
    if full:
        data.update({"description": b.description, "paper_rule": b.paper_rule, "roll_voters": services.roll_size(b),
                     "tie_seed": b.tie_seed,
                     "genesis_hash": b.genesis_hash, "closing_hash": b.closing_hash,
                     "counting_rule_source": b.counting_rule_source})
        if b.state == "closed":
            data["result"] = b.result
        data.update(decision_json(b))
    return data


def meeting_json(b):
    """A residents' meeting (R12): who makes it up, the day ages were taken on and how many people
    of unknown age were left off the roll; the chosen group representatives (person ids) for staff."""
    if not residents_meeting.is_meeting(b):
        return {}
    data = {"electorate_mode": b.electorate_mode}
    if b.manifest:
        data.update({k: b.manifest[k] for k in ("adults_on", "ages_unknown") if k in b.manifest})
    if b.electorate_mode == "groups" and can("voting.ballots.manage"):
        data["representatives"] = b.group_representatives or {}
    return data


def decision_json(b):
    """What an owners' decision adds (R7, R11): the interested owners staff added to a unanimity
    ballot, who did not consent (names for grid workers and staff only) and the last day an owner
    may ask a court to set the decision aside (ISO date, the community's calendar)."""
    data = {}
    if b.rule == "unanimous":
        data["interested"] = services.interested_added(b)
        if b.state == "closed":
            data["not_consenting"] = services.not_consenting(b, names=can("voting.paper.enter"))
    until = services.challenge_until(b)
    if until is not None:
        data["challenge_until"] = until.isoformat()
    return data


def entry_json(ballot, e):
    data = {"receipt": e.receipt, "seq": e.seq, "source": e.source, "counted": e.counted, "at": e.at}
    if not ballot.secret:
        data["choice"] = e.choice
    return data


def proxy_json(ballot, p):
    return {"id": p.id, "ref": p.ref, "voter_id": p.voter_id, "voter_ref": p.voter.ref,
            "voter_name": services.voter_name(p.voter), "proxy_user_id": p.user_id, "proxy_name": p.name,
            "proxy_person_id": int(p.holder_key[7:]) if p.holder_key.startswith("person:") else None,
            "instructions": p.instructions, "witness": p.witness, "recorded_at": dates.iso(p.created_at),
            "revoked_at": dates.iso(p.revoked_at), "revoke_reason": p.revoke_reason,
            "has_scan": p.scan_sha256 is not None}


def _ballot(ballot_id):
    return _visible(services.get(g.community, ballot_id))


def election_json(b):
    """An election's seats and candidates; once closed, every candidate with their votes (area for
    owners) and what became of them, elected first (R14)."""
    data = {"seats": b.seats, "candidates_published_at": dates.iso(b.candidates_published_at)}
    if b.state == "closed" and b.result:
        res = elections.results(b)
        data["election"] = {"seats": res["seats"], "valid": res["valid"], "unfilled": res["unfilled"],
                            "blank": res["blank"], "tie": res["tie"],
                            "candidates": [{"position": c["option"], "label": c["label"], "votes": c["heads"],
                                            **({"area": c["area"]} if b.unit == "owners" else {}),
                                            "status": c["status"], "approved": c["approved"]}
                                           for c in res["candidates"]]}
    return data


def _visible(b):
    """A ballot in preparation is seen by staff only until its notice is published; an election's
    nominations are public from the start (R14)."""
    if b.state == "draft" and b.notice_published_at is None and not can("voting.ballots.manage") \
            and not elections.is_election(b):
        raise NotFound("not_found", _("No such ballot."))
    return b


@endpoint(api_bp, "/ballots", summary="Ballots of the community, newest first", auth=False, tag=TAG,
          query={"state": ("string", "open | closed | cancelled | draft (staff)", False),
                 "mine": ("boolean", "only the open ballots I may vote in", False),
                 "page": ("integer", "page", False), "per_page": ("integer", "≤100", False)})
def ballots():
    state = request.args.get("state")
    if state and state not in ("draft", "open", "closed", "cancelled"):
        raise ServiceError("invalid_filter", _("Unknown value for %(name)s.", name="state"),
                           fields={"state": _("Unknown value.")})
    q = services.ballots_query(g.community)
    if not can("voting.ballots.manage"):
        q = q.filter((Ballot.state != "draft") | Ballot.notice_published_at.isnot(None)
                     | (Ballot.method == elections.METHOD))
    if state:
        q = q.filter(Ballot.state == state)
    if request.args.get("mine") in ("1", "true") and current_user.is_authenticated:
        q = q.join(Voter, Voter.ballot_id == Ballot.id).filter(Voter.user_id == current_user.id,
                                                              Ballot.state == "open")
    return jsonify(paginate(q.order_by(Ballot.id.desc()), ballot_json))


@endpoint(api_bp, "/ballots", ["POST"], summary="Set up a ballot (staff)", tag=TAG, idempotent=True,
          body={"title": ("string", "2–120 characters", True), "description": ("string", "Markdown", False),
                "method": ("string", "majority | approval | irv | schulze | election", True),
                "seats": ("integer", "election: seats to fill (residents' committee 5–9)", False),
                "options": ("array", "option labels (not for majority)", False),
                "unit": ("string", "person | household | owners", False),
                "matter_class": ("string", "ordinary | special (owners)", False),
                "rule": ("string", "simple | two_thirds | three_quarters; owners of one building: unanimous "
                         "(every interested owner must consent)", False),
                "interested_buildings": ("array", "rule unanimous: other buildings whose owners must consent too",
                                         False),
                "interested_households": ("array", "rule unanimous: other units whose owners must consent too",
                                          False),
                "quorum": ("string", "none | half | two_thirds", False),
                "electorate_mode": ("string", "rule residents_meeting: adults | households | groups (who makes up "
                                    "the residents' meeting)", False),
                "secret": ("boolean", "secret ballot (not for owners)", False),
                "max_choices": ("integer", "approval: most options per voter", False),
                "proposal_id": ("integer", "the proposal voted on", False),
                "scope": ("string", "community | grid | building (standalone polls)", False),
                "grid_id": ("integer", "for scope grid", False), "building_id": ("integer", "for scope building", False),
                "opens_at": ("string", "ISO 8601; default now", False),
                "closes_at": ("string", "ISO 8601", False), "days": ("integer", "instead of closes_at", False),
                "paper_rule": ("string", "refuse | latest", False),
                "temporary": ("boolean", "owners: a temporary meeting (shorter notice)", False),
                "publish_notice": ("boolean", "publish the notice with the agenda now", False),
                "open": ("boolean", "publish the electorate and open now", False)})
def ballot_create():
    data = json_body()
    proposal = None
    if data.get("proposal_id") is not None:
        proposal = db.session.get(Proposal, whole_number(data.get("proposal_id"), "proposal_id", default=0))
        if proposal is None or proposal.community_id != g.community.id:
            raise NotFound("not_found", _("No such proposal."))
    b = services.create(g.community, current_user, data, proposal=proposal, open_now=bool(data.get("open")))
    return jsonify(ballot_json(b, full=True)), 201


@endpoint(api_bp, "/ballots/<int:ballot_id>", summary="One ballot; its result once closed", auth=False, tag=TAG)
def ballot_get(ballot_id):
    b = _ballot(ballot_id)
    data = ballot_json(b, full=True)
    voter = services.voter_for(b, current_user)
    if voter is not None:
        mine = services.counted_entry(b, voter)
        data["me"] = {"in_electorate": True, "voted": voter.voted_at is not None, "voted_via": voter.voted_via,
                      "receipt": mine.receipt if mine else None,
                      "choice": mine.choice if mine and not b.secret else None}
    elif current_user.is_authenticated:
        data["me"] = {"in_electorate": False}
        note = services.roll_note(b, current_user)
        if note:  # a verified resident not on the roll: when it was fixed, and whether they came later
            data["me"].update({"roll_fixed_at": dates.iso(note["fixed"]),
                               "verified_after_roll": note["verified"] is not None,
                               "message": services.roll_note_text(b, note)})
    held = services.proxies_held(b, current_user)
    if held:
        data.setdefault("me", {})["proxies_held"] = [
            {"proxy_id": p.id, "voter_ref": p.voter.ref, "voter_name": services.voter_name(p.voter),
             "instructions": p.instructions, "voted": p.voter.voted_at is not None} for p in held]
    return jsonify(data)


@endpoint(api_bp, "/ballots/<int:ballot_id>", ["PUT"], summary="Change a ballot in preparation (staff; fields not sent are kept; refused "
          "once its notice is published)", tag=TAG,
          body={"title": ("string", "2–120 characters", False), "description": ("string", "Markdown", False),
                "method": ("string", "majority | approval | irv | schulze", False),
                "options": ("array", "option labels (not for majority)", False),
                "unit": ("string", "person | household | owners", False),
                "matter_class": ("string", "ordinary | special (owners)", False),
                "rule": ("string", "simple | two_thirds | three_quarters | unanimous", False),
                "interested_buildings": ("array", "rule unanimous: other buildings", False),
                "interested_households": ("array", "rule unanimous: other units", False),
                "opens_at": ("string", "ISO 8601", False), "closes_at": ("string", "ISO 8601", False),
                "temporary": ("boolean", "owners: a temporary meeting", False)})
def ballot_update(ballot_id):
    b = _ballot(ballot_id)
    services.update_ballot(b, current_user, json_body())
    return jsonify(ballot_json(b, full=True))


@endpoint(api_bp, "/ballots/<int:ballot_id>/notice", ["POST"], summary="Publish the notice with the full agenda "
          "(staff); the agenda is then frozen", tag=TAG,
          body={"temporary": ("boolean", "owners: a temporary meeting (shorter notice)", False)})
def ballot_notice(ballot_id):
    b = _ballot(ballot_id)
    data = json_body()
    services.publish_notice(b, current_user, temporary=data.get("temporary"))
    return jsonify(ballot_json(b, full=True))


def _proxy_ballot(ballot_id):
    b = _ballot(ballot_id)
    require_api("voting.paper.enter")
    return b


@endpoint(api_bp, "/ballots/<int:ballot_id>/proxies", summary="The proxy authorisations of a ballot "
          "(grid worker, staff)", tag=TAG)
def proxies(ballot_id):
    b = _proxy_ballot(ballot_id)
    return jsonify({"items": [proxy_json(b, p) for p in services.proxies_of(b)],
                    "limit": services.proxy_limit(b) if b.unit in services.PROXY_UNITS else None})


@endpoint(api_bp, "/ballots/<int:ballot_id>/proxies", ["POST"], summary="Record a written proxy authorisation "
          "(grid worker, staff)", tag=TAG, idempotent=True,
          body={"voter_id": ("integer", "the voter who gives the proxy (from the electorate)", True),
                "proxy_user_id": ("integer", "the proxy: a verified member of the community", False),
                "proxy_name": ("string", "or the name of a proxy without an account: the one person of that name on "
                                         "the register if there is one (several: 400 proxy_ambiguous lists them)",
                               False),
                "proxy_person_id": ("integer", "or the proxy chosen from the register (a person's register number)",
                                    False),
                "proxy_not_on_register": ("boolean", "the named proxy is not the person of that name on the "
                                                     "register", False),
                "instructions": ("string", "voting instructions in the authorisation", False),
                "witness": ("string", "who witnessed or took the signed authorisation", True),
                "scan": ("string", "optional: the signed authorisation, a JPEG, PNG or WebP of up to 5 MB, "
                                   "base64-encoded", False)})
def proxy_create(ballot_id):
    b = _proxy_ballot(ballot_id)
    data = json_body()
    p = services.record_proxy(b, current_user, data, scan=_image(data, "scan"))
    return jsonify(proxy_json(b, p)), 201


def _image(data, field):
    """(None, bytes) of a base64 image field, None when absent; checked by the service by its bytes."""
    raw = data.get(field)
    if raw in (None, ""):
        return None
    try:
        return None, base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        msg = _("Attach a JPEG, PNG or WebP photo of up to 5 MB.")
        raise ServiceError("invalid_photo", msg, fields={field: msg})


def _image_response(content_type, data):
    return Response(data, mimetype=content_type, headers={"Cache-Control": "private, no-store"})


@endpoint(api_bp, "/ballots/<int:ballot_id>/proxies/<int:proxy_id>/scan",
          summary="The scan of a signed proxy authorisation (grid worker, staff)", tag=TAG)
def proxy_scan(ballot_id, proxy_id):
    b = _proxy_ballot(ballot_id)
    p = services.proxy_by_id(b, proxy_id)
    if not p.scan_data:
        raise NotFound("not_found", _("No scan was recorded."))
    return _image_response(p.scan_type, p.scan_data)


@endpoint(api_bp, "/ballots/<int:ballot_id>/paper/<int:entry_id>/photo",
          summary="The photo of a signed paper ballot (grid worker, staff)", tag=TAG)
def paper_photo(ballot_id, entry_id):
    b = _proxy_ballot(ballot_id)
    entry = db.session.get(Entry, entry_id)
    photo = services.scan_of(entry_id) if entry is not None and entry.ballot_id == b.id else None
    if photo is None:
        raise NotFound("not_found", _("No scan was recorded."))
    return _image_response(photo.content_type, photo.data)


@endpoint(api_bp, "/ballots/<int:ballot_id>/proxies/<int:proxy_id>/revoke", ["POST"],
          summary="Revoke a proxy authorisation before the proxy votes (grid worker, staff)", tag=TAG,
          body={"reason": ("string", "why", True)})
def proxy_revoke(ballot_id, proxy_id):
    b = _proxy_ballot(ballot_id)
    p = services.proxy_by_id(b, proxy_id)
    services.revoke_proxy(b, current_user, p, json_body().get("reason"))
    return jsonify(proxy_json(b, p))


@endpoint(api_bp, "/ballots/<int:ballot_id>/proxies/<int:proxy_id>/votes", ["POST"],
          summary="Cast or change the vote of a voter whose proxy I hold; returns the receipt", tag=TAG,
          idempotent=True, body={"choice": ("string|array", "as for /votes", True)})
def proxy_vote(ballot_id, proxy_id):
    b = _ballot(ballot_id)
    p = services.proxy_by_id(b, proxy_id)
    if p.user_id != current_user.id:
        raise Forbidden("not_proxy", _("You do not hold this voter's proxy."))
    data = json_body()
    if "choice" not in data:
        raise ServiceError("invalid_choice", _("Send your choice."), fields={"choice": _("Send your choice.")})
    e = services.cast(b, current_user, data["choice"], source="proxy", proxy=p)
    return jsonify({"ballot_id": b.id, "proxy_id": p.id, "voter_ref": p.voter.ref, **entry_json(b, e)}), 201


@endpoint(api_bp, "/ballots/<int:ballot_id>/open", ["POST"], tag=TAG,
          summary="Publish the electorate and open (staff). An owners' ballot whose owners may hold one person "
                  "twice answers 409 possible_duplicates (details.duplicates lists them); send "
                  "{\"confirm_duplicates\": true} to open it as the register stands")
def ballot_open(ballot_id):
    b = _ballot(ballot_id)
    confirm = json_body().get("confirm_duplicates", False)
    if not isinstance(confirm, bool):
        raise ServiceError("invalid_field", _("Give true or false."), fields={"confirm_duplicates": _("Give true or false.")})
    services.open_ballot(b, current_user, confirm_duplicates=confirm)
    return jsonify(ballot_json(b, full=True))


@endpoint(api_bp, "/ballots/<int:ballot_id>/representatives", ["PUT"], tag=TAG,
          summary="A residents' meeting of group representatives in preparation: the representatives of each "
                  "residents' group (grid), two or three people from its register (staff)",
          body={"groups": ("object", "{\"<grid id>\": [person ids]} for every group; replaces the whole choice",
                           True)})
def ballot_representatives(ballot_id):
    b = _ballot(ballot_id)
    residents_meeting.set_representatives(b, current_user, json_body().get("groups"))
    return jsonify(ballot_json(b, full=True))


@endpoint(api_bp, "/ballots/<int:ballot_id>/close", ["POST"], summary="Close and count now (staff, with a reason)",
          tag=TAG, body={"reason": ("string", "why it closes early", True)})
def ballot_close(ballot_id):
    b = _ballot(ballot_id)
    services.close(b, current_user, json_body().get("reason"))
    return jsonify(ballot_json(b, full=True))


@endpoint(api_bp, "/ballots/<int:ballot_id>/votes", ["POST"], summary="Cast or change my vote; returns the receipt",
          tag=TAG, idempotent=True,
          body={"choice": ("string|array", "majority: yes | no | abstain; approval: array of option positions; "
                                     "irv/schulze: array of positions, best first", True)})
def vote(ballot_id):
    b, voter = services.get_with_voter(g.community, ballot_id, current_user)
    _visible(b)
    voter = services.online_voter(b, current_user, voter=voter)  # who may not vote is told so, whatever they send
    data = json_body()
    if "choice" not in data:
        raise ServiceError("invalid_choice", _("Send your choice."), fields={"choice": _("Send your choice.")})
    e = services.cast(b, current_user, data["choice"], voter=voter)
    return jsonify({"ballot_id": b.id, **entry_json(b, e)}), 201


@endpoint(api_bp, "/ballots/<int:ballot_id>/paper", ["POST"], summary="Enter a paper ballot for a voter "
          "(grid worker, staff)", tag=TAG, idempotent=True,
          body={"voter_id": ("integer", "voter from the electorate", True),
                "choice": ("string|array", "as for /votes; omit when spoiled", False),
                "spoiled": ("boolean", "the sheet is spoiled", False),
                "witness": ("string", "who saw it signed", True),
                "correction": ("boolean", "correct an earlier paper ballot", False),
                "confirm_online": ("integer", "over the voter's online vote: its seq, from the details of the 409 "
                                              "online_vote_exists answer (note: why)", False),
                "proxy_id": ("integer", "signed by the voter's proxy under this authorisation", False),
                "note": ("string", "required for a correction", False),
                "photo": ("string", "optional: the signed sheet, a JPEG, PNG or WebP of up to 5 MB, "
                                    "base64-encoded", False)})
def paper(ballot_id):
    b = _ballot(ballot_id)
    data = json_body()
    require_api("voting.paper.enter")
    voter = services.voter_by_id(b, data.get("voter_id"))
    proxy = services.proxy_by_id(b, data["proxy_id"]) if data.get("proxy_id") else None
    e = services.cast(b, current_user, data.get("choice"), voter=voter,
                      source="correction" if data.get("correction") else "paper", witness=data.get("witness"),
                      note=data.get("note"), spoiled=bool(data.get("spoiled")), proxy=proxy,
                      photo=_image(data, "photo"),
                      confirm_online=whole_number(data.get("confirm_online"), "confirm_online", default=None))
    return jsonify({"ballot_id": b.id, "voter_id": voter.id, **entry_json(b, e)}), 201


@endpoint(api_bp, "/ballots/<int:ballot_id>/roll/missed", summary="Residents the register now puts on an open "
          "ballot's roll who are not on it (staff)", tag=TAG)
def roll_missed(ballot_id):
    b = _ballot(ballot_id)
    require_api("voting.ballots.manage")
    return jsonify({"roll_fixed_at": dates.iso(b.opened_at),
                    "items": [{"token": c["token"], "name": c["name"], "units": c["units"], "heads": c["heads"],
                               "area": c["area"], "has_account": c["user_id"] is not None}
                              for c in services.missed_voters(b)]})


@endpoint(api_bp, "/ballots/<int:ballot_id>/roll", ["POST"], summary="Add a resident the roll missed to an open "
          "ballot (staff, with a reason; published with the roll)", tag=TAG, idempotent=True,
          body={"token": ("string", "from GET …/roll/missed", True), "reason": ("string", "why", True)})
def roll_add(ballot_id):
    b = _ballot(ballot_id)
    data = json_body()
    voter, e = services.add_to_roll(b, current_user, data.get("token"), data.get("reason"))
    return jsonify({"ballot_id": b.id, "voter_id": voter.id, "ref": voter.ref, "heads": voter.heads,
                    "area": str(voter.area), "seq": e.seq, "receipt": e.receipt}), 201


@endpoint(api_bp, "/ballots/<int:ballot_id>/electorate", summary="The published electorate and who voted "
          "(grid worker, staff)", tag=TAG,
          query={"page": ("integer", "page", False), "per_page": ("integer", "≤100", False),
                 "grid_id": ("integer", "only voters with a unit in this grid", False),
                 "building_id": ("integer", "only voters with a unit in this building", False),
                 "status": ("string", "not_voted: only those who have not voted", False)})
def electorate(ballot_id):
    from core.places import place_from
    from plugins.voting.electorate import voters

    b = _ballot(ballot_id)
    require_api("voting.paper.enter")
    place = place_from(g.community, request.args, strict=True)
    status = request.args.get("status") or None
    if status not in (None, "not_voted"):
        message = _("“%(field)s” must be one of: %(values)s.", field="status", values="not_voted")
        raise ServiceError("invalid_parameter", message, fields={"status": message})
    rows = voters(b, place, not_voted=status == "not_voted")
    return jsonify(paginate(rows, lambda v: {"id": v.id, "ref": v.ref, "name": services.voter_name(v), "units": v.units,
                                          "heads": v.heads, "area": str(v.area), "has_account": v.user_id is not None,
                                          "voted": v.voted_at is not None, "voted_via": v.voted_via}))


@endpoint(api_bp, "/ballots/<int:ballot_id>/result", summary="The result of a closed ballot", auth=False, tag=TAG)
def result(ballot_id):
    b = _ballot(ballot_id)
    if b.state != "closed":
        raise Conflict("not_closed", _("Results are published when the ballot closes."))
    return jsonify({"ballot_id": b.id, "closing_hash": b.closing_hash, "result": b.result, **decision_json(b)})


@endpoint(api_bp, "/ballots/<int:ballot_id>/receipts", summary="Every receipt of a closed ballot", auth=False,
          tag=TAG, query={"page": ("integer", "page", False), "per_page": ("integer", "≤100", False)})
def receipts(ballot_id):
    b = _ballot(ballot_id)
    if b.state != "closed":
        raise Conflict("not_closed", _("Receipts are listed when the ballot closes."))
    q = Entry.query.filter_by(ballot_id=b.id).order_by(Entry.seq)
    return jsonify(paginate(q, lambda e: {"receipt": e.receipt, "seq": e.seq, "source": e.source,
                                          "counted": e.counted}))


@endpoint(api_bp, "/ballots/<int:ballot_id>/export", summary="The closed ballot file (docs/ballot-format.md)",
          auth=False, tag=TAG)
def export(ballot_id):
    return jsonify(services.export(_ballot(ballot_id)))
