"""Expected answers of every mediation route, per role (tests/security, docs/plugins.md).

The objects: a noise case reported by the grid worker, with the resident (applicant) and
resident2 as parties, escalated and assigned to the mediator, flagged for a risk of violence
(so it has a police-referral task), with an agreement in effect, its follow-up visit and the
weekly 道德门诊 duty hours. In the matrix the mediator is mediation staff, the resident a party,
the grid worker the reporter; community staff and admins are neither and see no case.
No document is uploaded here (no file is written outside the tests' temporary folders), so the
document route answers 404 to everyone; tests/plugins/mediation/test_access.py covers it."""
from datetime import time

from tests.security.roles import DENIED, GONE, LOGIN, MEMBERS, OK, matrix, public

INVALID = {400}   # the permission check passed; the empty request was refused
CONFLICT = {409}  # the permission check passed; the case is not in a state for this
REDIRECT = {302}  # a form that answers by redirecting back with a message


def url_args(world):
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationFollowup, MediationTask

    case = svc.open_case(world.community, world.grid_worker, {
        "source": "grid_report", "category": "noise", "description": "楼上夜间噪音", "rights_notified": True,
        "parties": [{"role": "applicant", "login": world.resident.login_name, "consent": "agreed",
                     "pi_consent": "form"},
                    {"role": "respondent", "login": "resident2", "consent": "agreed", "pi_consent": "form"}]})
    svc.escalate(case, world.mediator, "网格调解未果")
    svc.assign(case, world.mediator, world.mediator)
    svc.flag_violence(case, world.mediator)
    svc.add_session(case, world.mediator, {"held_on": svc.dates.today(world.community), "place": "调解室",
                                           "attendees": "双方"})  # the last precondition of an agreement
    ag = svc.record_agreement(case, world.mediator, {"form": "written", "facts": "噪音", "terms": "十点后安静"})
    for who in [str(p.id) for p in case.parties] + ["mediator", "seal"]:
        svc.sign(ag, world.mediator, who)
    slot = svc.add_slot(world.community, world.mediator, {"user": world.mediator, "weekday": 2,
                                                          "start_time": time(9), "end_time": time(11),
                                                          "place": "调解室", "title": "道德门诊"})
    member = svc.add_committee_member(world.community, world.mediator, {"name": "委员", "sex": "female",
                                                                       "term_start": "2025-01-01"})
    svc.end_committee_member(world.community, world.mediator, member.id)
    return {"member_id": member.id, "case_id": case.id, "party_id": case.parties[0].id, "user_id": world.mediator.id,
            "task_id": MediationTask.query.filter_by(case_id=case.id).one().id,
            "agreement_id": ag.id, "followup_id": MediationFollowup.query.filter_by(case_id=case.id).first().id,
            "slot_id": slot.id}


def members(answer, **overrides):
    """Every member of the community gets ``answer``; others as usual (login, 404)."""
    return matrix(answer, anonymous=LOGIN, outsider=GONE, **overrides)


def case_staff(answer):
    """Only who works the case (the mediator) gets ``answer``; every other member is told the
    case does not exist."""
    return members(GONE, mediator=answer)


def staff_page(answer=OK):
    """Mediation staff pages: the mediator; other members are refused."""
    return members(DENIED, mediator=answer)


def api_members(answer, **overrides):
    return matrix(answer, anonymous=LOGIN, outsider=GONE, **overrides)


assert set(MEMBERS) <= set(matrix(OK))

ACCESS = {
    "c.mediation.static": public(GONE),
    # pages of every member
    "c.mediation.index": members(OK),
    "c.mediation.new": members(OK),  # an empty POST shows the form again with its errors
    "GET c.mediation.roster": members(OK),
    "POST c.mediation.roster": members(INVALID),  # no action named
    # the case: who works it in full, the party and the reporter their part, nobody else
    "c.mediation.case": members(GONE, mediator=OK, resident=OK, grid_worker=OK),
    "c.mediation.print_agreement": members(GONE, mediator=OK, resident=OK),
    "c.mediation.document": members(GONE),
    # actions on the case (empty forms)
    "c.mediation.rights": case_staff(REDIRECT),
    "c.mediation.joint_meeting": case_staff(REDIRECT),
    "c.mediation.unassign": case_staff(REDIRECT),
    "c.mediation.add_party": case_staff(INVALID),
    "c.mediation.consent": case_staff(INVALID),
    "c.mediation.assign": case_staff(INVALID),
    "c.mediation.escalate": case_staff(INVALID),
    "c.mediation.refer": case_staff(INVALID),
    "c.mediation.close": case_staff(INVALID),
    "c.mediation.add_session": case_staff(INVALID),
    "c.mediation.upload": case_staff(INVALID),
    "c.mediation.add_agreement": case_staff(INVALID),
    "c.mediation.followup": case_staff(INVALID),
    "c.mediation.task_done": case_staff(INVALID),
    "c.mediation.violence": case_staff(CONFLICT),  # flagged already
    "c.mediation.sign": case_staff(CONFLICT),      # the agreement is in effect
    "c.mediation.reopen": case_staff(CONFLICT),    # the case is open
    "c.mediation.pi_consent": case_staff(CONFLICT),        # R22 consent recorded at intake already
    "c.mediation.pi_consent_paper": case_staff(CONFLICT),  # no party is missing it
    # a party's own request (stop, private hearing): who works the case, and the party themselves
    "c.mediation.party_request": members(GONE, mediator=INVALID, resident=INVALID),
    "c.mediation.extend": case_staff(INVALID),
    "c.mediation.confirmation": case_staff(INVALID),
    "c.mediation.add_followup": case_staff(INVALID),
    "c.mediation.followup_date": case_staff(INVALID),
    "c.mediation.case_file": case_staff(OK),
    # mediation staff pages
    "c.mediation.stats": staff_page(),
    "c.mediation.register_export": staff_page(),
    "c.mediation.access_log": staff_page(),
    "c.mediation.holidays": staff_page(),
    "c.mediation.committee": staff_page(),  # an empty POST shows the form again with its errors  # an empty POST shows the form again with its errors
    # API
    "api_c.mediation_api.cases": api_members(OK),
    "api_c.mediation_api.case_create": api_members(INVALID),
    "api_c.mediation_api.case_get": api_members(GONE, mediator=OK, resident=OK, grid_worker=OK),
    "api_c.mediation_api.sessions": case_staff(OK),
    "api_c.mediation_api.case_log": case_staff(OK),
    "api_c.mediation_api.case_rights": case_staff(OK),
    "api_c.mediation_api.case_joint": case_staff(OK),
    "api_c.mediation_api.party_add": case_staff(INVALID),
    "api_c.mediation_api.party_consent": case_staff(INVALID),
    "api_c.mediation_api.case_assign": case_staff(INVALID),
    "api_c.mediation_api.case_escalate": case_staff(INVALID),
    "api_c.mediation_api.case_refer": case_staff(INVALID),
    "api_c.mediation_api.case_close": case_staff(INVALID),
    "api_c.mediation_api.session_add": case_staff(INVALID),
    "api_c.mediation_api.agreement_add": case_staff(INVALID),
    "api_c.mediation_api.followup_record": case_staff(INVALID),
    "api_c.mediation_api.case_violence": case_staff(CONFLICT),
    "api_c.mediation_api.agreement_sign": case_staff(CONFLICT),
    "api_c.mediation_api.case_reopen": case_staff(CONFLICT),
    "api_c.mediation_api.party_pi_consent": case_staff(CONFLICT),
    "api_c.mediation_api.case_pi_consent_paper": case_staff(CONFLICT),
    "api_c.mediation_api.party_request": members(GONE, mediator=INVALID, resident=INVALID),
    "api_c.mediation_api.case_extend": case_staff(INVALID),
    "api_c.mediation_api.agreement_confirmation": case_staff(INVALID),
    "api_c.mediation_api.followup_add": case_staff(INVALID),
    "api_c.mediation_api.followup_date": case_staff(INVALID),
    "GET api_c.mediation_api.committee": staff_page(),
    "POST api_c.mediation_api.committee_add": staff_page(INVALID),
    "api_c.mediation_api.committee_end": staff_page(CONFLICT),  # the membership has ended already
    "GET api_c.mediation_api.holidays": staff_page(),
    "POST api_c.mediation_api.holidays_add": staff_page(INVALID),
    "api_c.mediation_api.roster": api_members(OK),
    "api_c.mediation_api.roster_book": api_members(INVALID),
    "api_c.mediation_api.stats": staff_page(),
}
