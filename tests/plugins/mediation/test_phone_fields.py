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
