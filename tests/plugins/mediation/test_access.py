"""Confidentiality (R22): walk every mediation page and API endpoint as every role, as a party,
as an unrelated resident, as a member of another community, as a site administrator and
anonymously; fail on any leak of case contents, and on any change made by someone not allowed.

The routes are read from the app's URL map, so a new page or endpoint is walked automatically."""
import io
import re
from datetime import date, time, timedelta

import pytest

from core.extensions import db
from tests.plugins.mediation.conftest import SECRET

pytestmark = pytest.mark.plugins("mediation")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SOON = (date.today() + timedelta(days=40)).isoformat()  # past the one-month target, within a year


@pytest.fixture
def full_case(app, world, ready_case):
    """The case with every part: a session, a task, a document, an effective agreement, a
    follow-up, a slot."""
    case = ready_case
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationFollowup, MediationTask

    svc.flag_violence(case, world.mediator)
    doc = svc.upload_document(case, world.mediator, f"photo-{SECRET}.png", PNG)
    ag = svc.record_agreement(case, world.mediator, {"form": "written", "facts": "事实FACTS",
                                                      "terms": "公开条款TERMS"})
    for who in [str(p.id) for p in case.parties] + ["mediator", "seal"]:
        svc.sign(ag, world.mediator, who)
    slot = svc.add_slot(world.community, world.mediator, {"user": world.mediator, "weekday": 2,
                                                          "start_time": time(9), "end_time": time(11),
                                                          "place": "调解室", "title": "道德门诊"})
    member = svc.add_committee_member(world.community, world.mediator, {"name": "委员甲", "sex": "female",
                                                                       "term_start": "2025-03-01"})
    ids = {"member_id": member.id, "case_id": case.id, "party_id": case.parties[0].id, "user_id": world.mediator.id,
           "task_id": MediationTask.query.one().id, "doc_id": doc.id, "agreement_id": ag.id,
           "followup_id": MediationFollowup.query.first().id, "slot_id": slot.id}
    return case, ids


def _routes(app, prefix):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(prefix) and not rule.endpoint.endswith(".static"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, ids, community="test"):
    values = {"community": community, **ids}
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule.rule)


# Form data that would succeed for someone allowed: a refused request must be refused for who
# is asking, not for what was sent.
FORMS = {
    "rights": {"rights_notified": "1", "voluntary_statement": "1"},
    "add_party": {"pt-role": "other", "pt-name": "第三人", "pt-consent": "agreed"},
    "consent": {"consent": "refused"},
    "assign": {"as-login": "buildinghead"},
    "escalate": {"rs-reason": "升级"}, "reopen": {"rs-reason": "重开"},
    "refer": {"rf-referred_to": "法院", "rf-reason": "转出"},
    "task_done": {"tk-note": "已报警"}, "joint_meeting": {"flag": "1"},
    "add_session": {"ss-held_on": "2000-01-01", "ss-place": "x", "ss-attendees": "y"},
    "add_agreement": {"ag-form": "oral", "ag-facts": "f", "ag-terms": "t", "ag-ob1_party": "0", "ag-ob2_party": "0"},
    "sign": {"sg-who": "seal"}, "followup": {"fu-result": "performed", "fu-findings": "好"},
    "close": {"cl-outcome": "withdrawn", "cl-reason": "撤回"},
    "holidays": {"hd-day": "2030-01-01", "hd-name": "假日"},
    "committee": {"cm-name": "新委员", "cm-sex": "female", "cm-role": "member", "cm-term_start": "2026-01-01"},
    "pi_consent": {"pc-method": "paper"}, "pi_consent_paper": {},
    "roster": {"action": "remove", "slot_id": "SLOT"},
    "party_request": {"kind": "private"},
    "extend": {"ex-until": SOON, "ex-reason": "双方同意延期", "ext_party": ["1", "2"]},
    "confirmation": {"cf_party": ["1", "2"]},
    "add_followup": {"vs-due_on": SOON, "vs-obligation_id": "0"},
    "followup_date": {"vd-due_on": SOON},
}


def _snapshot():
    from plugins.mediation import models as m

    counts = tuple(cls.query.count() for cls in (
        m.MediationParty, m.MediationAssignment, m.MediationHistory, m.MediationSession, m.MediationDocument,
        m.MediationAgreement, m.MediationSignature, m.MediationFollowup, m.MediationHoliday, m.MediationBooking,
        m.MediationExtension, m.MediationConfirmation))
    visits = tuple((f.id, f.due_on) for f in m.MediationFollowup.query.order_by(m.MediationFollowup.id))
    committee = tuple((x.id, x.active) for x in m.MediationCommitteeMember.query.order_by(m.MediationCommitteeMember.id))
    c = m.MediationCase.query.one()
    t = m.MediationTask.query.one()
    slots = tuple((s.id, s.active) for s in m.MediationRosterSlot.query.order_by(m.MediationRosterSlot.id))
    return counts + (c.status, c.tier, c.for_joint_meeting, c.rights_notified, t.done_at, slots,
                     c.private_hearing, c.extended_until, visits,
                     tuple((p.consent, p.pi_consent_on, p.pi_consent_method, p.stop_requested_at,
                            p.private_requested_at) for p in c.parties), committee)


def _personas(world):
    from core.services import accounts

    root = accounts.create_user("siteadmin", "correct-horse-9", "站长", is_superadmin=True)
    return {
        "admin": world.admin, "staff": world.staff, "building_head": world.building_head,
        "unrelated_resident": world.newbie, "outsider": world.outsider, "superadmin": root,
        "reporter": world.grid_worker, "party": world.resident, "anonymous": None,
    }


def test_pages_leak_nothing_and_refuse_changes(app, world, full_case, login):
    case, ids = full_case
    routes = list(_routes(app, "c.mediation."))
    assert len(routes) >= 25
    before = _snapshot()
    for name, user in _personas(world).items():
        client = login(user) if user is not None else app.test_client()
        for rule, method in routes:
            url = _url(rule, ids)
            if method == "GET":
                r = client.get(url)
                body = r.get_data()
                assert SECRET.encode() not in body, (name, url)
                if rule.endpoint in ("c.mediation.document", "c.mediation.register_export", "c.mediation.stats",
                                     "c.mediation.access_log", "c.mediation.holidays", "c.mediation.committee"):
                    assert r.status_code in (302, 403, 404), (name, url, r.status_code)
                if name != "party" and rule.endpoint in ("c.mediation.case", "c.mediation.print_agreement"):
                    if name == "reporter" and rule.endpoint == "c.mediation.case":
                        assert r.status_code == 200 and b"TERMS" not in body
                    else:
                        assert r.status_code in (302, 404), (name, url, r.status_code)
            else:
                short = rule.endpoint.rsplit(".", 1)[1]
                data = {k: (str(ids["slot_id"]) if v == "SLOT" else v) for k, v in FORMS.get(short, {}).items()}
                if short == "new":
                    continue  # any member may apply; checked in test_rules
                if short == "roster" and name not in ("outsider", "superadmin", "anonymous"):
                    continue  # members book clinic hours here; removing a slot is checked by the snapshot
                if short == "party_request" and name == "party":
                    continue  # a party may ask for a private hearing themselves (test_consent_gates)
                r = client.post(url, data=data)
                assert r.status_code in (302, 403, 404), (name, url, r.status_code)
                if r.status_code == 302:
                    assert "/auth/login" in r.headers["Location"], (name, url)
                assert SECRET.encode() not in r.get_data()
                db.session.expire_all()
                assert _snapshot() == before, (name, url)
    # A party sees their own case's status and agreement, and nothing else of it.
    party = login(world.resident)
    page = party.get(f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)
    assert "TERMS" in page and SECRET not in page and "13900001111" not in page
    assert party.get(f"/c/test/mediation/cases/{case.id}/documents/{ids['doc_id']}").status_code == 404
    printed = party.get(f"/c/test/mediation/cases/{case.id}/agreements/{ids['agreement_id']}/print")
    assert "FACTS" in printed.get_data(as_text=True) and SECRET not in printed.get_data(as_text=True)
    # Mediation staff see everything (the walk could have failed).
    m = login(world.mediator)
    assert SECRET in m.get(f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)
    assert m.get(f"/c/test/mediation/cases/{case.id}/documents/{ids['doc_id']}").status_code == 200


def test_api_leaks_nothing_and_refuses_changes(app, world, full_case, api):
    case, ids = full_case
    routes = list(_routes(app, "api_c.mediation_api."))
    assert len(routes) >= 20
    before = _snapshot()
    bodies = {"party_consent": {"consent": "refused"}, "case_escalate": {"reason": "r"},
              "case_close": {"outcome": "withdrawn", "reason": "r"}, "case_assign": {"login": "buildinghead"},
              "case_joint": {"flag": True}, "holidays_add": {"day": "2030-01-01", "name": "x"},
              "agreement_sign": {"who": "seal"}, "case_rights": {"rights_notified": False, "voluntary_statement": False},
              "case_refer": {"referred_to": "x", "reason": "y"}, "case_reopen": {"reason": "x"},
              "party_add": {"role": "other", "name": "x"}, "followup_record": {"result": "performed", "findings": "x"},
              "session_add": {"held_on": "2000-01-01", "place": "x", "attendees": "y"},
              "agreement_add": {"form": "oral", "facts": "f", "terms": "t"},
              "committee_add": {"name": "新委员", "sex": "female", "term_start": "2026-01-01"},
              "party_pi_consent": {"method": "paper"}, "party_request": {"kind": "private"},
              "case_extend": {"until": SOON, "reason": "延期", "party_ids": [1, 2]},
              "agreement_confirmation": {"party_ids": [1, 2]}, "followup_add": {"due_on": SOON},
              "followup_date": {"due_on": SOON}}
    for name, user in _personas(world).items():
        client = api(user)
        for rule, method in routes:
            url = _url(rule, ids)
            short = rule.endpoint.rsplit(".", 1)[1]
            if method == "GET":
                r = client.get(url)
                assert SECRET.encode() not in r.get_data(), (name, url)
                if short in ("holidays", "stats", "case_log", "sessions", "committee"):
                    assert r.status_code in (401, 403, 404), (name, url, r.status_code)
            else:
                if short in ("case_create", "roster_book") and name not in ("outsider", "superadmin", "anonymous"):
                    continue
                if short == "party_request" and name == "party":
                    continue  # a party may ask for a private hearing themselves (test_consent_gates)
                r = client.post(url, json=bodies.get(short, {}))
                assert r.status_code in (401, 403, 404), (name, url, r.status_code)
                assert SECRET.encode() not in r.get_data()
                db.session.expire_all()
                assert _snapshot() == before, (name, url)
    body = api(world.resident).get(f"/api/v1/c/test/mediation/cases/{case.id}").get_json()
    assert body["agreement"]["terms"] == "公开条款TERMS" and "parties" not in body and "description" not in body
    listed = api(world.newbie).get("/api/v1/c/test/mediation/cases").get_json()
    assert listed["total"] == 0
    assert SECRET in api(world.mediator).get(f"/api/v1/c/test/mediation/cases/{case.id}").get_data(as_text=True)


def test_nothing_leaks_through_notifications_audit_exports_agenda_or_search(app, world, full_case, login):
    from openpyxl import load_workbook

    from core.models import AuditEntry, Notification
    from core.services.notifications import render
    from plugins.mediation import services as svc

    case, ids = full_case
    svc.set_joint_meeting(case, world.mediator, True)
    notes = Notification.query.all()
    assert notes and all(SECRET not in render(n) and "噪音" not in render(n) for n in notes)
    for e in AuditEntry.query.all():
        assert SECRET not in f"{e.before} {e.after} {e.reason}"
    audit_page = login(world.admin).get("/c/test/admin/audit?action=mediation").get_data(as_text=True)
    assert "mediation." in audit_page and SECRET not in audit_page
    xlsx = login(world.mediator).get("/c/test/mediation/stats/register.xlsx")
    assert xlsx.status_code == 200
    cells = " ".join(str(c.value) for row in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows() for c in row)
    assert case.number in cells and SECRET not in cells and "居民甲" not in cells and "13900001111" not in cells
    from flask import g

    with app.test_request_context("/c/test/"):
        g.community = world.community
        hooks = app.extensions["linli.plugins"].hooks_for(world.community)
        offered = [c for group in hooks.agenda_sources(community=world.community, user=world.staff) for c in group]
        nobody = [c for group in hooks.agenda_sources(community=world.community, user=world.resident) for c in group]
    assert [c.ref for c in offered] == [f"mediation:case:{case.id}"]
    assert SECRET not in offered[0].title and "噪音" not in offered[0].title and nobody == []
    # the case is on the agenda, but community staff still cannot open it
    assert login(world.staff).get(offered[0].url).status_code == 404
    # proposals search does not find case contents
    assert SECRET not in login(world.admin).get(f"/c/test/proposals/?q={SECRET}").get_data(as_text=True).split("</form>")[-1]


def test_every_read_is_logged_and_the_log_is_for_mediation_staff(app, world, full_case, login):
    from plugins.mediation.models import MediationAccessLog

    case, ids = full_case
    login(world.resident).get(f"/c/test/mediation/cases/{case.id}")
    login(world.mediator).get(f"/c/test/mediation/cases/{case.id}/documents/{ids['doc_id']}")
    actions = [(r.user_id, r.action) for r in MediationAccessLog.query.filter_by(case_id=case.id)]
    assert (world.resident.id, "view") in actions and (world.mediator.id, "download") in actions
    page = login(world.mediator).get(f"/c/test/mediation/log?case={case.id}").get_data(as_text=True)
    assert world.resident.display_name in page and "下载了文件" in page
    assert login(world.admin).get("/c/test/mediation/log").status_code == 403


def test_nav_shows_cases_only_to_those_who_may_see_them(app, world, login):
    home = login(world.mediator).get("/c/test/").get_data(as_text=True)
    assert "/c/test/mediation/" in home
    staff_home = login(world.staff).get("/c/test/mediation/").get_data(as_text=True)
    assert "/c/test/mediation/stats" not in staff_home
    resident = login(world.resident).get("/c/test/mediation/").get_data(as_text=True)
    assert "/c/test/mediation/new" in resident and "/c/test/mediation/roster" in resident
    assert login(world.outsider).get("/c/test/mediation/").status_code == 404


def test_mediation_staff_setting_grants_access_without_the_mediator_role(app, world, case, login, runner):
    r = runner.invoke(args=["mediation", "staff", "staff", "--community", "test"])
    assert r.exit_code == 0, r.output
    assert SECRET in login(world.staff).get(f"/c/test/mediation/cases/{case.id}").get_data(as_text=True)
    assert login(world.admin).get(f"/c/test/mediation/cases/{case.id}").status_code == 404


def test_an_assigned_grid_worker_sees_only_their_case(app, world, case, login):
    from plugins.mediation import services as svc

    other = svc.open_case(world.community, world.resident2, {"source": "application", "category": "pets",
                                                             "description": "邻居的狗夜里叫OTHER",
                                                             "parties": [{"role": "respondent", "name": "邻居"}]})
    svc.assign(other, world.mediator, world.building_head)
    bh = login(world.building_head)
    assert "OTHER" in bh.get(f"/c/test/mediation/cases/{other.id}").get_data(as_text=True)
    assert bh.get(f"/c/test/mediation/cases/{case.id}").status_code == 404
    assert bh.get("/c/test/mediation/stats").status_code == 403


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant", "en"])
def test_every_page_renders_for_mediation_staff_and_the_party(app, world, full_case, login, locale):
    from core.models import User

    case, ids = full_case
    for user in (world.mediator, world.resident):
        db.session.get(User, user.id).locale = locale
    db.session.commit()
    m, party = login(world.mediator), login(world.resident)
    for rule, method in _routes(app, "c.mediation."):
        if method != "GET":
            continue
        url = _url(rule, ids)
        r = m.get(url)
        assert r.status_code == 200, (url, r.status_code)
        if rule.endpoint in ("c.mediation.index", "c.mediation.new", "c.mediation.case", "c.mediation.roster",
                             "c.mediation.print_agreement"):
            assert party.get(url).status_code == 200, url
    home = m.get("/c/test/").get_data(as_text=True)
    assert "/c/test/mediation/stats" in home  # the dashboard widget for mediation staff


def test_the_case_list_from_the_cache_is_still_logged_and_shows_new_cases(app, world, case, login):
    """The case list is kept per user (core.pagecache.per_user): a repeat view is served from the
    cache, is logged as a read like any other, never reaches another user, and a new case shows
    at once."""
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationAccessLog

    def reads(user):
        return MediationAccessLog.query.filter_by(user_id=user.id, action="list").count()

    mediator = login(world.mediator)
    first = mediator.get("/c/test/mediation/")
    again = mediator.get("/c/test/mediation/")
    assert again.headers.get("X-Linli-Cache") == "hit"
    assert again.get_data(as_text=True).count(case.number) == first.get_data(as_text=True).count(case.number) > 0
    assert reads(world.mediator) == 2
    # the resident (a party) has their own list, never the mediator's
    resident = login(world.resident).get("/c/test/mediation/")
    assert resident.headers.get("X-Linli-Cache") != "hit"
    assert "/c/test/mediation/new" in resident.get_data(as_text=True)
    svc.open_case(world.community, world.resident2, {"source": "application", "category": "pets",
                                                     "description": "邻居的狗夜里叫NEWCASE",
                                                     "parties": [{"role": "respondent", "name": "邻居"}]})
    fresh = mediator.get("/c/test/mediation/")
    assert fresh.headers.get("X-Linli-Cache") != "hit"
    assert fresh.get_data(as_text=True).count("/c/test/mediation/cases/") > first.get_data(as_text=True).count(
        "/c/test/mediation/cases/")
    assert reads(world.mediator) == 3


def test_a_cached_case_list_is_not_served_after_the_session_ended_or_the_role_was_taken(app, world, case, login):
    """A hit is answered before the user is loaded: whatever would fail the checks now must change
    the key (core.pagecache.per_user)."""
    from core.models import Membership
    from core.services import accounts
    from plugins.mediation.models import MediationAccessLog

    mediator = login(world.mediator)
    assert mediator.get("/c/test/mediation/").status_code == 200
    assert mediator.get("/c/test/mediation/").headers.get("X-Linli-Cache") == "hit"
    # the mediator logs out everywhere (another device): this browser's cookie no longer counts
    accounts.end_sessions(world.mediator)
    ended = mediator.get("/c/test/mediation/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert ended.headers.get("X-Linli-Cache") != "hit"
    # logged in again, cached again; then staff take the mediator role away
    mediator = login(world.mediator)
    mediator.get("/c/test/mediation/")
    assert mediator.get("/c/test/mediation/").headers.get("X-Linli-Cache") == "hit"
    m = Membership.query.filter_by(user_id=world.mediator.id, community_id=world.community.id).one()
    accounts.set_roles(m, ["resident"], world.admin)
    after = mediator.get("/c/test/mediation/")
    assert after.status_code == 200 and after.headers.get("X-Linli-Cache") != "hit"
    # every list shown, from the cache or not, was logged for the mediator (the refused one was not)
    assert MediationAccessLog.query.filter_by(user_id=world.mediator.id, action="list").count() == 5
    # the module switched off for the community: the cached list is gone with it
    assert mediator.get("/c/test/mediation/").headers.get("X-Linli-Cache") == "hit"
    from core.services import plugins as plugin_switches

    plugin_switches.set_enabled(world.community, "mediation", False, actor=world.admin, confirm=True)  # cases open
    assert mediator.get("/c/test/mediation/").status_code == 404
