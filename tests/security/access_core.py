"""Expected answers of every core route, per role (see tests/security/roles.py)."""
from core.services import proposals
from tests.security.roles import DENIED, GONE, MEMBERS, OK, STAFF, logged_in, matrix, only, public


def url_args(world):
    """Objects the core routes are requested with: a draft owned by the resident, the resident's
    membership, a household and a building of the community."""
    from core.models import Membership, Person

    draft = proposals.create(world.community, world.resident, {
        "title": "单元门禁维修", "body": "一单元门禁坏了，陌生人随便进出，请维修。", "category": "safety"},
        submit=False)
    membership = Membership.query.filter_by(user_id=world.resident.id, community_id=world.community.id).one()
    person = Person.query.filter_by(user_id=world.resident.id, community_id=world.community.id).one()
    return {"proposal_id": draft.id, "membership_id": membership.id, "household_id": world.households[0].id,
            "person_id": person.id,
            "building_id": world.building.id, "kind": "building", "obj_id": world.building.id,
            "filename": "linli.css", "name": "recorder-none"}


# Who may see the member list, the structure and the households (core.members.view).
LISTERS = ("building_head", "grid_worker", "staff", "admin")
REDIRECT = {302}  # a form that answers by redirecting back with a message
INVALID = {400}   # the API refused the empty request body, so the permission check was passed
# The resident's own draft: seen by its author and by staff only, everyone else is told it does not exist.
DRAFT_VIEW = only(("resident", "staff", "admin"), OK, denied=GONE, anonymous=GONE)

ACCESS = {
    # site-wide pages
    "root.index": public(OK | REDIRECT),
    "healthz": public(),
    "static": public(),
    "openapi": public(),
    "root.set_language": public(REDIRECT),
    "root.toggle_large_text": public(REDIRECT),
    "GET auth.login": public(),
    "POST auth.login": public(),  # the empty form is shown again
    "auth.logout": public(REDIRECT),
    "GET auth.account": logged_in(OK),
    "POST auth.account": logged_in(OK),
    "GET auth.notifications": logged_in(OK),
    "auth.personal_data": logged_in(OK),  # everyone downloads only their own data
    "POST auth.notifications": logged_in(REDIRECT),
    # community pages
    "c.community.home": public(),
    "GET c.community.register": public(),
    "POST c.community.register": matrix(REDIRECT, anonymous=OK),  # logged in: joins; anonymous: form again
    "c.community.manage": logged_in(OK),  # a list of the links the user may follow (nav('admin'))
    "c.community.members": only(LISTERS, OK),
    "GET c.community.member": only(LISTERS, OK),
    "POST c.community.member": only(STAFF, OK),
    # staff give a one-time password reset code (shown on the answer page); anyone uses one
    "POST c.community.member_reset_code": only(STAFF, OK),
    "GET auth.reset_password": public(),
    "POST auth.reset_password": public(),  # the empty form is shown again
    "c.community.privacy": public(),
    "c.admin.audit": only(STAFF, OK),
    "GET c.admin.modules": only(("admin",), OK),
    "POST c.admin.modules": only(("admin",), REDIRECT),
    "GET c.admin.settings": only(("admin",), OK),
    "POST c.admin.settings": only(("admin",), REDIRECT),
    # erasure on request (PIPL Art. 47): the empty form is shown again; what it does is checked by
    # tests/core/test_personal_data.py
    "GET c.admin.erase_member": only(STAFF, OK),
    "POST c.admin.erase_member": only(STAFF, OK),
    # proposals
    "c.proposals.index": public(),
    "c.proposals.detail": DRAFT_VIEW,
    "c.proposals.print_notice": DRAFT_VIEW,
    "GET c.proposals.edit": only(("resident",), OK),  # only the author edits a draft, not even staff
    "POST c.proposals.edit": only(("resident",), REDIRECT),
    # members (even unverified) write proposals; a non-member is sent to the registration page
    "c.proposals.new": only(MEMBERS, OK, outsider=REDIRECT),
    # these answer with a redirect back to the proposal and a message; what they did is checked
    # by tests/core/test_proposals.py and tests/security/test_attacks.py
    "c.proposals.comment": logged_in(REDIRECT),
    "c.proposals.second": logged_in(REDIRECT),
    "c.proposals.transition": logged_in(REDIRECT),
    # structure
    "c.structure.index": only(LISTERS, OK),
    "c.structure.building": only(LISTERS, OK),
    "c.structure.export": only(LISTERS, OK),
    "GET c.structure.household": only(LISTERS, OK),
    "POST c.structure.household": only(STAFF, OK),
    "c.structure.add": only(STAFF, REDIRECT),
    "c.structure.rename": only(STAFF, REDIRECT),
    "c.structure.import_file": only(STAFF, OK),
    # the people on the register (staff): the empty form is shown again, or sent back with a message
    "GET c.structure.person": only(STAFF, OK),
    "POST c.structure.person": only(STAFF, OK),
    "GET c.structure.duplicates": only(STAFF, OK),
    "c.structure.birth_dates_unknown": only(STAFF, OK),
    "POST c.structure.duplicates": only(STAFF, REDIRECT),
    # API (bearer tokens only; 401 without one)
    "api.communities": public(),
    "api.me": logged_in(OK),
    "api.notifications": logged_in(OK),
    "api.personal_data_export": logged_in(OK),
    "api_c.core.community": public(),
    "api_c.core.proposals": public(),
    "api_c.core.proposal_get": DRAFT_VIEW,
    "api_c.core.proposal_comments": DRAFT_VIEW,
    "api_c.core.proposal_create": only(MEMBERS, INVALID),
    "api_c.core.proposal_comment": only(("resident", "staff", "admin"), INVALID, denied=GONE),
    # a draft can be neither seconded nor moved by its author (409); staff may not second (403)
    "api_c.core.proposal_second": only(("resident",), {409}, denied=GONE) | {"staff": DENIED, "admin": DENIED},
    "api_c.core.proposal_transition": only(("resident", "staff", "admin"), {409}, denied=GONE),
    "api_c.core.buildings": only(LISTERS, OK),
    "api_c.core.modules": only(("admin",), OK),
    "api_c.core.module_set": only(("admin",), INVALID),  # no "enabled" given: nothing switched
    "api_c.core.grids": only(LISTERS, OK),
    "api_c.core.households": only(LISTERS, OK),
    "api_c.core.members": only(LISTERS, OK),
    "api_c.core.building_create": only(STAFF, INVALID),
    "api_c.core.grid_create": only(STAFF, INVALID),
    "api_c.core.unit_create": only(STAFF, INVALID),
    "api_c.core.household_create": only(STAFF, INVALID),
    "api_c.core.member_verify": only(STAFF, INVALID),
    "api_c.core.member_roles": only(STAFF, INVALID),  # no roles given: nothing changed
    "api_c.core.member_erase": only(STAFF, INVALID),  # no reason given: nothing erased
    "api_c.core.member_reset_code": only(STAFF, {201}),  # the resident gets a code
    "api.reset_password": public(INVALID),  # nothing given: no password set
    "api_c.core.person_duplicates": only(STAFF, OK),
    "api_c.core.person_get": only(STAFF, OK),
    "api_c.core.person_merge": only(STAFF, INVALID),  # no other person given: nothing merged
    "api_c.core.person_split": only(STAFF, INVALID),
    "api_c.core.person_distinct": only(STAFF, INVALID),
    "api_c.core.person_identity": only(STAFF, OK),  # both fields empty: no document, nothing to remove
    "api_c.core.person_birth_date_unknown": only(STAFF, OK),
    "api_c.core.person_birth_date": only(STAFF, OK),  # no date given: none recorded, nothing to remove
}
