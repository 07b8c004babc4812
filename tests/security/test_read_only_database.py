"""A database that refuses writes (issue 16, item 9): every request that must write answers a clean
503 (the API's JSON error shape, or the error page), and the 503 itself asks the database nothing
more; requests that only read still work. Writes made on the way in (a token's last use, the
mediation access log) are among those that must write.

PostgreSQL: the app's sessions are read-only (``SET SESSION CHARACTERISTICS AS TRANSACTION READ
ONLY``, as on a standby); SQLite: ``PRAGMA query_only``, its equivalent."""
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import event

from core.extensions import db
from core.models import ApiToken, ProposalComment, utcnow
from core.services import proposals, tokens
from tests.conftest import PASSWORD
from tests.security.figures import add


def _refusing_writes(app):
    """``app``'s every connection, from now on, refuses writes; returns the statements it is sent."""
    sent = []

    def read_only(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.execute("PRAGMA query_only = ON")
        else:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_conn.commit()

    def note(_conn, _cursor, statement, _params, _context, _many):
        sent.append(statement)

    with app.app_context():
        db.engine.dispose()
        event.listen(db.engine, "connect", read_only)
        event.listen(db.engine, "before_cursor_execute", note)
    return sent


def _assert_503(resp, api):
    assert resp.status_code == 503, (resp.status_code, resp.data[:300])
    assert resp.headers.get("Retry-After")
    if api:
        body = resp.get_json()
        assert body["error"]["code"] == "unavailable" and body["error"]["message"] and body["error"]["fields"] == {}
    else:
        assert resp.mimetype == "text/html" and "503" in resp.get_data(as_text=True)


def _after_the_refused_write(sent, table):
    first = next(i for i, s in enumerate(sent) if s.lstrip().upper().startswith(("UPDATE", "INSERT"))
                 and table in s)
    return sent[first + 1:]


@pytest.fixture
def proposal(world):
    p = proposals.create(world.community, world.mediator, {
        "title": "数据库只读时的提案", "body": "测试数据库拒绝写入时的表现。", "category": "other"})
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    return p.id


def test_an_api_write_whose_token_use_is_recorded_gets_a_clean_503(app, world, proposal, extra_app):
    token = tokens.create(world.resident, "ro")[1]  # never used: its use is recorded on the way in
    db.session.commit()
    db.session.remove()
    ro = extra_app()
    sent = _refusing_writes(ro)
    c = ro.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    r = c.post(f"/api/v1/c/test/proposals/{proposal}/comments", json={"body": "只读时的评论"}, headers=headers)
    _assert_503(r, api=True)
    assert "shortly" in r.get_json()["error"]["message"]  # the language of the request, not the user's
    # The 503 was answered without asking the database anything more (no user reloaded, no
    # second try at the token's use); only the rollback of the refused transaction.
    assert not [s for s in _after_the_refused_write(sent, "api_token") if s.strip().upper() != "ROLLBACK"]
    # A read with the same token still works, the same as before.
    r = c.get(f"/api/v1/c/test/proposals/{proposal}", headers=headers)
    assert r.status_code == 200 and r.get_json()["title"] == "数据库只读时的提案"
    db.session.expire_all()
    assert ProposalComment.query.filter_by(proposal_id=proposal).count() == 0
    add("faults injected")


def test_an_api_read_whose_token_use_is_due_still_answers(app, world, proposal, extra_app):
    token_row, token = tokens.create(world.resident, "ro")
    token_row.last_used_at = utcnow() - timedelta(hours=1)
    token_id, last = token_row.id, token_row.last_used_at
    db.session.commit()
    db.session.remove()
    ro = extra_app()
    _refusing_writes(ro)
    c = ro.test_client()
    for url in (f"/api/v1/c/test/proposals/{proposal}", "/api/v1/me"):
        assert c.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token_id).last_used_at == last  # not recorded, and no error


def test_a_logged_in_resident_reads_pages_and_gets_a_clean_503_for_writes(app, world, proposal, extra_app):
    ro = extra_app()
    c = ro.test_client()
    assert c.post("/auth/login", data={"login": "resident", "password": PASSWORD, "remember": "y"}).status_code == 302
    remembered = ro.test_client()
    remembered.set_cookie("remember_token", c.get_cookie("remember_token").value)
    _refusing_writes(ro)
    assert c.get(f"/c/test/proposals/{proposal}").status_code == 200
    assert remembered.get("/c/test/").status_code == 200  # signed in again from the remember-me cookie
    r = c.post(f"/c/test/proposals/{proposal}/comment", data={"body": "只读时的评论"})
    _assert_503(r, api=False)
    r = ro.test_client().post(f"/api/v1/c/test/proposals/{proposal}/comments", json={"body": "x"},
               headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401  # an unknown token is still told so
    db.session.expire_all()
    assert ProposalComment.query.filter_by(proposal_id=proposal).count() == 0


def test_signing_in_needs_no_write(app, world, extra_app):
    ro = extra_app()
    _refusing_writes(ro)
    c = ro.test_client()
    assert c.post("/auth/login", data={"login": "resident", "password": PASSWORD}).status_code == 302
    assert c.get("/auth/account").status_code == 200


@pytest.mark.plugins("mediation")
def test_the_mediation_case_list_whose_reading_is_logged_gets_a_clean_503(app, world, extra_app, tmp_path):
    from plugins.mediation import services as svc
    from plugins.mediation.models import MediationCase

    svc.open_case(world.community, world.grid_worker, {
        "source": "grid_report", "category": "noise", "description": "楼上噪音",
        "grid_id": world.grid.id, "building_id": world.building.id, "rights_notified": True,
        "voluntary_statement": True, "parties": [{"role": "applicant", "login": "resident", "consent": "agreed",
                                                  "pi_consent": "form"}]})
    case_id = MediationCase.query.one().id
    db.session.commit()  # the set-up, as its entry point would (services never commit)
    db.session.remove()
    ro = extra_app(plugins=("mediation",), MEDIATION_UPLOAD_DIR=str(tmp_path))
    c = ro.test_client()
    assert c.post("/auth/login", data={"login": "gridworker", "password": PASSWORD}).status_code == 302
    assert c.get("/c/test/mediation/").status_code == 200  # kept in the user's page cache
    _refusing_writes(ro)
    for url in ("/c/test/mediation/", f"/c/test/mediation/cases/{case_id}"):
        _assert_503(c.get(url), api=False)  # a read of personal data that cannot be logged is refused
