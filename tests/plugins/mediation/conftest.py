"""Fixtures for the mediation tests: uploads go to a temporary folder; a worked case."""
import pytest


@pytest.fixture
def app_config(tmp_path):
    return {"MEDIATION_UPLOAD_DIR": str(tmp_path / "uploads")}


SECRET = "机密细节ZX91"  # appears only in case contents; must never leak


@pytest.fixture
def case(app, world):
    """An open noise case reported by the grid worker, escalated, assigned to the mediator, with
    the resident as applicant (registered) and resident2 as respondent (registered)."""
    from plugins.mediation import services as svc

    c = svc.open_case(world.community, world.grid_worker, {
        "source": "grid_report", "category": "noise", "description": f"楼上噪音 {SECRET}",
        "grid_id": world.grid.id, "building_id": world.building.id, "rights_notified": True,
        "voluntary_statement": True,
        "parties": [{"role": "applicant", "login": "resident", "phone": "13900001111", "consent": "agreed",
                     "pi_consent": "form"},
                    {"role": "respondent", "login": "resident2", "address": f"地址{SECRET}", "consent": "agreed",
                     "pi_consent": "form"}]})
    svc.escalate(c, world.mediator, "网格调解未果")
    svc.assign(c, world.mediator, world.mediator)
    return c


def hold_session(case, mediator, **data):
    """Record a session today: with the notice of rights, every party's consent to mediation and
    to processing their personal information, the last precondition of an agreement (R16–R17)."""
    from plugins.mediation import services as svc

    return svc.add_session(case, mediator, {"held_on": svc.dates.today(case.community), "held_at": "10:00",
                                            "place": "社区调解室", "attendees": "双方当事人、调解员", **data})


@pytest.fixture
def ready_case(case, world):
    """The fixture's case with a session recorded: an agreement may now be drafted."""
    hold_session(case, world.mediator)
    return case
