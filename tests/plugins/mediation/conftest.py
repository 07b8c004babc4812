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
