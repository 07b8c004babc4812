"""Stored XSS through the modules' text fields (issue 7, ASVS V5.3): every payload of the corpus
(tests/security/inert.py) goes in through the modules' real API with a bearer token — meeting
bodies, organisations, delegates, meeting titles and places, agenda items, resolutions, action
items and minutes; mediation case descriptions and places, party names, session places and notes,
agreement facts and terms; store item names and descriptions, activity titles, places and
descriptions; ballot titles, descriptions and options, proxy and witness names. Then every page of
the modules (lists, details, print pages, as staff, the mediator and a resident) must be inert and
still show the text, and the .ics feeds must carry it as plain text without breaking the calendar.

(The modules import no spreadsheets: the core's import is covered by test_attacks.py.)"""
from datetime import timedelta

import pytest
from icalendar import Calendar

from core.extensions import db
from core.models import utcnow
from tests.conftest import INSTALLED
from tests.security import inert
from tests.security import matrix as m
from tests.security.figures import add

pytestmark = pytest.mark.plugins(*INSTALLED)
C = "/api/v1/c/test"


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


def ok(resp, *statuses):
    assert resp.status_code in (statuses or (200, 201)), (resp.request.path, resp.status_code, resp.get_json())
    return resp.get_json()


def iso(dt):
    return dt.isoformat() if dt.tzinfo else dt.isoformat() + "+00:00"


def short(marker, payload, n):
    """The marker and as much of the payload as fits in ``n`` characters."""
    return f"{marker} {payload}"[:n]


def check_pages(app, clients, urls, fields_counted):
    """Every URL, as every client that may read it, is inert; the markers expected there are shown."""
    first = next(iter(clients))
    merged = {}  # a list page comes up once per object: check it once
    for url, who, show in urls:
        merged.setdefault((url, who), set()).update(show)
    for (url, who), show in merged.items():
        r = clients[who].get(url)
        if r.status_code != 200 and not show and (who != first or r.status_code in (404, 409)):
            continue  # not theirs to see, or not in this state (the access matrix checks that)
        assert r.status_code == 200, (url, who, r.status_code)
        if r.mimetype == "text/calendar":
            cal = Calendar.from_ical(r.data)  # still a valid calendar: no line or property injected
            text = r.data.decode()
            assert "BEGIN:VALARM" not in text and "\nATTACH" not in text, url
            summaries = " ".join(str(e.get("summary", "")) + " " + str(e.get("location", ""))
                                 + " " + str(e.get("description", "")) for e in cal.walk("VEVENT"))
            for marker in show:
                assert marker in summaries, (url, marker)
            continue
        if r.mimetype != "text/html":
            continue
        html = r.data.decode()
        bad = inert.problems(html)
        assert not bad, f"{url} as {who}: {bad[:5]}"
        visible = inert.text(html)
        for marker in show:
            assert marker in visible, f"{url} as {who}: {marker} is not shown"
    add("module text fields × payloads shown inert", fields_counted)


def crawl(app, values, prefix):
    """Every GET page of a module (not the API, not static files, not a download) with ``values``."""
    out = []
    for rule in app.url_map.iter_rules():
        if ("GET" not in rule.methods or not rule.rule.startswith(f"/c/<community>/{prefix}/")
                or rule.endpoint.endswith(("static", "picture", "scan", "document", "export", "xlsx",
                                           "register_export", "certificate"))):
            continue
        if any(a not in values for a in rule.arguments):
            continue
        out.append(m.build(rule, values))
    return out


def test_meeting_fields_render_inert(app, world, api, login):
    staff = api(world.staff)
    corpus = inert.corpus("M")
    body = ok(staff.post(f"{C}/meetings/bodies", json={
        "name": short(*corpus[0], 60), "description": corpus[1][1],
        "orgs": [short(mk, p, 40) for mk, p in corpus[:3]], "quorum_rule": "all_orgs"}), 201)
    orgs = [o["id"] for o in body["organisations"]]
    delegates = [ok(staff.post(f"{C}/meetings/bodies/{body['id']}/delegates", json={
        "org_id": orgs[i], "name": short(mk, p, 40)}))["id"] for i, (mk, p) in enumerate(corpus[3:6])]
    start = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    meetings = []
    for i, (mk, p) in enumerate(corpus):
        meeting = ok(staff.post(f"{C}/meetings/bodies/{body['id']}/meetings", json={
            "starts_at": iso(start + timedelta(days=i)), "title": short(mk, p, 120),
            "place": short(mk, p, 120)}), 201)
        item = ok(staff.post(f"{C}/meetings/{meeting['id']}/agenda", json={
            "kind": "free", "title": short(mk, p, 120), "description": f"{p}\n\n{mk} agenda"}), 201)
        for d in delegates:
            ok(staff.post(f"{C}/meetings/{meeting['id']}/attendance", json={"delegate_id": d, "status": "present"}))
        ok(staff.post(f"{C}/meetings/{meeting['id']}/agenda/{item['id']}/resolution", json={
            "outcome": "decided", "text": f"{p} {mk} resolution",
            "actions": [{"title": short(mk, p, 120), "owner_org_id": orgs[0], "owner_name": short(mk, p, 40),
                         "due_date": "2031-06-30"}]}), 201)
        ok(staff.post(f"{C}/meetings/{meeting['id']}/held"))
        ok(staff.put(f"{C}/meetings/{meeting['id']}/minutes", json={"minutes": f"## {mk}\n\n{p}\n\n{p}"}))
        meetings.append((mk, meeting["id"]))
    clients = {"staff": login(world.staff), "resident": login(world.resident), "anonymous": app.test_client()}
    urls = []
    for mk, mid in meetings:
        for url in crawl(app, {"community": "test", "body_id": body["id"], "meeting_id": mid}, "meetings"):
            show = (mk,) if url.endswith((f"/{mid}", f"/{mid}/minutes/print", "invite.ics")) else ()
            urls += [(url, "staff", show)] + ([(url, "resident", ())] if mk == meetings[0][0] else [])
    urls.append((f"/c/test/meetings/bodies/{body['id']}", "anonymous", ("MSS00",)))
    check_pages(app, clients, urls, len(corpus) * 8 + 8)


def test_mediation_fields_render_inert(app, world, api, login):
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationCase

    reporter, mediator = api(world.grid_worker), api(world.mediator)
    corpus = inert.corpus("D")
    cases = []
    for mk, p in corpus:
        case = ok(reporter.post(f"{C}/mediation/cases", json={
            "source": "grid_report", "category": "noise", "description": f"{p}\n{mk} description",
            "location": short(mk, p, 100), "rights_notified": True,
            "parties": [{"role": "applicant", "name": short(mk, p, 40), "consent": "agreed", "pi_consent": "form",
                         "address": short(mk, p, 100)},
                        {"role": "respondent", "login": "resident2", "consent": "agreed", "pi_consent": "form"}]}), 201)
        row = db.session.get(MediationCase, case["id"])
        svc.escalate(row, world.mediator, "网格调解未果")
        svc.assign(row, world.mediator, world.mediator)
        ok(mediator.post(f"{C}/mediation/cases/{case['id']}/sessions", json={
            "held_on": (utcnow() + timedelta(hours=8)).date().isoformat(), "place": short(mk, p, 100),
            "attendees": short(mk, p, 200), "notes": f"{p}\n{mk} notes"}), 201)
        ag = ok(mediator.post(f"{C}/mediation/cases/{case['id']}/agreements", json={
            "form": "written", "facts": f"{p} {mk} facts", "terms": f"{p} {mk} terms",
            "obligations": [{"party": "applicant", "text": short(mk, p, 200)}]}), 201)
        cases.append((mk, case["id"], ag["id"]))
    clients = {"mediator": login(world.mediator), "party": login(world.resident2)}
    urls = []
    for mk, case_id, ag_id in cases:
        for url in crawl(app, {"community": "test", "case_id": case_id, "agreement_id": ag_id}, "mediation"):
            show = (mk,) if f"/{case_id}" in url else ()
            urls.append((url, "mediator", show))
        urls.append((f"/c/test/mediation/cases/{case_id}", "party", ()))
    check_pages(app, clients, urls, len(corpus) * 10)


def test_store_and_activity_fields_render_inert(app, world, api, login):
    staff = api(world.staff)
    corpus = inert.corpus("P")
    start = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    made = []
    for i, (mk, p) in enumerate(corpus):
        item = ok(staff.post(f"{C}/points/items", json={"name": short(mk, p, 60), "price": 5, "stock": 3,
                                                         "description": f"{p}\n{mk} description"}), 201)
        activity = ok(staff.post(f"{C}/points/activities", json={
            "title": short(mk, p, 100), "location": short(mk, p, 100), "places": 5,
            "starts_at": iso(start + timedelta(days=i)),
            "ends_at": iso(start + timedelta(days=i, hours=2)), "description": f"{p}\n{mk} activity"}), 201)
        made.append((mk, item["id"], activity["id"]))
    clients = {"staff": login(world.admin), "resident": login(world.resident)}
    urls = []
    for n, (mk, item_id, activity_id) in enumerate(made):
        for url in crawl(app, {"community": "test", "item_id": item_id, "activity_id": activity_id,
                               "user_id": world.resident.id}, "points"):
            show = (mk,) if url.endswith((f"/store/{item_id}", f"/activities/{activity_id}")) else ()
            urls.append((url, "staff", show))
            if n < 6 and "/manage/" not in url and "/accounts" not in url:  # a resident's view: the first payloads
                urls.append((url, "resident", ()))
    check_pages(app, clients, urls, len(corpus) * 6)


def test_ballot_and_proxy_fields_render_inert(app, world, api, login):
    from plugins.voting.models import Voter

    staff = api(world.staff)
    corpus = inert.corpus("V")
    ballots = []
    for i, (mk, p) in enumerate(corpus):
        ballot = ok(staff.post(f"{C}/voting/ballots", json={
            "title": short(mk, p, 120), "description": f"{p}\n{mk} description", "method": "approval",
            "options": [short(mk, p, 100), f"{mk} second"], "open": True}), 201)
        ballots.append((mk, ballot["id"]))
    # proxies and paper witnesses on the first ballots
    for (mk, p), (_m, bid) in zip(corpus, ballots):
        voter = Voter.query.filter_by(ballot_id=bid, user_id=world.resident2.id).one()
        r = staff.post(f"{C}/voting/ballots/{bid}/proxies", json={
            "voter_id": voter.id, "proxy_name": short(mk, p, 40), "witness": short(mk, p, 40),
            "instructions": f"{p} {mk}"})
        assert r.status_code in (201, 409), r.get_json()  # 409: proxies are for owners' ballots only
        other = Voter.query.filter_by(ballot_id=bid, user_id=world.building_head.id).one()
        ok(staff.post(f"{C}/voting/ballots/{bid}/paper", json={
            "voter_id": other.id, "choice": [1], "witness": short(mk, p, 40), "note": f"{p} {mk}"}), 201)
    clients = {"staff": login(world.admin), "resident": login(world.resident)}
    urls = []
    for n, (mk, bid) in enumerate(ballots):
        for url in crawl(app, {"community": "test", "ballot_id": bid}, "voting"):
            show = (mk,) if url.endswith(f"/{bid}") else ()
            urls += [(url, "staff", show)] + ([(url, "resident", ())] if n < 6 else [])
    check_pages(app, clients, urls, len(corpus) * 7)
