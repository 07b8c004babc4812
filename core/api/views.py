"""The core's API resources: me, communities, structure and members (staff), proposals."""
from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from core import places
from core.dates import iso
from core.api import api_bp, community_api_bp, endpoint, error_response, json_body, paginate, require_api
from core.errors import NotFound, ServiceError
from core.extensions import db
from core.inputs import whole_number
from core.models import (CATEGORIES, SCOPES, STATES, Building, Community, Grid, Household, Membership,
                         Notification, ProposalComment, ProposalTransition, Unit)
from core.services import accounts
from core.services import proposals as svc
from core.services import structure
from core.services.notifications import render as render_note
from core.sorting import natural_sorted


def user_json(u):
    return {"id": u.id, "display_name": u.display_name} if u else None


def proposal_json(p, full=False):
    data = {"id": p.id, "title": p.title, "state": p.state, "category": p.category, "scope": p.scope,
            "grid_id": p.grid_id, "building_id": p.building_id, "author_name": p.author_name,
            "author_id": p.author_id, "assisted": p.is_assisted, "seconds": p.seconds_count,
            "comments": p.comments_count, "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}
    if full:
        data["body"] = p.body
        data["history"] = [{"from": t.from_state, "to": t.to_state, "reason": t.reason, "actor_id": t.actor_id,
                            "at": iso(t.created_at)}
                           for t in ProposalTransition.query.filter_by(proposal_id=p.id).order_by(ProposalTransition.id)]
    return data


def household_json(h):
    return {"id": h.id, "unit_id": h.unit_id, "room": h.room, "floor_area": str(h.floor_area),
            "area_source": h.area_source, "developer_held": h.developer_held,
            "members": [{"id": m.id, "name": m.name, "relation": m.relation, "phone": m.phone,
                         "is_representative": m.is_representative, "user_id": m.user_id,
                         "person_id": m.person_id} for m in h.members]}


def membership_json(m):
    return {"id": m.id, "user": user_json(m.user), "roles": m.role_list, "household_id": m.household_id,
            "verified": m.is_verified, "verified_at": iso(m.verified_at), "building_id": m.building_id,
            "grid_id": m.grid_id, "address_given": m.claimed_address,
            "address_household_id": m.claimed_household_id}


# ── account ─────────────────────────────────────────────────────────────────────────────
@endpoint(api_bp, "/me", summary="The account the token belongs to, with its memberships")
def me():
    ms = Membership.query.options(joinedload(Membership.community)).filter_by(user_id=current_user.id).all()
    return jsonify({"id": current_user.id, "display_name": current_user.display_name, "locale": current_user.locale,
                    "memberships": [{"community": m.community.slug, "roles": m.role_list, "verified": m.is_verified}
                                    for m in ms]})


@endpoint(api_bp, "/notifications", summary="Your notifications, newest first",
          query={"page": ("integer", "page number", False), "per_page": ("integer", "items per page (≤100)", False)})
def notifications():
    from core.services.notifications import module_off

    def one(n):
        off = module_off(n)
        return {"id": n.id, "kind": n.kind, "text": render_note(n), "url": None if off else n.url,
                "module_off": bool(off), "read": n.read_at is not None, "created_at": iso(n.created_at)}

    q = Notification.query.filter_by(user_id=current_user.id).order_by(Notification.id.desc())
    return jsonify(paginate(q, one))


@endpoint(community_api_bp, "/modules", summary="Installed modules, whether each is on, and what is open in it (admin)")
def modules():
    from flask import current_app

    from core.services import plugins as plugin_svc

    require_api("core.plugins.manage")
    registry = current_app.extensions["linli.plugins"]
    return jsonify({"items": [{"name": n, "label": str(registry.manifests[n].label),
                               "enabled": registry.is_enabled(g.community, n),
                               "open": plugin_svc.open_business(g.community, n)} for n in registry.names]})


@endpoint(community_api_bp, "/modules/<name>", ["PUT"], summary="Switch a module on or off (admin)",
          body={"enabled": ("boolean", "true: on, false: off", True),
                "confirm": ("boolean", "switch off even though people have business open in it", False)})
def module_set(name):
    from core.services import plugins as plugin_svc

    require_api("core.plugins.manage")
    data = json_body()
    enabled, confirm = data.get("enabled"), data.get("confirm", False)
    if not isinstance(enabled, bool) or not isinstance(confirm, bool):
        raise ServiceError("invalid_field", _("Give true or false."), fields={"enabled": _("Give true or false.")})
    plugin_svc.set_enabled(g.community, name, enabled, actor=current_user, confirm=confirm)
    return jsonify({"name": name, "enabled": enabled})


@endpoint(api_bp, "/communities", summary="Communities hosted here", auth=False)
def communities():
    q = Community.query.order_by(Community.name)
    return jsonify(paginate(q, lambda c: {"slug": c.slug, "name": c.name, "street": c.street}))


@endpoint(community_api_bp, "/", summary="One community and the modules enabled in it", auth=False)
def community():
    from flask import current_app

    c = g.community
    registry = current_app.extensions["linli.plugins"]
    return jsonify({"slug": c.slug, "name": c.name, "street": c.street, "default_locale": c.default_locale,
                    "seconds_threshold": c.seconds_threshold, "modules": sorted(registry.enabled_names(c))})


# ── structure (staff) ───────────────────────────────────────────────────────────────────
@endpoint(community_api_bp, "/grids", summary="Grids (staff)")
def grids():
    require_api("core.members.view")
    return jsonify(paginate(places.choices(g.community)[0], lambda x: {"id": x.id, "name": x.name}))


@endpoint(community_api_bp, "/grids", ["POST"], summary="Add a grid (staff)", body={"name": ("string", "name", True)})
def grid_create():
    require_api("core.structure.manage")
    x = structure.add_grid(g.community, json_body().get("name"), current_user)
    return jsonify({"id": x.id, "name": x.name}), 201


@endpoint(community_api_bp, "/buildings", summary="Buildings (staff)")
def buildings():
    require_api("core.members.view")
    return jsonify(paginate(places.choices(g.community)[1], lambda x: {"id": x.id, "name": x.name, "grid_id": x.grid_id}))


@endpoint(community_api_bp, "/buildings", ["POST"], summary="Add a building (staff)",
          body={"name": ("string", "name", True), "grid_id": ("integer", "grid", True)})
def building_create():
    require_api("core.structure.manage")
    data = json_body()
    grid = db.session.get(Grid, whole_number(data.get("grid_id"), "grid_id", default=0))
    x = structure.add_building(g.community, grid, data.get("name"), current_user)
    return jsonify({"id": x.id, "name": x.name, "grid_id": x.grid_id}), 201


@endpoint(community_api_bp, "/units", ["POST"], summary="Add a unit to a building (staff)",
          body={"name": ("string", "name", True), "building_id": ("integer", "building", True)})
def unit_create():
    require_api("core.structure.manage")
    data = json_body()
    building = db.session.get(Building, whole_number(data.get("building_id"), "building_id", default=0))
    x = structure.add_unit(g.community, building, data.get("name"), current_user)
    return jsonify({"id": x.id, "name": x.name, "building_id": x.building_id}), 201


@endpoint(community_api_bp, "/households", summary="Households with their register (staff), by building, unit "
          "and room in natural order", query={"grid_id": ("integer", "only this grid", False),
                                             "building_id": ("integer", "only this building", False)})
def households():
    require_api("core.members.view")
    place = places.place_from(g.community, request.args, strict=True)
    rows = (db.session.query(Household.id, Building.name, Unit.name, Household.room)
            .join(Unit, Household.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
            .filter(Household.community_id == g.community.id))
    if place.building is not None:
        rows = rows.filter(Unit.building_id == place.building.id)
    elif place.grid is not None:
        rows = rows.filter(Building.grid_id == place.grid.id)
    ids = [r[0] for r in natural_sorted(rows.all(), key=lambda r: r[1:])]

    def load(page_ids):
        found = {h.id: h for h in Household.query.options(joinedload(Household.members))
                 .filter(Household.id.in_(page_ids))} if page_ids else {}
        return [found[i] for i in page_ids]

    return jsonify(paginate(ids, household_json, load=load))


@endpoint(community_api_bp, "/households", ["POST"], summary="Add a household (staff)",
          body={"unit_id": ("integer", "unit", True), "room": ("string", "room number", True),
                "floor_area": ("string", "exclusive floor area in m², exact decimal", True),
                "area_source": ("string", "register | survey | contract", False),
                "developer_held": ("boolean", "unsold developer unit", False)})
def household_create():
    require_api("core.structure.manage")
    data = json_body()
    unit = db.session.get(Unit, whole_number(data.get("unit_id"), "unit_id", default=0))
    if isinstance(data.get("floor_area"), float):
        raise ServiceError("invalid_area", _("Send the floor area as a string, e.g. \"89.50\"."),
                           fields={"floor_area": _("Send the floor area as a string, e.g. \"89.50\".")})
    h = structure.save_household(g.community, current_user, unit=unit, room=data.get("room"),
                                 floor_area=data.get("floor_area"), area_source=data.get("area_source") or "register",
                                 developer_held=bool(data.get("developer_held")))
    return jsonify(household_json(h)), 201


@endpoint(community_api_bp, "/members", summary="Members of the community (staff)",
          query={"status": ("string", "verified | unverified", False)})
def members():
    require_api("core.members.view")
    q = Membership.query.options(joinedload(Membership.user)).filter_by(community_id=g.community.id)
    if request.args.get("status") == "verified":
        q = q.filter(Membership.verified_at.isnot(None))
    elif request.args.get("status") == "unverified":
        q = q.filter(Membership.verified_at.is_(None))
    return jsonify(paginate(q.order_by(Membership.id), membership_json))


def _member(membership_id):
    """A membership of this community, or 404."""
    m = db.session.get(Membership, membership_id)
    if m is None or m.community_id != g.community.id:
        raise NotFound("not_found", _("No such member."))
    return m


@endpoint(community_api_bp, "/members/<int:membership_id>/verify", ["POST"], summary="Verify a resident (staff)",
          body={"household_id": ("integer", "household", True), "relation": ("string", "owner | resident | tenant", True),
                "reason": ("string", "how it was checked", False)})
def member_verify(membership_id):
    require_api("core.members.manage")
    m = _member(membership_id)
    data = json_body()
    household = db.session.get(Household, whole_number(data.get("household_id"), "household_id", default=0))
    accounts.verify_resident(m, household, data.get("relation"), current_user, reason=data.get("reason"))
    return jsonify(membership_json(m))


@endpoint(community_api_bp, "/members/<int:membership_id>/roles", ["POST"],
          summary="Set a member's roles (staff: resident-level roles; a community admin: every role; never one's own)",
          body={"roles": ("array", "every role the member is to hold: resident, building_head, grid_worker, "
                                   "mediator, staff, admin", True),
                "building_id": ("integer", "the building of a building head", False),
                "grid_id": ("integer", "the grid of a grid worker", False)})
def member_roles(membership_id):
    require_api("core.members.manage")
    m = _member(membership_id)
    data = json_body()
    building = db.session.get(Building, whole_number(data.get("building_id"), "building_id", default=0))
    grid = db.session.get(Grid, whole_number(data.get("grid_id"), "grid_id", default=0))
    accounts.set_roles(m, data.get("roles"), current_user._get_current_object(), building=building, grid=grid)
    return jsonify(membership_json(m))


@endpoint(community_api_bp, "/members/<int:membership_id>/reset-code", ["POST"],
          summary="Give a member a one-time password reset code, shown once (staff; not for staff above you)")
def member_reset_code(membership_id):
    from core.services import reset_codes

    require_api("core.members.manage")
    m = _member(membership_id)
    code, expires_at = reset_codes.issue(m.user, current_user._get_current_object(), g.community)
    return jsonify({"code": code, "expires_at": iso(expires_at), "user": user_json(m.user)}), 201


@endpoint(api_bp, "/auth/reset-password", ["POST"], auth=False, refusal_commits=True,
          summary="Set a new password with a reset code given by community staff",
          body={"login": ("string", "phone number or user name", True),
                "code": ("string", "the reset code", True),
                "new_password": ("string", "at least 8 characters", True)})
def reset_password():
    from core.services import reset_codes

    data = json_body()
    user = reset_codes.redeem(data.get("login"), data.get("code"), data.get("new_password"))
    if user is None:  # a wrong try: answered as refused, and counted (committed)
        err = reset_codes.wrong_code()
        return error_response(err.code, err.message, err.fields, err.status)
    return jsonify({"user": user_json(user)})


# ── proposals ───────────────────────────────────────────────────────────────────────────
# Acting for a resident (代办; building heads, grid workers, staff): picked by key, never by name.
ASSIST_BODY = {"person_id": ("integer", "act for this person of the register (with or without an account)", False),
               "on_behalf_of": ("string", "…or for this account holder (phone number or user name)", False),
               "reason": ("string", "why you act for them (required when you do)", False)}


def _assisted(data):
    """The assisted-action keys of a request body, as the services take them. A ``name`` sent is
    passed on to be refused: a name never picks anyone."""
    return {"person_id": data.get("person_id"), "login": data.get("on_behalf_of"),
            "name": data.get("name") or data.get("on_behalf_of_name"), "reason": data.get("reason")}


@endpoint(community_api_bp, "/proposals", summary="Proposals, newest activity first", auth=False,
          query={"state": ("string", "|".join(STATES), False), "category": ("string", "|".join(CATEGORIES), False),
                 "scope": ("string", "|".join(SCOPES), False), "q": ("string", "text search", False),
                 "page": ("integer", "page", False), "per_page": ("integer", "≤100", False)})
def proposals():
    a = request.args
    for key, allowed in (("state", STATES), ("category", CATEGORIES), ("scope", SCOPES)):
        if a.get(key) and a.get(key) not in allowed:
            raise ServiceError("invalid_filter", _("Unknown value for %(name)s.", name=key), fields={key: _("Unknown value.")})
    q = svc.search(g.community, user=current_user, state=a.get("state"), category=a.get("category"),
                   scope=a.get("scope"), q=(a.get("q") or "")[:100] or None)
    return jsonify(paginate(q, proposal_json))


@endpoint(community_api_bp, "/proposals", ["POST"], summary="Submit a proposal", idempotent=True,
          body={"title": ("string", "4–120 characters", True), "body": ("string", "Markdown", True),
                "category": ("string", "|".join(CATEGORIES), True), "scope": ("string", "|".join(SCOPES), False),
                "grid_id": ("integer", "for scope grid", False), "building_id": ("integer", "for scope building", False),
                "draft": ("boolean", "keep as a draft", False), **ASSIST_BODY})
def proposal_create():
    data = json_body()
    p = svc.create(g.community, current_user, data, submit=not data.get("draft"), **_assisted(data))
    return jsonify(proposal_json(p, full=True)), 201


def _proposal(proposal_id):
    p = svc.get(g.community, proposal_id)
    if not svc.can_view(p, current_user):
        raise NotFound("not_found", _("No such proposal."))
    return p


@endpoint(community_api_bp, "/proposals/<int:proposal_id>", summary="One proposal with its history", auth=False)
def proposal_get(proposal_id):
    return jsonify(proposal_json(_proposal(proposal_id), full=True))


@endpoint(community_api_bp, "/proposals/<int:proposal_id>/second", ["POST"], summary="Second a proposal (附议)",
          idempotent=True)
def proposal_second(proposal_id):
    # The body is optional (a resident seconding sends none), so it is not declared as the
    # ``body`` of the route, which would require one; when sent it holds ASSIST_BODY's fields.
    data = json_body()
    p = svc.second(_proposal(proposal_id), current_user, **_assisted(data))
    return jsonify(proposal_json(p)), 201


@endpoint(community_api_bp, "/proposals/<int:proposal_id>/comments", summary="Comments on a proposal", auth=False)
def proposal_comments(proposal_id):
    p = _proposal(proposal_id)
    q = ProposalComment.query.filter_by(proposal_id=p.id).order_by(ProposalComment.id)
    return jsonify(paginate(q, lambda c: {"id": c.id, "author_name": c.author_name, "body": c.body,
                                         "created_at": iso(c.created_at)}))


@endpoint(community_api_bp, "/proposals/<int:proposal_id>/comments", ["POST"], summary="Comment on a proposal",
          body={"body": ("string", "up to 5,000 characters", True), **ASSIST_BODY}, idempotent=True)
def proposal_comment(proposal_id):
    data = json_body()
    c = svc.comment(_proposal(proposal_id), current_user, data.get("body"), **_assisted(data))
    return jsonify({"id": c.id, "author_name": c.author_name, "body": c.body, "created_at": iso(c.created_at)}), 201


@endpoint(community_api_bp, "/proposals/<int:proposal_id>/transition", ["POST"],
          summary="Move a proposal to another stage (staff, or the author submitting or withdrawing)",
          body={"state": ("string", "|".join(STATES), True), "reason": ("string", "required for staff", False)})
def proposal_transition(proposal_id):
    data = json_body()
    p = svc.transition(_proposal(proposal_id), data.get("state"), current_user, data.get("reason"))
    return jsonify(proposal_json(p, full=True))


# ── personal data (PIPL Art. 45 copy, Art. 47 erasure) ───────────────────────────────────
@endpoint(api_bp, "/me/personal-data", summary="A copy of all your personal data (PIPL Art. 45), as JSON")
def personal_data_export():
    from flask import current_app

    from core.services import personal_data

    resp = current_app.response_class(personal_data.export_json(current_user),
                                      mimetype="application/json")
    resp.headers["Content-Disposition"] = 'attachment; filename="linli-personal-data.json"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@endpoint(community_api_bp, "/members/<int:membership_id>/erase", ["POST"],
          summary="Erase a member's personal data on request (PIPL Art. 47; staff of every community they belong to; "
                  "a staff member or administrator only by a community administrator; never the last administrator)",
          body={"reason": ("string", "the request's date and reference", True)})
def member_erase(membership_id):
    from core.services import personal_data

    require_api("core.members.manage")
    m = _member(membership_id)
    summary = personal_data.erase(m.user, current_user._get_current_object(), json_body().get("reason"))
    return jsonify(summary)
