"""The people on the register (staff): one person, possible duplicates, merge, split, mark as
different, identity document (core.services.persons)."""
from flask import g, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from core.api import community_api_bp, endpoint, json_body, require_api
from core.errors import NotFound, ServiceError
from core.extensions import db
from core.models import HouseholdMember, Person
from core.services import persons as svc


def person_json(p):
    """A person without their document number (never stored): its type and last four characters."""
    return {"id": p.id, "names": p.names, "user_id": p.user_id,
            "identity_document": {"type": p.id_type, "last4": p.id_last4} if p.id_hash else None,
            "birth_date": svc.birth_label(p) or None, "birth_year_only": bool(p.birth_year_only),
            "entries": [{"id": m.id, "household_id": m.household_id, "household": m.household.label,
                         "name": m.name, "phone": m.phone, "relation": m.relation,
                         "is_representative": m.is_representative} for m in p.members]}


def _int(value, field):
    if isinstance(value, bool) or not isinstance(value, int):
        msg = _("Give a whole number.")
        raise ServiceError("invalid_field", msg, fields={field: msg})
    return value


def _person(person_id, field=None):
    p = db.session.get(Person, person_id)
    if p is None or p.community_id != g.community.id:
        if field:
            msg = _("No such person on the register.")
            raise ServiceError("invalid_person", msg, fields={field: msg})
        raise NotFound("not_found", _("No such person on the register."))
    return p


@endpoint(community_api_bp, "/persons/duplicates", summary="Possible duplicates: people of the same name whom "
          "nothing on the register tells apart (staff)")
def person_duplicates():
    require_api("core.structure.manage")
    return jsonify({"items": [{"name": grp["name"], "same_phone": grp["same_phone"], "pairs": grp["pairs"],
                               "persons": [person_json(p) for p in grp["persons"]]}
                              for grp in svc.possible_duplicates(g.community)]})


@endpoint(community_api_bp, "/persons/<int:person_id>", summary="One person on the register with their entries (staff)")
def person_get(person_id):
    require_api("core.structure.manage")
    return jsonify(person_json(_person(person_id)))


@endpoint(community_api_bp, "/persons/<int:person_id>/merge", ["POST"],
          summary="The other person is the same as this one: every entry, the account and the document become "
                  "this person's (staff)",
          body={"other_id": ("integer", "the person to merge into this one", True),
                "reason": ("string", "how it was checked", False)})
def person_merge(person_id):
    require_api("core.structure.manage")
    data = json_body()
    keep = _person(person_id)
    other = _person(_int(data.get("other_id"), "other_id"), field="other_id")
    return jsonify(person_json(svc.merge(g.community, keep, other, current_user, reason=data.get("reason"))))


@endpoint(community_api_bp, "/persons/<int:person_id>/split", ["POST"],
          summary="One register entry of this person is someone else: it becomes a person of its own (staff)",
          body={"member_id": ("integer", "the register entry to split off", True),
                "reason": ("string", "how it was checked", False)})
def person_split(person_id):
    require_api("core.structure.manage")
    data = json_body()
    p = _person(person_id)
    member = db.session.get(HouseholdMember, _int(data.get("member_id"), "member_id"))
    if member is None or member.person_id != p.id:
        msg = _("Choose one of this person's entries.")
        raise ServiceError("invalid_member", msg, fields={"member_id": msg})
    new = svc.split(g.community, member, current_user, reason=data.get("reason"))
    return jsonify(person_json(new)), 201


@endpoint(community_api_bp, "/persons/distinct", ["POST"],
          summary="These people of the same name are different people: no longer possible duplicates (staff)",
          body={"person_ids": ("array", "two or more people", True),
                "reason": ("string", "how it was checked", False)})
def person_distinct():
    require_api("core.structure.manage")
    data = json_body()
    ids = data.get("person_ids")
    if not isinstance(ids, list) or len(ids) > 100:
        msg = _("Choose at least two people.")
        raise ServiceError("invalid_field", msg, fields={"person_ids": msg})
    people = [_person(_int(i, "person_ids"), field="person_ids") for i in ids]
    added = svc.mark_distinct(g.community, people, current_user, reason=data.get("reason"))
    return jsonify({"pairs": added})


@endpoint(community_api_bp, "/persons/<int:person_id>/identity", ["PUT"],
          summary="Record the person's identity document (kept only as a keyed hash and its last four "
                  "characters), or remove it with both fields empty (staff)",
          body={"id_type": ("string", "resident_id | hk_macao | taiwan | foreign_permanent | passport", False),
                "id_number": ("string", "the document number (checked; a resident ID by its check digit)", False)})
def person_identity(person_id):
    require_api("core.structure.manage")
    data = json_body()
    p = _person(person_id)
    return jsonify(person_json(svc.set_identity(g.community, p, current_user, data.get("id_type"),
                                                data.get("id_number"))))


@endpoint(community_api_bp, "/persons/birth-date-unknown", summary="People whose age is not known today: no date of "
          "birth, or only the year in which they turn 18 (staff)")
def person_birth_date_unknown():
    require_api("core.structure.manage")
    people = svc.birth_date_unknown(g.community)
    return jsonify({"count": len(people), "items": [person_json(p) for p in people]})


@endpoint(community_api_bp, "/persons/<int:person_id>/birth-date", ["PUT"],
          summary="Record the person's date of birth (1990-05-01, or the year alone), or remove it with an empty "
                  "value (staff)",
          body={"birth_date": ("string", "1990-05-01, or a year (1990) when only the year is known", False)})
def person_birth_date(person_id):
    require_api("core.structure.manage")
    data = json_body()
    p = _person(person_id)
    value = data.get("birth_date")
    if value is not None and not isinstance(value, str):
        msg = _("Give the date of birth as 1990-05-01, or the year alone (1990).")
        raise ServiceError("invalid_birth_date", msg, fields={"birth_date": msg})
    return jsonify(person_json(svc.set_birth_date(g.community, p, current_user, value)))
