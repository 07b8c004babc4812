"""The volunteer-service certificate carries what 志愿服务记录与证明出具办法 asks (R23): name,
identity document and volunteer number, hours and content, issuer, responsible person, handler,
contact, number and date; the document number is masked everywhere but on the certificate."""
from datetime import timedelta

import pytest

from core.errors import ServiceError
from core.extensions import db
from core.identity import masked, resident_id_is_valid
from core.models import AuditEntry, utcnow
from tests.plugins.points.conftest import SERVICES

pytestmark = pytest.mark.plugins("points")
BASE = "/api/v1/c/test/points"
ID = "11010519491231002X"  # the standard's own example: a valid check character


def svc():
    return SERVICES


@pytest.fixture
def served(world, pts):
    a = pts.activity(starts_at=utcnow() - timedelta(days=2), ends_at=utcnow() - timedelta(days=2, hours=-3))
    pts.signup_past(a, world.resident)
    svc().record_hours(a, world.resident, world.staff, hours="2", content="陪伴独居老人")
    return a


def test_resident_id_numbers_are_checked_by_their_check_character():
    assert resident_id_is_valid(ID)
    assert not resident_id_is_valid("110105194912310021")   # wrong check character
    assert not resident_id_is_valid("110105194902310027")   # 31 February
    assert not resident_id_is_valid("11010519491231002")    # too short
    assert masked(ID) == "**************002X"


def test_a_volunteer_gives_their_document_and_the_certificate_carries_it(world, pts, served, login):
    client = login(world.resident)
    r = client.post("/c/test/points/volunteering/identity",
                    data={"id_type": "resident_id", "id_number": "1101 0519 4912 3100 2x", "volunteer_number": ""})
    assert r.status_code == 302
    page = client.get("/c/test/points/volunteering").get_data(as_text=True)
    assert "**************002X" in page and ID not in page
    client.post("/c/test/points/certificates", data={})
    from plugins.points.models import PointsCertificate

    cert = PointsCertificate.query.one()
    assert cert.holder_id_type == "resident_id" and cert.holder_id_number == ID
    assert cert.volunteer_number == f"TEST-V{svc().profile(world.community, world.resident).id:06d}"
    page = client.get(f"/c/test/points/certificates/{cert.number}", headers={"Accept-Language": "zh-CN"})
    text = page.get_data(as_text=True)
    assert ID in text and "居民身份证" in text and cert.volunteer_number in text and "陪伴独居老人" in text
    listing = client.get("/c/test/points/volunteering").get_data(as_text=True)
    assert ID not in listing and "**************002X" in listing
    # the audit log keeps only the masked number
    entry = AuditEntry.query.filter_by(action="points.volunteer_identity_changed").one()
    assert ID not in str(entry.after) and "002X" in str(entry.after)


def test_a_wrong_number_is_refused_and_nothing_is_saved(world, pts, served, api):
    with pytest.raises(ServiceError) as e:
        svc().set_volunteer_identity(world.community, world.resident, "resident_id", "110105194912310021")
    assert e.value.code == "invalid_id_number" and "id_number" in e.value.fields
    assert svc().profile(world.community, world.resident) is None
    client = api(world.resident)
    r = client.put(f"{BASE}/volunteer-identity", json={"id_type": "resident_id", "id_number": "110105194912310021"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_id_number"
    r = client.put(f"{BASE}/volunteer-identity", json={"id_type": "resident_id", "id_number": 110105194912310021})
    assert r.status_code == 400
    r = client.put(f"{BASE}/volunteer-identity", json={"id_type": "driving_licence", "id_number": "A1234567"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_id_type"
    assert svc().profile(world.community, world.resident) is None
    r = client.put(f"{BASE}/volunteer-identity", json={"id_type": "passport", "id_number": "E12345678",
                                                       "volunteer_number": "32010020190001"})
    assert r.status_code == 200 and r.json == {"id_type": "passport", "id_number": "*****5678",
                                               "volunteer_number": "32010020190001"}
    assert client.get(f"{BASE}/volunteer-identity").json["id_number"] == "*****5678"
    r = client.put(f"{BASE}/volunteer-identity", json={"id_type": "", "id_number": ""})
    assert r.json["id_number"] == "" and svc().profile(world.community, world.resident).id_number is None


def test_staff_issue_in_person_with_the_document_shown_and_the_issuer_details(world, pts, served, api):
    svc().save_certificate_issuer(world.community, world.admin, "王主任", "0931-1234567")
    r = api(world.staff).post(f"{BASE}/certificates", json={"user_id": world.resident.id, "id_type": "resident_id",
                                                            "id_number": ID})
    assert r.status_code == 201
    body = r.json
    assert body["id_number"] == "**************002X" and body["issuer_head"] == "王主任"
    assert body["issuer_contact"] == "0931-1234567" and body["handler"] == world.staff.display_name
    assert body["volunteer_number"].startswith("TEST-V") and body["total_minutes"] == 120
    # kept on the certificate only, not on the volunteer's profile
    assert svc().profile(world.community, world.resident).id_number is None
    from plugins.points.models import PointsCertificate

    assert PointsCertificate.query.one().holder_id_number == ID
    bad = api(world.staff).post(f"{BASE}/certificates", json={"user_id": world.resident.id,
                                                              "id_type": "resident_id", "id_number": "123"})
    assert bad.status_code == 400 and PointsCertificate.query.count() == 1


def test_only_admins_set_the_issuer_details(world, pts, api):
    r = api(world.resident).put(f"{BASE}/rules/certificate", json={"head": "我", "contact": "1"})
    assert r.status_code == 403
    r = api(world.admin).put(f"{BASE}/rules/certificate", json={"head": 5})
    assert r.status_code == 400
    r = api(world.admin).put(f"{BASE}/rules/certificate", json={"head": "王主任", "contact": "0931-1234567"})
    assert r.status_code == 200 and r.json == {"head": "王主任", "contact": "0931-1234567"}
    db.session.expire_all()
    assert svc().certificate_issuer(world.community)["head"] == "王主任"


def test_the_document_is_in_the_persons_copy_and_goes_with_an_erasure(world, pts, served):
    from core.services import personal_data
    from plugins.points.models import PointsCertificate

    svc().set_volunteer_identity(world.community, world.resident, "resident_id", ID, "32010020190001")
    svc().issue_certificate(world.community, world.resident, world.resident)
    section = next(c for c in personal_data.export(world.resident)["communities"] if c["community"]["slug"] == "test")
    assert section["modules"]["points"]["identity_document"] == {"type": "resident_id", "number": ID,
                                                                 "volunteer_number": "32010020190001"}
    personal_data.erase(world.resident, world.admin, "2026-12-07 本人申请")
    cert = PointsCertificate.query.one()
    assert cert.holder_id_number is None and cert.volunteer_number is None and cert.holder_id_type is None
    assert svc().profile(world.community, world.resident) is None
