"""Fixtures of the voting tests: proposals in voting, an owners' estate with multi-unit and
developer units."""
from contextlib import contextmanager
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import Household, HouseholdMember, Person
from core.services import proposals


@pytest.fixture
def voting_proposal(world):
    """A proposal moved by staff to `voting`: the module opens its ballot by itself."""
    p = proposals.create(world.community, world.resident, {
        "title": "楼道加装声控灯", "body": "一单元楼道晚上太黑，老人上下楼不安全，建议加装声控灯。", "category": "facilities"})
    proposals.transition(p, "coordinating", world.staff, "附议足够")
    proposals.transition(p, "voting", world.staff, "议事会同意表决")
    return p


@pytest.fixture
def estate(world):
    """Owners beyond the four verified ones: 赵老伯 (no account) owns two flats (one person on the
    register, as staff linked them); two unsold developer flats; one flat whose owner is not on
    the register."""
    extra = []
    for room, area, dev in (("201", "70.00", False), ("202", "55.50", False), ("301", "80.00", True),
                            ("302", "80.00", True), ("401", "60.25", False)):
        h = Household(community_id=world.community.id, unit_id=world.unit.id, room=room,
                      floor_area=Decimal(area), developer_held=dev)
        db.session.add(h)
        extra.append(h)
    zhao = Person(community_id=world.community.id)
    db.session.add(zhao)
    db.session.flush()
    for h in extra[:2]:
        db.session.add(HouseholdMember(household_id=h.id, name="赵老伯", phone="13900001111", relation="owner",
                                       is_representative=True, person_id=zhao.id))
    db.session.commit()
    return extra


@pytest.fixture
def owners_ballot(world):
    """A factory of open owners' ballots whose notice went up 16 days ago (R8: 15 days)."""
    from datetime import timedelta

    from core.models import utcnow
    from plugins.voting import services

    def make(**data):
        data = {"title": "使用维修资金更换水泵", "unit": "owners", "matter_class": "ordinary", "days": 7, **data}
        b = services.create(world.community, world.staff, data)
        services.publish_notice(b, world.staff, at=utcnow() - timedelta(days=16))
        services.open_ballot(b, world.staff)
        return b

    return make


@pytest.fixture(autouse=True)
def english_pages(request):
    """Pages in English for assertions on their text (the three-language test sets its own)."""
    if "world" not in request.fixturenames:
        return
    w = request.getfixturevalue("world")
    for user in (w.admin, w.staff, w.resident, w.resident2, w.newbie, w.building_head, w.grid_worker,
                 w.mediator, w.outsider):
        user.locale = "en"
    db.session.commit()


@pytest.fixture(autouse=True)
def fresh_translations():
    """flask-babel keeps the catalogues it loaded on the process-wide ``Babel`` object, keyed by
    locale only: a page rendered in Chinese by an earlier test's app without this module (the core
    access matrix) would leave a catalogue without the voting messages. Each test loads its own."""
    from flask import has_app_context

    from core.extensions import babel

    if has_app_context():  # pure tests (counting) have no app; tests/conftest.py clears per app too
        babel.domain_instance.cache.clear()


@contextmanager
def refused(*errors):
    """A service call the test expects to be refused, run as an entry point runs it: what the test
    set up is committed first, and the refused call's transaction is rolled back (services never
    commit or roll back themselves: core.db)."""
    from core.db import transaction
    from core.errors import ServiceError

    db.session.commit()
    with pytest.raises(errors or ServiceError) as info, transaction():
        yield info
