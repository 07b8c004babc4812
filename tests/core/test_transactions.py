"""One owner for each transaction (issue 21): services never commit; the entry point (a view, an
API handler, a command) runs its writes in one transaction, so a service error anywhere leaves
nothing of the request written."""
import pytest

from core.db import transaction
from core.errors import Conflict, ServiceError
from core.extensions import db
from core.models import Community, Proposal, ProposalComment, ProposalSecond, ProposalTransition, User
from core.services import proposals
from tests.conftest import PASSWORD

GOOD = {"title": "增设单元门禁", "body": "部分单元门禁损坏，陌生人随意进出，建议维修更换。", "category": "safety"}


def _open_proposal(world):
    with transaction():
        return proposals.create(world.community, world.resident2, GOOD).id


def _writes_then_fails(monkeypatch, module, name):
    """Make ``module.name`` do its whole work (its writes included) and then refuse."""
    real = getattr(module, name)

    def fake(*args, **kwargs):
        real(*args, **kwargs)
        db.session.flush()
        raise Conflict("late_refusal", "refused after writing")

    monkeypatch.setattr(module, name, fake)


def test_a_view_whose_service_fails_after_writing_leaves_nothing_written(world, login, monkeypatch):
    pid = _open_proposal(world)
    _writes_then_fails(monkeypatch, proposals, "comment")
    r = login(world.resident).post(f"/c/test/proposals/{pid}/comment", data={"body": "我也这么认为。"})
    assert r.status_code in (200, 302, 303, 409)
    db.session.expire_all()
    assert ProposalComment.query.filter_by(proposal_id=pid).count() == 0
    assert db.session.get(Proposal, pid).comments_count == 0


def test_registering_refused_after_the_account_was_flushed_keeps_no_account(world, client):
    """accounts.register flushes the account, then refuses (no consent): no account is left."""
    r = client.post("/c/test/register", data={"login": "13912345678", "password": PASSWORD,
                                              "display_name": "新来的", "address": "3号楼 502"})
    assert r.status_code == 200
    assert User.query.filter_by(phone="13912345678").first() is None


def test_an_api_call_whose_service_fails_after_writing_leaves_nothing_written(world, api, monkeypatch):
    pid = _open_proposal(world)
    client = api(world.resident)
    _writes_then_fails(monkeypatch, proposals, "second")
    r = client.post(f"/api/v1/c/test/proposals/{pid}/second")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "late_refusal"
    db.session.expire_all()
    assert ProposalSecond.query.filter_by(proposal_id=pid).count() == 0
    assert db.session.get(Proposal, pid).seconds_count == 0


def test_a_command_whose_service_fails_after_writing_leaves_nothing_written(world, runner, monkeypatch):
    from core.services import structure

    _writes_then_fails(monkeypatch, structure, "create_community")
    result = runner.invoke(args=["community", "create", "newplace", "新社区"])
    assert result.exit_code == 1 and "refused after writing" in result.output
    assert Community.query.filter_by(slug="newplace").first() is None


def test_a_transition_joins_the_callers_transaction(world):
    """proposals.transition commits nothing: a refusal later in the same unit of work (a module's
    rule, another service) rolls the move back with everything else."""
    pid = _open_proposal(world)
    with pytest.raises(ServiceError):
        with transaction():
            proposals.transition(db.session.get(Proposal, pid), "coordinating", world.staff, "物业同意协调")
            raise ServiceError("later", "a later step refused")
    assert db.session.get(Proposal, pid).state == "open"
    assert ProposalTransition.query.filter_by(proposal_id=pid, to_state="coordinating").count() == 0


def test_a_wrong_reset_code_is_counted_although_the_request_is_refused(world, api, client):
    """The one refusal that keeps a write: each wrong try at a reset code counts (the code is
    spent after a few), on the page and through the API."""
    from core.models import PasswordResetCode
    from core.services import reset_codes

    with transaction():
        reset_codes.issue(world.resident, world.staff, world.community)
    r = api(None).post("/api/v1/auth/reset-password", json={"login": "resident", "code": "0000 0000",
                                                            "new_password": "a-brand-new-password"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_reset_code"
    r = client.post("/auth/reset", data={"login": "resident", "code": "0000 0000",
                                         "new_password": "a-brand-new-password",
                                         "confirm": "a-brand-new-password"})
    assert r.status_code == 200
    db.session.expire_all()
    assert PasswordResetCode.query.filter_by(user_id=world.resident.id).one().attempts == 2
