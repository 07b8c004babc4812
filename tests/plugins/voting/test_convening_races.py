"""Requests for a residents' meeting under concurrency, against a real multi-worker server
(tests/live.py), on SQLite and PostgreSQL: one support per person, and the threshold reached once."""
from datetime import date

import pytest

from core.extensions import db
from core.models import Notification, Person
from core.services import tokens
from plugins.voting import convening
from plugins.voting.models import ConveningRequest, ConveningSupport
from tests.helpers import residents_with_points
from tests.live import live_server, request, storm

pytestmark = pytest.mark.plugins("voting")
REASON = "小区停车位严重不足，需要居民会议讨论地面划线方案。"


def _start(world, base):
    return convening.start(world.community, world.resident, {"subject": "讨论增设停车位", "reason": REASON,
                                                               "base": base})


def test_one_person_supporting_many_times_at_once_is_counted_once(app, world, tmp_path, db_url):
    """The resident presses Support in two windows while the building head records their support
    on paper: 20 requests at once, one support."""
    from tests.plugins.voting.test_convening import add_people

    add_people(world, 20)  # 24 households: 5 needed, so the request keeps collecting
    req = _start(world, "households")
    convening.withdraw(req, world.resident)
    rid = req.id
    person = Person.query.filter_by(community_id=world.community.id, user_id=world.resident.id).one().id
    own, head = tokens.create(world.resident, "race")[1], tokens.create(world.building_head, "race")[1]
    db.session.commit()  # what the test set up, before the server reads it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("voting",)) as base:
        url = f"{base}/api/v1/c/test/voting/convening/{rid}/support"
        results = storm(20, lambda i: request("POST", url, token=own, body={}) if i % 2 else
                        request("POST", url, token=head, body={"person_id": person, "reason": "代为登记"}))
    statuses = sorted(r[0] if isinstance(r, tuple) else repr(r) for r in results)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, statuses
    db.session.expire_all()
    assert ConveningSupport.query.filter_by(request_id=rid, person_id=person, withdrawn_at=None).count() == 1
    req = db.session.get(ConveningRequest, rid)
    assert (req.supporters, req.progress) == (1, 1)


def test_residents_supporting_at_once_reach_the_threshold_exactly_once(app, world, tmp_path, db_url):
    """Eight residents support at the same moment a request that needs three: two are counted, the
    move happens once (staff told once), the others are told it has reached its threshold."""
    ids, toks = residents_with_points(world, "cv", 8, 0)
    for p in Person.query.filter_by(community_id=world.community.id).all():
        p.birth_date = date(1970, 1, 1)
    db.session.commit()
    req = _start(world, "adults")  # 4 + 8 = 12 adults: one fifth is 3
    assert (req.base_total, convening.needed("adults", 12), req.progress) == (12, 3, 1)
    rid = req.id
    db.session.commit()  # what the test set up, before the server reads it
    db.session.remove()
    with live_server(db_url, tmp_path, plugins=("voting",)) as base:
        url = f"{base}/api/v1/c/test/voting/convening/{rid}/support"
        results = storm(8, lambda i: request("POST", url, token=toks[i], body={}))
    statuses = sorted(r[0] if isinstance(r, tuple) else repr(r) for r in results)
    assert statuses == [201, 201] + [409] * 6, statuses
    db.session.expire_all()
    req = db.session.get(ConveningRequest, rid)
    assert (req.state, req.progress, req.supporters) == ("reached", 3, 3)
    assert ConveningSupport.query.filter_by(request_id=rid, withdrawn_at=None).count() == 3
    assert Notification.query.filter_by(kind="voting.convening_reached").count() == 2  # staff and admin, once
