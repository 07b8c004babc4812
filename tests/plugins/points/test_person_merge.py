"""Staff merge two people on the register who are one (R5): volunteer sign-ups of the merged-away
person become the kept person's, one place per person and activity; the place of a duplicate is
given back; recorded hours are never lost."""
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import AuditEntry, HouseholdMember, Person, utcnow
from core.services import persons
from tests.plugins.points.conftest import SERVICES

pytestmark = pytest.mark.plugins("points")


def svc():
    return SERVICES


def entry(world, name, i):
    m = HouseholdMember(household_id=world.households[i].id, name=name, relation="owner")
    db.session.add(m)
    db.session.commit()
    return m.person


def merge(world, keep_id, other_id):
    return persons.merge(world.community, db.session.get(Person, keep_id), db.session.get(Person, other_id),
                         world.staff, reason="同一人两条登记")


def test_two_sign_ups_of_one_person_hold_one_place(world, pts):
    from plugins.points.models import PointsActivity, PointsSignup

    keep, other = entry(world, "孙大爷", 0), entry(world, "孙大爷", 1)
    a = pts.activity(past=False, places=5)
    first = svc().signup(a, None, world.staff, "电话报名", person_id=other.id)
    svc().signup(a, None, world.admin, "来办公室报名", person_id=keep.id)
    b = pts.activity(past=False, title="义诊")
    only = svc().signup(b, None, world.staff, "电话报名", person_id=other.id)
    assert db.session.get(PointsActivity, a.id).signups_count == 2
    merge(world, keep.id, other.id)
    assert [(s.id, s.person_id) for s in PointsSignup.query.filter_by(activity_id=a.id)] == [(first.id, keep.id)]
    assert db.session.get(PointsActivity, a.id).signups_count == 1  # the place is free again
    assert db.session.get(PointsSignup, only.id).person_id == keep.id  # the other activity's sign-up survives
    after = AuditEntry.query.filter_by(action="person.merged").one().after
    assert after["moved"]["points_signup"] == 2 and after["removed"] == {"points_signup": 1}


def test_the_sign_up_with_hours_stays(world, pts):
    from plugins.points.models import PointsActivity, PointsRecord, PointsSignup

    keep = entry(world, "居民甲", 1)  # the resident entered twice: once without the account
    other = persons.of_user(world.community, world.resident.id)
    a = pts.activity(past=True)
    early = PointsSignup(activity_id=a.id, person_id=keep.id, name="居民甲", created_at=utcnow() - timedelta(days=3))
    db.session.add(early)
    db.session.add(PointsSignup(activity_id=a.id, person_id=other.id, user_id=world.resident.id,
                                created_at=utcnow() - timedelta(days=2)))
    a.signups_count = 2
    db.session.commit()
    record = svc().record_hours(a, world.resident, world.staff, hours="2", content="陪伴独居老人")
    merge(world, keep.id, other.id)  # the account goes to the kept person
    [s] = PointsSignup.query.filter_by(activity_id=a.id).all()
    assert (s.user_id, s.person_id) == (world.resident.id, keep.id)
    assert db.session.get(PointsRecord, record.id).signup_id == s.id
    assert db.session.get(PointsActivity, a.id).signups_count == 1
    pts.check()
