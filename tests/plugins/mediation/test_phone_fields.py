"""Phone numbers typed on a phone bring up its number pad (issue 20): the case form's phone
fields are type=tel."""
import re

import pytest

pytestmark = pytest.mark.plugins("mediation")


def test_the_case_form_asks_phone_numbers_with_the_number_pad(world, login):
    html = login(world.mediator).get("/c/test/mediation/new").get_data(as_text=True)
    for name in ("applicant_phone", "respondent_phone"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'type="tel"' in tag, tag


def test_a_mistyped_phone_on_the_case_form_is_refused_under_its_field(world, login):
    from plugins.mediation.models import MediationCase

    r = login(world.mediator).post("/c/test/mediation/new", headers={"Accept-Language": "en"}, data={
        "source": "grid_report", "category": "parking", "description": "占用消防通道停车",
        "grid_id": str(world.grid.id), "building_id": str(world.building.id), "urgency": "normal",
        "respondent_name": "车主", "respondent_phone": "1391234567"})
    html = r.get_data(as_text=True)
    assert MediationCase.query.count() == 0
    assert re.search(r'id="respondent_phone-err">[^<]*has 10', html), re.findall(r'(?:error|flash)[^>]*>[^<]+', html)
