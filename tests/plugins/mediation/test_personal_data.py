"""Mediation's personal data: the copy holds the person's own party record and never another
party's details or the case text; erasure anonymises their own party record, in an open or a closed
case, and leaves the other parties' records and the case file to the retention purge."""
import pytest

from core.extensions import db
from core.services import personal_data
from plugins.mediation.models import MediationCase, MediationParty
from tests.plugins.mediation.conftest import SECRET

pytestmark = pytest.mark.plugins("mediation")


def test_party_record_exported_without_the_other_party(world, case):
    [section] = personal_data.export(world.resident)["communities"]
    [party] = section["modules"]["mediation"]["cases_as_party"]
    assert party["role"] == "applicant" and party["phone"] == "13900001111" and party["name"] == "居民甲"
    text = str(section)
    assert SECRET not in text and "居民乙" not in text
    assert party["asked_for_private_hearing_at"] is None


def test_the_copy_holds_the_partys_own_requests(world, case):
    from plugins.mediation import services

    mine = next(p for p in case.parties if p.user_id == world.resident.id)
    services.party_request(case, mine, world.resident, "private")
    db.session.commit()
    [section] = personal_data.export(world.resident)["communities"]
    [party] = section["modules"]["mediation"]["cases_as_party"]
    assert party["asked_for_private_hearing_at"] is not None and party["asked_to_stop_at"] is None


def test_open_case_keeps_the_party_under_the_anonymous_id(world, case):
    summary = personal_data.erase(world.resident, world.staff, "书面申请")
    label = summary["anonymous_id"]
    assert summary["modules"]["mediation"] == {"parties": 1, "committee": 0}
    db.session.expire_all()
    parties = {p.role: p for p in MediationParty.query.filter_by(case_id=case.id)}
    assert (parties["applicant"].name, parties["applicant"].phone) == (label, None)
    assert parties["respondent"].name == "居民乙" and SECRET in parties["respondent"].address
    assert personal_data.erase(world.resident, world.staff, "again")["changed"] == 0


def test_closed_case_keeps_the_other_party_and_the_file(world, case):
    """Before: one party's erasure purged the whole closed case, the other party's record too."""
    MediationCase.query.filter_by(id=case.id).update({"status": "closed"})
    db.session.commit()
    summary = personal_data.erase(world.resident, world.staff, "书面申请")
    assert summary["modules"]["mediation"] == {"parties": 1, "committee": 0}
    db.session.expire_all()
    c = db.session.get(MediationCase, case.id)
    assert c.purged_at is None and c.description  # the file stays until the retention purge
    parties = {p.role: p for p in c.parties}
    assert (parties["applicant"].name, parties["applicant"].phone) == (summary["anonymous_id"], None)
    assert parties["respondent"].name == "居民乙" and SECRET in parties["respondent"].address


def test_the_copy_says_when_the_person_reported_a_case(world, case):
    """Before: ``reported_at`` read a column the case does not have and was always empty."""
    from core.dates import iso

    [section] = personal_data.export(world.grid_worker)["communities"]
    [reported] = section["modules"]["mediation"]["cases_reported"]
    assert reported["case"] == case.number and reported["reported_at"] == iso(case.opened_at)
    assert reported["reported_at"] is not None
