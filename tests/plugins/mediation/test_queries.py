"""The case list issues the same number of SQL statements whatever the number of cases (no N+1):
a mediator's list of 40 cases costs what a list of 3 does."""
import pytest
from sqlalchemy import event

from core.extensions import db

pytestmark = pytest.mark.plugins("mediation")


def _open(world, svc, i):
    c = svc.open_case(world.community, world.grid_worker, {
        "source": "grid_report", "category": "noise", "description": f"楼上噪音 {i}",
        "grid_id": world.grid.id, "building_id": world.building.id, "rights_notified": True,
        "voluntary_statement": True,
        "parties": [{"role": "applicant", "login": "resident", "consent": "agreed", "pi_consent": "form"},
                    {"role": "respondent", "name": f"住户{i}", "consent": "agreed", "pi_consent": "form"}]})
    svc.escalate(c, world.mediator, "网格调解未果")
    svc.assign(c, world.mediator, world.mediator)
    return c


def _count(fn):
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        resp = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert resp.status_code == 200
    return len(statements), resp.get_data(as_text=True)


def test_case_list_statements_do_not_grow_with_the_cases(world, login):
    from plugins.mediation import services as svc

    c = login(world.mediator)
    c.application.config["PAGE_CACHE"] = False  # count what rendering the list costs
    for i in range(3):
        _open(world, svc, i)
    c.get("/c/test/mediation/")
    few, page = _count(lambda: c.get("/c/test/mediation/"))
    assert page.count("调解员") >= 3  # each case shows its mediator
    for i in range(3, 40):
        _open(world, svc, i)
    many, page = _count(lambda: c.get("/c/test/mediation/"))
    assert page.count('class="big-link"') == 40
    assert many == few


def test_case_list_pages_through_every_case(world, login):
    """A mediator with more cases than a page holds reaches the oldest ones by "Next"; a page
    number that is not a number shows the first page."""
    import re

    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationCase

    c = login(world.mediator)
    for i in range(53):
        _open(world, svc, i)
    numbers = [n for (n,) in db.session.query(MediationCase.number).order_by(MediationCase.opened_at.desc(),
                                                                             MediationCase.id.desc())]
    first = c.get("/c/test/mediation/").get_data(as_text=True)
    assert first.count('class="big-link"') == 50
    nxt = re.search(r'href="([^"]*page=2[^"]*)" rel="next"', first)
    assert nxt, "the first page links to the next one"
    second = c.get(nxt.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('class="big-link"') == 3 and 'rel="next"' not in second and 'rel="prev"' in second
    links = re.findall(r'class="big-link"[^>]*>(.*?)</a>', first + second, re.S)
    shown = [re.sub(r"<[^>]+>", "", link).split()[-1] for link in links]  # numbers are kept on one line
    assert len(set(shown)) == 53 and numbers[-1] in second  # every case once, the oldest on page 2
    assert c.get("/c/test/mediation/?page=abc").status_code == 400  # not a page number (core.inputs)
