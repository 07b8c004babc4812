"""The content version is seen by the engine (core/db/version.py): any write statement committed
on the app's engines bumps it, whatever wrote it; a rollback or a log bumps nothing; a per-user
cached page is never served after its user's access changed (core.pagecache.per_user)."""
import logging

import pytest
from sqlalchemy import text

from core.db import logs_only, transaction
from core.db.transaction import WroteWithoutCommitting
from core.db.version import current_version
from core.extensions import db

CASES = "/c/test/mediation/"


def _version(app):
    with app.app_context():
        return current_version()


def test_any_write_statement_bumps_the_version_once_committed(app, world):
    before = _version(app)
    with transaction() as session:  # on the connection itself, no ORM object, no mark by hand
        session.connection().execute(text("UPDATE community SET name = name WHERE id = :c"),
                                     {"c": world.community.id})
    after = _version(app)
    assert after > before
    with transaction() as session:
        session.connection().exec_driver_sql("UPDATE grid SET name = name")
    assert _version(app) > after


def test_a_rolled_back_write_or_a_read_bumps_nothing(app, world):
    before = _version(app)
    with pytest.raises(RuntimeError):
        with transaction() as session:
            session.execute(text("UPDATE community SET name = 'x' WHERE id = :c"), {"c": world.community.id})
            raise RuntimeError
    with transaction() as session:
        session.execute(text("SELECT count(*) FROM community")).scalar()
    assert _version(app) == before


def test_a_log_bumps_nothing(app, world):
    from core.models import LoginFailure

    before = _version(app)
    with transaction() as session:
        session.execute(text("UPDATE api_token SET last_used_at = NULL"))
        session.execute(LoginFailure.__table__.delete())
    assert _version(app) == before
    logs_only("grid")
    try:
        with transaction() as session:
            session.execute(text("UPDATE grid SET name = name"))
        assert _version(app) == before
    finally:
        from core.db.version import LOGS

        LOGS.discard("grid")


def _hit(resp):
    return resp.headers.get("X-Linli-Cache") == "hit"


def _cached_list(login, user):
    client = login(user)
    assert client.get(CASES).status_code == 200
    assert _hit(client.get(CASES))
    return client


@pytest.mark.plugins("mediation")
def test_a_change_of_access_is_seen_at_once_on_a_per_user_cached_page(app, world, login):
    """Every change is made on the rows themselves (no service, nothing marked by hand): the
    engine sees the write, the key changes, and the checks run again."""
    from core.models import Membership, User

    def membership():
        return Membership.query.filter_by(user_id=world.mediator.id, community_id=world.community.id).one()

    client = _cached_list(login, world.mediator)
    with transaction():  # the mediator role taken away: still a member, no longer staff
        membership().set_roles(["resident"])
    after = client.get(CASES)
    assert not _hit(after) and after.status_code == 200
    assert _hit(client.get(CASES))
    with transaction():  # the membership ended
        db.session.delete(membership())
    ended = client.get(CASES)
    assert not _hit(ended) and ended.status_code == 404

    client = _cached_list(login, world.grid_worker)
    with transaction():  # the account deactivated
        db.session.get(User, world.grid_worker.id).is_active_account = False
    gone = client.get(CASES)
    assert not _hit(gone) and gone.status_code != 200


@pytest.fixture
def writing_view(app):
    from core.models import Grid

    @app.post("/test-writes-without-committing")
    def writes_without_committing():
        db.session.add(Grid(community_id=db.session.execute(text("SELECT min(id) FROM community")).scalar(),
                            name="左边"))
        db.session.flush()
        return "ok"

    @app.post("/test-writes-in-a-transaction")
    def writes_in_a_transaction():
        with transaction():
            db.session.add(Grid(community_id=db.session.execute(text("SELECT min(id) FROM community")).scalar(),
                                name="右边"))
        return "ok"


def test_a_request_that_leaves_writes_uncommitted_fails_under_test(app, world, writing_view):
    client = app.test_client()
    assert client.post("/test-writes-in-a-transaction").status_code == 200
    with pytest.raises(WroteWithoutCommitting, match="writes_without_committing wrote without committing"):
        client.post("/test-writes-without-committing")


def test_in_production_it_is_logged_and_rolled_back(app, world, writing_view, caplog):
    from core.models import Grid

    app.testing = False
    try:
        with caplog.at_level(logging.ERROR):
            assert app.test_client().post("/test-writes-without-committing").status_code == 200
    finally:
        app.testing = True
    assert "wrote without committing: use core.db.transaction()" in caplog.text
    db.session.rollback()
    assert Grid.query.filter_by(name="左边").count() == 0
